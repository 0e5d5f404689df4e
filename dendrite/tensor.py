"""``Tensor``: an n-dimensional array that remembers how it was computed.

A tensor wraps one backend array (see :class:`dendrite.tensor_base.TensorBase`,
which holds the data). When it is produced by an operation on tensors that
require gradients, it also holds that operation's node (``grad_fn``) so that
``backward()`` can walk back to the leaves and fill their ``.grad``.

This class is the top floor of the engine: every method below that computes
something is an operation of :mod:`dendrite.ops`, bound by name in the class
body (``exp = ops.exp``), so ``x.exp()`` and ``dendrite.exp(x)`` are the same
function and a reader finds each method here. The operators (``x + y``,
``x @ w``, ``x[i]``) are bound the same way at the end of the class.
"""

from __future__ import annotations

import weakref

from dendrite import backend, devices, ops, random_sampling
from dendrite.autograd.accumulate_hooks import register_post_accumulate_grad_hook
from dendrite.autograd.engine import run_backward
from dendrite.autograd.functional import backward as _backward
from dendrite.autograd.versions import version_of
from dendrite.backend import xp
from dendrite.creation import as_array, empty, full, ones, tensor, zeros
from dendrite.ops.comparison import operator as _operator
from dendrite.ops.device_copy import to_device
from dendrite.ops.inplace_shape import squeeze_ as _squeeze_
from dendrite.ops.inplace_shape import t_ as _t_
from dendrite.ops.inplace_shape import transpose_ as _transpose_
from dendrite.ops.inplace_shape import unsqueeze_ as _unsqueeze_
from dendrite.ops.movement import Permute
from dendrite.tensor_base import TensorBase, set_tensor_class, wrap

__all__ = ["Tensor", "wrap", "parse_to_arguments", "read_to_arguments", "read_to_device_arguments"]


def _reflected(function):
    """``2 - x`` calls ``x.__rsub__(2)``: swap the operands back and call ``sub(2, x)``."""

    def operator(self, other):
        return function(other, self)

    operator.__name__ = f"__r{function.__name__}__"
    return operator


def _positive(self):
    return self


class Tensor(TensorBase):
    """An n-dimensional array with reverse-mode automatic differentiation.

    Shape contract: any shape, including ``()`` for scalars. Make tensors with
    :func:`dendrite.tensor`, :func:`dendrite.zeros`, :func:`dendrite.randn`...

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        tensor([2., 4., 6.])
    """

    __slots__ = ()

    def __init__(self, *data, dtype=None, requires_grad: bool = False) -> None:
        # PyTorch's ``torch.Tensor(...)``: ints are sizes (uninitialised memory), a sequence or array is
        # copied into the default float dtype (``Tensor([0])`` is float32, not int64), nothing is ``(0,)``.
        if dtype is None:
            dtype = backend.get_default_dtype()
        if not data:
            array = xp.empty((0,), dtype)
        elif all(isinstance(size, int) and not isinstance(size, bool) for size in data):
            if any(size < 0 for size in data):
                raise RuntimeError(f"Tensor{data}: trying to create a tensor with a negative dimension; the "
                                   f"ints are a shape (use Tensor([...]) for values)")
            array = empty(*data, dtype=dtype).array
        elif len(data) == 1:
            if isinstance(data[0], (str, bytes, float, bool)):
                raise TypeError(f"Tensor(): data must be a sequence (got {type(data[0]).__name__}); use "
                                f"dendrite.tensor(value) for a scalar")
            array = as_array(data[0], dtype)
        else:
            raise TypeError(f"Tensor() takes either sizes (ints) or one sequence of values, got "
                            f"{', '.join(type(arg).__name__ for arg in data)}")
        self._adopt(array, requires_grad)

    # ------------------------------------------------------------------ shape views
    @property
    def T(self) -> Tensor:
        """All dimensions reversed: (a, b, c) -> (c, b, a); the transpose of a matrix.

        Example:
            >>> import dendrite
            >>> dendrite.tensor([[1, 2, 3], [4, 5, 6]]).T
            tensor([[1, 4],
                    [2, 5],
                    [3, 6]])
        """
        if self._data.ndim == 2:  # the common case (x @ w.T), without parsing dims
            return Permute.apply(self, dims=(1, 0))
        return ops.permute(self, *range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped: (..., m, n) -> (..., n, m).

        Example:
            >>> import dendrite
            >>> dendrite.zeros(5, 2, 3).mT.shape
            (5, 3, 2)
        """
        return ops.transpose(self, -2, -1)

    # ------------------------------------------------------------------ conversions
    def to(self, *args, **kwargs) -> Tensor:
        """Convert dtype and/or device, as PyTorch's ``to``: ``x.to(dendrite.float64)``, ``x.to("cpu")``,
        ``x.to(device, dtype)``, ``x.to(other)``; ``non_blocking=`` and ``copy=`` are accepted.

        Same shape; ``self`` when nothing changes (a copy with ``copy=True``). ``x.to("cuda")``
        copies to the GPU when :func:`dendrite.cuda.is_available` (CuPy and a GPU), and raises
        ``RuntimeError`` otherwise (see :mod:`dendrite.devices`); the copy keeps the graph.

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1.5, -2.0]).to(dendrite.tensor([1]))
            tensor([ 1, -2])
            >>> x = dendrite.zeros(2)
            >>> x.to("cpu") is x, x.to(dendrite.device("cpu"), dendrite.float64).dtype
            (True, dtype('float64'))
        """
        device, dtype, copy = read_to_device_arguments(args, kwargs)
        result = self
        if device is not None and device.type != backend.device_kind(self._data):
            result, copy = to_device(self, device), False
        if dtype is None or backend.as_dtype(dtype) == result._data.dtype:
            return ops.clone(result) if copy else result
        return ops.cast(result, backend.as_dtype(dtype))

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        """This tensor on the GPU (``self`` when it is there); ``RuntimeError`` without CuPy and a GPU.

        Check first with ``dendrite.cuda.is_available()``. The copy keeps the graph.

        Example:
            >>> import dendrite
            >>> dendrite.zeros(2).cuda()
            Traceback (most recent call last):
            ...
            RuntimeError: cuda: CUDA is not available: dendrite's GPU backend is not installed/present ...
        """
        return to_device(self, "cuda" if device is None else device, "cuda")

    def cpu(self, memory_format=None) -> Tensor:
        """This tensor on the CPU: ``self`` when it is there, else a copy to the host that keeps the graph.

        Example:
            >>> import dendrite
            >>> x = dendrite.zeros(2)
            >>> x.cpu() is x
            True
        """
        return to_device(self, devices.CPU, "cpu")

    bernoulli, multinomial = random_sampling.bernoulli, random_sampling.multinomial  # draws, no gradient

    def float(self) -> Tensor:
        """Cast to float32 (same shape; ``self`` when already float32).

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1, 2]).float()
            tensor([1., 2.])
        """
        return ops.cast(self, backend.float32)

    def double(self) -> Tensor:
        """Cast to float64 (same shape).

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1, 2]).double()
            tensor([1., 2.], dtype=dendrite.float64)
        """
        return ops.cast(self, backend.float64)

    def half(self) -> Tensor:
        """Cast to float16 (same shape).

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1.5]).half()
            tensor([1.5000], dtype=dendrite.float16)
        """
        return ops.cast(self, backend.float16)

    def long(self) -> Tensor:
        """Cast to int64, truncating toward zero (same shape).

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1.5, -2.7]).long()
            tensor([ 1, -2])
        """
        return ops.cast(self, backend.int64)

    def int(self) -> Tensor:
        """Cast to int32, truncating toward zero (same shape).

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1.5, -2.7]).int()
            tensor([ 1, -2], dtype=dendrite.int32)
        """
        return ops.cast(self, backend.int32)

    def bool(self) -> Tensor:
        """Cast to bool: nonzero -> True (same shape).

        Example:
            >>> import dendrite
            >>> dendrite.tensor([0.0, 2.0]).bool()
            tensor([False,  True])
        """
        return ops.cast(self, backend.bool_)

    def type(self, dtype=None):
        """The type name (``"dendrite.float32"``), or a copy cast to ``dtype``.

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1.0]).type()
            'dendrite.float32'
        """
        if dtype is None:
            return f"dendrite.{self.dtype}"
        return ops.cast(self, backend.as_dtype(dtype))

    def type_as(self, other: Tensor) -> Tensor:
        """Cast to ``other``'s dtype (same shape as ``self``).

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1.5]).type_as(dendrite.tensor([1]))
            tensor([1])
        """
        return ops.cast(self, other.dtype)

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        ``gradient`` (same shape as ``self``) is required unless ``self`` has
        one element. ``retain_graph=True`` keeps the graph for another
        backward; ``inputs`` limits which tensors' ``.grad`` is filled.
        ``create_graph=True`` makes each ``.grad`` differentiable (docs/autograd.md).

        Example:
            >>> import dendrite
            >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
            >>> (x * x).backward(dendrite.tensor([1.0, 0.5]))
            >>> x.grad
            tensor([2., 2.])
        """
        if gradient is None and inputs is None and not create_graph and self._ctx is not None \
                and self._data.size == 1:
            # The usual ``loss.backward()``: seed 1 and walk the graph (the checks below cannot fail).
            # empty + fill: xp.ones is a Python function, three times the cost for one element.
            seed = backend.namespace(self._data).empty(self._data.shape, self._data.dtype)
            seed.fill(1)
            run_backward((self,), (seed,), bool(retain_graph))
            return
        _backward([self], None if gradient is None else [gradient], retain_graph, create_graph,
                  inputs=inputs)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this inner (non-leaf) tensor after backward (leaves always keep it).

        Example:
            >>> import dendrite
            >>> y = dendrite.tensor([1.0, 2.0], requires_grad=True) * 3
            >>> y.retain_grad(); y.sum().backward()
            >>> y.grad
            tensor([1., 1.])
        """
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
        if self._ctx is None:
            return
        node = self._ctx
        if node.retained_outputs is None:
            node.retained_outputs = {}
        node.retained_outputs[self._out_index] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        """True for an inner tensor on which ``retain_grad()`` was called.

        Example:
            >>> import dendrite
            >>> y = dendrite.tensor([1.0], requires_grad=True) * 3
            >>> y.retain_grad(); y.retains_grad
            True
        """
        node = self._ctx
        return bool(node is not None and node.retained_outputs and self._out_index in node.retained_outputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one.

        Returns a handle whose ``remove()`` unregisters the hook.

        Example:
            >>> import dendrite
            >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
            >>> handle = x.register_hook(lambda grad: grad * 10)
            >>> x.sum().backward()
            >>> x.grad
            tensor([10., 10.])
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._ctx is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self._ctx
            if node.output_hooks is None:
                node.output_hooks = {}
            hooks = node.output_hooks.setdefault(self._out_index, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` in each backward right after this leaf's ``.grad`` is complete.

        PyTorch's semantics (``dendrite/autograd/accumulate_hooks.py``): once per backward that
        fills ``.grad``, as soon as no more gradient can reach this leaf in that pass (so before
        the rest of the backward walk), under the engine's grad mode (off unless
        ``create_graph=True``). The hook returns ``None``. Only for leaves that require grad.
        Returns a handle whose ``remove()`` unregisters the hook.

        Example:
            >>> import dendrite
            >>> w = dendrite.tensor([1.0, 2.0], requires_grad=True)
            >>> handle = w.register_post_accumulate_grad_hook(lambda leaf: print("grad", leaf.grad))
            >>> (w * w).sum().backward()
            grad tensor([2., 4.])
            >>> handle.remove()
        """
        return register_post_accumulate_grad_hook(self, hook)

    # ------------------------------------------------------------------ new tensors like this one
    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """A new leaf tensor from ``data``, with ``self``'s dtype and device unless given.

        Example:
            >>> import dendrite
            >>> dendrite.tensor([0.5]).new_tensor([1, 2])
            tensor([1., 2.])
        """
        return tensor(data, self.dtype if dtype is None else dtype, self.device if device is None else device,
                      requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """Zeros of shape ``size`` with ``self``'s dtype and device unless given.

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1]).new_zeros(2, 2)
            tensor([[0, 0],
                    [0, 0]])
        """
        return zeros(*size, dtype=self.dtype if dtype is None else dtype,
                     device=self.device if device is None else device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """Ones of shape ``size`` with ``self``'s dtype and device unless given.

        Example:
            >>> import dendrite
            >>> dendrite.tensor([0.5]).new_ones(1, 2)
            tensor([[1., 1.]])
        """
        return ones(*size, dtype=self.dtype if dtype is None else dtype,
                     device=self.device if device is None else device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """An uninitialised tensor of shape ``size`` with ``self``'s dtype and device unless given.

        Example:
            >>> import dendrite
            >>> dendrite.tensor([0.5]).new_empty(2, 3).shape
            (2, 3)
        """
        return empty(*size, dtype=self.dtype if dtype is None else dtype,
                     device=self.device if device is None else device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """``fill_value`` in shape ``size``, with ``self``'s dtype and device unless given.

        Example:
            >>> import dendrite
            >>> dendrite.tensor([0.5]).new_full((2,), 7)
            tensor([7., 7.])
        """
        return full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                    device=self.device if device is None else device, requires_grad=requires_grad)

    # ------------------------------------------------------------------ Python protocol
    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __repr__(self) -> str:
        return ops.tensor_repr(self)

    # ------------------------------------------------------------------ the operations as methods
    clone = ops.clone
    # Each is exactly the function in dendrite.ops (the tensor is its first argument), so
    # ``x.exp()`` is ``dendrite.exp(x)``: one piece of code, found by its name here.
    # arithmetic
    add = ops.add
    sub = ops.sub
    mul = ops.mul
    div = ops.div
    true_divide = ops.true_divide
    floor_divide = ops.floor_divide
    remainder = ops.remainder
    fmod = ops.fmod
    neg = ops.neg
    pow = ops.pow
    # comparison and logic
    eq = ops.eq
    ne = ops.ne
    lt = ops.lt
    le = ops.le
    gt = ops.gt
    ge = ops.ge
    equal = ops.equal
    allclose = ops.allclose
    isclose = ops.isclose
    isnan = ops.isnan
    isinf = ops.isinf
    isfinite = ops.isfinite
    logical_and = ops.logical_and
    logical_or = ops.logical_or
    logical_xor = ops.logical_xor
    logical_not = ops.logical_not
    bitwise_and = ops.bitwise_and
    bitwise_or = ops.bitwise_or
    bitwise_xor = ops.bitwise_xor
    bitwise_not = ops.bitwise_not
    # smooth functions
    exp = ops.exp
    exp2 = ops.exp2
    expm1 = ops.expm1
    log = ops.log
    log2 = ops.log2
    log10 = ops.log10
    log1p = ops.log1p
    sqrt = ops.sqrt
    rsqrt = ops.rsqrt
    reciprocal = ops.reciprocal
    square = ops.square
    sin = ops.sin
    cos = ops.cos
    tan = ops.tan
    asin = ops.asin
    acos = ops.acos
    atan = ops.atan
    atan2 = ops.atan2
    sinh = ops.sinh
    cosh = ops.cosh
    tanh = ops.tanh
    sigmoid = ops.sigmoid
    lerp = ops.lerp
    logaddexp = ops.logaddexp
    hypot = ops.hypot
    erf = ops.erf
    # piecewise
    abs = ops.abs
    relu = ops.relu
    clamp = ops.clamp
    clip = ops.clip
    clamp_min = ops.clamp_min
    clamp_max = ops.clamp_max
    maximum = ops.maximum
    minimum = ops.minimum
    where = ops.where
    masked_fill = ops.masked_fill
    floor = ops.floor
    ceil = ops.ceil
    round = ops.round
    trunc = ops.trunc
    frac = ops.frac
    sign = ops.sign
    sgn = ops.sgn
    # reductions
    sum = ops.sum
    mean = ops.mean
    prod = ops.prod
    max = ops.max
    min = ops.min
    amax = ops.amax
    amin = ops.amin
    argmax = ops.argmax
    argmin = ops.argmin
    var = ops.var
    std = ops.std
    norm = ops.norm
    all = ops.all
    any = ops.any
    count_nonzero = ops.count_nonzero
    logsumexp = ops.logsumexp
    softmax = ops.softmax
    log_softmax = ops.log_softmax
    cumsum = ops.cumsum
    cumprod = ops.cumprod
    sort = ops.sort
    argsort = ops.argsort
    topk = ops.topk
    kthvalue = ops.kthvalue
    median = ops.median
    # movement, joining, indexing
    reshape = ops.reshape
    view = ops.view
    view_as = ops.view_as
    reshape_as = ops.reshape_as
    permute = ops.permute
    transpose = ops.transpose
    swapaxes = ops.swapaxes
    swapdims = ops.swapdims
    t = ops.t
    adjoint = ops.adjoint
    unsqueeze = ops.unsqueeze
    squeeze = ops.squeeze
    flatten = ops.flatten
    unflatten = ops.unflatten
    expand = ops.expand
    expand_as = ops.expand_as
    broadcast_to = ops.broadcast_to
    repeat = ops.repeat
    tile = ops.tile
    flip = ops.flip
    fliplr = ops.fliplr
    flipud = ops.flipud
    roll = ops.roll
    movedim = ops.movedim
    moveaxis = ops.moveaxis
    narrow = ops.narrow
    select = ops.select
    split = ops.split
    chunk = ops.chunk
    unbind = ops.unbind
    gather = ops.gather
    scatter = ops.scatter
    scatter_add = ops.scatter_add
    index_add = ops.index_add
    index_select = ops.index_select
    masked_select = ops.masked_select
    take = ops.take
    take_along_dim = ops.take_along_dim
    nonzero = ops.nonzero
    # linear algebra
    matmul = ops.matmul
    mm = ops.mm
    mv = ops.mv
    bmm = ops.bmm
    dot = ops.dot
    outer = ops.outer
    addmm = ops.addmm
    tril = ops.tril
    triu = ops.triu
    diag = ops.diag
    diagonal = ops.diagonal
    trace = ops.trace

    # PyTorch's other names for the same methods.
    multiply, divide, subtract, negative = mul, div, sub, neg
    greater, greater_equal, less, less_equal = gt, ge, lt, le
    absolute, arcsin, arccos, arctan = abs, asin, acos, atan

    # ------------------------------------------------------------------ in place (ops/inplace.py)
    add_ = ops.add_
    sub_ = ops.sub_
    mul_ = ops.mul_
    div_ = ops.div_
    copy_ = ops.copy_
    fill_ = ops.fill_
    zero_ = ops.zero_
    clamp_ = ops.clamp_
    clip_ = ops.clamp_
    masked_fill_ = ops.masked_fill_
    uniform_ = ops.uniform_
    normal_ = ops.normal_
    __setitem__ = ops.setitem
    floor_divide_, remainder_, pow_, lerp_ = ops.floor_divide_, ops.remainder_, ops.pow_, ops.lerp_
    addcmul_, addcdiv_, clamp_min_, clamp_max_ = ops.addcmul_, ops.addcdiv_, ops.clamp_min_, ops.clamp_max_
    neg_, abs_, exp_, log_, sqrt_ = ops.neg_, ops.abs_, ops.exp_, ops.log_, ops.sqrt_
    sigmoid_, tanh_, relu_ = ops.sigmoid_, ops.tanh_, ops.relu_
    bitwise_and_, bitwise_or_, bitwise_xor_ = ops.bitwise_and_, ops.bitwise_or_, ops.bitwise_xor_
    negative_, absolute_, clip_ = neg_, abs_, clamp_
    unsqueeze_, squeeze_, t_, transpose_ = _unsqueeze_, _squeeze_, _t_, _transpose_  # ops/inplace_shape.py
    swapdims_ = swapaxes_ = _transpose_
    # ``x += y`` writes into x's memory and returns x (without these, Python would rebind x to
    # x + y and ``w -= lr * w.grad`` would never reach the model). No ``__imatmul__``: PyTorch has
    # none either, so ``x @= w`` rebinds x to ``x @ w``, whose shape may differ.
    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_
    __ifloordiv__, __imod__, __ipow__ = floor_divide_, remainder_, pow_
    __iand__, __ior__, __ixor__ = bitwise_and_, bitwise_or_, bitwise_xor_

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has seen (shared with its views), as PyTorch.

        Example:
            >>> import dendrite
            >>> x = dendrite.zeros(3); view = x[1:]
            >>> x += 1; view.mul_(2)
            tensor([2., 2.])
            >>> x._version, view._version
            (2, 2)
        """
        return version_of(self._data)

    # ------------------------------------------------------------------ operators
    # Bound straight to the functions: no extra Python call per ``x + y``.
    __add__, __radd__ = ops.add, _reflected(ops.add)
    __sub__, __rsub__ = ops.sub, _reflected(ops.sub)
    __mul__, __rmul__ = ops.mul, _reflected(ops.mul)
    __truediv__, __rtruediv__ = ops.div, _reflected(ops.div)
    __floordiv__, __rfloordiv__ = ops.floor_divide, _reflected(ops.floor_divide)
    __mod__, __rmod__ = ops.remainder, _reflected(ops.remainder)
    __pow__, __rpow__ = ops.pow, _reflected(ops.pow)
    __matmul__, __rmatmul__ = ops.matmul, _reflected(ops.matmul)
    # Comparisons: operator forms answer NotImplemented where the functions raise (ops/comparison.py).
    __and__, __rand__ = _operator(xp.bitwise_and, "bitwise_and", "and"), \
        _operator(xp.bitwise_and, "bitwise_and", "rand", reflected=True)
    __or__, __ror__ = _operator(xp.bitwise_or, "bitwise_or", "or"), \
        _operator(xp.bitwise_or, "bitwise_or", "ror", reflected=True)
    __xor__, __rxor__ = _operator(xp.bitwise_xor, "bitwise_xor", "xor"), \
        _operator(xp.bitwise_xor, "bitwise_xor", "rxor", reflected=True)
    __neg__, __pos__, __abs__, __invert__ = ops.neg, _positive, ops.abs, ops.bitwise_not
    __eq__, __ne__ = _operator(xp.equal, "eq", "eq"), _operator(xp.not_equal, "ne", "ne")
    __lt__, __le__ = _operator(xp.less, "lt", "lt"), _operator(xp.less_equal, "le", "le")
    __gt__, __ge__ = _operator(xp.greater, "gt", "gt"), _operator(xp.greater_equal, "ge", "ge")
    __getitem__ = ops.getitem
    __hash__ = TensorBase.__hash__  # defining __eq__ would otherwise make tensors unhashable


set_tensor_class(Tensor)


def parse_to_arguments(args: tuple, kwargs: dict):
    """The dtype asked of ``.to(...)`` (``None`` if none), checking that the device is the CPU.

    Accepts PyTorch's forms: ``to(dtype)``, ``to("cpu")``, ``to(other_tensor)``,
    ``to(device, dtype)``, ``to(device=..., dtype=...)``, with ``non_blocking``
    and ``copy`` after them. Shared by ``Tensor.to`` and ``Module.to``.

    Example:
        >>> import dendrite
        >>> from dendrite.tensor import parse_to_arguments
        >>> parse_to_arguments(("cpu", dendrite.float64), {}), parse_to_arguments(("cpu",), {})
        (dtype('float64'), None)
    """
    return read_to_arguments(args, kwargs)[0]


def _is_device(value) -> bool:
    if isinstance(value, devices.device) or (isinstance(value, int) and not isinstance(value, bool)):
        return True
    if not isinstance(value, str):
        return False
    try:
        backend.as_dtype(value)  # a dtype name ("float64") reads as a dtype, anything else as a device
    except TypeError:
        return True
    return False


def read_to_arguments(args: tuple, kwargs: dict) -> tuple:
    """``(dtype or None, copy)`` for ``.to(*args, **kwargs)``, with PyTorch's three forms.

    ``to(device=None, dtype=None, non_blocking=False, copy=False)``,
    ``to(dtype, non_blocking=False, copy=False)`` and ``to(tensor, non_blocking=False,
    copy=False)``; ``memory_format=`` is accepted and means nothing here. The device,
    when given, must be the CPU (:func:`dendrite.devices.check_device`).

    Example:
        >>> import dendrite
        >>> from dendrite.tensor import read_to_arguments
        >>> read_to_arguments(("cpu", dendrite.float64, False, True), {})
        (dtype('float64'), True)
    """
    device, dtype, copy = read_to_device_arguments(args, kwargs)
    return dtype, copy


def read_to_device_arguments(args: tuple, kwargs: dict) -> tuple:
    """``(device or None, dtype or None, copy)`` for ``.to(*args, **kwargs)`` (see :func:`read_to_arguments`).

    The device, when given, is one dendrite has (:func:`dendrite.devices.resolve_device`).

    Example:
        >>> import dendrite
        >>> from dendrite.tensor import read_to_device_arguments
        >>> read_to_device_arguments(("cpu", dendrite.float64), {})
        (device(type='cpu'), dtype('float64'), False)
    """
    kwargs = dict(kwargs)
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    flags = [kwargs.pop("non_blocking", False), kwargs.pop("copy", False)]
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}; expected device, dtype, "
                        f"non_blocking, copy, memory_format")
    rest = list(args)
    if rest and isinstance(rest[0], TensorBase):
        other = rest.pop(0)  # to(other): other's dtype and device
        dtype, device = other.dtype, other.device
    elif rest and (rest[0] is None or _is_device(rest[0])):
        device = rest.pop(0)
        if rest and not isinstance(rest[0], bool):
            dtype = rest.pop(0)
    elif rest:
        dtype = rest.pop(0)
    if len(rest) > 2 or not all(isinstance(flag, bool) for flag in rest):
        raise TypeError(f"to() received an invalid combination of arguments {args!r}; expected "
                        f"to(device, dtype, non_blocking, copy), to(dtype, non_blocking, copy) or "
                        f"to(tensor, non_blocking, copy)")
    flags[:len(rest)] = rest
    if device is not None:
        device = devices.resolve_device(device, "to")
    if dtype is not None:
        try:
            dtype = backend.as_dtype(dtype)
        except TypeError as error:
            raise TypeError(f"to(): {error}") from None
    return device, dtype, bool(flags[1])


class _RemovableHandle:
    """Returned by ``register_hook``; ``.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
