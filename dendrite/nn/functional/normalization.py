"""Normalisation layers as functions: batch, layer, group, instance and RMS norm.

Each standardises ``x`` over some axes, ``xhat = (x - mean) / sqrt(var + eps)``
(biased variance), then applies a per-feature affine map ``xhat * weight + bias``.
All are fused ``Function``s sharing one backward: with ``g = dL/dxhat``,

    dL/dx = invstd * (g - mean(g) - xhat * mean(g * xhat))      (means over the normalised axes)

which is the derivative through the mean and the variance in one pass
instead of a dozen recorded operations.

``batch_norm`` in training uses the batch statistics and updates
``running_mean``/``running_var`` in place with PyTorch's rule (the running
variance takes the *unbiased* batch variance); in evaluation it uses them.
"""

from __future__ import annotations

import math
import numbers
import warnings

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import composed_gradients, constant
from dendrite.tensor import Tensor
from dendrite.tensor_base import wrap

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm", "local_response_norm", "rms_norm"]


def _statistics_input(x):
    """float16 statistics are computed in float32 (PyTorch's accumulate type): squares of halves above
    256 overflow, which made the variance inf and the output zeros. Other dtypes pass through."""
    return x.astype(xp.float32) if x.dtype == xp.float16 else x


def _standardize(x, axes, eps, statistics=False):
    """``(xhat, invstd)`` of ``x`` over ``axes`` (kept as size-1 axes); ``statistics`` adds mean, var.

    Two passes (mean, then the mean of the centered squares): no cancellation at large magnitudes.
    ``xhat`` has x's dtype; ``invstd`` (and mean, var) the accumulate dtype (float32 for float16).
    """
    wide = _statistics_input(x)
    count = math.prod(wide.shape[axis] for axis in axes)
    with warnings.catch_warnings():  # an empty slice (an empty batch) has NaN statistics, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = wide.sum(axis=axes, keepdims=True) / count
        # one correction pass (the mean of the residuals): a constant slice gets its value back exactly,
        # so its centred values are 0 as in PyTorch, not the rounding of the sum times 1/sqrt(eps)
        centered = wide - mean
        correction = centered.sum(axis=axes, keepdims=True) / count
        centered -= correction
        mean += correction
        square = centered * centered
        var = square.sum(axis=axes, keepdims=True) / count
    invstd = 1.0 / xp.sqrt(var + eps)
    xhat = xp.multiply(centered, invstd, out=square if square.dtype == x.dtype else None)
    xhat = xhat.astype(x.dtype, copy=False)
    if statistics:
        return xhat, invstd, mean, var
    return xhat, invstd


def _standardize_backward(grad_xhat, xhat, invstd, axes):
    # dX = (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)) / σ, the means in invstd's (accumulate) dtype
    count = math.prod(xhat.shape[axis] for axis in axes)
    with warnings.catch_warnings():  # an empty slice: NaN means, multiplied into an empty gradient
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_grad = grad_xhat.sum(axis=axes, keepdims=True, dtype=invstd.dtype) / count
        out = grad_xhat * xhat
        mean_projection = out.sum(axis=axes, keepdims=True, dtype=invstd.dtype) / count
    if out.dtype != invstd.dtype:  # float16: the arithmetic in the accumulate dtype, as before
        return (invstd * (grad_xhat - mean_grad - xhat * mean_projection)).astype(grad_xhat.dtype, copy=False)
    xp.multiply(xhat, mean_projection, out=out)  # in one buffer: this runs on every normalised value
    xp.subtract(grad_xhat, out, out=out)
    out -= mean_grad
    out *= invstd
    return out


def _affine(xhat, weight, bias, shape):
    out = xhat if weight is None else xhat * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def _affine_grads(needs, grad, xhat, axes, size):
    grad_weight = (grad * xhat).sum(axis=axes).reshape(size) if needs[1] else None
    grad_bias = grad.sum(axis=axes).reshape(size) if len(needs) > 2 and needs[2] else None
    return grad_weight, grad_bias


# ----------------------------------------------------------------------------- batch norm
def _affine_graph(xhat, weight, bias, shape):
    """``_affine`` with tensors: ``x̂ γ + β``, γ and β reshaped to ``shape`` (double backward)."""
    if weight is not None:
        xhat = xhat * weight.reshape(shape)
    return xhat if bias is None else xhat + bias.reshape(shape)


class BatchNorm(Function):
    """Normalise over every axis but 1 (the channels) of (N, C, *)."""

    def forward(self, x, weight=None, bias=None, *, running_mean, running_var, training, momentum, eps):
        channels = x.shape[1]
        self.axes = (0,) + tuple(range(2, x.ndim))
        self.param_shape = (channels,) + (1,) * (x.ndim - 2)
        self.weight, self.training, self.eps = weight, training, eps
        if training:
            self.xhat, self.invstd, mean, var = _standardize(x, self.axes, eps, statistics=True)
            if momentum is not None and running_mean is not None:
                running_mean[...] = (1 - momentum) * running_mean + momentum * mean.reshape(channels)
            if momentum is not None and running_var is not None:
                count = x.size // channels  # the running variance takes the unbiased batch variance
                unbiased = var.reshape(channels) * (count / (count - 1))
                running_var[...] = (1 - momentum) * running_var + momentum * unbiased
        else:
            self.invstd = (1.0 / xp.sqrt(running_var + eps)).astype(x.dtype).reshape(self.param_shape)
            self.xhat = (x - running_mean.astype(x.dtype).reshape(self.param_shape)) * self.invstd
        return _affine(self.xhat, weight, bias, self.param_shape)

    def backward(self, grad):
        # x̂ = (x - μ) / σ over (N, *) per channel;  dx̂ = dY · γ;  dγ = Σ dY · x̂;  dβ = Σ dY
        # training: dX = (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)) / σ;  eval (fixed μ, σ): dX = dx̂ / σ
        needs = self.needs_input_grad
        grad_x = None
        if needs[0]:
            grad_xhat = grad if self.weight is None else grad * self.weight.reshape(self.param_shape)
            if self.training:
                grad_x = _standardize_backward(grad_xhat, self.xhat, self.invstd, self.axes)
            else:
                grad_x = (grad_xhat * self.invstd).astype(grad.dtype, copy=False)
        return (grad_x,) + _affine_grads(needs, grad, self.xhat, self.axes, self.param_shape[:1])

    def backward_graph(self, grad):
        # Recomputed with differentiable ops and differentiated (create_graph): x̂ from the batch
        # statistics (training) or with the fixed running ones (eval: x̂ = x σ⁻¹ + const), then γ x̂ + β.
        axes, shape, eps = self.axes, self.param_shape, self.eps
        invstd, xhat = self.invstd, self.xhat

        def composed(x, weight=None, bias=None):
            if self.training:
                centered = x - x.mean(dim=axes, keepdim=True)
                standard = centered / ((centered * centered).mean(dim=axes, keepdim=True) + eps).sqrt()
            else:
                standard = x * constant(invstd, x) + constant(xhat - x.array * invstd, x)
            return _affine_graph(standard, weight, bias, shape)
        return composed_gradients(self, grad, composed)


def _check_dtypes(name: str, input: Tensor, weight, bias) -> None:
    """PyTorch's CPU rule: a floating input, and weight and bias of its dtype (a float16/bfloat16 input
    may also take float32 ones); integers and mixed float32/float64 are refused, not promoted."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}; convert first, "
                           "e.g. x.float()")
    for what, tensor in (("weight", weight), ("bias", bias)):
        if tensor is None or tensor.dtype == input.dtype:
            continue
        if not (tensor.dtype == xp.float32 and input.dtype.itemsize == 2):
            raise RuntimeError(f"{name}: {what} of dtype {tensor.dtype} does not match the input's dtype "
                               f"{input.dtype} (mixed dtypes are not supported, as in PyTorch); convert one")


def _check_channel_vector(name: str, what: str, tensor, channels: int, input: Tensor) -> None:
    if tensor is not None and tensor.numel() != channels:
        raise RuntimeError(
            f"{name}: {what} should contain {channels} elements (one per channel of an input of shape "
            f"{tuple(input.shape)}), not {tensor.numel()} (shape {tuple(tensor.shape)})"
        )


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float | None = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation of (N, C), (N, C, L) or (N, C, H, W) input, per channel C.

    Training: normalise with the batch statistics and update ``running_mean`` and
    ``running_var`` in place: ``new = (1 - momentum) * old + momentum * batch_stat``
    (``momentum=None`` leaves them alone; the module computes a cumulative factor itself).
    Evaluation: normalise with the running statistics.

    Example:
        >>> import dendrite
        >>> x = dendrite.randn(8, 3)
        >>> mean, var = dendrite.zeros(3), dendrite.ones(3)
        >>> batch_norm(x, mean, var, training=True).shape
        (8, 3)
    """
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected an input of shape (N, C, *) with at least 2 dimensions, "
            f"got shape {tuple(input.shape)}"
        )
    channels = input.shape[1]
    for what, tensor in (("running_mean", running_mean), ("running_var", running_var),
                         ("weight", weight), ("bias", bias)):
        _check_channel_vector("batch_norm", what, tensor, channels, input)
    _check_dtypes("batch_norm", input, weight, bias)
    if training:
        # PyTorch's check: exactly one value per channel (an empty batch passes)
        if input.shape[0] * math.prod(input.shape[2:]) == 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input of shape "
                f"{tuple(input.shape)}"
            )
    elif running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be given in evaluation mode "
                           "(training=False)")
    return BatchNorm.apply(
        input, weight, bias,
        running_mean=None if running_mean is None else running_mean.array.reshape(channels),
        running_var=None if running_var is None else running_var.array.reshape(channels),
        training=training, momentum=momentum, eps=eps,
    )


# ----------------------------------------------------------------------------- layer norm
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


# ----------------------------------------------------------------------------- group / instance norm
class GroupNorm(Function):
    """Normalise (N, C, *) over each group of ``C // groups`` channels and all positions."""

    def forward(self, x, weight=None, bias=None, *, groups, eps):
        self.shape, self.weight, self.eps = x.shape, weight, eps
        self.param_shape = (x.shape[1],) + (1,) * (x.ndim - 2)
        grouped = x.reshape(x.shape[0], groups, -1) if x.size else x.reshape(x.shape[0], groups, 0)
        self.xhat_groups, self.invstd = _standardize(grouped, (2,), eps)
        self.xhat = self.xhat_groups.reshape(x.shape)
        return _affine(self.xhat, weight, bias, self.param_shape)

    def backward(self, grad):
        # x̂ = (x - μ) / σ over each (sample, group);  dx̂ = dY · γ;
        # dX = (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)) / σ per group;  dγ = Σ dY · x̂;  dβ = Σ dY
        needs = self.needs_input_grad
        grad_x = None
        if needs[0]:
            grad_xhat = grad if self.weight is None else grad * self.weight.reshape(self.param_shape)
            grad_groups = grad_xhat.reshape(self.xhat_groups.shape)
            grad_x = _standardize_backward(grad_groups, self.xhat_groups, self.invstd, (2,))
            grad_x = grad_x.reshape(self.shape)
        axes = (0,) + tuple(range(2, len(self.shape)))
        return (grad_x,) + _affine_grads(needs, grad, self.xhat, axes, self.param_shape[:1])

    def backward_graph(self, grad):
        # Recomputed with differentiable ops: x̂ per (sample, group), then γ x̂ + β per channel
        groups, eps, shape, param_shape = self.xhat_groups.shape[1], self.eps, self.shape, self.param_shape

        def composed(x, weight=None, bias=None):
            grouped = x.reshape(shape[0], groups, -1)
            centered = grouped - grouped.mean(dim=2, keepdim=True)
            standard = centered / ((centered * centered).mean(dim=2, keepdim=True) + eps).sqrt()
            return _affine_graph(standard.reshape(shape), weight, bias, param_shape)
        return composed_gradients(self, grad, composed)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Group normalisation: channels split into ``num_groups`` groups, each normalised per sample.

    Shapes: input (N, C, *) with C divisible by num_groups; weight and bias (C,).

    Example:
        >>> import dendrite
        >>> group_norm(dendrite.randn(2, 6, 5), 3).shape
        (2, 6, 5)
    """
    if input.ndim < 2:
        raise RuntimeError(
            f"group_norm: expected an input of shape (N, C, *) with at least 2 dimensions, "
            f"got shape {tuple(input.shape)}"
        )
    channels = input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(
            f"group_norm: expected the number of channels of the input to be divisible by num_groups, "
            f"but got input of shape {tuple(input.shape)} and num_groups={num_groups}"
        )
    for what, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tuple(tensor.shape) != (channels,):
            raise RuntimeError(
                f"group_norm: expected {what} to be a vector of size {channels} (the channels of an input "
                f"of shape {tuple(input.shape)}), got shape {tuple(tensor.shape)}"
            )
    _check_dtypes("group_norm", input, weight, bias)
    # PyTorch's check (its group_norm reads the input as (1, N*C/G, ...)): refused where
    # N * C / num_groups * (spatial positions) is exactly 1
    if input.shape[0] * channels // num_groups * math.prod(input.shape[2:]) == 1:
        raise ValueError(
            f"group_norm: expected more than 1 value per channel when training, got input of shape "
            f"{tuple(input.shape)} and num_groups={num_groups}"
        )
    return GroupNorm.apply(input, weight, bias, groups=num_groups, eps=eps)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise every channel of every sample of (N, C, *) over its positions.

    With ``use_input_stats`` the running statistics (if given) move towards the
    batch average of the per-instance statistics; without, they are used to normalise.

    Example:
        >>> import dendrite
        >>> instance_norm(dendrite.randn(2, 3, 8)).shape
        (2, 3, 8)
    """
    if input.ndim < 2:
        raise ValueError(f"instance_norm: expected input of shape (N, C, *), got shape {tuple(input.shape)}")
    channels = input.shape[1]
    for what, tensor in (("running_mean", running_mean), ("running_var", running_var),
                         ("weight", weight), ("bias", bias)):
        _check_channel_vector("instance_norm", what, tensor, channels, input)
    _check_dtypes("instance_norm", input, weight, bias)
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    positions = math.prod(input.shape[2:])
    if positions <= 1:
        raise ValueError(
            f"instance_norm: expected more than 1 spatial element when training, got input of shape "
            f"{tuple(input.shape)}"
        )
    data = input.array.reshape(input.shape[0], channels, -1)
    if running_mean is not None:
        mean = data.mean(axis=2).mean(axis=0)
        running_mean.array[...] = ((1 - momentum) * running_mean.array.reshape(channels)
                                   + momentum * mean).reshape(running_mean.shape)
    if running_var is not None:
        var = data.var(axis=2, ddof=1).mean(axis=0)
        running_var.array[...] = ((1 - momentum) * running_var.array.reshape(channels)
                                  + momentum * var).reshape(running_var.shape)
    return GroupNorm.apply(input, weight, bias, groups=channels, eps=eps)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Divide each channel by ``(k + alpha / size * sum of squares of nearby channels) ** beta``.

    The window spans channels ``c - size // 2`` to ``c + (size - 1) // 2`` (zero beyond the
    edges), as in PyTorch. Shape: (N, C, *) with at least 3 dimensions, kept.

    Example:
        >>> import dendrite
        >>> local_response_norm(dendrite.randn(2, 8, 5, 5), size=3).shape
        (2, 8, 5, 5)
        >>> y = local_response_norm(dendrite.full((1, 1, 1), 2.0), size=1, alpha=1.0, beta=1.0)
        >>> y.tolist()   # 2 / (1 + 1 * 2**2)
        [[[0.4000000059604645]]]
    """
    from dendrite import ops

    if input.ndim < 3:
        raise ValueError(
            f"local_response_norm: expected an input of shape (N, C, *) with at least 3 dimensions, "
            f"got shape {tuple(input.shape)}"
        )
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    squares = input * input
    zeros = wrap(backend.namespace(input).zeros((input.shape[0], 1) + tuple(input.shape[2:]), input.dtype))
    before, after = size // 2, (size - 1) // 2
    padded = ops.cat([zeros] * before + [squares] + [zeros] * after, 1)
    window_sum = padded[:, 0:channels]
    for offset in range(1, size):
        window_sum = window_sum + padded[:, offset:offset + channels]
    return input / (window_sum * (alpha / size) + k) ** beta
