"""``Tensor``: an n-dimensional array that remembers how it was computed.

A tensor wraps one backend array (``._data``). When it is produced by an
operation on tensors that require gradients, it also holds that operation's
node (``._ctx``, shown as ``grad_fn``) so that ``backward()`` can walk back to
the leaves and fill their ``.grad``.

The operations themselves live in :mod:`dendrite.ops`; the methods at the end
of this file are those same functions bound as methods, so ``x.exp()`` and
``dendrite.exp(x)`` are one piece of code.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.autograd.grad_mode import state
from dendrite.backend import xp


def _new_tensor(array, node=None, index=0) -> Tensor:
    """Fast internal constructor: wrap ``array`` (no copy), produced by ``node``."""
    tensor = Tensor.__new__(Tensor)
    tensor._data = array
    tensor.grad = None
    tensor._ctx = node
    tensor._out_index = index
    tensor._hooks = None
    tensor.requires_grad = node is not None and array.dtype.kind == "f"
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

        self._data = as_array(data, dtype)
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
    def data(self) -> Tensor:
        """This tensor's values as a tensor outside the graph (shares memory)."""
        return _new_tensor(self._data)

    @data.setter
    def data(self, value) -> None:
        array = value._data if isinstance(value, Tensor) else xp.asarray(value)
        self._data = array

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the transpose of a matrix)."""
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
        return array if dtype is None else array.astype(dtype)

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to a Python scalar"
            )
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def detach(self) -> Tensor:
        """The same values, cut off from the graph (shares memory)."""
        return _new_tensor(self._data)

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
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        for arg in args:
            if isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps"):
                device = arg
            elif isinstance(arg, Tensor):
                dtype = arg.dtype
            else:
                dtype = arg
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"dendrite runs on the CPU; device {device!r} is not available")
        if dtype is None:
            return self
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

    def backward(self, gradient=None, retain_graph: bool | None = None, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        ``gradient`` (same shape as ``self``) is required unless ``self`` has one element.
        """
        from dendrite.autograd.engine import run_backward

        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn: "
                "did you create the inputs with requires_grad=True, or run inside no_grad()?"
            )
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; this output has "
                    f"shape {self.shape}. Pass backward(gradient) or reduce it first, e.g. .sum()"
                )
            grad = xp.ones_like(self._data)
        else:
            grad = gradient._data if isinstance(gradient, Tensor) else xp.asarray(gradient)
            grad = grad.astype(self._data.dtype, copy=True)
        run_backward([self], [grad], retain_graph=bool(retain_graph))

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this inner (non-leaf) tensor after backward."""
        if self._ctx is None:
            return
        import weakref

        tensor_ref = weakref.ref(self)

        def keep(grad):
            tensor = tensor_ref()
            if tensor is not None:
                tensor.grad = grad if tensor.grad is None else tensor.grad + grad

        self.register_hook(keep)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._ctx is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            hooks = self._hooks
        else:
            hooks = self._ctx.__dict__.setdefault("output_hooks", {}).setdefault(self._out_index, [])
            hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    # ------------------------------------------------------------------ in-place updates
    def _check_inplace(self) -> None:
        if self.requires_grad and state.grad_enabled:
            kind = "a leaf tensor" if self._ctx is None else "a tensor in the graph"
            raise RuntimeError(
                f"in-place operation on {kind} that requires grad; wrap it in dendrite.no_grad()"
            )

    def _inplace(self, array) -> Tensor:
        self._check_inplace()
        xp.copyto(self._data, array, casting="unsafe")
        return self

    def add_(self, other, alpha=1) -> Tensor:
        other = other._data if isinstance(other, Tensor) else other
        return self._inplace(self._data + (other * alpha if alpha != 1 else other))

    def sub_(self, other, alpha=1) -> Tensor:
        other = other._data if isinstance(other, Tensor) else other
        return self._inplace(self._data - (other * alpha if alpha != 1 else other))

    def mul_(self, other) -> Tensor:
        return self._inplace(self._data * (other._data if isinstance(other, Tensor) else other))

    def div_(self, other) -> Tensor:
        return self._inplace(self._data / (other._data if isinstance(other, Tensor) else other))

    def copy_(self, source) -> Tensor:
        return self._inplace(source._data if isinstance(source, Tensor) else xp.asarray(source))

    def fill_(self, value) -> Tensor:
        return self._inplace(value._data if isinstance(value, Tensor) else value)

    def zero_(self) -> Tensor:
        return self._inplace(0)

    def clamp_(self, min=None, max=None) -> Tensor:
        return self._inplace(xp.clip(self._data, min, max))

    def uniform_(self, low: float = 0.0, high: float = 1.0) -> Tensor:
        return self._inplace(backend.generator().uniform(low, high, self.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        return self._inplace(backend.generator().normal(mean, std, self.shape))

    def __setitem__(self, index, value) -> None:
        self._check_inplace()
        self._data[_ops.plain_index(index)] = value._data if isinstance(value, Tensor) else value

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

    # Arithmetic operators: the operations in ``dendrite.ops`` decide broadcasting and dtypes.
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __pow__(self, exponent):
        return _ops.pow(self, exponent)

    def __rpow__(self, base):
        return _ops.pow(base, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __invert__(self):
        return _ops.logical_not(self)

    def __and__(self, other):
        return _ops.logical_and(self, other)

    def __or__(self, other):
        return _ops.logical_or(self, other)

    def __xor__(self, other):
        return _ops.logical_xor(self, other)

    def __eq__(self, other):
        return _ops.eq(self, other)

    def __ne__(self, other):
        return _ops.ne(self, other)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __getitem__(self, index):
        return _ops.getitem(self, index)


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
