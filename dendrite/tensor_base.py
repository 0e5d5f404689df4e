"""``TensorBase``: what a tensor *is* — one backend array plus its place in the graph.

The engine is built in three floors, each importing only the floors below it
(docs/architecture.md draws them):

1. this module: the data a tensor holds (``_data``, ``grad``, ``requires_grad``,
   the node ``_ctx`` that made it) and everything that only reads that data
   (shape, dtype, ``item()``, ``numpy()``...);
2. :mod:`dendrite.autograd` (nodes and the backward walk) and :mod:`dendrite.ops`
   (every differentiable operation, forward and backward side by side), which
   work on ``TensorBase`` and create tensors with :func:`wrap`;
3. :mod:`dendrite.tensor`: ``class Tensor(TensorBase)``, the class users hold,
   whose methods (``x.exp()``, ``x + y``) are the operations of floor 2, listed
   in its class body.

Floor 1 cannot import floor 3, yet every operation must hand back a full
``Tensor``. So :mod:`dendrite.tensor` names its class here once, with
:func:`set_tensor_class`, when it is defined — as PyTorch's Python ``Tensor``
extends the C++ ``TensorBase`` that creates it.
"""

from __future__ import annotations

from dendrite import backend, devices
from dendrite.backend import xp

__all__ = ["TensorBase", "wrap", "set_tensor_class"]


class TensorBase:
    """The data of a tensor: one backend array and the autograd bookkeeping around it.

    Users hold :class:`dendrite.Tensor`, which extends this class with the
    operations; code inside the engine checks ``isinstance(x, TensorBase)``.

    Example:
        >>> import dendrite
        >>> from dendrite.tensor_base import TensorBase
        >>> isinstance(dendrite.tensor([1.0]), TensorBase)
        True
    """

    __slots__ = ("_data", "grad", "requires_grad", "_ctx", "_out_index", "_hooks", "__weakref__",
                 # The view this tensor is, or None: ``(base, made with grad mode on, one of several
                 # outputs)``; weak references to its own views, or None; and, set only after
                 # in-place ops, its grad_fn history (autograd/versions.py).
                 "_view", "_views", "_history",
                 # set only on a leaf given post-accumulate-grad hooks (autograd/accumulate_hooks.py)
                 "_accumulate_hooks")
    # Make NumPy hand mixed expressions (ndarray * Tensor) to the Tensor.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def _adopt(self, array, requires_grad: bool) -> None:
        """Become a leaf holding ``array`` (no copy); used by ``Tensor.__init__`` and ``Parameter``."""
        self._data = array
        self.grad = None
        self._ctx = None
        self._out_index = 0
        self._hooks = None
        self._view = self._views = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple:
        """The size of each dimension, a tuple: ``()`` for a scalar, e.g. ``(32, 784)`` for a batch.

        Example:
            >>> import dendrite
            >>> dendrite.zeros(2, 3).shape, dendrite.tensor(1.0).shape
            ((2, 3), ())
        """
        return self._data.shape

    @property
    def ndim(self) -> int:
        """Number of dimensions (``len(shape)``).

        Example:
            >>> import dendrite
            >>> dendrite.zeros(2, 3).ndim
            2
        """
        return self._data.ndim

    @property
    def dtype(self):
        """The element type, e.g. ``dendrite.float32`` (a NumPy dtype).

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1, 2]).dtype == dendrite.int64
            True
        """
        return self._data.dtype

    @property
    def device(self) -> devices.device:
        """Where the values live: ``device(type='cpu')``, or ``device(type='cuda', index=0)`` (a CuPy array).

        Example:
            >>> import dendrite
            >>> dendrite.zeros(1).device
            device(type='cpu')
        """
        return devices.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        """True for a tensor on the GPU (a CuPy array), False on the CPU (PyTorch's ``Tensor.is_cuda``).

        Example:
            >>> import dendrite
            >>> dendrite.zeros(1).is_cuda
            False
        """
        return backend.on_device(self._data)

    @property
    def is_cpu(self) -> bool:
        """True for a tensor on the CPU, False on the GPU (PyTorch's ``Tensor.is_cpu``).

        Example:
            >>> import dendrite
            >>> dendrite.zeros(1).is_cpu
            True
        """
        return not backend.on_device(self._data)

    def get_device(self) -> int:
        """``-1``, PyTorch's answer for a CPU tensor; a CUDA tensor gives its GPU's index (0).

        Example:
            >>> import dendrite
            >>> dendrite.zeros(1).get_device()
            -1
        """
        return 0 if backend.on_device(self._data) else -1

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation (inputs, parameters).

        Example:
            >>> import dendrite
            >>> x = dendrite.tensor([1.0], requires_grad=True)
            >>> x.is_leaf, (x * 2).is_leaf
            (True, False)
        """
        return self._ctx is None

    @property
    def grad_fn(self):
        """The node that produced this tensor, or ``None`` for a leaf.

        Example:
            >>> import dendrite
            >>> x = dendrite.tensor([1.0], requires_grad=True)
            >>> x.grad_fn, (x * 2).grad_fn
            (None, <MulBackward>)
        """
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
    def data(self):
        """This tensor's values as a tensor outside the graph (shares memory); assignable.

        Example:
            >>> import dendrite
            >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
            >>> x.data
            tensor([1., 2.])
        """
        return wrap(self._data)

    @data.setter
    def data(self, value) -> None:
        if isinstance(value, TensorBase):
            self._data = value._data
        else:
            self._data = value if backend.on_device(value) else backend.asarray(value)

    def dim(self) -> int:
        """Number of dimensions (``len(shape)``).

        Example:
            >>> import dendrite
            >>> dendrite.zeros(2, 3).dim()
            2
        """
        return self._data.ndim

    def numel(self) -> int:
        """Number of elements (the product of the shape).

        Example:
            >>> import dendrite
            >>> dendrite.zeros(2, 3).numel()
            6
        """
        return int(self._data.size)

    nelement = numel

    def stride(self, dim: int | None = None):
        """Steps in elements between neighbours along each dimension (one dimension's when ``dim`` is given).

        Example:
            >>> import dendrite
            >>> x = dendrite.zeros(2, 3)
            >>> x.stride(), x.stride(0)
            ((3, 1), 3)
        """
        strides = tuple(step // self._data.itemsize for step in self._data.strides)
        return strides if dim is None else strides[dim]

    def size(self, dim: int | None = None):
        """The shape, or the size of dimension ``dim`` (negative counts from the end).

        Example:
            >>> import dendrite
            >>> x = dendrite.zeros(2, 3)
            >>> x.size(), x.size(-1)
            ((2, 3), 3)
        """
        if dim is None:
            return self._data.shape
        return self._data.shape[dim]

    def element_size(self) -> int:
        """Bytes per element (4 for float32).

        Example:
            >>> import dendrite
            >>> dendrite.zeros(2).element_size()
            4
        """
        return self._data.itemsize

    def is_contiguous(self) -> bool:
        """True when the values are laid out row-major without gaps (a transpose is not).

        Example:
            >>> import dendrite
            >>> x = dendrite.zeros(2, 3)
            >>> x.is_contiguous(), x.t().is_contiguous()
            (True, False)
        """
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        """True for float16/32/64 tensors.

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1.0]).is_floating_point(), dendrite.tensor([1]).is_floating_point()
            (True, False)
        """
        return self._data.dtype.kind == "f"

    # ------------------------------------------------------------------ conversions
    def numpy(self) -> xp.ndarray:
        """The values as a NumPy array sharing memory with this tensor (same shape and dtype).

        Refused for a tensor that requires grad (call ``detach()`` first) and for a CUDA
        tensor (call ``cpu()`` first: the copy to the host is made only where asked).

        Example:
            >>> import dendrite
            >>> dendrite.tensor([[1.0, 2.0]]).numpy()
            array([[1., 2.]], dtype=float32)
        """
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        if backend.on_device(self._data):
            raise TypeError(_host_message(self, "numpy"))
        return self._data

    def __array__(self, dtype=None, copy=None):
        if backend.on_device(self._data):
            raise TypeError(_host_message(self, "numpy"))
        array = self._data
        if dtype is not None:
            return array.astype(dtype, copy=bool(copy))
        return array.copy() if copy else array

    def item(self):
        """The single value of a one-element tensor (any shape) as a Python number.

        Example:
            >>> import dendrite
            >>> dendrite.tensor([[2.5]]).item()
            2.5
        """
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to a Python scalar"
            )
        return self._data.item()

    def tolist(self):
        """The values as nested Python lists of the tensor's shape (a number for a 0-d tensor).

        Example:
            >>> import dendrite
            >>> dendrite.tensor([[1, 2], [3, 4]]).tolist(), dendrite.tensor(1.5).tolist()
            ([[1, 2], [3, 4]], 1.5)
        """
        return self._data.tolist()

    def detach(self):
        """The same values (same shape, shared memory), cut off from the graph.

        Example:
            >>> import dendrite
            >>> y = dendrite.tensor([1.0, 2.0], requires_grad=True) * 2
            >>> y.detach()
            tensor([2., 4.])
        """
        return wrap(self._data)

    def detach_(self):
        """Cut this tensor off from the graph, in place; returns ``self``.

        Example:
            >>> import dendrite
            >>> y = dendrite.tensor([1.0], requires_grad=True) * 2
            >>> y.detach_().is_leaf, y.requires_grad
            (True, False)
        """
        self._ctx = None
        self.requires_grad = False
        return self

    def cpu(self, memory_format=None):
        """This tensor on the CPU: ``self`` when it is there, else a copy to the host that keeps the graph.

        ``memory_format`` is accepted and means nothing.

        Example:
            >>> import dendrite
            >>> x = dendrite.zeros(2)
            >>> x.cpu() is x
            True
        """
        return self  # Tensor.cpu copies a CUDA tensor (an operation, so it lives in dendrite.tensor)

    def contiguous(self):
        """``self``: the backend handles any memory layout, so no copy is made.

        Example:
            >>> import dendrite
            >>> x = dendrite.zeros(2, 3)
            >>> x.contiguous() is x
            True
        """
        return self

    def requires_grad_(self, requires_grad: bool = True):
        """Mark a leaf tensor as needing gradients (in place, float dtypes only); returns ``self``.

        Example:
            >>> import dendrite
            >>> dendrite.tensor([1.0]).requires_grad_()
            tensor([1.], requires_grad=True)
        """
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

    # ------------------------------------------------------------------ copies
    def __copy__(self):
        return self.__deepcopy__({})

    def __deepcopy__(self, memo):
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
        copy._ctx, copy._out_index, copy._hooks, copy._view, copy._views = None, 0, None, None, None
        copy.requires_grad = self.requires_grad
        copy.grad = None if self.grad is None else wrap(self.grad._data.copy())
        memo[id(self)] = copy
        return copy

    # ------------------------------------------------------------------ Python protocol
    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

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

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return repr(self)

    def __reduce_ex__(self, protocol):
        raise TypeError("dendrite tensors are not pickled; save them with dendrite.save()")


def _host_message(tensor, what: str) -> str:
    return (f"can't convert {tensor.device} device type tensor to {what}. Use Tensor.cpu() to copy the "
            f"tensor to host memory first.")


# The class every operation creates: dendrite.tensor.Tensor once that module is loaded.
_tensor_class: type = TensorBase


def set_tensor_class(cls: type) -> None:
    """Make :func:`wrap` create instances of ``cls`` (called once, by :mod:`dendrite.tensor`).

    Example:
        >>> import numpy as np, dendrite
        >>> from dendrite.tensor_base import set_tensor_class, wrap
        >>> set_tensor_class(dendrite.Tensor)  # what dendrite/tensor.py does
        >>> type(wrap(np.zeros(1))) is dendrite.Tensor
        True
    """
    global _tensor_class
    if not issubclass(cls, TensorBase):
        raise TypeError(f"the tensor class must extend TensorBase, got {cls!r}")
    _tensor_class = cls


def wrap(array, node=None, index=0):
    """A tensor around ``array`` (no copy, no checks); ``node``/``index``: the op that made it.

    The fast constructor used by the operations and by library code that has
    computed a backend array itself. Without ``node`` the tensor is a leaf
    that does not require grad. Users want :func:`dendrite.tensor` instead.

    Example:
        >>> import numpy as np
        >>> from dendrite.tensor import wrap
        >>> wrap(np.arange(3.0))
        tensor([0., 1., 2.], dtype=dendrite.float64)
    """
    tensor = _tensor_class.__new__(_tensor_class)
    tensor._data = array
    tensor.grad = None
    tensor._ctx = node
    tensor._out_index = index
    tensor._hooks = None
    tensor._view = tensor._views = None  # views and bases note each other (Function.apply)
    tensor.requires_grad = node is not None  # Function.apply links only floating outputs
    return tensor
