"""Margin and embedding losses as layers (``nn.TripletMarginLoss()``, ``nn.MultiMarginLoss()``...).

Each stores its options and calls the function of the same name in ``dendrite.nn.functional``.
"""

from __future__ import annotations

from dendrite.nn import functional as F
from dendrite.nn.modules.loss import _Loss, _WeightedLoss
from dendrite.tensor import Tensor

__all__ = [
    "CosineEmbeddingLoss", "MarginRankingLoss", "HingeEmbeddingLoss", "SoftMarginLoss",
    "MultiLabelSoftMarginLoss", "MultiMarginLoss", "TripletMarginLoss",
]


class CosineEmbeddingLoss(_Loss):
    """``1 - cos(x1, x2)`` for target 1, ``max(0, cos(x1, x2) - margin)`` for target -1.

    Shapes: input1 and input2 ``(N, D)``, target ``(N,)``; output a scalar (``(N,)`` with
    ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> x1, x2 = dendrite.tensor([[1.0, 0.0], [1.0, 0.0]]), dendrite.tensor([[0.0, 1.0], [0.0, 1.0]])
        >>> loss = dendrite.nn.CosineEmbeddingLoss(reduction="none")
        >>> loss(x1, x2, dendrite.tensor([1, -1])).tolist()
        [1.0, 0.0]
    """

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    """``max(0, -target * (x1 - x2) + margin)``: x1 should rank above x2 when target is 1.

    Shapes: input1, input2 and target ``(N,)``; output a scalar (``(N,)`` with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> loss = dendrite.nn.MarginRankingLoss(reduction="none")
        >>> x1, x2 = dendrite.tensor([1.0, 1.0]), dendrite.tensor([2.0, 0.0])
        >>> loss(x1, x2, dendrite.tensor([1.0, 1.0])).tolist()
        [1.0, 0.0]
    """

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``x`` for target 1, ``max(0, margin - x)`` for target -1 (``x`` is usually a distance).

    Shapes: input ``(*)``, target the same shape; output a scalar (``(*)`` with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> loss = dendrite.nn.HingeEmbeddingLoss(reduction="none")
        >>> loss(dendrite.tensor([0.5, 0.25]), dendrite.tensor([1.0, -1.0])).tolist()
        [0.5, 0.75]
    """

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Logistic loss ``log(1 + exp(-target * input))`` for targets in {-1, 1}.

    Shapes: input ``(*)``, target the same shape; output a scalar (``(*)`` with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> round(float(dendrite.nn.SoftMarginLoss()(dendrite.zeros(2), dendrite.tensor([1.0, -1.0]))), 4)
        0.6931
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label one-vs-all logistic loss, averaged over the classes.

    Shapes: input ``(N, C)`` logits, target ``(N, C)`` in {0, 1}; output a scalar (``(N,)`` with
    ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> loss = dendrite.nn.MultiLabelSoftMarginLoss()
        >>> round(float(loss(dendrite.zeros(1, 3), dendrite.tensor([[1.0, 0.0, 1.0]]))), 4)   # log(2)
        0.6931
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss: ``sum over i != y of max(0, margin - x[y] + x[i])**p / C``.

    Shapes: input ``(N, C)`` scores, target ``(N,)`` class indices; output a scalar (``(N,)`` with
    ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> scores = dendrite.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> round(float(dendrite.nn.MultiMarginLoss()(scores, dendrite.tensor([3]))), 4)   # (0.3+0.4+0.6)/4
        0.325
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got {p}")
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """``max(d(anchor, positive) - d(anchor, negative) + margin, 0)`` with the p-norm distance.

    Shapes: anchor, positive and negative ``(N, D)``; output a scalar (``(N,)`` with
    ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> anchor, positive = dendrite.zeros(1, 2), dendrite.tensor([[0.0, 1.0]])
        >>> negative = dendrite.tensor([[0.0, 1.5]])
        >>> round(float(dendrite.nn.TripletMarginLoss()(anchor, positive, negative)), 4)   # 1 - 1.5 + 1
        0.5
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)
