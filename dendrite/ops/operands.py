"""How the operations read their arguments: type promotion, broadcasting, dims and casts.

Every public operation passes its arguments through these helpers before it
applies its ``Function``, so the rules live in one place: PyTorch's type
promotion (:func:`operands`), the gradient of broadcasting (:func:`unbroadcast`),
dimension arguments (:func:`normalize_dims`) and dtype conversion (:func:`cast`).
Library code above the engine (``nn.functional``) uses them too.
"""

from __future__ import annotations

import builtins
import functools
import inspect
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import ndarray, xp
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
    return value.shape if isinstance(value, ndarray) else ()


def check_broadcast(name: str, a, b) -> None:
    """Raise PyTorch's RuntimeError when ``a`` and ``b`` (arrays or numbers) cannot broadcast together.

    Example:
        >>> import numpy as np
        >>> from dendrite.ops.operands import check_broadcast
        >>> check_broadcast("add", np.zeros((2, 3)), np.zeros(3))  # fine: returns None
        >>> check_broadcast("add", np.zeros((2, 3)), np.zeros(2))
        Traceback (most recent call last):
        RuntimeError: add: shapes (2, 3) and (2,) cannot be broadcast together (sizes must match or be 1, ...)
    """
    try:
        xp.broadcast_shapes(shape_of(a), shape_of(b))
    except ValueError:
        raise RuntimeError(
            f"{name}: shapes {tuple(shape_of(a))} and {tuple(shape_of(b))} cannot be broadcast together "
            "(sizes must match or be 1, aligned from the right)"
        ) from None


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
    """An operand of the wrong type; :func:`boundary` adds the name of the operation the user called.

    Example:
        >>> import dendrite
        >>> try:
        ...     dendrite.tensor([1.0]) + [1.0]
        ... except TypeError as error:
        ...     print(error)
        add(): an operand must be a Tensor or a number, not list
    """


class DimensionError(IndexError):
    """A dim out of range; :func:`boundary` adds the name of the operation the user called.

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


def _named(op: str, error: Exception) -> Exception:
    """The error the user sees: the operation's name in front of an operand or dim error."""
    kind = next(base for base in (TypeError, IndexError, RuntimeError) if isinstance(error, base))
    return kind(f"{op}(): {error}")


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
    if isinstance(value, ndarray):
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
    def forward(self, x, dtype):
        self.input_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.input_dtype) if self.input_dtype.kind == "f" else None


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
_NUMBER = (bool, int, float, xp.generic)


def tensor_arg(value, op: str, name: str, *, optional: bool = False, number: bool = False):
    """``value`` if it is a tensor; otherwise PyTorch's TypeError naming ``op`` and the argument.

    ``optional`` also lets ``None`` through, ``number`` a Python or NumPy number.
    Lists, tuples, strings and NumPy arrays are refused, as PyTorch's functions refuse
    them (``torch.exp([1.])`` raises): make a tensor first with ``dendrite.tensor``.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.operands import tensor_arg
        >>> tensor_arg(dendrite.tensor([1.0]), "exp", "input")
        tensor([1.])
        >>> tensor_arg([1.0], "exp", "input")
        Traceback (most recent call last):
        TypeError: exp(): argument 'input' must be a Tensor, not list (make one with dendrite.tensor(...))
    """
    if isinstance(value, TensorBase):
        return value
    if (optional and value is None) or (number and isinstance(value, _NUMBER)):
        return value
    expected = "a Tensor" + (" or a number" if number else "") + (" or None" if optional else "")
    hint = " (make one with dendrite.tensor(...))" if isinstance(value, (list, tuple, ndarray)) else ""
    raise TypeError(f"{op}(): argument '{name}' must be {expected}, not {type(value).__name__}{hint}")


_KIND_NAMES = {"b": "bool", "i": "integer", "u": "integer", "f": "floating-point"}


def input_kinds(kinds: str):
    """Mark a public function whose first tensor PyTorch takes only in these dtype kinds.

    ``"f"``: floating point only (``F.elu`` of an integer tensor raises in PyTorch);
    ``"iuf"``: numbers but not bool (``abs`` of a bool tensor raises). The check runs
    in :func:`boundary`, with the others, and raises NotImplementedError naming the op.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.operands import boundary, input_kinds
        >>> @input_kinds("f")
        ... def halve(input: Tensor):  # (annotations are strings here, as in every dendrite module)
        ...     return input / 2
        >>> boundary(halve)(dendrite.tensor([1]))
        Traceback (most recent call last):
        NotImplementedError: halve: not implemented for int64 tensors (expected floating-point, as PyTorch)
    """
    def mark(function):
        function.input_kinds = kinds
        return function
    return mark


def _reject_kind(op: str, x, kinds: str):
    if x is None or not isinstance(x, TensorBase) or x._data.dtype.kind in kinds:
        return
    expected = " or ".join(dict.fromkeys(_KIND_NAMES[kind] for kind in kinds))
    raise NotImplementedError(
        f"{op}: not implemented for {x._data.dtype} tensors (expected {expected}, as PyTorch)"
    )


def _tensor_params(function) -> list:
    """(position, name, optional) of each parameter annotated ``Tensor`` or ``Tensor | None``."""
    found = []
    for position, param in enumerate(inspect.signature(function).parameters.values()):
        annotation = param.annotation
        if not isinstance(annotation, str):
            continue
        parts = {part.strip() for part in annotation.split("|")}
        if "Tensor" in parts and parts <= {"Tensor", "None"}:
            keyword_only = param.kind is param.KEYWORD_ONLY
            found.append((None if keyword_only else position, param.name, "None" in parts))
    return found


def boundary(function):
    """Wrap a public operation so that its tensor arguments are checked before it runs.

    The parameters annotated ``Tensor`` (or ``Tensor | None``) must receive a tensor
    (or None); anything else raises :func:`tensor_arg`'s TypeError naming the
    operation and the argument, instead of an error from deep inside the engine.
    ``dendrite.ops`` and ``dendrite.nn.functional`` export their functions through
    it; code inside the engine calls the unwrapped functions. Every wrapper also
    turns an :class:`OperandTypeError` (a list given to ``add``...) into a TypeError
    naming the operation.

    Example:
        >>> import dendrite
        >>> from dendrite.ops.math import exp
        >>> from dendrite.ops.operands import boundary
        >>> boundary(exp)(dendrite.tensor([0.0]))
        tensor([1.])
        >>> boundary(exp)(None)
        Traceback (most recent call last):
        TypeError: exp(): argument 'input' must be a Tensor, not NoneType
    """
    if getattr(function, "__wrapped__", None) is not None:
        return function
    params = _tensor_params(function)
    op = function.__name__
    if not params:  # tensors or numbers (add, where...): only name the op in an operand's TypeError
        @functools.wraps(function)
        def named(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except (OperandTypeError, DimensionError, RepeatedDimError) as error:
                raise _named(op, error) from None
        return named
    positional = tuple(param for param in params if param[0] is not None)
    by_name = {name: optional for _, name, optional in params}
    tensor = TensorBase

    def reject(args, kwargs):
        for position, name, optional in positional:
            if position < len(args):
                tensor_arg(args[position], op, name, optional=optional)
        for name, value in kwargs.items():
            if name in by_name:
                tensor_arg(value, op, name, optional=by_name[name])

    kinds = getattr(function, "input_kinds", None)
    if kinds is not None:
        first = params[0][1]

        @functools.wraps(function)
        def checked(*args, **kwargs):  # a dtype rule too: check the first tensor's kind
            if kwargs or len(positional) > 1 or not args or not isinstance(args[0], tensor):
                reject(args, kwargs)
            x = args[0] if args else kwargs.get(first)
            if x is not None and x._data.dtype.kind not in kinds:
                _reject_kind(op, x, kinds)
            try:
                return function(*args, **kwargs)
            except (OperandTypeError, DimensionError, RepeatedDimError) as error:
                raise _named(op, error) from None
    elif len(positional) == 1 and positional[0][0] == 0 and not positional[0][2]:
        @functools.wraps(function)
        def checked(*args, **kwargs):  # the common case: one tensor, first
            if not kwargs and args and isinstance(args[0], tensor):
                try:
                    return function(*args)
                except (OperandTypeError, DimensionError, RepeatedDimError) as error:
                    raise _named(op, error) from None
            reject(args, kwargs)
            try:
                return function(*args, **kwargs)
            except (OperandTypeError, DimensionError, RepeatedDimError) as error:
                raise _named(op, error) from None
    else:
        @functools.wraps(function)
        def checked(*args, **kwargs):
            for position, _, optional in positional:
                if position < len(args):
                    value = args[position]
                    if not isinstance(value, tensor) and not (optional and value is None):
                        reject(args, kwargs)
            if kwargs:
                reject(args, kwargs)
            try:
                return function(*args, **kwargs)
            except (OperandTypeError, DimensionError, RepeatedDimError) as error:
                raise _named(op, error) from None

    return checked


def export(namespace: dict, names) -> None:
    """Replace each function named in ``names`` in ``namespace`` (a module's globals) by its :func:`boundary`.

    Example:
        >>> from dendrite.ops.operands import export
        >>> namespace = {"answer": lambda: 42}
        >>> export(namespace, ["answer"])
        >>> namespace["answer"]()
        42
    """
    for name in names:
        value = namespace.get(name)
        if inspect.isfunction(value):
            namespace[name] = boundary(value)
