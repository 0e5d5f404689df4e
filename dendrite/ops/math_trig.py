"""Trigonometric and hyperbolic functions, and the logistic sigmoid, with their derivatives.

    d sin(x)   = cos(x)              d cos(x)    = -sin(x)            d tan(x) = 1 + tan(x)^2
    d asin(x)  = 1 / sqrt(1 - x^2)   d acos(x)   = -1 / sqrt(1 - x^2) d atan(x) = 1 / (1 + x^2)
    d sinh(x)  = cosh(x)             d cosh(x)   = sinh(x)            d tanh(x) = 1 - tanh(x)^2
    d sigmoid  = s (1 - s)           d atan2(y, x) = (x dy - y dx) / (x^2 + y^2)

Angles are in radians. Integer and bool inputs become the default float dtype first, as in
PyTorch. Exponentials, logarithms and roots are in :mod:`dendrite.ops.math` and
:mod:`dendrite.ops.math_powers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import constant, sum_to
from dendrite.ops.graph_operands import shape_of as input_shape
from dendrite.ops.operands import (
    apply_binary,
    float_operands,
    shape_of,
    to_float,
    unbroadcast,
)
from dendrite.ops.piecewise import where as choose

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


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
