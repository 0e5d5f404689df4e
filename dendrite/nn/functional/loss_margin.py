"""Margin and embedding losses, composed from :mod:`dendrite.ops` (their gradients come for free).

``margin_ranking_loss``, ``hinge_embedding_loss``, ``multi_margin_loss``,
``cosine_embedding_loss`` and ``triplet_margin_loss``, with PyTorch's arguments and
formulas: each penalises a score (or distance) that misses its margin.
"""

from __future__ import annotations

from dendrite import backend, ops
from dendrite.nn.functional.loss_reduction import reduce_loss, reduction_mode
from dendrite.tensor import Tensor, wrap

__all__ = [
    "cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss", "multi_margin_loss",
    "triplet_margin_loss",
]


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -target (input1 - input2) + margin)`` with ``target`` in {1, -1}.

    Shapes: input1 ``(N,)``, input2 ``(N,)``, target ``(N,)`` of +-1 -> scalar.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> one = dendrite.tensor([1.0])
        >>> F.margin_ranking_loss(one + 1, one, one).item()
        0.0
    """
    reduction = reduction_mode("margin_ranking_loss", reduction, size_average, reduce)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss: all inputs should have the same number of dimensions, got shapes "
            f"{tuple(input1.shape)}, {tuple(input2.shape)} and target {tuple(target.shape)}"
        )
    return reduce_loss(ops.clamp(-target * (input1 - input2) + margin, min=0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``.

    Shapes: input ``(*)``, target ``(*)`` of +-1 -> scalar.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.hinge_embedding_loss(dendrite.tensor([0.5, 0.5]), dendrite.tensor([1.0, -1.0])).item()
        0.5
    """
    reduction = reduction_mode("hinge_embedding_loss", reduction, size_average, reduce)
    zeros = ops.mul(input, 0.0)
    margin_part = ops.where(target != 1, ops.clamp(margin - input, min=0), zeros)
    return reduce_loss(margin_part + ops.where(target != -1, input, zeros), reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge: ``sum_{j != y} max(0, margin - x[y] + x[j])^p / C`` per sample.

    Shapes: input ``(N, C)``, target ``(N,)`` class indices -> scalar.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.multi_margin_loss(dendrite.zeros(2, 3), dendrite.tensor([0, 2])).shape
        ()
    """
    reduction = reduction_mode("multi_margin_loss", reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p}")
    if weight is not None and weight.ndim != 1:
        raise ValueError(f"multi_margin_loss: weight must be 1-D, got shape {tuple(weight.shape)}")
    if input.ndim > 2 or (input.ndim and input.shape[-1] == 0):
        raise RuntimeError(
            "multi_margin_loss: expected a non-empty vector (C,) or matrix (N, C), "
            f"got shape {tuple(input.shape)}"
        )
    rows = input if input.ndim == 2 else input.reshape(1, -1)
    classes = rows.shape[1]
    if target.ndim > 1 or target.numel() != rows.shape[0]:
        raise RuntimeError(
            f"multi_margin_loss: target should be 1-D with size equal to the number of input samples, "
            f"expected size [{rows.shape[0]}] for input {tuple(input.shape)}, "
            f"got target {tuple(target.shape)}"
        )
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"multi_margin_loss: target must hold class indices (int64), got {target.dtype}")
    labels = target.array.reshape(-1, 1).astype(backend.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise RuntimeError(f"multi_margin_loss: target out of range: class indices must be in [0, {classes})")
    if weight is not None and weight.shape[0] != classes:
        raise RuntimeError(
            f"multi_margin_loss: inconsistent weight size, expected {classes} but got {list(weight.shape)}"
        )
    z = margin - ops.gather(rows, 1, wrap(labels)) + rows
    z = ops.where(z > 0, z, ops.mul(z, 0.0))  # PyTorch: no gradient where z == 0
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * wrap(weight.array[labels].astype(input.dtype))
    others = wrap((backend.namespace(labels).arange(classes) != labels).astype(input.dtype))
    loss = (z * others).sum(1) / classes
    return reduce_loss(loss if input.ndim == 2 else loss.reshape(()), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where ``target == -1``.

    Shapes: input1 ``(N, D)``, input2 ``(N, D)``, target ``(N,)`` of +-1 -> scalar.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> a = dendrite.ones(2, 3)
        >>> F.cosine_embedding_loss(a, a, dendrite.tensor([1.0, 1.0])).item()
        0.0
    """
    reduction = reduction_mode("cosine_embedding_loss", reduction, size_average, reduce)
    _check_cosine_shapes(input1, input2, target)
    dim = input1.ndim - 1
    product = (input1 * input2).sum(dim)
    squares = ((input1 * input1).sum(dim) + 1e-12) * ((input2 * input2).sum(dim) + 1e-12)
    cosine = product / ops.sqrt(squares)
    zeros = ops.mul(cosine, 0.0)
    loss = ops.where(target == 1, 1 - cosine, zeros) + ops.where(
        target == -1, ops.clamp(cosine - margin, min=0), zeros)
    return reduce_loss(loss, reduction)


def _check_cosine_shapes(input1: Tensor, input2: Tensor, target: Tensor) -> None:
    """PyTorch's shape rules: a 0-d target goes with (D,) inputs, a (N,) target with (N, D) inputs."""
    shapes = f"input1 {tuple(input1.shape)}, input2 {tuple(input2.shape)} and target {tuple(target.shape)}"
    if target.ndim > 1:
        raise RuntimeError(
            f"cosine_embedding_loss: 0-d or 1-d target expected (multi-target not supported), got {shapes}"
        )
    if input1.ndim != target.ndim + 1 or input2.ndim != target.ndim + 1:
        raise RuntimeError(
            f"cosine_embedding_loss: a {target.ndim}-d target expects {target.ndim + 1}-d inputs, "
            f"got {shapes}"
        )
    if input1.shape != input2.shape or (target.ndim == 1 and target.shape[0] != input1.shape[0]):
        raise RuntimeError(
            "cosine_embedding_loss: input1 and input2 must have the same shape (N, D) and target (N,), "
            f"got {shapes}"
        )


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the p-norm distance over the last dimension.

    Shapes: anchor, positive, negative ``(N, D)`` -> scalar.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> a = dendrite.zeros(2, 3)
        >>> round(F.triplet_margin_loss(a, a, a + 5).item(), 4)
        0.0
    """
    reduction = reduction_mode("triplet_margin_loss", reduction, size_average, reduce)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            "triplet_margin_loss: anchor, positive and negative must have the same number of dimensions, "
            f"got shapes {tuple(anchor.shape)}, {tuple(positive.shape)} and {tuple(negative.shape)}"
        )

    def distance(a, b):
        return ops.norm(a - b + eps, p, dim=max(a.ndim, b.ndim) - 1)

    positive_distance, negative_distance = distance(anchor, positive), distance(anchor, negative)
    if swap:
        negative_distance = ops.minimum(negative_distance, distance(positive, negative))
    return reduce_loss(ops.clamp(margin + positive_distance - negative_distance, min=0), reduction)
