"""Distance and rearrangement layers: ``CosineSimilarity``, ``PairwiseDistance``, ``PixelShuffle``,
``PixelUnshuffle`` (each calls its functional form)."""

from __future__ import annotations

from dendrite.nn import functional as F
from dendrite.nn.modules.module import Module
from dendrite.tensor import Tensor

__all__ = ["CosineSimilarity", "PairwiseDistance", "PixelShuffle", "PixelUnshuffle"]


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
