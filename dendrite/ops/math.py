"""Element-wise math functions and their derivatives.

    d exp(x)     = exp(x)             d log(x)   = 1 / x
    d sqrt(x)    = 1 / (2 sqrt(x))    d |x|      = sign(x)
    d tanh(x)    = 1 - tanh(x)^2      d sigmoid  = s (1 - s)
    d relu(x)    = [x > 0]            d clamp    = [min <= x <= max]
    d max(a, b)  = [a > b] (ties split the gradient in half, as PyTorch does)
"""

from __future__ import annotations

from dendrite.autograd.function import Function
from dendrite.backend import get_default_dtype, xp
from dendrite.ops.elementwise import _check_broadcast, _shape, operands, unbroadcast
from dendrite.tensor import Tensor, _new_tensor


def _float(x: Tensor) -> Tensor:
    """Integer inputs to float functions become the default float dtype (PyTorch)."""
    from dendrite.ops.elementwise import _promote_integer

    return _promote_integer(x, None)


class Exp(Function):
    def forward(self, x):
        self.result = xp.exp(x)
        return self.result

    def backward(self, grad):
        return grad * self.result


class Log(Function):
    def forward(self, x):
        self.x = x
        return xp.log(x)

    def backward(self, grad):
        return grad / self.x


class Log1p(Function):
    def forward(self, x):
        self.x = x
        return xp.log1p(x)

    def backward(self, grad):
        return grad / (1 + self.x)


class Expm1(Function):
    def forward(self, x):
        self.result = xp.expm1(x)
        return self.result

    def backward(self, grad):
        return grad * (self.result + 1)


class Sqrt(Function):
    def forward(self, x):
        self.result = xp.sqrt(x)
        return self.result

    def backward(self, grad):
        return grad / (2 * self.result)


class Abs(Function):
    def forward(self, x):
        self.x = x
        return xp.abs(x)

    def backward(self, grad):
        return grad * xp.sign(self.x)


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


class ReLU(Function):
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, grad):
        return grad * self.mask


class Clamp(Function):
    def forward(self, x, low, high):
        self.mask = xp.ones(x.shape, bool)
        if low is not None:
            self.mask &= x >= low
        if high is not None:
            self.mask &= x <= high
        return xp.clip(x, low, high)

    def backward(self, grad):
        return grad * self.mask


class Maximum(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.maximum(a, b)

    def backward(self, grad):
        return _select_backward(grad, self.a, self.b, xp.greater)


class Minimum(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.minimum(a, b)

    def backward(self, grad):
        return _select_backward(grad, self.a, self.b, xp.less)


def _select_backward(grad, a, b, wins):
    """Gradient of max/min of two inputs: the winner takes it, ties share it."""
    a_share = xp.where(wins(a, b), 1.0, xp.where(a == b, 0.5, 0.0)).astype(grad.dtype, copy=False)
    return unbroadcast(grad * a_share, _shape(a)), unbroadcast(grad * (1 - a_share), _shape(b))


class Where(Function):
    def forward(self, condition, a, b):
        self.condition = condition
        self.shapes = (_shape(a), _shape(b))
        return xp.where(condition, a, b)

    def backward(self, grad):
        zero = xp.zeros((), grad.dtype)
        return (
            None,
            unbroadcast(xp.where(self.condition, grad, zero), self.shapes[0]),
            unbroadcast(xp.where(self.condition, zero, grad), self.shapes[1]),
        )


def exp(x: Tensor) -> Tensor:
    return Exp.apply(_float(x))


def log(x: Tensor) -> Tensor:
    return Log.apply(_float(x))


def log1p(x: Tensor) -> Tensor:
    return Log1p.apply(_float(x))


def expm1(x: Tensor) -> Tensor:
    return Expm1.apply(_float(x))


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(_float(x))


def rsqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(_float(x)).reciprocal()


def reciprocal(x: Tensor) -> Tensor:
    from dendrite.ops.elementwise import div

    return div(1.0, _float(x))


def square(x: Tensor) -> Tensor:
    from dendrite.ops.elementwise import mul

    return mul(x, x)


def abs(x: Tensor) -> Tensor:
    return Abs.apply(x)


def sin(x: Tensor) -> Tensor:
    return Sin.apply(_float(x))


def cos(x: Tensor) -> Tensor:
    return Cos.apply(_float(x))


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(_float(x))


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(_float(x))


def relu(x: Tensor) -> Tensor:
    return ReLU.apply(x)


def clamp(x: Tensor, min=None, max=None) -> Tensor:
    """Limit values to ``[min, max]`` (either bound may be omitted)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        result = x
        if min is not None:
            result = maximum(result, min)
        if max is not None:
            result = minimum(result, max)
        return result
    return Clamp.apply(x, low=min, high=max)


def maximum(a, b) -> Tensor:
    """Element-wise maximum with broadcasting."""
    a, b = operands(a, b)
    _check_broadcast("maximum", _data(a), _data(b))
    return Maximum.apply(a, b)


def minimum(a, b) -> Tensor:
    """Element-wise minimum with broadcasting."""
    a, b = operands(a, b)
    _check_broadcast("minimum", _data(a), _data(b))
    return Minimum.apply(a, b)


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (broadcasting all three)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = _new_tensor(xp.asarray(a, get_default_dtype() if isinstance(a, float) else None))
    a, b = operands(a, b)
    condition = condition._data if isinstance(condition, Tensor) else xp.asarray(condition)
    if condition.dtype.kind != "b":
        raise TypeError(f"where: condition must be a bool tensor, got dtype {condition.dtype}")
    return Where.apply(condition, a, b)


def masked_fill(x: Tensor, mask, value) -> Tensor:
    """``x`` with ``value`` wherever ``mask`` is true."""
    return where(mask, value, x)


def _data(value):
    return value._data if isinstance(value, Tensor) else value
