"""Piecewise functions: kinks, selections and rounding.

Their derivatives are indicator functions, and the value *at* the kink is a
convention. dendrite follows PyTorch's everywhere, so gradients agree exactly:

    d |x|          = sign(x)                    (0 at x = 0)
    d relu(x)      = [x > 0]                    (0 at x = 0)
    d clamp(x)     = [min <= x <= max]          (passes at the boundaries)
    d maximum(a,b) = [a > b] + 0.5 [a == b]     (ties share the gradient)
    d where(c,a,b) = [c] for a, [not c] for b
    d floor(x), round, ceil, trunc, sign = 0;   d frac(x) = 1
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import ndarray, xp
from dendrite.ops.operands import (
    apply_binary,
    cast,
    check_broadcast,
    operands,
    shape_of,
    to_float,
    unbroadcast,
)
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


class Abs(Function):
    def forward(self, x):
        self.x = x
        return xp.abs(x)

    def backward(self, grad):
        return grad * xp.sign(self.x)


class ReLU(Function):
    def forward(self, x):
        self.result = xp.maximum(x, 0)  # keeps NaN (x * mask would turn -inf into NaN)
        return self.result

    def backward(self, grad):
        return grad * (self.result > 0)  # result > 0 exactly where x > 0 (PyTorch uses the result too)


class Clamp(Function):
    """``min(max(x, low), high)``; ``low``/``high`` are arrays, numbers or None."""

    def forward(self, x, low, high):
        self.x, self.low, self.high = x, low, high
        result = x
        if low is not None:
            result = xp.maximum(result, low)
        if high is not None:
            result = xp.minimum(result, high)
        return xp.asarray(result, dtype=x.dtype)  # NumPy may widen for a number bound

    def backward(self, grad):
        # PyTorch's clamp_backward_min_max, condition for condition.
        x, low, high = self.x, self.low, self.high
        zero = xp.zeros((), grad.dtype)
        needs = self.needs_input_grad
        grad_x = grad_low = grad_high = None
        if needs[0]:
            keep = True
            if low is not None:
                keep = x >= low
            if high is not None:
                keep = keep & (x <= high)
            grad_x = unbroadcast(xp.where(keep, grad, zero), x.shape)
        if needs[1]:
            below = x < low if high is None else (x < low) & (low < high)
            grad_low = unbroadcast(xp.where(below, grad, zero), shape_of(low))
        if needs[2]:
            above = x > high if low is None else (x > high) | (high < low)
            grad_high = unbroadcast(xp.where(above, grad, zero), shape_of(high))
        return grad_x, grad_low, grad_high


class Maximum(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.maximum(a, b)

    def backward(self, grad):
        return _select_backward(grad, self.a, self.b, xp.greater, self.needs_input_grad)


class Minimum(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.minimum(a, b)

    def backward(self, grad):
        return _select_backward(grad, self.a, self.b, xp.less, self.needs_input_grad)


def _select_backward(grad, a, b, wins, needs):
    """Gradient of max/min of two inputs: the winner takes it, ties share it."""
    a_share = xp.where(wins(a, b), 1.0, xp.where(a == b, 0.5, 0.0)).astype(grad.dtype, copy=False)
    return (unbroadcast(grad * a_share, shape_of(a)) if needs[0] else None,
            unbroadcast(grad * (1 - a_share), shape_of(b)) if needs[1] else None)


class Where(Function):
    def forward(self, condition, a, b):
        self.condition = condition
        self.shapes = (shape_of(a), shape_of(b))
        return xp.where(condition, a, b)

    def backward(self, grad):
        zero = xp.zeros((), grad.dtype)
        needs = self.needs_input_grad
        return (
            None,
            unbroadcast(xp.where(self.condition, grad, zero), self.shapes[0]) if needs[1] else None,
            unbroadcast(xp.where(self.condition, zero, grad), self.shapes[1]) if needs[2] else None,
        )


class _Rounding(Function):
    """Piecewise-constant functions: zero gradient (PyTorch still returns one, of zeros)."""

    def forward(self, x):
        self.shape = x.shape
        return self.compute(x)

    def backward(self, grad):
        return xp.zeros(self.shape, grad.dtype)


class Floor(_Rounding):
    compute = staticmethod(xp.floor)


class Ceil(_Rounding):
    compute = staticmethod(xp.ceil)


class Trunc(_Rounding):
    compute = staticmethod(xp.trunc)


class Sign(_Rounding):
    compute = staticmethod(xp.sign)


class Round(_Rounding):
    def forward(self, x, decimals):
        self.shape = x.shape
        return xp.round(x, decimals)  # halves go to the even neighbour, as in PyTorch


class Frac(Function):
    def forward(self, x):
        return x - xp.trunc(x)

    def backward(self, grad):
        return grad


def abs(input: Tensor) -> Tensor:
    """``|input|``; its gradient at 0 is 0."""
    return Abs.apply(input)


def relu(input: Tensor) -> Tensor:
    """``max(input, 0)``; its gradient at 0 is 0. Example: ``relu(tensor([-1., 2.]))`` is ``[0., 2.]``."""
    return ReLU.apply(input)


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """Limit values to ``[min, max]`` (numbers or tensors; either may be omitted).

    The gradient passes where ``min <= input <= max``, boundaries included.
    Example: ``x.clamp(min=0)`` is relu with a gradient of 1 at 0.
    """
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    # Promote like PyTorch: an integer tensor clamped to float bounds becomes a float tensor.
    if min is not None:
        input, min = operands(input, min)
    if max is not None:
        input, max = operands(input, max)
    try:
        return Clamp.apply(input, min, max)
    except ValueError:
        for bound in (min, max):
            check_broadcast("clamp", input._data, array_or_value(bound))
        raise


clip = clamp


def clamp_min(input: Tensor, min) -> Tensor:
    """``clamp(input, min=min)``."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:
    """``clamp(input, max=max)``."""
    return clamp(input, max=max)


def maximum(input, other) -> Tensor:
    """Element-wise maximum with broadcasting (ties share the gradient)."""
    a, b = operands(input, other)
    return apply_binary(Maximum, "maximum", a, b)


def minimum(input, other) -> Tensor:
    """Element-wise minimum with broadcasting (ties share the gradient)."""
    a, b = operands(input, other)
    return apply_binary(Minimum, "minimum", a, b)


def _scalar_tensor(value) -> Tensor:
    if isinstance(value, bool):
        dtype = backend.bool_
    elif isinstance(value, numbers.Integral):
        dtype = backend.int64
    else:
        dtype = backend.get_default_dtype()
    return wrap(xp.asarray(value, dtype))


def where(condition, input, other) -> Tensor:
    """``input`` where ``condition`` is true, else ``other`` (all three broadcast).

    Example: ``where(x > 0, x, 0.0)`` is relu.
    """
    if not isinstance(input, TensorBase) and not isinstance(other, TensorBase):
        input = _scalar_tensor(input) if not isinstance(input, ndarray) else wrap(input)
    a, b = operands(input, other)
    condition = condition._data if isinstance(condition, TensorBase) else xp.asarray(condition)
    if condition.dtype.kind != "b":
        raise TypeError(f"where: condition must be a bool tensor, got dtype {condition.dtype}")
    try:
        xp.broadcast_shapes(condition.shape, shape_of(array_or_value(a)), shape_of(array_or_value(b)))
    except ValueError:
        raise RuntimeError(
            f"where: condition {condition.shape}, input {shape_of(array_or_value(a))} and other "
            f"{shape_of(array_or_value(b))} cannot be broadcast together"
        ) from None
    return Where.apply(condition, a, b)


def masked_fill(input: Tensor, mask, value) -> Tensor:
    """``input`` with ``value`` wherever ``mask`` is true (mask broadcasts to input's shape)."""
    result = where(mask, value, input)
    if result._data.dtype != input._data.dtype:  # the fill value never changes the dtype
        result = cast(result, input._data.dtype)
    return result


def _rounding(function, input: Tensor, *args) -> Tensor:
    if input._data.dtype.kind != "f":
        return wrap(input._data.copy())  # integers are already whole
    return function.apply(input, *args)


def floor(input: Tensor) -> Tensor:
    """Largest whole number <= input (zero gradient)."""
    return _rounding(Floor, input)


def ceil(input: Tensor) -> Tensor:
    """Smallest whole number >= input (zero gradient)."""
    return _rounding(Ceil, input)


def trunc(input: Tensor) -> Tensor:
    """Round towards zero (zero gradient)."""
    return _rounding(Trunc, input)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Round to ``decimals`` places, halves to even (zero gradient)."""
    if input._data.dtype.kind != "f":
        return wrap(input._data.copy())
    return Round.apply(input, decimals)


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 (zero gradient)."""
    if input._data.dtype.kind == "b":
        return wrap(input._data.copy())
    return Sign.apply(input)


def frac(input: Tensor) -> Tensor:
    """The fractional part ``input - trunc(input)`` (gradient 1)."""
    return Frac.apply(to_float(input))


def array_or_value(value):
    return value._data if isinstance(value, TensorBase) else value
