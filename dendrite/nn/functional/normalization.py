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

Files: this one holds the per-channel norms (batch, instance, group) and re-exports the others:
``normalization_layer`` (layer and RMS norm), ``normalization_local`` (local response norm),
``normalization_standardize`` (the shared standardising, affine map, backward and checks).
"""

from __future__ import annotations

import math

from dendrite.autograd.function import Function
from dendrite.backend import xp

# Layer, RMS and local response norm live in files of their own; importable from here as before.
from dendrite.nn.functional.normalization_layer import LayerNorm, RMSNorm, layer_norm, rms_norm  # noqa: F401
from dendrite.nn.functional.normalization_local import local_response_norm  # noqa: F401
from dendrite.nn.functional.normalization_standardize import (
    _affine,
    _affine_grads,
    _affine_graph,
    _check_channel_vector,
    _check_dtypes,
    _standardize,
    _standardize_backward,
)
from dendrite.ops.graph_operands import composed_gradients, constant
from dendrite.tensor import Tensor

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm", "local_response_norm", "rms_norm"]


# ----------------------------------------------------------------------------- batch norm
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
