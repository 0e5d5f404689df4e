"""Smooth element-wise functions and their derivatives.

    d exp(x)   = exp(x)              d log(x)    = 1 / x
    d sqrt(x)  = 1 / (2 sqrt(x))     d sin(x)    = cos(x)
    d tanh(x)  = 1 - tanh(x)^2       d sigmoid   = s (1 - s)
    d atan(x)  = 1 / (1 + x^2)       d asin(x)   = 1 / sqrt(1 - x^2)

Integer and bool inputs become the default float dtype first (``_float``),
as PyTorch does for these functions. The piecewise functions (abs, relu,
clamp, maximum, where, floor ...) are in :mod:`dendrite.ops.piecewise`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.elementwise import mul
from dendrite.ops.graph_operands import constant, sum_to
from dendrite.ops.graph_operands import shape_of as input_shape
from dendrite.ops.operands import (
    apply_binary,
    array_or_value,
    cast,
    check_broadcast,
    float_operands,
    operands,
    shape_of,
    to_float,
    unbroadcast,
)
from dendrite.ops.piecewise import abs as absolute
from dendrite.ops.piecewise import maximum as larger
from dendrite.ops.piecewise import where as choose
from dendrite.tensor_base import TensorBase

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


class Exp(Function):
    """``exp(x)``; backward: ``g * exp(x)``."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, x):
        self.result = xp.exp(x)
        return self.result

    def backward(self, grad):
        return grad * self.result

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad * x.exp()


class Exp2(Function):
    """``2 ** x``; backward: ``g * 2 ** x * ln 2``."""
    def forward(self, x):
        self.result = xp.exp2(x)
        return self.result

    def backward(self, grad):
        return grad * self.result * math.log(2)

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad * Exp2.apply(x) * math.log(2)


class Expm1(Function):
    """``exp(x) - 1``; backward: ``g * exp(x)``."""
    def forward(self, x):
        self.result = xp.expm1(x)
        return self.result

    def backward(self, grad):
        return grad * (self.result + 1)

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad * x.exp()


class Log(Function):
    """``ln(x)``; backward: ``g / x``."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, x):
        self.x = x
        return xp.log(x)

    def backward(self, grad):
        return grad / self.x

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad / x


class Log2(Function):
    """``log2(x)``; backward: ``g / (x ln 2)``."""
    def forward(self, x):
        self.x = x
        return xp.log2(x)

    def backward(self, grad):
        return grad / (self.x * math.log(2))

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad / (x * math.log(2))


class Log10(Function):
    """``log10(x)``; backward: ``g / (x ln 10)``."""
    def forward(self, x):
        self.x = x
        return xp.log10(x)

    def backward(self, grad):
        return grad / (self.x * math.log(10))

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad / (x * math.log(10))


class Log1p(Function):
    """``ln(1 + x)``; backward: ``g / (1 + x)``."""
    def forward(self, x):
        self.x = x
        return xp.log1p(x)

    def backward(self, grad):
        return grad / (1 + self.x)

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad / (1 + x)


class Sqrt(Function):
    """``sqrt(x)``; backward: ``g / (2 sqrt(x))``."""
    def forward(self, x):
        self.result = xp.sqrt(x)
        return self.result

    def backward(self, grad):
        return grad / (2 * self.result)

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad / (2 * x.sqrt())


class Rsqrt(Function):
    """``1 / sqrt(x)``; backward: ``-g / (2 x^(3/2))``."""
    def forward(self, x):
        self.result = 1 / xp.sqrt(x)
        return self.result

    def backward(self, grad):
        return grad * -0.5 * self.result * self.result * self.result

    def backward_graph(self, grad):
        result = self.inputs[0].rsqrt()
        return grad * -0.5 * result * result * result


class Reciprocal(Function):
    """``1 / x``; backward: ``-g / x^2``."""
    def forward(self, x):
        self.result = 1 / x
        return self.result

    def backward(self, grad):
        return -grad * self.result * self.result

    def backward_graph(self, grad):
        result = self.inputs[0].reciprocal()
        return -grad * result * result


class Sin(Function):
    """``sin(x)``; backward: ``g * cos(x)``."""
    def forward(self, x):
        self.x = x
        return xp.sin(x)

    def backward(self, grad):
        return grad * xp.cos(self.x)

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad * x.cos()


class Cos(Function):
    """``cos(x)``; backward: ``-g * sin(x)``."""
    def forward(self, x):
        self.x = x
        return xp.cos(x)

    def backward(self, grad):
        return -grad * xp.sin(self.x)

    def backward_graph(self, grad):
        x = self.inputs[0]
        return -grad * x.sin()


class Tan(Function):
    """``tan(x)``; backward: ``g * (1 + tan(x)^2)``."""
    def forward(self, x):
        self.result = xp.tan(x)
        return self.result

    def backward(self, grad):
        return grad * (1 + self.result * self.result)

    def backward_graph(self, grad):
        result = self.inputs[0].tan()
        return grad * (1 + result * result)


class Asin(Function):
    """``asin(x)``; backward: ``g / sqrt(1 - x^2)``."""
    def forward(self, x):
        self.x = x
        return xp.arcsin(x)

    def backward(self, grad):
        return grad / xp.sqrt(1 - self.x * self.x)

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad / (1 - x * x).sqrt()


class Acos(Function):
    """``acos(x)``; backward: ``-g / sqrt(1 - x^2)``."""
    def forward(self, x):
        self.x = x
        return xp.arccos(x)

    def backward(self, grad):
        return -grad / xp.sqrt(1 - self.x * self.x)

    def backward_graph(self, grad):
        x = self.inputs[0]
        return -grad / (1 - x * x).sqrt()


class Atan(Function):
    """``atan(x)``; backward: ``g / (1 + x^2)``."""
    def forward(self, x):
        self.x = x
        return xp.arctan(x)

    def backward(self, grad):
        return grad / (1 + self.x * self.x)

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad / (1 + x * x)


class Sinh(Function):
    """``sinh(x)``; backward: ``g * cosh(x)``."""
    def forward(self, x):
        self.x = x
        return xp.sinh(x)

    def backward(self, grad):
        return grad * xp.cosh(self.x)

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad * x.cosh()


class Cosh(Function):
    """``cosh(x)``; backward: ``g * sinh(x)``."""
    def forward(self, x):
        self.x = x
        return xp.cosh(x)

    def backward(self, grad):
        return grad * xp.sinh(self.x)

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad * x.sinh()


class Tanh(Function):
    """``tanh(x)``; backward: ``g * (1 - tanh(x)^2)``."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, x):
        self.result = xp.tanh(x)
        return self.result

    def backward(self, grad):
        return grad * (1 - self.result * self.result)

    def backward_graph(self, grad):
        result = self.inputs[0].tanh()
        return grad * (1 - result * result)


class Sigmoid(Function):
    """``s = 1 / (1 + exp(-x))``; backward: ``g * s * (1 - s)``."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, x):
        # exp of a non-positive number never overflows: pick the stable form per sign.
        e = xp.exp(-xp.abs(x))
        self.result = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        return self.result

    def backward(self, grad):
        return grad * self.result * (1 - self.result)

    def backward_graph(self, grad):
        result = self.inputs[0].sigmoid()
        return grad * result * (1 - result)


class Atan2(Function):
    """``atan2(y, x)``; backward: ``g * x / (x^2 + y^2)`` and ``-g * y / (x^2 + y^2)`` (0 at the origin)."""
    def forward(self, y, x):
        self.y, self.x = y, x
        return xp.arctan2(y, x)

    def backward(self, grad):
        y, x = self.y, self.x
        # d/dy atan2 = x / (x² + y²), d/dx atan2 = -y / (x² + y²); PyTorch's gradient at (0, 0) is 0, not nan
        squares = x * x + y * y
        with xp.errstate(divide="ignore", invalid="ignore"):
            scale = xp.where(squares == 0, 0, grad / squares).astype(grad.dtype, copy=False)
        needs = self.needs_input_grad
        return (unbroadcast(scale * x, shape_of(y)) if needs[0] else None,
                unbroadcast(-scale * y, shape_of(x)) if needs[1] else None)

    def backward_graph(self, grad):
        y, x = self.inputs
        zero = constant(self.x * self.x + self.y * self.y == 0, grad) > 0
        scale = choose(zero, 0.0, grad / choose(zero, 1.0, x * x + y * y))  # 1.0: no 0 * inf unused
        needs = self.needs_input_grad
        return (sum_to(scale * x, input_shape(y)) if needs[0] else None,
                sum_to(-scale * y, input_shape(x)) if needs[1] else None)


def exp(input: Tensor) -> Tensor:
    """``e ** input`` element-wise. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.exp(dendrite.tensor([0.0, 1.0])).round(decimals=4)
        tensor([1.0000, 2.7183])
    """
    return Exp.apply(to_float(input))


def exp2(input: Tensor) -> Tensor:
    """``2 ** input`` element-wise. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.exp2(dendrite.tensor([0, 1, 3]))
        tensor([1., 2., 8.])
    """
    return Exp2.apply(to_float(input))


def expm1(input: Tensor) -> Tensor:
    """``exp(input) - 1`` element-wise, accurate near 0. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.expm1(dendrite.tensor([0.0, 1e-10])).tolist()
        [0.0, 1.000000013351432e-10]
    """
    return Expm1.apply(to_float(input))


def log(input: Tensor) -> Tensor:
    """Natural logarithm ``ln(input)`` (``-inf`` at 0, NaN below). Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.log(dendrite.tensor([1.0, 2.0])).round(decimals=4)
        tensor([0.0000, 0.6931])
        >>> x = dendrite.tensor([2.0, 4.0], requires_grad=True)
        >>> x.log().sum().backward(); x.grad  # 1 / x
        tensor([0.5000, 0.2500])
    """
    return Log.apply(to_float(input))


def log2(input: Tensor) -> Tensor:
    """Base-2 logarithm. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.log2(dendrite.tensor([1, 8]))
        tensor([0., 3.])
    """
    return Log2.apply(to_float(input))


def log10(input: Tensor) -> Tensor:
    """Base-10 logarithm. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.log10(dendrite.tensor([1.0, 100.0])).round(decimals=4)
        tensor([0., 2.])
    """
    return Log10.apply(to_float(input))


def log1p(input: Tensor) -> Tensor:
    """``ln(1 + input)``, accurate near 0. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.log1p(dendrite.tensor([0.0, 1e-10])).tolist()
        [0.0, 1.000000013351432e-10]
    """
    return Log1p.apply(to_float(input))


def sqrt(input: Tensor) -> Tensor:
    """Square root (its gradient at 0 is inf, as in PyTorch). Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.sqrt(dendrite.tensor([4, 9]))
        tensor([2., 3.])
        >>> x = dendrite.tensor([4.0], requires_grad=True)
        >>> x.sqrt().backward(); x.grad  # 1 / (2 sqrt(x))
        tensor([0.2500])
    """
    return Sqrt.apply(to_float(input))


def rsqrt(input: Tensor) -> Tensor:
    """``1 / sqrt(input)``. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.rsqrt(dendrite.tensor([4.0, 0.25]))
        tensor([0.5000, 2.0000])
    """
    return Rsqrt.apply(to_float(input))


def reciprocal(input: Tensor) -> Tensor:
    """``1 / input``. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.reciprocal(dendrite.tensor([2, 4]))
        tensor([0.5000, 0.2500])
    """
    return Reciprocal.apply(to_float(input))


def square(input: Tensor) -> Tensor:
    """``input * input`` element-wise (same shape; integers stay integers, bool becomes int64 as in PyTorch).

    Example:
        >>> import dendrite
        >>> dendrite.square(dendrite.tensor([-2, 3]))
        tensor([4, 9])
    """
    if isinstance(input, TensorBase) and input._data.dtype.kind == "b":
        input = cast(input, xp.int64)
    return mul(input, input)


def sin(input: Tensor) -> Tensor:
    """Sine (radians). Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.sin(dendrite.tensor([0.0, 3.14159265 / 2]))
        tensor([0., 1.])
    """
    return Sin.apply(to_float(input))


def cos(input: Tensor) -> Tensor:
    """Cosine (radians). Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.cos(dendrite.tensor([0.0, 3.14159265])).round()
        tensor([ 1., -1.])
    """
    return Cos.apply(to_float(input))


def tan(input: Tensor) -> Tensor:
    """Tangent (radians). Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.tan(dendrite.tensor([0.0, 3.14159265 / 4])).round(decimals=4)
        tensor([0., 1.])
    """
    return Tan.apply(to_float(input))


def asin(input: Tensor) -> Tensor:
    """Inverse sine, in radians; defined on [-1, 1]. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.asin(dendrite.tensor([0.0, 1.0])).round(decimals=4)
        tensor([0.0000, 1.5708])
    """
    return Asin.apply(to_float(input))


def acos(input: Tensor) -> Tensor:
    """Inverse cosine, in radians; defined on [-1, 1]. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.acos(dendrite.tensor([1.0, 0.0])).round(decimals=4)
        tensor([0.0000, 1.5708])
    """
    return Acos.apply(to_float(input))


def atan(input: Tensor) -> Tensor:
    """Inverse tangent, in radians, in (-pi/2, pi/2). Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.atan(dendrite.tensor([0.0, 1.0])).round(decimals=4)
        tensor([0.0000, 0.7854])
    """
    return Atan.apply(to_float(input))


def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of the point ``(other, input)``: ``atan(input / other)`` in the right quadrant.

    Shapes: ``input`` (y) and ``other`` (x) broadcast; integers give the default float dtype.

    Example:
        >>> import dendrite
        >>> dendrite.atan2(dendrite.tensor([1.0, 1.0]), dendrite.tensor([1.0, -1.0])).round(decimals=4)
        tensor([0.7854, 2.3562])
    """
    y, x = float_operands(input, other)
    return apply_binary(Atan2, "atan2", y, x)


def sinh(input: Tensor) -> Tensor:
    """Hyperbolic sine, ``(e^x - e^-x) / 2``. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.sinh(dendrite.tensor([0.0, 1.0])).round(decimals=4)
        tensor([0.0000, 1.1752])
    """
    return Sinh.apply(to_float(input))


def cosh(input: Tensor) -> Tensor:
    """Hyperbolic cosine, ``(e^x + e^-x) / 2``. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.cosh(dendrite.tensor([0.0, 1.0])).round(decimals=4)
        tensor([1.0000, 1.5431])
    """
    return Cosh.apply(to_float(input))


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent, in (-1, 1). Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.tanh(dendrite.tensor([0.0, 1.0])).round(decimals=4)
        tensor([0.0000, 0.7616])
        >>> x = dendrite.tensor([0.0], requires_grad=True)
        >>> x.tanh().backward(); x.grad  # 1 - tanh(x)^2
        tensor([1.])
    """
    return Tanh.apply(to_float(input))


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-input))``, computed without overflow. Same shape as ``input``, float.

    Example:
        >>> import dendrite
        >>> dendrite.sigmoid(dendrite.tensor([0.0, 100.0, -100.0])).round(decimals=4)
        tensor([0.5000, 1.0000, 0.0000])
        >>> x = dendrite.tensor([0.0], requires_grad=True)
        >>> x.sigmoid().backward(); x.grad  # s (1 - s)
        tensor([0.2500])
    """
    return Sigmoid.apply(to_float(input))


def lerp(input: Tensor, end, weight) -> Tensor:
    """``input + weight * (end - input)`` (linear interpolation); ``end`` and ``weight`` broadcast.

    Example:
        >>> import dendrite
        >>> dendrite.lerp(dendrite.tensor([0.0, 10.0]), dendrite.tensor([1.0, 20.0]), 0.5)
        tensor([ 0.5000, 15.0000])
    """
    # PyTorch's two-sided form: from ``input`` for |weight| < 0.5, from ``end`` otherwise. Both
    # are exact at their own end (weight 0 gives input, weight 1 gives end, even for huge values),
    # and with an infinite operand they give PyTorch's NaN/inf pattern, not the one-sided form's.
    difference = end - input
    from_input = input + weight * difference
    from_end = end - difference * (1 - weight)
    if not isinstance(weight, TensorBase):
        return from_input if abs(weight) < 0.5 else from_end
    return choose(absolute(weight) < 0.5, from_input, from_end)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """``log(exp(input) + exp(other))`` without overflow: ``hi + log1p(exp(lo - hi))`` (hi: the larger).

    Shapes: ``input`` and ``other`` broadcast.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([0.0, 100.0])  # exp(100) would overflow float32
        >>> dendrite.logaddexp(x, x).round(decimals=4)
        tensor([  0.6931, 100.6931])
    """
    if all(isinstance(v, TensorBase) and v._data.dtype.kind in "biu" for v in (input, other)):
        raise NotImplementedError(
            f"logaddexp: not implemented for {input._data.dtype} and {other._data.dtype} (as in PyTorch); "
            "convert to a floating dtype first, e.g. x.float()"
        )
    input, other = operands(input, other)  # promoted first: a bool tensor cannot be subtracted
    check_broadcast("logaddexp", array_or_value(input), array_or_value(other))
    # hi + log1p(exp(lo - hi)), hi and lo picked by `where` (not max/min, which split the gradient at a
    # tie): each branch is smooth, so second derivatives are right at a = b too. Equal infinities have
    # gap 0: inf - inf would be NaN (PyTorch: logaddexp(inf, inf) = inf).
    # (At equal infinities the max splits the gradient evenly, as before.)
    first = input >= other
    infinite_tie = (input == other) & (absolute(input) == float("inf"))
    high = choose(infinite_tie, larger(input, other), choose(first, input, other))
    low = choose(first, other, input)
    return high + log1p(exp(choose(infinite_tie, 0.0, low - high)))


class Hypot(Function):
    """``h = sqrt(a^2 + b^2)``; backward: ``g * a / h`` and ``g * b / h``."""
    def forward(self, a, b):
        self.a, self.b = a, b
        self.result = xp.hypot(a, b)
        return self.result

    def backward(self, grad):
        # h = sqrt(a² + b²)  =>  dh/da = a / h,  dh/db = b / h  (NaN at a = b = 0, as in PyTorch)
        scale = grad / self.result
        needs = self.needs_input_grad
        return (unbroadcast(scale * self.a, shape_of(self.a)) if needs[0] else None,
                unbroadcast(scale * self.b, shape_of(self.b)) if needs[1] else None)

    def backward_graph(self, grad):
        a, b = self.inputs
        scale = grad / Hypot.apply(a, b)
        needs = self.needs_input_grad
        return (sum_to(scale * a, input_shape(a)) if needs[0] else None,
                sum_to(scale * b, input_shape(b)) if needs[1] else None)


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """``sqrt(input² + other²)`` element-wise, without overflow for large values; broadcasts.

    Shapes: ``input`` and ``other`` broadcast together, e.g. (N, 1) and (M,) -> (N, M).

    Example:
        >>> import dendrite
        >>> dendrite.hypot(dendrite.tensor([3.0, 5.0]), dendrite.tensor([4.0, 12.0]))
        tensor([ 5., 13.])
    """
    if all(isinstance(v, TensorBase) and v._data.dtype.kind in "biu" for v in (input, other)):
        raise NotImplementedError(
            f"hypot: not implemented for {input._data.dtype} and {other._data.dtype} (as in PyTorch); "
            "convert to a floating dtype first, e.g. x.float()"
        )
    a, b = float_operands(input, other)
    return apply_binary(Hypot, "hypot", a, b)
