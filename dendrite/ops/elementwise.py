"""Element-wise operations: arithmetic, math functions, comparisons.

Each ``Function`` below is one line of a table of derivatives: ``forward``
computes the value, ``backward`` multiplies the incoming gradient by the local
derivative. Binary operations broadcast like NumPy/PyTorch; ``unbroadcast``
sums the gradient back to each input's own shape.
"""

from __future__ import annotations

import numbers

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.tensor import Tensor, _new_tensor


def unbroadcast(grad: xp.ndarray, shape: tuple) -> xp.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _shape(value) -> tuple:
    return value.shape if isinstance(value, xp.ndarray) else ()


def _check_broadcast(name: str, a, b) -> None:
    try:
        xp.broadcast_shapes(_shape(a), _shape(b))
    except ValueError:
        raise ValueError(
            f"{name}: shapes {tuple(_shape(a))} and {tuple(_shape(b))} cannot be broadcast together "
            "(sizes must match or be 1, aligned from the right)"
        ) from None


def operands(a, b):
    """Make ``a`` and ``b`` ready for a binary op with PyTorch's type promotion.

    Tensors of the same dtype pass straight through (the hot path). A Python
    number keeps the tensor's dtype unless it is a float meeting an integer
    tensor (then the default float dtype). Two tensors promote floats-first.
    """
    a_tensor, b_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_tensor and b_tensor:
        if a._data.dtype is b._data.dtype or a._data.dtype == b._data.dtype:
            return a, b
        common = backend.result_dtype(a._data.dtype, b._data.dtype)
        return cast(a, common), cast(b, common)
    if a_tensor:
        return a, _scalar_for(a, b)
    if b_tensor:
        return _scalar_for(b, a), b
    raise TypeError("expected at least one tensor operand")


def _scalar_for(tensor: Tensor, value):
    if isinstance(value, xp.ndarray):
        value = _new_tensor(value)
        return operands(tensor, value)[1]
    if not isinstance(value, numbers.Number):
        raise TypeError(f"unsupported operand type {type(value).__name__} for a tensor operation")
    kind = tensor._data.dtype.kind
    if kind == "f" or isinstance(value, (bool, xp.bool_)):
        return value
    if isinstance(value, numbers.Integral):
        if kind == "b":
            return _new_tensor(xp.asarray(value, backend.int64))
        return value
    return _new_tensor(xp.asarray(value, backend.get_default_dtype()))


def _promote_integer(tensor, operand):
    """Integer tensors meeting a float operation become the default float dtype."""
    if isinstance(tensor, Tensor) and tensor._data.dtype.kind != "f":
        return cast(tensor, backend.get_default_dtype())
    return tensor


# ----------------------------------------------------------------------------- dtype cast
class Cast(Function):
    def forward(self, x, dtype):
        self.input_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.input_dtype) if self.input_dtype.kind == "f" else None


def cast(x: Tensor, dtype) -> Tensor:
    """``x`` converted to ``dtype`` (differentiable between float dtypes)."""
    dtype = backend.as_dtype(dtype)
    if x._data.dtype == dtype:
        return x
    return Cast.apply(x, dtype=dtype)


# ----------------------------------------------------------------------------- arithmetic
class Add(Function):
    def forward(self, a, b):
        self.shapes = (_shape(a), _shape(b))
        return a + b

    def backward(self, grad):
        return unbroadcast(grad, self.shapes[0]), unbroadcast(grad, self.shapes[1])


class Sub(Function):
    def forward(self, a, b):
        self.shapes = (_shape(a), _shape(b))
        return a - b

    def backward(self, grad):
        return unbroadcast(grad, self.shapes[0]), unbroadcast(-grad, self.shapes[1])


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        a, b = self.a, self.b
        grad_a = unbroadcast(grad * b, _shape(a)) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * a, _shape(b)) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, grad):
        a, b = self.a, self.b
        grad_a = unbroadcast(grad / b, _shape(a)) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(-grad * a / (b * b), _shape(b)) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class Pow(Function):
    """``base ** exponent``; either side may be a plain number."""

    def forward(self, base, exponent):
        self.base, self.exponent = base, exponent
        self.result = xp.power(base, exponent)
        return self.result

    def backward(self, grad):
        base, exponent, result = self.base, self.exponent, self.result
        grad_base = grad_exponent = None
        if self.needs_input_grad[0]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                local = exponent * xp.power(base, exponent - 1)
            # d/dx x**0 is 0 everywhere, including x = 0 (PyTorch's convention).
            local = xp.where(exponent == 0, 0.0, local).astype(result.dtype, copy=False)
            grad_base = unbroadcast(grad * local, _shape(base))
        if self.needs_input_grad[1]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                local = result * xp.log(base)
            # 0 ** y with y >= 0 has gradient 0 w.r.t. y (again PyTorch's convention).
            local = xp.where((base == 0) & (exponent >= 0), 0.0, local).astype(result.dtype, copy=False)
            grad_exponent = unbroadcast(grad * local, _shape(exponent))
        return grad_base, grad_exponent


def add(a, b, alpha=1) -> Tensor:
    """``a + alpha * b`` with broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    a, b = operands(a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.shape != b._data.shape:
        _check_broadcast("add", a._data, b._data)
    return Add.apply(a, b)


def sub(a, b, alpha=1) -> Tensor:
    """``a - alpha * b`` with broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    a, b = operands(a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.shape != b._data.shape:
        _check_broadcast("sub", a._data, b._data)
    return Sub.apply(a, b)


def mul(a, b) -> Tensor:
    """``a * b`` with broadcasting."""
    a, b = operands(a, b)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.shape != b._data.shape:
        _check_broadcast("mul", a._data, b._data)
    return Mul.apply(a, b)


def div(a, b, rounding_mode=None) -> Tensor:
    """True division ``a / b`` (integers give floats); ``rounding_mode='floor'`` floors."""
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        quotient = div(a, b)
        return _new_tensor(xp.trunc(quotient._data))
    a, b = operands(a, b)
    a, b = _promote_integer(a, b), _promote_integer(b, a)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.shape != b._data.shape:
        _check_broadcast("div", a._data, b._data)
    return Div.apply(a, b)


def neg(x: Tensor) -> Tensor:
    return Neg.apply(x)


def pow(base, exponent) -> Tensor:
    """``base ** exponent``; base or exponent may be a plain number."""
    base, exponent = operands(base, exponent)
    if isinstance(base, Tensor) and base._data.dtype.kind != "f":
        if isinstance(exponent, Tensor) and exponent._data.dtype.kind == "f":
            base = cast(base, exponent._data.dtype)
        elif isinstance(exponent, numbers.Integral) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    return Pow.apply(base, exponent)


def floor_divide(a, b) -> Tensor:
    """``a // b`` (not differentiable)."""
    a, b = operands(a, b)
    a_data = a._data if isinstance(a, Tensor) else a
    b_data = b._data if isinstance(b, Tensor) else b
    return _new_tensor(xp.asarray(xp.floor_divide(a_data, b_data)))


def remainder(a, b) -> Tensor:
    """``a % b`` with the sign of ``b`` (not differentiable)."""
    a, b = operands(a, b)
    a_data = a._data if isinstance(a, Tensor) else a
    b_data = b._data if isinstance(b, Tensor) else b
    return _new_tensor(xp.asarray(xp.mod(a_data, b_data)))


# ----------------------------------------------------------------------------- comparisons
def _compare(ufunc, a, b) -> Tensor:
    a, b = operands(a, b)
    a_data = a._data if isinstance(a, Tensor) else a
    b_data = b._data if isinstance(b, Tensor) else b
    if isinstance(a_data, xp.ndarray) and isinstance(b_data, xp.ndarray):
        _check_broadcast(ufunc.__name__, a_data, b_data)
    return _new_tensor(xp.asarray(ufunc(a_data, b_data)))


def eq(a, b) -> Tensor:
    return _compare(xp.equal, a, b)


def ne(a, b) -> Tensor:
    return _compare(xp.not_equal, a, b)


def lt(a, b) -> Tensor:
    return _compare(xp.less, a, b)


def le(a, b) -> Tensor:
    return _compare(xp.less_equal, a, b)


def gt(a, b) -> Tensor:
    return _compare(xp.greater, a, b)


def ge(a, b) -> Tensor:
    return _compare(xp.greater_equal, a, b)


def logical_and(a, b) -> Tensor:
    return _compare(xp.logical_and, a, b)


def logical_or(a, b) -> Tensor:
    return _compare(xp.logical_or, a, b)


def logical_xor(a, b) -> Tensor:
    return _compare(xp.logical_xor, a, b)


def logical_not(x: Tensor) -> Tensor:
    if x._data.dtype.kind != "b":
        return _new_tensor(~x._data) if x._data.dtype.kind in "iu" else _new_tensor(x._data == 0)
    return _new_tensor(~x._data)


def isnan(x: Tensor) -> Tensor:
    return _new_tensor(xp.isnan(x._data))


def isinf(x: Tensor) -> Tensor:
    return _new_tensor(xp.isinf(x._data))


def isfinite(x: Tensor) -> Tensor:
    return _new_tensor(xp.isfinite(x._data))


def equal(a: Tensor, b: Tensor) -> bool:
    """True when both tensors have the same shape and values."""
    return a.shape == b.shape and bool(xp.array_equal(a._data, b._data))


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    return bool(xp.allclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 (gradient zero, as in PyTorch)."""
    return _new_tensor(xp.sign(x._data))
