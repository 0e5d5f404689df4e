"""Smooth activations: ``elu``, ``selu``, ``celu``, ``softplus``, ``gelu``, ``silu``, ``mish``, ``sigmoid``...

Each keeps its input's shape and is a fused ``Function`` (forward and backward side by side, one
pass over the data each way), except ``sigmoid`` and ``tanh``, which are :mod:`dendrite.ops`'s.
``elu`` uses the negative branch at 0, as PyTorch. The array-level ``erf`` that GELU's exact form
uses lives in :mod:`dendrite.ops.special`. The rectifiers (``relu``, ``hardtanh``...) are in
:mod:`dendrite.nn.functional.activation`, which re-exports these.
"""

from __future__ import annotations

import math

from dendrite import ops
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.activation_common import _unary, finish_inplace
from dendrite.ops.boundary import input_kinds
from dendrite.ops.graph_operands import constant
from dendrite.ops.special import erf_array as erf  # array-level erf (GELU's exact form)
from dendrite.tensor import Tensor

__all__ = ["celu", "elu", "gelu", "logsigmoid", "mish", "selu", "sigmoid", "silu", "softplus", "tanh"]


class ELU(Function):
    """PyTorch's elu family: ``x > 0 ? scale x : alpha scale (exp(input_scale x) - 1)``."""

    def forward(self, x, alpha, scale, input_scale):
        self.x, self.coefficients = x, (alpha, scale, input_scale)
        with xp.errstate(over="ignore"):
            negative = xp.expm1(x * input_scale) * (alpha * scale)
        return xp.where(x > 0, x * scale, negative)

    def backward(self, grad):
        # dX = scale · dY where x > 0, else dY · input_scale · alpha · scale · exp(input_scale · x)
        alpha, scale, input_scale = self.coefficients
        with xp.errstate(over="ignore"):
            negative = grad * (input_scale * alpha * scale) * xp.exp(self.x * input_scale)
        return xp.where(self.x > 0, grad * scale, negative)

    def backward_graph(self, grad):
        alpha, scale, input_scale = self.coefficients
        positive = constant(self.x > 0, grad)
        # exp of the negative part only (x set to 0 where positive): no inf in the unused branch
        negative_x = self.inputs[0] * (1 - positive)
        negative = (input_scale * alpha * scale) * (negative_x * input_scale).exp()
        return grad * (positive * scale + (1 - positive) * negative)


class Softplus(Function):
    def forward(self, x, beta, threshold):
        self.x, self.beta, self.threshold = x, beta, threshold
        with xp.errstate(over="ignore"):
            return xp.where(x * beta > threshold, x, xp.log1p(xp.exp(x * beta)) / beta)

    def backward(self, grad):
        # dX = dY · σ(β x)  (= dY where β x > threshold, the linear region)
        scaled = self.x * self.beta
        with xp.errstate(over="ignore", invalid="ignore"):
            z = xp.exp(scaled)
            return xp.where(scaled > self.threshold, grad, grad * z / (z + 1))

    def backward_graph(self, grad):
        linear = constant(self.x * self.beta > self.threshold, grad)
        sigmoid = (self.inputs[0] * (1 - linear) * self.beta).sigmoid()  # x set to 0 in the linear region
        return grad * (linear + (1 - linear) * sigmoid)


_GELU_ROOT = math.sqrt(2 / math.pi)


class GELU(Function):
    def forward(self, x, approximate):
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            # u = √(2/π) (x + 0.044715 x³), evaluated as (√(2/π) + √(2/π) 0.044715 x²) x in one buffer
            u = x * x
            u *= _GELU_ROOT * 0.044715
            u += _GELU_ROOT
            u *= x
            self.tanh = xp.tanh(u, out=u)
            out = self.tanh + 1
            out *= x
            out *= 0.5
            return out
        self.cdf = (0.5 * (1.0 + erf(x * math.sqrt(0.5)))).astype(x.dtype, copy=False)
        return x * self.cdf

    def backward(self, grad):
        # exact: dX = dY (Φ(x) + x φ(x));  tanh: dX = dY (½ (1 + tanh u) + ½ x (1 - tanh² u) u'),
        # u = √(2/π) (x + 0.044715 x³)
        x = self.x
        if self.approximate == "tanh":  # in two buffers: this runs on every hidden unit of a Transformer
            tanh = self.tanh
            out = tanh * tanh
            xp.subtract(1, out, out=out)  # 1 - tanh² u
            slope = x * x  # u' = √(2/π) (1 + 3 · 0.044715 x²)
            slope *= _GELU_ROOT * 3 * 0.044715
            slope += _GELU_ROOT
            out *= slope
            out *= x
            out += tanh
            out += 1
            out *= 0.5
            out *= grad
            return out
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return grad * (self.cdf + x * pdf)

    def backward_graph(self, grad):
        x = self.inputs[0]
        if self.approximate == "tanh":
            t = (math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)).tanh()
            slope = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * slope)
        cdf = 0.5 * (1.0 + ops.erf(x * math.sqrt(0.5)))
        pdf = (-0.5 * x * x).exp() * (1 / math.sqrt(2 * math.pi))
        return grad * (cdf + x * pdf)


def _sigmoid(x):
    e = xp.exp(-xp.abs(x))  # never overflows
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(x):
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class SiLU(Function):
    def forward(self, x):
        self.x, self.sigmoid = x, _sigmoid(x)
        return x * self.sigmoid

    def backward(self, grad):
        # Y = x σ(x):  dX = dY σ(x) (1 + x (1 - σ(x)))
        s = self.sigmoid
        return grad * s * (1 + self.x * (1 - s))

    def backward_graph(self, grad):
        x = self.inputs[0]
        s = x.sigmoid()
        return grad * s * (1 + x * (1 - s))


class Mish(Function):
    def forward(self, x):
        self.x, self.tanh_softplus = x, xp.tanh(_softplus(x))
        return x * self.tanh_softplus

    def backward(self, grad):
        # Y = x tanh(softplus x):  dX = dY (tanh sp + x σ(x) (1 - tanh² sp))
        t = self.tanh_softplus
        return grad * (t + self.x * _sigmoid(self.x) * (1 - t * t))

    def backward_graph(self, grad):
        x = self.inputs[0]
        t = Softplus.apply(x, beta=1.0, threshold=20.0).tanh()
        return grad * (t + x * x.sigmoid() * (1 - t * t))


class LogSigmoid(Function):
    def forward(self, x):
        self.x = x
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, grad):
        # Y = log σ(x):  dX = dY σ(-x)
        return grad * _sigmoid(-self.x)

    def backward_graph(self, grad):
        return grad * (-self.inputs[0]).sigmoid()


@input_kinds("f")
def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` if ``x > 0`` else ``alpha (exp(x) - 1)``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.elu(x).shape
        (3,)
    """
    result = _unary(ELU, input, alpha=alpha, scale=1.0, input_scale=1.0)
    return finish_inplace(input, result, inplace, "elu")


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@input_kinds("f")
def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.selu(x).shape
        (3,)
    """
    result = _unary(ELU, input, alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1.0)
    return finish_inplace(input, result, inplace, "selu")


@input_kinds("f")
def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` if ``x > 0`` else ``alpha (exp(x / alpha) - 1)``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.celu(x).shape
        (3,)
    """
    if alpha == 0:
        raise ValueError("celu: alpha must be non-zero (the input is divided by it)")
    result = _unary(ELU, input, alpha=alpha, scale=1.0, input_scale=1.0 / alpha)
    return finish_inplace(input, result, inplace, "celu")


@input_kinds("f")
def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.softplus(x).shape
        (3,)
    """
    return _unary(Softplus, input, beta=beta, threshold=threshold)


@input_kinds("f")
def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (exact, via erf) or its ``approximate='tanh'`` form. Any shape.



    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.gelu(x).tolist()[1:]
        [0.0, 1.9544997215270996]
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _unary(GELU, input, approximate=approximate)


@input_kinds("f")
def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (a.k.a. swish). Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.silu(x).tolist()[1]
        0.0
    """
    return finish_inplace(input, _unary(SiLU, input), inplace, "silu")


@input_kinds("f")
def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.mish(x).shape
        (3,)
    """
    return finish_inplace(input, _unary(Mish, input), inplace, "mish")


@input_kinds("f")
def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))`` without overflow. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.logsigmoid(x).shape
        (3,)
    """
    return _unary(LogSigmoid, input)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.sigmoid(dendrite.zeros(2, 3)).tolist()[0]
        [0.5, 0.5, 0.5]
    """
    return ops.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.tanh(dendrite.zeros(2)).tolist()
        [0.0, 0.0]
    """
    return ops.tanh(input)
