"""Pooling (downsampling) and ``Upsample``: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``.

None of these layers has parameters; ``forward`` delegates to ``dendrite.nn.functional``.
"""

from __future__ import annotations

from dendrite.nn import functional as F
from dendrite.nn.modules.module import Module
from dendrite.tensor import Tensor

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "Upsample",
    "UpsamplingNearest2d",
    "UpsamplingBilinear2d",
]


def _check_rank(layer: Module, input: Tensor, spatial: int) -> None:
    if input.ndim not in (spatial + 1, spatial + 2):
        expected = "(N, C, L) or (C, L)" if spatial == 1 else "(N, C, H, W) or (C, H, W)"
        name = type(layer).__name__
        raise ValueError(f"{name} got input of shape {tuple(input.shape)}; expected {expected}")


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of the last dimension: ``(N, C, L)`` -> ``(N, C, L_out)``.

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows).

    Example:
        >>> import dendrite
        >>> dendrite.nn.MaxPool1d(2)(dendrite.zeros(4, 3, 10)).shape
        (4, 3, 5)
    """

    def forward(self, input: Tensor):
        _check_rank(self, input, 1)
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows: ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``.

    ``H_out = floor((H + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.MaxPool2d(2)(dendrite.zeros(8, 16, 28, 28)).shape
        (8, 16, 14, 14)
    """

    def forward(self, input: Tensor):
        _check_rank(self, input, 2)
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool1d(Module):
    """Mean over sliding windows of the last dimension: ``(N, C, L)`` -> ``(N, C, L_out)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.AvgPool1d(2)(dendrite.zeros(4, 3, 10)).shape
        (4, 3, 5)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        one = lambda value: (value,) if isinstance(value, int) else tuple(value)
        self.kernel_size = one(kernel_size)
        self.stride = one(stride if stride is not None else kernel_size)
        self.padding = one(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        _check_rank(self, input, 1)
        if hasattr(F, "avg_pool1d"):
            return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                self.count_include_pad)
        # A 1-D pool is a 2-D pool over a height-1 image.
        output = F.avg_pool2d(input.unsqueeze(-2), (1, self.kernel_size[0]), (1, self.stride[0]),
                              (0, self.padding[0]), self.ceil_mode, self.count_include_pad)
        return output.squeeze(-2)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over sliding windows: ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``.

    ``count_include_pad`` decides whether padded zeros count in the mean's denominator.

    Example:
        >>> import dendrite
        >>> dendrite.nn.AvgPool2d(2)(dendrite.zeros(8, 16, 28, 28)).shape
        (8, 16, 14, 14)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        _check_rank(self, input, 2)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Average-pool to a fixed length: ``(N, C, L)`` or ``(C, L)`` -> ``(N, C, output_size)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.AdaptiveAvgPool1d(2)(dendrite.tensor([[[1.0, 3.0, 5.0, 7.0]]])).tolist()
        [[[2.0, 6.0]]]
    """

    def __init__(self, output_size: int) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        _check_rank(self, input, 1)
        if hasattr(F, "adaptive_avg_pool1d"):
            return F.adaptive_avg_pool1d(input, self.output_size)
        size = self.output_size if isinstance(self.output_size, int) else self.output_size[0]
        return F.adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(Module):
    """Average-pool to a fixed spatial size, whatever the input size (``None`` keeps a dimension).

    Shapes: ``(N, C, H, W)`` -> ``(N, C, *output_size)``; ``AdaptiveAvgPool2d(1)`` is global
    average pooling.

    Example:
        >>> import dendrite
        >>> dendrite.nn.AdaptiveAvgPool2d((1, 1))(dendrite.zeros(8, 64, 7, 7)).shape
        (8, 64, 1, 1)
    """

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        _check_rank(self, input, 2)
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max-pool to a fixed spatial size: ``(N, C, H, W)`` -> ``(N, C, *output_size)``.

    With ``return_indices=True`` it also returns the flat position of each maximum in its plane.

    Example:
        >>> import dendrite
        >>> dendrite.nn.AdaptiveMaxPool2d(1)(dendrite.arange(16.0).reshape(1, 1, 4, 4)).tolist()
        [[[[15.0]]]]
    """

    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor):
        _check_rank(self, input, 2)
        if not hasattr(F, "adaptive_max_pool2d"):
            raise NotImplementedError("AdaptiveMaxPool2d needs F.adaptive_max_pool2d, which is not available")
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Upsample(Module):
    """Resize to ``size`` or by ``scale_factor`` (modes ``'nearest'``, ``'linear'``, ``'bilinear'``...).

    Shapes: ``(N, C, H, W)`` -> ``(N, C, H*scale, W*scale)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Upsample(scale_factor=2)(dendrite.zeros(1, 3, 4, 4)).shape
        (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        if (size is None) == (scale_factor is None):
            raise ValueError(f"Upsample: give exactly one of size and scale_factor, got size={size}, "
                             f"scale_factor={scale_factor}")
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        kwargs = {} if self.recompute_scale_factor is None else {
            "recompute_scale_factor": self.recompute_scale_factor}
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners, **kwargs)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode='nearest')`` (PyTorch's older name): ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.UpsamplingNearest2d(scale_factor=2)(dendrite.tensor([[[[1.0, 2.0]]]])).tolist()
        [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode='bilinear', align_corners=True)`` (PyTorch's older name).

    Shapes: ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.UpsamplingBilinear2d(size=(1, 3))(dendrite.tensor([[[[1.0, 2.0]]]])).tolist()
        [[[[1.0, 1.5, 2.0]]]]
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
