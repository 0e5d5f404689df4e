"""Normalisation layers: ``BatchNorm1d/2d``, ``LayerNorm``, ``GroupNorm``, ``RMSNorm``, ``InstanceNorm1d/2d``.

Why normalise: keeping each layer's inputs near zero mean and unit variance
makes training far less sensitive to initialisation and learning rate.
BatchNorm normalises each channel over the batch (and keeps running averages
for evaluation); LayerNorm, GroupNorm and RMSNorm normalise each sample on its
own, so they behave the same in training and evaluation.
"""

from __future__ import annotations

import warnings

from dendrite import backend
from dendrite.backend import xp
from dendrite.devices import resolve_device
from dendrite.nn import functional as F
from dendrite.nn import init
from dendrite.nn.modules.module import Module
from dendrite.nn.parameter import Parameter
from dendrite.tensor import Tensor, wrap

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "RMSNorm",
           "InstanceNorm1d", "InstanceNorm2d"]


def _dtype(dtype):
    return backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)


def _affine_parameters(module, shape, dtype, affine: bool, bias: bool) -> None:
    """Register ``weight`` (ones) and ``bias`` (zeros) of ``shape``, or ``None`` for those switched off."""
    if affine:
        module.weight = Parameter(xp.ones(shape, dtype))
        if bias:
            module.bias = Parameter(xp.zeros(shape, dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _check_device(layer: str, device):
    return resolve_device(device, layer)


class _NormBase(Module):
    """Per-channel affine parameters and running statistics shared by BatchNorm and InstanceNorm."""

    ranks: tuple = (2, 3)
    layout = "(N, C) or (N, C, L)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None, *,
                 bias: bool = True) -> None:
        super().__init__()
        device = _check_device(type(self).__name__, device)
        dtype = _dtype(dtype)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine_parameters(self, num_features, dtype, affine, bias)
        if track_running_stats:
            self.register_buffer("running_mean", wrap(xp.zeros(num_features, dtype)))
            self.register_buffer("running_var", wrap(xp.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", wrap(xp.array(0, dtype=xp.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        if device.type != "cpu":  # made on the CPU, then moved (PyTorch: made there)
            self.to(device)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input(self, input: Tensor, channel_dim: int = 1) -> None:
        if input.ndim not in self.ranks or input.shape[channel_dim] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}(num_features={self.num_features}) got input of shape "
                f"{tuple(input.shape)}; expected {self.layout} with C={self.num_features}"
            )

    def _momentum(self) -> float:
        """Count the batch and return the running-average factor (None momentum: cumulative average)."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.array[...] += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.array)
        return factor

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    # Set by ``dendrite.freeze``: the layer then stays in evaluation mode (normalises with its running
    # statistics and never updates them) even inside a model switched to train() -- fine-tuning a
    # frozen pretrained block on small batches must not rewrite its statistics (the classic Keras
    # trap). ``training`` is a property so that Module.train(), which sets it, needs no special case.
    freeze_statistics = False

    @property
    def training(self) -> bool:
        return self.__dict__.get("_training", True) and not self.freeze_statistics

    @training.setter
    def training(self, mode: bool) -> None:
        self.__dict__["_training"] = bool(mode)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        factor = self._momentum()
        # Evaluation uses the running statistics when they exist, the batch's own otherwise.
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep_running = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if keep_running else None,
            self.running_var if keep_running else None,
            self.weight, self.bias, use_batch_stats, factor, self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over ``(N, C)`` or ``(N, C, L)``, per channel ``C``.

    Training: normalise with the batch's mean and (biased) variance and update
    ``running_mean``/``running_var`` (unbiased) with ``momentum`` (``None``: cumulative
    average). Evaluation: normalise with the running statistics.

    Example:
        >>> import dendrite
        >>> bn = dendrite.nn.BatchNorm1d(16)
        >>> bn(dendrite.randn(32, 16)).shape
        (32, 16)
        >>> list(bn.state_dict())
        ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    """


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` images, per channel ``C`` (statistics over N, H, W).

    Example:
        >>> import dendrite
        >>> dendrite.nn.BatchNorm2d(8)(dendrite.randn(4, 8, 5, 5)).shape
        (4, 8, 5, 5)
    """

    ranks = (4,)
    layout = "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of ``(N, C, D, H, W)`` volumes, per channel ``C`` (statistics over N, D, H, W).

    Example:
        >>> import dendrite
        >>> dendrite.nn.BatchNorm3d(2)(dendrite.randn(2, 2, 3, 3, 3)).shape
        (2, 2, 3, 3, 3)
    """

    ranks = (5,)
    layout = "(N, C, D, H, W)"


class _InstanceNorm(_NormBase):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None, dtype=None, *,
                 bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        batched = input.ndim == self.ranks[-1]
        if input.ndim not in self.ranks:
            self._check_input(input)
        channel_dim = 1 if batched else 0
        if input.shape[channel_dim] != self.num_features:
            if self.affine or self.track_running_stats:
                self._check_input(input, channel_dim)
            # As in PyTorch, num_features is unused without affine parameters or statistics.
            warnings.warn(f"{type(self).__name__}(num_features={self.num_features}): input's size at "
                          f"dim={channel_dim} is {input.shape[channel_dim]}; num_features is not used "
                          "because affine=False", stacklevel=2)
        if not batched:
            input = input.unsqueeze(0)
        batch, channels = input.shape[:2]
        # Unlike BatchNorm, InstanceNorm counts no batches and treats momentum=None as 0.
        factor = self.momentum if self.momentum is not None else 0.0
        use_input_stats = self.training or not self.track_running_stats
        # Instance norm is batch norm of one sample holding N*C channels; the per-(n, c)
        # running statistics are averaged back over n afterwards (as PyTorch does).
        running_mean = running_var = None
        if self.track_running_stats:
            running_mean = wrap(xp.tile(self.running_mean.array, batch))
            running_var = wrap(xp.tile(self.running_var.array, batch))
        weight = self.weight.repeat(batch) if self.weight is not None else None
        bias = self.bias.repeat(batch) if self.bias is not None else None
        reshaped = input.reshape(1, batch * channels, *input.shape[2:])
        output = F.batch_norm(reshaped, running_mean, running_var, weight, bias, use_input_stats, factor,
                              self.eps)
        if self.track_running_stats and use_input_stats:
            self.running_mean.array[...] = running_mean.array.reshape(batch, channels).mean(0)
            self.running_var.array[...] = running_var.array.reshape(batch, channels).mean(0)
        output = output.reshape(input.shape)
        return output if batched else output.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Normalise each channel of each sample over its length: ``(N, C, L)`` or ``(C, L)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.InstanceNorm1d(4)(dendrite.randn(2, 4, 10)).shape
        (2, 4, 10)
    """

    ranks = (2, 3)
    layout = "(N, C, L) or (C, L)"


class InstanceNorm2d(_InstanceNorm):
    """Normalise each channel of each image over H and W (style transfer).

    Input ``(N, C, H, W)`` or ``(C, H, W)``, output the same shape.

    Example:
        >>> import dendrite
        >>> y = dendrite.nn.InstanceNorm2d(3)(dendrite.randn(2, 3, 4, 4))
        >>> y.shape, round(abs(y[0, 0].mean().item()), 4)   # each (sample, channel) plane: mean 0
        ((2, 3, 4, 4), 0.0)
    """

    ranks = (3, 4)
    layout = "(N, C, H, W) or (C, H, W)"


def _as_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(int(size) for size in normalized_shape)


def _check_trailing(layer: Module, input: Tensor) -> None:
    shape = layer.normalized_shape
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise ValueError(
            f"{type(layer).__name__}(normalized_shape={shape}) got input of shape {tuple(input.shape)}; "
            f"expected (..., {', '.join(map(str, shape))})"
        )


class LayerNorm(Module):
    """Normalise each sample over its last ``len(normalized_shape)`` dimensions.

    Shapes: input ``(..., *normalized_shape)`` -> same shape; ``weight`` and ``bias`` have
    shape ``normalized_shape``.

    Example:
        >>> import dendrite
        >>> ln = dendrite.nn.LayerNorm(64)
        >>> ln(dendrite.randn(8, 10, 64)).shape
        (8, 10, 64)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        device = _check_device("LayerNorm", device)
        dtype = _dtype(dtype)
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine_parameters(self, self.normalized_shape, dtype, elementwise_affine, bias)
        if device.type != "cpu":  # made on the CPU, then moved (PyTorch: made there)
            self.to(device)

    def forward(self, input: Tensor) -> Tensor:
        _check_trailing(self, input)
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Split the channels into ``num_groups`` groups and normalise each group of each sample.

    Shapes: ``(N, C, *)`` -> same; ``weight``/``bias`` are ``(C,)``. Independent of batch size.

    Example:
        >>> import dendrite
        >>> dendrite.nn.GroupNorm(4, 16)(dendrite.randn(2, 16, 8, 8)).shape
        (2, 16, 8, 8)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        device = _check_device("GroupNorm", device)
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        dtype = _dtype(dtype)
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _affine_parameters(self, num_channels, dtype, affine, bias)
        if device.type != "cpu":  # made on the CPU, then moved (PyTorch: made there)
            self.to(device)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm(num_channels={self.num_channels}) got input of shape {tuple(input.shape)}; "
                f"expected (N, {self.num_channels}, *)"
            )
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Scale each sample by the root mean square of its last dimensions (no centring): LLaMA's norm.

    ``y = x / sqrt(mean(x**2) + eps) * weight``; ``eps=None`` uses the dtype's machine epsilon.
    Input ``(*, *normalized_shape)``, output the same shape; ``weight`` has ``normalized_shape``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.RMSNorm(32)(dendrite.randn(4, 32)).shape
        (4, 32)
    """

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        device = _check_device("RMSNorm", device)
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(xp.ones(self.normalized_shape, _dtype(dtype)))
        else:
            self.register_parameter("weight", None)
        if device.type != "cpu":  # made on the CPU, then moved (PyTorch: made there)
            self.to(device)

    def reset_parameters(self) -> None:
        """Set ``weight`` back to ones (PyTorch's ``RMSNorm.reset_parameters``)."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        _check_trailing(self, input)
        n = len(self.normalized_shape)
        if hasattr(F, "rms_norm"):
            return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)
        eps = float(xp.finfo(input.dtype).eps) if self.eps is None else self.eps
        dims = tuple(range(input.ndim - n, input.ndim))
        output = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
        return output * self.weight if self.weight is not None else output

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
