"""Layer norm and RMS norm: each sample normalised over its trailing ``normalized_shape`` dimensions.

Layer norm: ``y = (x - mean) / sqrt(var + eps) * weight + bias`` over the last dims (biased
variance), its backward the shared one of :mod:`dendrite.nn.functional.normalization_standardize`.
RMS norm: ``y = x / sqrt(mean(x^2) + eps) * weight`` (no mean subtracted); with ``r = rms``,
``dL/dx = (g - xhat * mean(g * xhat)) / r`` for ``g = dL/dy * weight``, ``xhat = x / r``.
"""

from __future__ import annotations

import math
import numbers

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.normalization_standardize import (
    _affine,
    _affine_grads,
    _affine_graph,
    _check_dtypes,
    _standardize,
    _standardize_backward,
    _statistics_input,
)
from dendrite.ops.graph_operands import composed_gradients
from dendrite.tensor import Tensor

__all__ = ["layer_norm", "rms_norm"]


class LayerNorm(Function):
    """Normalise over the trailing ``len(normalized_shape)`` axes."""

    def forward(self, x, weight=None, bias=None, *, normalized, eps):
        self.shape, self.weight, self.normalized, self.eps = x.shape, weight, normalized, eps
        rows = x.reshape(-1, math.prod(normalized)) if x.size else x.reshape(0, 1)
        self.xhat_rows, self.invstd = _standardize(rows, (1,), eps)
        self.xhat = self.xhat_rows.reshape(x.shape)
        return _affine(self.xhat, weight, bias, normalized)

    def backward(self, grad):
        # x̂ = (x - μ) / σ over the trailing axes;  dx̂ = dY · γ;
        # dX = (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)) / σ;  dγ = Σ_rows dY · x̂;  dβ = Σ_rows dY
        needs = self.needs_input_grad
        grad_x = None
        if needs[0]:
            grad_xhat = grad if self.weight is None else grad * self.weight
            grad_rows = grad_xhat.reshape(self.xhat_rows.shape)
            grad_x = _standardize_backward(grad_rows, self.xhat_rows, self.invstd, (1,)).reshape(self.shape)
        leading = tuple(range(len(self.shape) - len(self.normalized)))
        return (grad_x,) + _affine_grads(needs, grad, self.xhat, leading, self.normalized)

    def backward_graph(self, grad):
        # Recomputed with differentiable ops: x̂ = (x - μ) / √(σ² + ε) over the trailing axes; γ x̂ + β
        axes, eps, normalized = tuple(range(-len(self.normalized), 0)), self.eps, self.normalized

        def composed(x, weight=None, bias=None):
            centered = x - x.mean(dim=axes, keepdim=True)
            standard = centered / ((centered * centered).mean(dim=axes, keepdim=True) + eps).sqrt()
            return _affine_graph(standard, weight, bias, normalized)
        return composed_gradients(self, grad, composed)


def _normalized_shape(name: str, input: Tensor, normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(int(size) for size in normalized_shape)
    if not normalized_shape or tuple(input.shape[-len(normalized_shape):]) != normalized_shape \
            or input.ndim < len(normalized_shape):
        raise RuntimeError(
            f"{name}: given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(size) for size in normalized_shape)}], but got input of shape "
            f"{tuple(input.shape)}"
        )
    return normalized_shape


def _check_shape(name: str, what: str, tensor, expected: tuple) -> None:
    if tensor is not None and tuple(tensor.shape) != expected:
        raise RuntimeError(
            f"{name}: expected {what} of the same shape as normalized_shape {expected}, "
            f"got shape {tuple(tensor.shape)}"
        )


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each sample over its trailing ``normalized_shape`` dimensions.

    Shapes: input (*, *normalized_shape); weight and bias normalized_shape.

    Example:
        >>> import dendrite
        >>> layer_norm(dendrite.randn(4, 10), (10,)).shape
        (4, 10)
    """
    normalized = _normalized_shape("layer_norm", input, normalized_shape)
    _check_shape("layer_norm", "weight", weight, normalized)
    _check_shape("layer_norm", "bias", bias, normalized)
    _check_dtypes("layer_norm", input, weight, bias)
    return LayerNorm.apply(input, weight, bias, normalized=normalized, eps=eps)


class RMSNorm(Function):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing axes."""

    def forward(self, x, weight=None, *, normalized, eps):
        self.shape, self.weight, self.normalized, self.eps = x.shape, weight, normalized, eps
        rows = x.reshape(-1, math.prod(normalized)) if x.size else x.reshape(0, 1)
        wide = _statistics_input(rows)  # float16: mean(x^2) in float32
        self.inverse_rms = 1.0 / xp.sqrt((wide * wide).mean(axis=1, keepdims=True) + eps)
        self.xhat_rows = (wide * self.inverse_rms).astype(x.dtype, copy=False)
        self.xhat = self.xhat_rows.reshape(x.shape)
        return self.xhat if weight is None else self.xhat * weight

    def backward(self, grad):
        # x̂ = x / rms(x);  dx̂ = dY · γ;  dX = (dx̂ - x̂ · mean(dx̂ · x̂)) / rms(x);  dγ = Σ_rows dY · x̂
        needs = self.needs_input_grad
        grad_x = grad_weight = None
        if needs[0]:
            grad_xhat = (grad if self.weight is None else grad * self.weight).reshape(self.xhat_rows.shape)
            wide = self.inverse_rms.dtype
            projection = (grad_xhat * self.xhat_rows).mean(axis=1, keepdims=True, dtype=wide)
            grad_x = self.inverse_rms * (grad_xhat - self.xhat_rows * projection)
            grad_x = grad_x.astype(grad.dtype, copy=False).reshape(self.shape)
        if len(needs) > 1 and needs[1]:
            leading = tuple(range(len(self.shape) - len(self.normalized)))
            grad_weight = (grad * self.xhat).sum(axis=leading).reshape(self.normalized)
        return grad_x, grad_weight

    def backward_graph(self, grad):
        # Recomputed with differentiable ops: x / √(mean(x²) + ε) · γ over the trailing axes
        axes, eps = tuple(range(-len(self.normalized), 0)), self.eps

        def composed(x, weight=None):
            standard = x / ((x * x).mean(dim=axes, keepdim=True) + eps).sqrt()
            return standard if weight is None else standard * weight
        return composed_gradients(self, grad, composed)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dimensions.

    ``y = x / sqrt(mean(x**2) + eps) * weight``. Input ``(*, *normalized_shape)``, output the same
    shape; weight ``normalized_shape``. ``eps=None`` uses the machine epsilon of the input's dtype.

    Example:
        >>> import dendrite
        >>> y = rms_norm(dendrite.tensor([[3.0, 4.0]]), (2,))   # rms = sqrt(12.5)
        >>> [round(v, 4) for v in y[0].tolist()]
        [0.8485, 1.1314]
    """
    normalized = _normalized_shape("rms_norm", input, normalized_shape)
    _check_shape("rms_norm", "weight", weight, normalized)
    if input.dtype.kind != "f":  # PyTorch's rms_norm takes a weight of any float dtype, not integers
        raise RuntimeError(f"rms_norm: expected a floating point input, got {input.dtype}; convert first, "
                           "e.g. x.float()")
    if eps is None:
        eps = float(xp.finfo(input.dtype).eps)
    return RMSNorm.apply(input, weight, normalized=normalized, eps=eps)
