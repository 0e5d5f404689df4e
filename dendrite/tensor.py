"""``Tensor``: an n-dimensional array that remembers how it was computed.

A tensor wraps one backend array (``._data``). When it is produced by an
operation on tensors that require gradients, it also holds that operation's
node (``._ctx``, shown as ``grad_fn``) so that ``backward()`` can walk back to
the leaves and fill their ``.grad``.

The operations themselves live in :mod:`dendrite.ops`, which binds them to
this class as methods and operators, so ``x.exp()``, ``dendrite.exp(x)`` and
``x + y`` / ``dendrite.add(x, y)`` are one piece of code each.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.backend import xp


def wrap(array, node=None, index=0) -> Tensor:
    """A tensor around ``array`` (no copy, no checks); ``node``/``index``: the op that made it.

    The fast constructor used by the operations and by library code that has
    computed a backend array itself. Without ``node`` the tensor is a leaf
    that does not require grad. Users want :func:`dendrite.tensor` instead.
    """
    tensor = Tensor.__new__(Tensor)
    tensor._data = array
    tensor.grad = None
    tensor._ctx = node
    tensor._out_index = index
    tensor._hooks = None
    tensor.requires_grad = node is not None  # Function.apply links only floating outputs
    return tensor


class Tensor:
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

    __slots__ = ("_data", "grad", "requires_grad", "_ctx", "_out_index", "_hooks", "__weakref__")
    # Make NumPy hand mixed expressions (ndarray * Tensor) to the Tensor.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data, dtype=None, requires_grad: bool = False) -> None:
        from dendrite.creation import as_array

        self._adopt(as_array(data, dtype), requires_grad)

    def _adopt(self, array, requires_grad: bool) -> None:
        """Become a leaf holding ``array`` (no copy); used by ``__init__`` and ``Parameter``."""
        self._data = array
        self.grad = None
        self._ctx = None
        self._out_index = 0
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple:
        """The size of each dimension, e.g. ``(32, 784)``."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation (inputs, parameters)."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The node that produced this tensor, or ``None`` for a leaf."""
        return self._ctx

    @property
    def array(self):
        """The backend array (a ``numpy.ndarray`` today) holding the values: shared, not tracked.

        This is the door for library code above the engine (layers, optimizers,
        data, interop) and for a learner who wants to see the numbers. Changing
        it in place bypasses autograd, as ``.data`` does in PyTorch; to replace
        it, assign ``tensor.data = new_array``.

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1.0, 2.0]).array
            array([1., 2.], dtype=float32)
        """
        return self._data

    @property
    def data(self) -> Tensor:
        """This tensor's values as a tensor outside the graph (shares memory)."""
        return wrap(self._data)

    @data.setter
    def data(self, value) -> None:
        array = value._data if isinstance(value, Tensor) else xp.asarray(value)
        self._data = array

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the transpose of a matrix)."""
        if self._data.ndim == 2:
            return _ops.movement.Permute.apply(self, dims=(1, 0))
        return self.permute(*range(self.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped."""
        return self.transpose(-2, -1)

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        """Number of elements."""
        return int(self._data.size)

    nelement = numel

    def stride(self, dim: int | None = None):
        """Steps in elements between neighbours along each dimension."""
        strides = tuple(step // self._data.itemsize for step in self._data.strides)
        return strides if dim is None else strides[dim]

    def size(self, dim: int | None = None):
        """The shape, or the size of one dimension."""
        if dim is None:
            return self._data.shape
        return self._data.shape[dim]

    def element_size(self) -> int:
        return self._data.itemsize

    # ------------------------------------------------------------------ conversions
    def numpy(self) -> xp.ndarray:
        """The values as a NumPy array sharing memory with this tensor."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        return backend.to_host(self._data)

    def __array__(self, dtype=None, copy=None):
        array = backend.to_host(self._data)
        if dtype is not None:
            return array.astype(dtype, copy=bool(copy))
        return array.copy() if copy else array

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to a Python scalar"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def detach(self) -> Tensor:
        """The same values, cut off from the graph (shares memory)."""
        return wrap(self._data)

    def detach_(self) -> Tensor:
        self._ctx = None
        self.requires_grad = False
        return self

    def cpu(self) -> Tensor:
        return self

    def contiguous(self) -> Tensor:
        return self

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def to(self, *args, **kwargs) -> Tensor:
        """Convert dtype (``x.to(dendrite.float64)``); devices other than 'cpu' are refused."""
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        dtype = parse_to_arguments(args, kwargs)
        if dtype is None or backend.as_dtype(dtype) == self._data.dtype:
            return _ops.clone(self) if copy else self
        return _ops.cast(self, backend.as_dtype(dtype))

    def float(self) -> Tensor:
        return _ops.cast(self, backend.float32)

    def double(self) -> Tensor:
        return _ops.cast(self, backend.float64)

    def half(self) -> Tensor:
        return _ops.cast(self, backend.float16)

    def long(self) -> Tensor:
        return _ops.cast(self, backend.int64)

    def int(self) -> Tensor:
        return _ops.cast(self, backend.int32)

    def bool(self) -> Tensor:
        return _ops.cast(self, backend.bool_)

    def type(self, dtype=None):
        if dtype is None:
            return f"dendrite.{self.dtype}"
        return _ops.cast(self, backend.as_dtype(dtype))

    def type_as(self, other: Tensor) -> Tensor:
        return _ops.cast(self, other.dtype)

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark a leaf tensor as needing gradients (in place)."""
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError(
                "you can only change requires_grad of leaf tensors; use detach() for an inner tensor"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        ``gradient`` (same shape as ``self``) is required unless ``self`` has
        one element. ``retain_graph=True`` keeps the graph for another
        backward; ``inputs`` limits which tensors' ``.grad`` is filled.

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
            from dendrite.autograd.engine import run_backward

            run_backward((self,), (xp.ones(self._data.shape, self._data.dtype),), bool(retain_graph))
            return
        from dendrite.autograd.functional import backward

        backward([self], None if gradient is None else [gradient], retain_graph, create_graph,
                 inputs=inputs)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this inner (non-leaf) tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
        if self._ctx is None:
            return
        import weakref

        node = self._ctx
        if node.retained_outputs is None:
            node.retained_outputs = {}
        node.retained_outputs[self._out_index] = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        """True for an inner tensor on which ``retain_grad()`` was called."""
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

    # ------------------------------------------------------------------ in-place updates
    # add_, mul_, copy_, zero_, __setitem__ ... live in dendrite/ops/inplace.py (bound as methods).

    # ------------------------------------------------------------------ new tensors like this one
    def clone(self) -> Tensor:
        """A copy with its own memory; differentiable (the gradient flows back unchanged)."""
        return _ops.clone(self)

    def new_tensor(self, data, dtype=None, requires_grad: bool = False) -> Tensor:
        from dendrite.creation import tensor

        return tensor(data, self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        from dendrite.creation import zeros

        return zeros(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        from dendrite.creation import ones

        return ones(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad: bool = False) -> Tensor:
        from dendrite.creation import empty

        return empty(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
        from dendrite.creation import full

        return full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                    requires_grad=requires_grad)

    def __copy__(self) -> Tensor:
        return self.__deepcopy__({})

    def __deepcopy__(self, memo) -> Tensor:
        """A copy of a leaf tensor (data, requires_grad and .grad), keeping its class (Parameter)."""
        if self._ctx is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol; use .detach().clone() for an inner tensor"
            )
        if id(self) in memo:
            return memo[id(self)]
        copy = type(self).__new__(type(self))
        copy._data = self._data.copy()
        copy._ctx, copy._out_index, copy._hooks = None, 0, None
        copy.requires_grad = self.requires_grad
        copy.grad = None if self.grad is None else wrap(self.grad._data.copy())
        memo[id(self)] = copy
        return copy

    # ------------------------------------------------------------------ Python protocol
    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._data.reshape(()))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return _ops.tensor_repr(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return repr(self)

    def __reduce_ex__(self, protocol):
        raise TypeError("dendrite tensors are not pickled; save them with dendrite.save()")

    # The operators (+ - * / ** @ < == [] ...) are bound at the end of ``dendrite/ops/__init__.py``,
    # straight to the functions that implement them (no extra call on the hot path).


def parse_to_arguments(args: tuple, kwargs: dict):
    """The dtype asked of ``.to(...)`` (``None`` if none), checking that the device is the CPU.

    Accepts PyTorch's forms: ``to(dtype)``, ``to("cpu")``, ``to(other_tensor)``,
    ``to(device=..., dtype=...)``. Shared by ``Tensor.to`` and ``Module.to``.
    """
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps"):
            device = arg
        elif isinstance(arg, Tensor):
            dtype = arg.dtype
        else:
            dtype = arg
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"dendrite runs on the CPU; device {device!r} is not available")
    return dtype


class _RemovableHandle:
    """Returned by ``register_hook``; ``.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


# The operations are bound as methods at the end of ``dendrite.ops`` (imported here
# last, because every operation module needs ``Tensor``).
from dendrite import ops as _ops  # noqa: E402
