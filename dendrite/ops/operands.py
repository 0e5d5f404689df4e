"""How the operations read their arguments: type promotion, broadcasting, dims and casts.

Every public operation passes its arguments through these helpers before it
applies its ``Function``, so the rules live in one place: PyTorch's type
promotion (:func:`operands`), the gradient of broadcasting (:func:`unbroadcast`),
dimension arguments (:func:`normalize_dims`) and dtype conversion (:func:`cast`).
Library code above the engine (``nn.functional``) uses them too.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor

# PyTorch's dtype categories: a higher category wins a promotion regardless of width.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def unbroadcast(grad: xp.ndarray, shape: tuple) -> xp.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``.

    Shapes: ``grad`` of the broadcast shape -> ``shape``, e.g. (4, 2, 3) -> (2, 1) sums
    axis 0 (added) and axis 2 (stretched from 1).

    Example:
        >>> import numpy as np
        >>> from dendrite.ops.operands import unbroadcast
        >>> unbroadcast(np.ones((4, 2, 3)), (2, 1))
        array([[12.],
               [12.]])
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def shape_of(value) -> tuple:
    """The shape of an array, ``()`` for a plain number.

    Example:
        >>> import numpy as np
        >>> from dendrite.ops.operands import shape_of
        >>> shape_of(np.zeros((2, 3))), shape_of(2.5)
        ((2, 3), ())
    """
    return getattr(value, "shape", ())  # arrays of any device; NumPy scalars have shape ()


def check_broadcast(name: str, a, b, *, names: tuple | None = None, onto_first: bool = False) -> None:
    """Raise PyTorch's RuntimeError when ``a`` and ``b`` (tensors, arrays, numbers) cannot broadcast together.

    ``names``: what the message calls ``a`` and ``b`` (``("input", "target")`` for a loss);
    ``onto_first``: ``b`` must broadcast to ``a``'s own shape (a loss that PyTorch writes into an
    input-shaped result).

    Example:
        >>> import numpy as np
        >>> from dendrite.ops.operands import check_broadcast
        >>> check_broadcast("add", np.zeros((2, 3)), np.zeros(3))  # fine: returns None
        >>> check_broadcast("add", np.zeros((2, 3)), np.zeros(2))
        Traceback (most recent call last):
        RuntimeError: add: shapes (2, 3) and (2,) cannot be broadcast together (sizes must match or be 1, ...)
    """
    shape_a, shape_b = (tuple(v.shape) if isinstance(v, TensorBase) else tuple(shape_of(v)) for v in (a, b))
    try:
        fits = xp.broadcast_shapes(shape_a, shape_b) == shape_a or not onto_first
    except ValueError:
        fits = False
    if fits:
        return
    first, second = names or ("first operand", "second operand")
    if onto_first:
        raise RuntimeError(f"{name}: {second} of shape {shape_b} cannot be broadcast to the {first}'s "
                           f"shape {shape_a}")
    described = f"{first} of shape {shape_a} and {second} of shape {shape_b}" if names \
        else f"shapes {shape_a} and {shape_b}"
    raise RuntimeError(
        f"{name}: {described} cannot be broadcast together (sizes must match or be 1, aligned from the right)"
    )


def promote_arrays(a: xp.ndarray, b: xp.ndarray):
    """The dtype PyTorch gives ``a op b`` for two tensors' arrays.

    A 0-d tensor only decides the result when it is of a higher category
    (bool < integer < float) than the tensor with dimensions.

    Example:
        >>> import numpy as np
        >>> from dendrite.ops.operands import promote_arrays
        >>> ints, double = np.zeros(2, np.int64), np.float64(1.0)
        >>> promote_arrays(ints, np.array(double)), promote_arrays(np.zeros(2, np.float32), np.array(double))
        (dtype('float64'), dtype('float32'))
    """
    if (a.ndim == 0) != (b.ndim == 0):
        dimmed, zero = (a.dtype, b.dtype) if b.ndim == 0 else (b.dtype, a.dtype)
        if _CATEGORY[zero.kind] <= _CATEGORY[dimmed.kind]:
            return dimmed
        return zero
    return backend.result_dtype(a.dtype, b.dtype)


class OperandTypeError(TypeError):
    """An operand of the wrong type; the op boundary (:mod:`dendrite.ops.boundary`) adds the operation's name.

    Example:
        >>> import dendrite
        >>> try:
        ...     dendrite.tensor([1.0]) + [1.0]
        ... except TypeError as error:
        ...     print(error)
        add(): an operand must be a Tensor or a number, not list
    """


class DimensionError(IndexError):
    """A dim out of range; the op boundary (:mod:`dendrite.ops.boundary`) adds the operation's name.

    Example:
        >>> import dendrite
        >>> try:
        ...     dendrite.tensor([1.0]).sum(dim=1)
        ... except IndexError as error:
        ...     print(error)
        sum(): Dimension out of range (expected to be in range of [-1, 0], but got 1)
    """


class RepeatedDimError(RuntimeError):
    """A dim given twice (``flip(x, (0, 0))``); :func:`boundary` adds the operation's name.

    Example:
        >>> import dendrite
        >>> try:
        ...     dendrite.tensor([1.0]).flip((0, 0))
        ... except RuntimeError as error:
        ...     print(error)
        flip(): dim (0, 0) appears multiple times in the list of dims
    """


def operands(a, b):
    """Make ``a`` and ``b`` ready for a binary op with PyTorch's type promotion.

    Tensors of the same dtype pass straight through (the hot path). A Python
    number stays a number (NumPy then keeps the tensor's dtype), but a float
    number turns an integer or bool tensor into the default float dtype, and
    an int number turns a bool tensor into int64. NumPy scalars count as
    Python numbers, NumPy arrays as tensors. Shapes are unchanged.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.operands import operands
        >>> operands(dendrite.tensor([1, 2]), 0.5)
        (tensor([1., 2.]), 0.5)
    """
    if isinstance(a, TensorBase):
        if isinstance(b, TensorBase):
            a_dtype, b_dtype = a._data.dtype, b._data.dtype
            if a_dtype is b_dtype or a_dtype == b_dtype:
                return a, b
            common = promote_arrays(a._data, b._data)
            return cast(a, common), cast(b, common)
        return _with_scalar(a, b, tensor_first=True)
    if isinstance(b, TensorBase):
        return _with_scalar(b, a, tensor_first=False)
    raise OperandTypeError(
        f"expected at least one tensor operand, got {type(a).__name__} and {type(b).__name__}"
    )


def _with_scalar(tensor: Tensor, value, tensor_first: bool):
    if backend.is_array(value):
        value = wrap(value)
        return operands(tensor, value) if tensor_first else operands(value, tensor)
    if isinstance(value, xp.generic):
        value = value.item()
    kind = tensor._data.dtype.kind
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if kind == "b":
            tensor = cast(tensor, backend.int64)
    elif isinstance(value, float):
        if kind != "f":
            tensor = cast(tensor, backend.get_default_dtype())
    else:
        raise OperandTypeError(
            f"an operand must be a Tensor or a number, not {type(value).__name__}"
        )
    return (tensor, value) if tensor_first else (value, tensor)


def to_float(value):
    """Integer and bool tensors become the default float dtype (for true division, exp, ...); same shape.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.operands import to_float
        >>> to_float(dendrite.tensor([1, 2])), to_float(3)
        (tensor([1., 2.]), 3)
    """
    if isinstance(value, TensorBase) and value._data.dtype.kind != "f":
        return cast(value, backend.get_default_dtype())
    return value


def float_operands(a, b):
    """:func:`operands`, then integer and bool tensors to the default float dtype (true division,
    atan2): promoted first, so a 0-d float64 beside an int64 tensor gives float64, as PyTorch.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.operands import float_operands
        >>> a, b = float_operands(dendrite.tensor([1, 2]), dendrite.tensor(0.5, dtype=dendrite.float64))
        >>> a.dtype, b.dtype
        (dtype('float64'), dtype('float64'))
    """
    a, b = operands(a, b)
    return to_float(a), to_float(b)


def apply_binary(function, name: str, a, b) -> Tensor:
    """Run a broadcasting binary ``function``; explain NumPy's shape error in PyTorch's terms.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.elementwise import Sub
        >>> from dendrite.ops.operands import apply_binary
        >>> apply_binary(Sub, "sub", dendrite.tensor([3, 4]), 1)
        tensor([2, 3])
    """
    try:
        return function.apply(a, b)
    except ValueError:
        check_broadcast(name, array_or_value(a), array_or_value(b))
        raise


# ----------------------------------------------------------------------------- dtype cast and copy
class Cast(Function):
    """``x.astype(dtype)``; backward: the gradient cast back to x's float dtype (none for integers)."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, x, dtype):
        self.input_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.input_dtype) if self.input_dtype.kind == "f" else None

    def backward_graph(self, grad):
        return Cast.apply(grad, dtype=self.input_dtype) if self.input_dtype.kind == "f" else None


def cast(x: Tensor, dtype) -> Tensor:
    """``x`` converted to ``dtype`` (same shape; differentiable between float dtypes; ``x`` if unchanged).

    Example:
        >>> import dendrite
        >>> from dendrite.ops.operands import cast
        >>> cast(dendrite.tensor([1.7, -1.7]), dendrite.int64)
        tensor([ 1, -1])
    """
    dtype = backend.as_dtype(dtype)
    if x._data.dtype == dtype:
        return x
    return Cast.apply(x, dtype=dtype)


def array_or_value(value):
    """A tensor's backend array, or the value itself when it is not a tensor.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.operands import array_or_value
        >>> array_or_value(dendrite.tensor([1, 2])), array_or_value(3)
        (array([1, 2]), 3)
    """
    return value._data if isinstance(value, TensorBase) else value


# ----------------------------------------------------------------------------- dims
def size_arguments(sizes) -> tuple:
    """Sizes given as ``f(2, 3)`` or as ``f((2, 3))``, as one tuple of ints (reshape, expand, repeat...).

    Example:
        >>> from dendrite.ops.operands import size_arguments
        >>> size_arguments((2, 3)), size_arguments(((2, 3),)), size_arguments(([4],))
        ((2, 3), (2, 3), (4,))
    """
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    return tuple(int(size) for size in sizes)


def normalize_dims(dim, ndim: int, name: str = "dim") -> tuple:
    """``dim`` (None, int or sequence) as a tuple of non-negative axes, checked.

    Example:
        >>> from dendrite.ops.operands import normalize_dims
        >>> normalize_dims(-1, 3), normalize_dims((0, -2), 3), normalize_dims(None, 2)
        ((2,), (0, 1), (0, 1))
    """
    if dim is None:
        return tuple(range(ndim))
    if type(dim) is int and -ndim <= dim < ndim:  # the common case, quickly
        return (dim % ndim,)
    dims = (dim,) if isinstance(dim, (int, xp.integer)) else tuple(dim)
    span = builtins.max(ndim, 1)
    low, high = -span, span - 1
    result = []
    for d in dims:
        if not isinstance(d, (int, xp.integer)) or isinstance(d, bool):
            raise TypeError(f"{name} must be an int or a sequence of ints, got {dim!r}")
        if not low <= d <= high:
            raise DimensionError(
                f"Dimension out of range (expected to be in range of [{low}, {high}], but got {d})"
            )
        result.append(int(d) % span if ndim else 0)
    if len(set(result)) != len(result):
        raise RepeatedDimError(f"{name} {dim} appears multiple times in the list of dims")
    return tuple(result)


def reduction_dims(dim, ndim: int) -> tuple:
    """Like :func:`normalize_dims`, but an empty ``dim`` (``()``, ``[]``) also means every dim (PyTorch).

    Example:
        >>> from dendrite.ops.operands import reduction_dims
        >>> reduction_dims((), 3), reduction_dims(1, 3)
        ((0, 1, 2), (1,))
    """
    if dim is not None and not isinstance(dim, (int, xp.integer)) and len(dim) == 0:
        dim = None
    axes = normalize_dims(dim, ndim)  # a 0-d tensor takes dim in [-1, 0], as PyTorch
    return () if ndim == 0 else axes


def kept_shape(shape: tuple, axes: tuple) -> tuple:
    """``shape`` with the reduced ``axes`` kept as size 1 (what keepdim=True gives).

    Example:
        >>> from dendrite.ops.operands import kept_shape
        >>> kept_shape((2, 3, 4), (1,))
        (2, 1, 4)
    """
    return tuple([1 if axis in axes else size for axis, size in enumerate(shape)])


def float_input(x: Tensor, dtype=None) -> Tensor:
    """``x`` cast to ``dtype`` if given, else to the default float dtype unless already floating.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.operands import float_input
        >>> float_input(dendrite.tensor([1, 2])), float_input(dendrite.tensor([1, 2]), dendrite.float64).dtype
        (tensor([1., 2.]), dtype('float64'))
    """
    if dtype is not None:
        return cast(x, dtype)
    if x._data.dtype.kind != "f":
        return cast(x, backend.get_default_dtype())
    return x


# ----------------------------------------------------------------------------- the op boundary
