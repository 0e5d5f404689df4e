"""Smooth element-wise functions and their derivatives.

    d exp(x)   = exp(x)              d log(x)    = 1 / x
    d sqrt(x)  = 1 / (2 sqrt(x))     d sin(x)    = cos(x)
    d tanh(x)  = 1 - tanh(x)^2       d sigmoid   = s (1 - s)
    d atan(x)  = 1 / (1 + x^2)       d asin(x)   = 1 / sqrt(1 - x^2)

Integer and bool inputs become the default float dtype first (``_float``),
as PyTorch does for these functions. The piecewise functions (abs, relu,
clamp, maximum, where, floor ...) are in :mod:`dendrite.ops.piecewise`.

Files: this one holds exponentials and logarithms (exp, exp2, expm1, log, log2, log10, log1p,
logaddexp) and ``lerp``, and re-exports the others: :mod:`dendrite.ops.math_powers` (sqrt, rsqrt,
reciprocal, square, hypot) and :mod:`dendrite.ops.math_trig` (sin ... atan2, sinh, cosh, tanh, sigmoid).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from dendrite.autograd.function import Function
from dendrite.backend import xp

# Roots and powers, and the trigonometric family, live in files of their own; importable from here.
from dendrite.ops.math_powers import (  # noqa: F401
    Hypot,
    Reciprocal,
    Rsqrt,
    Sqrt,
    hypot,
    reciprocal,
    rsqrt,
    sqrt,
    square,
)
from dendrite.ops.math_trig import (  # noqa: F401
    Acos,
    Asin,
    Atan,
    Atan2,
    Cos,
    Cosh,
    Sigmoid,
    Sin,
    Sinh,
    Tan,
    Tanh,
    acos,
    asin,
    atan,
    atan2,
    cos,
    cosh,
    sigmoid,
    sin,
    sinh,
    tan,
    tanh,
)
from dendrite.ops.operands import (
    array_or_value,
    check_broadcast,
    operands,
    to_float,
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
