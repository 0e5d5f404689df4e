"""Distance and rearrangement layers: ``CosineSimilarity``, ``PairwiseDistance``, ``PixelShuffle``,
``PixelUnshuffle``, ``Unfold``, ``Fold`` (each calls its functional form)."""

from __future__ import annotations

from dendrite.nn import functional as F
from dendrite.nn.modules.module import Module
from dendrite.tensor import Tensor

__all__ = ["CosineSimilarity", "Fold", "PairwiseDistance", "PixelShuffle", "PixelUnshuffle", "Unfold"]


class CosineSimilarity(Module):
    """Cosine similarity along ``dim``: ``(N, D), (N, D) -> (N,)`` for ``dim=1``.

    Example:
        >>> import dendrite
        >>> cos = dendrite.nn.CosineSimilarity(dim=1, eps=1e-6)
        >>> [round(v, 6) for v in cos(dendrite.ones(2, 3), -dendrite.ones(2, 3)).tolist()]
        [-1.0, -1.0]
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm distance between rows: ``(N, D), (N, D) -> (N,)``.

    Example:
        >>> import dendrite
        >>> pdist = dendrite.nn.PairwiseDistance(p=1.0, eps=0.0)
        >>> pdist(dendrite.tensor([[1.0, 2.0]]), dendrite.tensor([[0.0, 0.0]])).tolist()
        [3.0]
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class PixelShuffle(Module):
    """Sub-pixel upscaling: ``(*, C r^2, H, W) -> (*, C, H r, W r)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.PixelShuffle(3)(dendrite.zeros(1, 9, 4, 4)).shape
        (1, 1, 12, 12)
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """The inverse of :class:`PixelShuffle`: ``(*, C, H r, W r) -> (*, C r^2, H, W)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.PixelUnshuffle(2)(dendrite.zeros(1, 1, 4, 4)).shape
        (1, 4, 2, 2)
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class Unfold(Module):
    """Sliding windows as columns (im2col): ``(N, C, H, W) -> (N, C kh kw, L)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Unfold(kernel_size=(2, 3))(dendrite.zeros(2, 5, 3, 4)).shape
        (2, 30, 4)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Columns summed back into an image (col2im): ``(N, C kh kw, L) -> (N, C, H, W)``.

    Example:
        >>> import dendrite
        >>> dendrite.nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(dendrite.zeros(1, 12, 12)).shape
        (1, 3, 4, 5)
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
