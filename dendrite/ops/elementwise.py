"""Element-wise arithmetic: + - * / ** %, negation, dtype casts and copies.

Each ``Function`` below is one line of a table of derivatives: ``forward``
computes the value, ``backward`` multiplies the incoming gradient by the local
derivative. Binary operations broadcast like NumPy/PyTorch; ``unbroadcast``
sums the gradient back to each input's own shape.

Type promotion follows PyTorch (see :func:`operands`): int64 tensor * 2.5 is
float32, float32 + float64 is float64, int / int is float32, and a 0-d tensor
does not widen a tensor with dimensions of the same kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import constant, sum_to
from dendrite.ops.graph_operands import shape_of as input_shape
from dendrite.ops.operands import (
    apply_binary,
    array_or_value,
    check_broadcast,
    float_operands,
    operands,
    shape_of,
    unbroadcast,
)
from dendrite.ops.piecewise import trunc, where
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor

class Clone(Function):
    """``x.copy()``; backward: the gradient unchanged."""
    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return grad

    def backward_graph(self, grad):
        return grad


def clone(x: Tensor) -> Tensor:
    """A copy with its own memory (same shape and dtype); the gradient flows back unchanged.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> x.clone()
        tensor([1., 2.], grad_fn=<CloneBackward>)
    """
    return Clone.apply(x)


# ----------------------------------------------------------------------------- arithmetic
class Add(Function):
    """``a + b``; backward: the gradient, summed back to each input's shape."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, a, b):
        self.shapes = (shape_of(a), shape_of(b))
        return a + b

    def backward(self, grad):
        needs = self.needs_input_grad
        return (unbroadcast(grad, self.shapes[0]) if needs[0] else None,
                unbroadcast(grad, self.shapes[1]) if needs[1] else None)

    def backward_graph(self, grad):
        a, b = self.inputs
        needs = self.needs_input_grad
        return (sum_to(grad, input_shape(a)) if needs[0] else None,
                sum_to(grad, input_shape(b)) if needs[1] else None)


class Sub(Function):
    """``a - b``; backward: ``g`` and ``-g``, summed back to each input's shape."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, a, b):
        self.shapes = (shape_of(a), shape_of(b))
        return a - b

    def backward(self, grad):
        needs = self.needs_input_grad
        return (unbroadcast(grad, self.shapes[0]) if needs[0] else None,
                unbroadcast(-grad, self.shapes[1]) if needs[1] else None)

    def backward_graph(self, grad):
        a, b = self.inputs
        needs = self.needs_input_grad
        return (sum_to(grad, input_shape(a)) if needs[0] else None,
                sum_to(-grad, input_shape(b)) if needs[1] else None)


class Mul(Function):
    """``a * b``; backward: ``g * b`` and ``g * a``, summed back to each input's shape."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        a, b = self.a, self.b
        needs = self.needs_input_grad
        return (unbroadcast(grad * b, shape_of(a)) if needs[0] else None,
                unbroadcast(grad * a, shape_of(b)) if needs[1] else None)

    def backward_graph(self, grad):
        a, b = self.inputs
        needs = self.needs_input_grad
        return (sum_to(grad * b, input_shape(a)) if needs[0] else None,
                sum_to(grad * a, input_shape(b)) if needs[1] else None)


class Div(Function):
    """``a / b``; backward: ``g / b`` and ``-g * a / b**2``, summed back to each input's shape."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, grad):
        a, b = self.a, self.b
        needs = self.needs_input_grad
        grad_a = unbroadcast(grad / b, shape_of(a)) if needs[0] else None
        # -g * (a / b) / b, as PyTorch: b * b underflows to 0 for |b| < 1e-154 (0 / 0 = NaN at a = 0)
        grad_b = unbroadcast(-grad * (a / b) / b, shape_of(b)) if needs[1] else None
        return grad_a, grad_b

    def backward_graph(self, grad):
        a, b = self.inputs
        needs = self.needs_input_grad
        return (sum_to(grad / b, input_shape(a)) if needs[0] else None,
                sum_to(-grad * (a / b) / b, input_shape(b)) if needs[1] else None)


class Neg(Function):
    """``-x``; backward: ``-g``."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad

    def backward_graph(self, grad):
        return -grad


def _power(base, exponent):
    """``base ** exponent``; integers to negative integer powers give what integer arithmetic gives in
    PyTorch (1 ** -n = 1, (-1) ** -n = +-1, any other base 0, even 0) where NumPy raises."""
    if backend.is_array(exponent) and exponent.dtype.kind == "i" \
            and backend.asarray(base).dtype.kind in "iub" and (exponent < 0).any():
        negative = exponent < 0
        result = backend.asarray(xp.power(base, xp.where(negative, 0, exponent).astype(exponent.dtype)))
        odd = (exponent & 1).astype(bool)
        inverse = xp.where(base == 1, 1, xp.where(base == -1, xp.where(odd, -1, 1), 0))
        return xp.where(negative, inverse, result).astype(result.dtype)
    return xp.power(base, exponent)


class Pow(Function):
    """``base ** exponent``; either side may be a plain number."""

    def forward(self, base, exponent):
        self.base, self.exponent = base, exponent
        self.result = _power(base, exponent)
        return self.result

    def backward(self, grad):
        base, exponent, result = self.base, self.exponent, self.result
        grad_base = grad_exponent = None
        if self.needs_input_grad[0]:
            if not backend.is_array(exponent):
                # A number: d/dx x**0 is 0 everywhere, even at x = 0 (PyTorch's convention).
                if exponent == 0:
                    local = xp.zeros_like(base)
                else:
                    local = exponent * base if exponent == 2 else exponent * xp.power(base, exponent - 1)
            else:
                with xp.errstate(divide="ignore", invalid="ignore"):
                    local = xp.where(exponent == 0, 0, exponent * xp.power(base, exponent - 1))
            grad_base = unbroadcast(grad * local.astype(grad.dtype, copy=False), shape_of(base))
        if self.needs_input_grad[1]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                local = result * xp.log(base)
            # 0 ** y with y >= 0 has gradient 0 w.r.t. y (again PyTorch's convention).
            local = xp.where((base == 0) & (exponent >= 0), 0, local).astype(grad.dtype, copy=False)
            grad_exponent = unbroadcast(grad * local, shape_of(exponent))
        return grad_base, grad_exponent

    def backward_graph(self, grad):
        # The same conventions as backward: d/dx x**0 = 0, and d/dy 0**y = 0 for y >= 0.
        base, exponent = self.inputs
        grad_base = grad_exponent = None
        if self.needs_input_grad[0]:
            if not isinstance(exponent, TensorBase):
                local = base * 0 if exponent == 0 else exponent * base ** (exponent - 1)
            else:
                with xp.errstate(divide="ignore", invalid="ignore"):
                    local = where(exponent == 0, 0.0, exponent * base ** (exponent - 1))
            grad_base = sum_to(grad * local, input_shape(base))
        if self.needs_input_grad[1]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                local = base ** exponent * base.log() if isinstance(base, TensorBase) \
                    else base ** exponent * float(xp.log(base))
            zero = (base == 0) & (exponent >= 0)
            grad_exponent = sum_to(grad * where(zero, 0.0, local), input_shape(exponent))
        return grad_base, grad_exponent


class Remainder(Function):
    """``a % b`` with the sign of ``b`` (Python's and PyTorch's ``remainder``)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.remainder(a, b)

    def backward(self, grad):
        a, b = self.a, self.b
        needs = self.needs_input_grad
        grad_a = unbroadcast(grad, shape_of(a)) if needs[0] else None
        grad_b = unbroadcast(-grad * xp.floor_divide(a, b), shape_of(b)) if needs[1] else None
        return grad_a, grad_b

    def backward_graph(self, grad):
        # floor(a / b) is piecewise constant: a constant factor of the gradient.
        needs = self.needs_input_grad
        return (sum_to(grad, input_shape(self.inputs[0])) if needs[0] else None,
                sum_to(-grad * constant(xp.floor_divide(self.a, self.b), grad), input_shape(self.inputs[1]))
                if needs[1] else None)


class Fmod(Function):
    """C's ``fmod``: the remainder with the sign of ``a``."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.fmod(a, b)

    def backward(self, grad):
        a, b = self.a, self.b
        needs = self.needs_input_grad
        grad_a = unbroadcast(grad, shape_of(a)) if needs[0] else None
        grad_b = unbroadcast(-grad * xp.trunc(a / b), shape_of(b)) if needs[1] else None
        return grad_a, grad_b

    def backward_graph(self, grad):
        needs = self.needs_input_grad
        return (sum_to(grad, input_shape(self.inputs[0])) if needs[0] else None,
                sum_to(-grad * constant(xp.trunc(self.a / self.b), grad), input_shape(self.inputs[1]))
                if needs[1] else None)


class FloorDivide(Function):
    """``a // b``: piecewise constant, so its gradient is zero."""

    def forward(self, a, b):
        self.shapes = (shape_of(a), shape_of(b))
        return xp.floor_divide(a, b)

    def backward(self, grad):
        return tuple(backend.namespace(grad).zeros(shape, grad.dtype) for shape in self.shapes)

    def backward_graph(self, grad):
        return tuple(constant(xp.zeros(shape), grad) for shape in self.shapes)


def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other`` element-wise (``x + y``).

    Shapes: ``input`` and ``other`` (tensor or number) broadcast, e.g. (N, C) and (C,) -> (N, C).

    Example:
        >>> import dendrite
        >>> dendrite.add(dendrite.tensor([[1, 2], [3, 4]]), dendrite.tensor([10, 20]))
        tensor([[11, 22],
                [13, 24]])
        >>> b = dendrite.zeros(2, requires_grad=True)
        >>> (dendrite.ones(3, 2) + b).sum().backward(); b.grad  # summed over the broadcast rows
        tensor([3., 3.])
    """
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, TensorBase) else other * alpha
    a, b = operands(input, other)
    try:
        return Add.apply(a, b)
    except ValueError:
        check_broadcast("add", array_or_value(a), array_or_value(b))
        raise


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other`` element-wise (``x - y``).

    Shapes: ``input`` and ``other`` (tensor or number) broadcast, e.g. (N, C) and (C,) -> (N, C).

    Example:
        >>> import dendrite
        >>> dendrite.sub(dendrite.tensor([5.0, 7.0]), dendrite.tensor([1.0, 2.0]), alpha=2)
        tensor([3., 3.])
    """
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, TensorBase) else other * alpha
    if any(isinstance(v, bool) or isinstance(v, TensorBase) and v._data.dtype == bool
           for v in (input, other)):
        raise RuntimeError(
            "sub: subtraction, the `-` operator, with a bool tensor is not supported (as in PyTorch); "
            "use `~` or logical_not() to invert a mask, logical_xor() for bool differences"
        )
    a, b = operands(input, other)
    return apply_binary(Sub, "sub", a, b)


def mul(input, other) -> Tensor:
    """``input * other`` element-wise (``x * y``).

    Shapes: ``input`` and ``other`` (tensor or number) broadcast, e.g. (N, C) and (C,) -> (N, C).

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> y = x * dendrite.tensor([3.0, 4.0]); y
        tensor([3., 8.], grad_fn=<MulBackward>)
        >>> y.sum().backward(); x.grad
        tensor([3., 4.])
    """
    a, b = operands(input, other)
    try:
        return Mul.apply(a, b)
    except ValueError:
        check_broadcast("mul", array_or_value(a), array_or_value(b))
        raise


def _integer_operands(a, b) -> bool:
    return all(
        value._data.dtype.kind != "f" if isinstance(value, TensorBase) else not isinstance(value, float)
        for value in (a, b)
    )


def _check_integer_divisor(name: str, a, b) -> None:
    """Integer division by zero raises, as in PyTorch (NumPy would answer 0 with a warning).

    Floats are left alone: ``x // 0.0`` is +-inf or nan there, as in PyTorch. One pass over the divisor.
    """
    if _integer_operands(a, b):
        divisor = b._data if isinstance(b, TensorBase) else b
        if not xp.all(divisor):
            raise RuntimeError(f"ZeroDivisionError: {name}: integer division by zero (the divisor holds a 0; "
                               f"expected non-zero divisors, or use floats to get inf/nan)")


def div(input, other, *, rounding_mode=None) -> Tensor:
    """``input / other`` true division (ints give floats); ``rounding_mode='floor'`` or ``'trunc'`` rounds.

    Shapes: ``input`` and ``other`` (tensor or number) broadcast, e.g. (N, C) and (C,) -> (N, C).

    Example:
        >>> import dendrite
        >>> dendrite.tensor([3]) / 2
        tensor([1.5000])
        >>> dendrite.div(dendrite.tensor([-7, 7]), 2, rounding_mode="trunc")
        tensor([-3,  3])
    """
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        a, b = operands(input, other)
        if _integer_operands(a, b):  # integers stay integers, computed exactly
            _check_integer_divisor("div(rounding_mode='trunc')", a, b)
            dtype = (a if isinstance(a, TensorBase) else b)._data.dtype
            quotient = xp.true_divide(array_or_value(a), array_or_value(b))
            return wrap(backend.asarray(xp.trunc(quotient)).astype(dtype))
        return trunc(div(a, b))
    if rounding_mode is not None:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    a, b = float_operands(input, other)
    return apply_binary(Div, "div", a, b)


def true_divide(input, other) -> Tensor:
    """Alias of :func:`div`: ``input / other`` (broadcasting; integers give floats).

    Example:
        >>> import dendrite
        >>> dendrite.true_divide(dendrite.tensor([1, 2]), 4)
        tensor([0.2500, 0.5000])
    """
    return div(input, other)


def neg(input: Tensor) -> Tensor:
    """``-input`` element-wise (same shape and dtype; bool refused).

    Example:
        >>> import dendrite
        >>> -dendrite.tensor([1.0, -2.0])
        tensor([-1.,  2.])
    """
    if input._data.dtype.kind == "b":
        raise RuntimeError("neg: negating a bool tensor is not supported; use ~ or logical_not()")
    return Neg.apply(input)


def pow(input, exponent) -> Tensor:
    """``input ** exponent`` element-wise; either may be a plain number (``x ** 2``, ``2 ** x``).

    Shapes: ``input`` and ``exponent`` broadcast. Gradient: ``exponent * input ** (exponent - 1)``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x ** 2).sum().backward(); x.grad
        tensor([2., 4., 6.])
        >>> 2 ** dendrite.tensor([0, 1, 3])
        tensor([1, 2, 8])
    """
    base, exponent = operands(input, exponent)
    if isinstance(base, TensorBase) and base._data.dtype.kind in "iub" and isinstance(exponent, int) \
            and exponent < 0:
        raise RuntimeError("pow: integers to negative integer powers are not allowed")
    if all(isinstance(v, bool) or isinstance(v, TensorBase) and v._data.dtype == bool
           for v in (base, exponent)):
        raise NotImplementedError("pow: not implemented for bool ** bool (as in PyTorch); convert one to int")
    return apply_binary(Pow, "pow", base, exponent)


def remainder(input, other) -> Tensor:
    """``input % other``, with the sign of ``other`` (Python's ``%``); differentiable.

    Shapes: ``input`` and ``other`` (tensor or number) broadcast, e.g. (N, C) and (C,) -> (N, C).

    Example:
        >>> import dendrite
        >>> dendrite.tensor([-3, 3]) % 2
        tensor([1, 1])
    """
    if all(isinstance(v, bool) or isinstance(v, TensorBase) and v._data.dtype == bool
           for v in (input, other)):
        raise NotImplementedError("remainder: not implemented for bool % bool (as in PyTorch)")
    a, b = operands(input, other)
    _check_integer_divisor("remainder", a, b)
    return apply_binary(Remainder, "remainder", a, b)


def fmod(input: Tensor, other) -> Tensor:
    """Remainder with the sign of ``input`` (C's fmod): ``input - trunc(input / other) * other``.

    Shapes: ``input`` and ``other`` (tensor or number) broadcast, e.g. (N, C) and (C,) -> (N, C).

    Example:
        >>> import dendrite
        >>> dendrite.fmod(dendrite.tensor([-3, 3]), 2)
        tensor([-1,  1])
    """
    a, b = operands(input, other)
    if all(isinstance(v, TensorBase) and v._data.dtype.kind == "b" for v in (a, b)):
        raise NotImplementedError("fmod: not implemented for two bool tensors (as in PyTorch); "
                                  "convert one first, e.g. x.long()")
    _check_integer_divisor("fmod", a, b)
    return apply_binary(Fmod, "fmod", a, b)


def floor_divide(input, other) -> Tensor:
    """``input // other``, rounded towards minus infinity (zero gradient).

    Shapes: ``input`` and ``other`` (tensor or number) broadcast, e.g. (N, C) and (C,) -> (N, C).

    Example:
        >>> import dendrite
        >>> dendrite.tensor([-3, 3]) // 2
        tensor([-2,  1])
    """
    if all(isinstance(v, bool) or isinstance(v, TensorBase) and v._data.dtype == bool
           for v in (input, other)):
        raise NotImplementedError("floor_divide: not implemented for bool // bool (as in PyTorch)")
    a, b = operands(input, other)
    _check_integer_divisor("floor_divide", a, b)
    return apply_binary(FloorDivide, "floor_divide", a, b)
