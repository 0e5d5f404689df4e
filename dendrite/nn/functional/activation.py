"""Activation functions: ``relu``, ``gelu``, ``elu``, ``softplus``, ``softmax``... (``torch.nn.functional``).

Every activation keeps its input's shape. Those with a cheap closed-form
derivative are fused ``Function``s (forward and backward side by side, one
pass over the data each way); the rest are composed from :mod:`dendrite.ops`.
The shrinking ones (``softshrink``...) are in :mod:`~dendrite.nn.functional.activation_shrink`,
``glu`` in :mod:`~dendrite.nn.functional.activation_gated`, ``prelu``/``rrelu`` in
:mod:`~dendrite.nn.functional.activation_leaky`;
the array-level ``erf`` that GELU uses lives in :mod:`dendrite.ops.special`.
Gradients at the kinks are PyTorch's: ``leaky_relu`` takes the negative slope
at 0, ``hardtanh``/``relu6`` are flat at their bounds, ``elu`` uses the
negative branch at 0.

``inplace=True`` overwrites the input when no graph is being recorded through
it; while recording, the result is computed out of place (same values, and
the graph stays correct) — a leaf that requires grad is refused, as in PyTorch.
"""

from __future__ import annotations

import math
import warnings

from dendrite import ops
from dendrite.autograd.function import Function
from dendrite.autograd.grad_mode import state
from dendrite.backend import xp
from dendrite.ops.boundary import input_kinds
from dendrite.ops.graph_operands import composed_gradients, constant
from dendrite.ops.operands import normalize_dims, to_float
from dendrite.ops.special import erf_array as erf  # array-level erf (GELU's exact form)
from dendrite.tensor import Tensor

__all__ = [
    "celu", "elu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "leaky_relu", "log_softmax",
    "logsigmoid", "mish", "normalize", "relu", "relu6", "selu", "sigmoid", "silu", "softmax", "softmin",
    "softplus", "tanh", "threshold",
]


def finish_inplace(input: Tensor, output: Tensor, inplace: bool, name: str) -> Tensor:
    """Honour ``inplace=True`` where that is safe (see the module docstring)."""
    if not inplace:
        return output
    if state.grad_enabled and input.requires_grad:
        if input._ctx is None:
            raise RuntimeError(
                f"{name}(inplace=True): a leaf tensor that requires grad cannot be modified in place; "
                "pass inplace=False"
            )
        return output
    xp.copyto(input.array, output.array, casting="unsafe")
    return input


# ----------------------------------------------------------------------------- fused activations
class LeakyReLU(Function):
    def forward(self, x, slope):
        self.positive, self.slope = x > 0, slope
        return xp.where(self.positive, x, x * slope)

    def backward(self, grad):
        # dX = dY where x > 0, else slope · dY
        return xp.where(self.positive, grad, grad * self.slope)

    def backward_graph(self, grad):
        return grad * constant(xp.where(self.positive, 1.0, self.slope), grad)


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


class Hardtanh(Function):
    def forward(self, x, low, high):
        self.inside = (x > low) & (x < high)  # flat (zero gradient) at the bounds themselves
        return xp.clip(x, low, high).astype(x.dtype, copy=False)  # integer tensors stay integer

    def backward(self, grad):
        # dX = dY inside (low, high), 0 outside and at the bounds
        return grad * self.inside

    def backward_graph(self, grad):
        return (grad * constant(self.inside, grad),) + (None,) * (len(self.inputs) - 1)


class Hardsigmoid(Function):
    def forward(self, x):
        self.inside = (x > -3) & (x < 3)
        return xp.clip(x + 3, 0, 6) / 6

    def backward(self, grad):
        # dX = dY / 6 inside (-3, 3), else 0
        return grad * self.inside / 6

    def backward_graph(self, grad):
        return grad * constant(self.inside / 6, grad)


class Hardswish(Function):
    def forward(self, x):
        self.x = x
        return x * xp.clip(x + 3, 0, 6) / 6

    def backward(self, grad):
        # dX = 0 for x <= -3, dY (x / 3 + ½) inside, dY for x >= 3
        x = self.x
        return xp.where(x <= -3, 0.0, xp.where(x < 3, grad * (x / 3 + 0.5), grad))

    def backward_graph(self, grad):
        x = self.inputs[0]
        inside = constant((self.x > -3) & (self.x < 3), grad)
        return grad * ((x / 3 + 0.5) * inside + constant(self.x >= 3, grad))


class LogSigmoid(Function):
    def forward(self, x):
        self.x = x
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, grad):
        # Y = log σ(x):  dX = dY σ(-x)
        return grad * _sigmoid(-self.x)

    def backward_graph(self, grad):
        return grad * (-self.inputs[0]).sigmoid()


class Threshold(Function):
    def forward(self, x, threshold, value):
        self.above = ~(x <= threshold)  # NaN stays NaN, as PyTorch (x <= threshold ? value : x)
        return xp.where(self.above, x, x.dtype.type(value))

    def backward(self, grad):
        # dX = dY where x > threshold, else 0
        return grad * self.above

    def backward_graph(self, grad):
        return grad * constant(self.above, grad)


def _unary(function, input: Tensor, **options) -> Tensor:
    return function.apply(to_float(input), **options)


def _clip(input: Tensor, low: float, high: float) -> Tensor:
    """Hardtanh's clip: integer tensors stay integer, as in PyTorch; bool and others become float."""
    integer = isinstance(input, Tensor) and input.array.dtype.kind in "iu"
    return Hardtanh.apply(input if integer else to_float(input), low=low, high=high)


@input_kinds("iuf")
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``, gradient 0 at 0. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.relu(x).tolist()
        [0.0, 0.0, 2.0]
    """
    return finish_inplace(input, ops.relu(input), inplace, "relu")


@input_kinds("iuf")
def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.relu6(dendrite.tensor([-1.0, 7.0])).tolist()
        [0.0, 6.0]
    """
    return finish_inplace(input, _clip(input, 0.0, 6.0), inplace, "relu6")


@input_kinds("iuf")
def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.hardtanh(x).tolist()
        [-1.0, 0.0, 1.0]
    """
    if max_val < min_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return finish_inplace(input, _clip(input, min_val, max_val), inplace, "hardtanh")


@input_kinds("f")
def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` if ``x > 0`` else ``negative_slope * x``. Any shape.



    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.leaky_relu(x, 0.5).tolist()
        [-0.5, 0.0, 2.0]
    """
    return finish_inplace(input, _unary(LeakyReLU, input, slope=negative_slope), inplace, "leaky_relu")


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
def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.hardsigmoid(dendrite.tensor([-3.0, 0.0, 3.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    return finish_inplace(input, _unary(Hardsigmoid, input), inplace, "hardsigmoid")


@input_kinds("f")
def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.hardswish(dendrite.tensor([-3.0, 0.0, 3.0])).tolist()
        [-0.0, 0.0, 3.0]
    """
    return finish_inplace(input, _unary(Hardswish, input), inplace, "hardswish")


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


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> x = dendrite.tensor([-1.0, 0.0, 2.0])
        >>> F.threshold(x, 0.5, -9.0).tolist()
        [-9.0, -9.0, 2.0]
    """
    output = Threshold.apply(input, threshold=threshold, value=value)
    return finish_inplace(input, output, inplace, "threshold")


# ----------------------------------------------------------------------------- softmax family
def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.softmax(dendrite.zeros(2, 4), dim=1).tolist()[0]
        [0.25, 0.25, 0.25, 0.25]
    """
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return ops.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``x - logsumexp(x, dim)``: stable log-probabilities. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.log_softmax(dendrite.zeros(8, 10), dim=1).shape
        (8, 10)
    """
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return ops.log_softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x, dim)``. Any shape.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.softmin(dendrite.zeros(2, 4), dim=1).tolist()[0]
        [0.25, 0.25, 0.25, 0.25]
    """
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, _stacklevel)
    return ops.softmax(-input, dim, dtype=dtype)


# ----------------------------------------------------------------------------- normalize
class Normalize(Function):
    """``x / max(||x||_p, eps)`` along one axis; a zero norm gets a zero norm-gradient (as in PyTorch)."""

    def forward(self, x, p, axis, eps):
        magnitude = xp.abs(x)
        if p == 2:
            norm = xp.sqrt((x * x).sum(axis=axis, keepdims=True))
        elif p == 1:
            norm = magnitude.sum(axis=axis, keepdims=True)
        elif p == math.inf:
            norm = magnitude.max(axis=axis, keepdims=True)
        elif p == -math.inf:
            norm = magnitude.min(axis=axis, keepdims=True)
        elif p == 0:
            norm = (x != 0).sum(axis=axis, keepdims=True).astype(x.dtype)
        else:
            norm = (magnitude ** p).sum(axis=axis, keepdims=True) ** (1.0 / p)
        self.x, self.p, self.axis, self.norm, self.eps = x, p, axis, norm, eps
        self.denominator = xp.maximum(norm, eps)
        self.passes = norm >= eps  # clamp_min passes the gradient where norm >= eps
        return x / self.denominator

    def backward(self, grad):
        # Y = x / d, d = max(‖x‖_p, eps):  dX = dY / d - (Σ dY · x) / d² · ∂‖x‖/∂x  (the second term only
        # where ‖x‖ >= eps;  ∂‖x‖₂/∂x = x / ‖x‖,  ∂‖x‖₁/∂x = sign x)
        x, p, norm, denominator = self.x, self.p, self.norm, self.denominator
        result = grad / denominator
        if p == 0:
            return result
        through_norm = (grad * x).sum(axis=self.axis, keepdims=True) / (denominator * denominator)
        through_norm = xp.where(self.passes, through_norm, 0)
        with xp.errstate(divide="ignore", invalid="ignore"):
            if p == 2:
                d_norm = xp.where(norm == 0, 0, x / norm)
            elif p == 1:
                d_norm = xp.sign(x)
            elif p in (math.inf, -math.inf):  # ties share the gradient evenly
                winners = xp.abs(x) == norm
                d_norm = xp.sign(x) * winners / winners.sum(axis=self.axis, keepdims=True)
            else:
                scaled = xp.sign(x) * xp.abs(x) ** (p - 1) / norm ** (p - 1)
                d_norm = xp.where((norm == 0) | (x == 0), 0, scaled)
        return (result - through_norm * d_norm).astype(x.dtype, copy=False)

    def backward_graph(self, grad):
        # Recomputed with differentiable ops: x / max(‖x‖_p, eps), then differentiated (create_graph)
        p, axis, eps = self.p, self.axis, self.eps
        return composed_gradients(self, grad,
                                  lambda x: x / ops.norm(x, p, dim=axis, keepdim=True).clamp_min(eps))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """Divide by the ``p``-norm along ``dim`` (at least ``eps``). Any shape (a 0-d tensor is its own row).

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.normalize(dendrite.tensor([[3.0, 4.0]]), dim=1).tolist()
        [[0.6000000238418579, 0.800000011920929]]
    """
    axes = normalize_dims(dim, input.ndim)  # an int or a tuple of dims, as in PyTorch
    if input.ndim == 0:  # x / max(|x|, eps), computed as a row of one
        result = Normalize.apply(to_float(input).reshape(1), p=float(p), axis=(0,), eps=eps).reshape(())
    else:
        result = Normalize.apply(to_float(input), p=float(p), axis=axes, eps=eps)
    if out is not None:
        out.array[...] = result.array
        return out
    return result
