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
from dendrite.ops.operands import apply_binary, operands, shape_of, to_float, unbroadcast
from dendrite.ops.piecewise import abs as absolute
from dendrite.ops.piecewise import maximum as larger

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


class Exp(Function):
    def forward(self, x):
        self.result = xp.exp(x)
        return self.result

    def backward(self, grad):
        return grad * self.result


class Exp2(Function):
    def forward(self, x):
        self.result = xp.exp2(x)
        return self.result

    def backward(self, grad):
        return grad * self.result * math.log(2)


class Expm1(Function):
    def forward(self, x):
        self.result = xp.expm1(x)
        return self.result

    def backward(self, grad):
        return grad * (self.result + 1)


class Log(Function):
    def forward(self, x):
        self.x = x
        return xp.log(x)

    def backward(self, grad):
        return grad / self.x


class Log2(Function):
    def forward(self, x):
        self.x = x
        return xp.log2(x)

    def backward(self, grad):
        return grad / (self.x * math.log(2))


class Log10(Function):
    def forward(self, x):
        self.x = x
        return xp.log10(x)

    def backward(self, grad):
        return grad / (self.x * math.log(10))


class Log1p(Function):
    def forward(self, x):
        self.x = x
        return xp.log1p(x)

    def backward(self, grad):
        return grad / (1 + self.x)


class Sqrt(Function):
    def forward(self, x):
        self.result = xp.sqrt(x)
        return self.result

    def backward(self, grad):
        return grad / (2 * self.result)


class Rsqrt(Function):
    def forward(self, x):
        self.result = 1 / xp.sqrt(x)
        return self.result

    def backward(self, grad):
        return grad * -0.5 * self.result * self.result * self.result


class Reciprocal(Function):
    def forward(self, x):
        self.result = 1 / x
        return self.result

    def backward(self, grad):
        return -grad * self.result * self.result


class Sin(Function):
    def forward(self, x):
        self.x = x
        return xp.sin(x)

    def backward(self, grad):
        return grad * xp.cos(self.x)


class Cos(Function):
    def forward(self, x):
        self.x = x
        return xp.cos(x)

    def backward(self, grad):
        return -grad * xp.sin(self.x)


class Tan(Function):
    def forward(self, x):
        self.result = xp.tan(x)
        return self.result

    def backward(self, grad):
        return grad * (1 + self.result * self.result)


class Asin(Function):
    def forward(self, x):
        self.x = x
        return xp.arcsin(x)

    def backward(self, grad):
        return grad / xp.sqrt(1 - self.x * self.x)


class Acos(Function):
    def forward(self, x):
        self.x = x
        return xp.arccos(x)

    def backward(self, grad):
        return -grad / xp.sqrt(1 - self.x * self.x)


class Atan(Function):
    def forward(self, x):
        self.x = x
        return xp.arctan(x)

    def backward(self, grad):
        return grad / (1 + self.x * self.x)


class Sinh(Function):
    def forward(self, x):
        self.x = x
        return xp.sinh(x)

    def backward(self, grad):
        return grad * xp.cosh(self.x)


class Cosh(Function):
    def forward(self, x):
        self.x = x
        return xp.cosh(x)

    def backward(self, grad):
        return grad * xp.sinh(self.x)


class Tanh(Function):
    def forward(self, x):
        self.result = xp.tanh(x)
        return self.result

    def backward(self, grad):
        return grad * (1 - self.result * self.result)


class Sigmoid(Function):
    def forward(self, x):
        # exp of a non-positive number never overflows: pick the stable form per sign.
        e = xp.exp(-xp.abs(x))
        self.result = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        return self.result

    def backward(self, grad):
        return grad * self.result * (1 - self.result)


class Atan2(Function):
    def forward(self, y, x):
        self.y, self.x = y, x
        return xp.arctan2(y, x)

    def backward(self, grad):
        y, x = self.y, self.x
        scale = grad / (x * x + y * y)
        needs = self.needs_input_grad
        return (unbroadcast(scale * x, shape_of(y)) if needs[0] else None,
                unbroadcast(-scale * y, shape_of(x)) if needs[1] else None)


def exp(input: Tensor) -> Tensor:
    """``e ** input``. Example: ``dendrite.exp(dendrite.zeros(2))`` is ``tensor([1., 1.])``."""
    return Exp.apply(to_float(input))


def exp2(input: Tensor) -> Tensor:
    """``2 ** input``."""
    return Exp2.apply(to_float(input))


def expm1(input: Tensor) -> Tensor:
    """``exp(input) - 1``, accurate near 0."""
    return Expm1.apply(to_float(input))


def log(input: Tensor) -> Tensor:
    """Natural logarithm (``-inf`` at 0, NaN below)."""
    return Log.apply(to_float(input))


def log2(input: Tensor) -> Tensor:
    """Base-2 logarithm."""
    return Log2.apply(to_float(input))


def log10(input: Tensor) -> Tensor:
    """Base-10 logarithm."""
    return Log10.apply(to_float(input))


def log1p(input: Tensor) -> Tensor:
    """``log(1 + input)``, accurate near 0."""
    return Log1p.apply(to_float(input))


def sqrt(input: Tensor) -> Tensor:
    """Square root (its gradient at 0 is inf, as in PyTorch)."""
    return Sqrt.apply(to_float(input))


def rsqrt(input: Tensor) -> Tensor:
    """``1 / sqrt(input)``."""
    return Rsqrt.apply(to_float(input))


def reciprocal(input: Tensor) -> Tensor:
    """``1 / input``."""
    return Reciprocal.apply(to_float(input))


def square(input: Tensor) -> Tensor:
    """``input * input``."""
    return mul(input, input)


def sin(input: Tensor) -> Tensor:
    """Sine (radians)."""
    return Sin.apply(to_float(input))


def cos(input: Tensor) -> Tensor:
    """Cosine (radians)."""
    return Cos.apply(to_float(input))


def tan(input: Tensor) -> Tensor:
    """Tangent (radians)."""
    return Tan.apply(to_float(input))


def asin(input: Tensor) -> Tensor:
    """Inverse sine; defined on [-1, 1]."""
    return Asin.apply(to_float(input))


def acos(input: Tensor) -> Tensor:
    """Inverse cosine; defined on [-1, 1]."""
    return Acos.apply(to_float(input))


def atan(input: Tensor) -> Tensor:
    """Inverse tangent."""
    return Atan.apply(to_float(input))


def atan2(input, other) -> Tensor:
    """The angle of the point ``(other, input)``: ``atan(input / other)`` in the right quadrant."""
    y, x = operands(to_float(input), to_float(other))
    return Atan2.apply(y, x)


def sinh(input: Tensor) -> Tensor:
    """Hyperbolic sine."""
    return Sinh.apply(to_float(input))


def cosh(input: Tensor) -> Tensor:
    """Hyperbolic cosine."""
    return Cosh.apply(to_float(input))


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent, in (-1, 1)."""
    return Tanh.apply(to_float(input))


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-input))``, computed without overflow."""
    return Sigmoid.apply(to_float(input))


def lerp(input: Tensor, end, weight) -> Tensor:
    """``input + weight * (end - input)`` (linear interpolation)."""
    return input + weight * (end - input)


def logaddexp(input: Tensor, other) -> Tensor:
    """``log(exp(input) + exp(other))`` without overflow: ``max + log1p(exp(-|input - other|))``."""
    return larger(input, other) + log1p(exp(-absolute(input - other)))


class Hypot(Function):
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


def hypot(input: Tensor, other) -> Tensor:
    """``sqrt(input² + other²)`` element-wise, without overflow for large values; broadcasts.

    Shapes: ``input`` and ``other`` broadcast together, e.g. (N, 1) and (M,) -> (N, M).

    Example:
        >>> import dendrite
        >>> dendrite.hypot(dendrite.tensor([3.0, 5.0]), dendrite.tensor([4.0, 12.0]))
        tensor([ 5., 13.])
    """
    a, b = operands(to_float(input), to_float(other))
    return apply_binary(Hypot, "hypot", a, b)
