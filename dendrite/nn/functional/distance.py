"""Distances between vectors: ``cosine_similarity``, ``pairwise_distance`` and ``cdist``.

    cosine_similarity(x1, x2) = sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))   along ``dim``
    pairwise_distance(x1, x2) = || x1 - x2 + eps ||_p                                along the last dim
    cdist(x1, x2)[..., i, j]  = || x1[..., i, :] - x2[..., j, :] ||_p                every pair of rows

As in PyTorch, the norms are clamped at ``eps`` for the value only: the gradient is that of the unclamped
norm (PyTorch clamps them in place under no_grad).
"""

from __future__ import annotations

from dendrite import ops
from dendrite.ops.reduce import norm
from dendrite.tensor import Tensor

__all__ = ["cdist", "cosine_similarity", "pairwise_distance"]


def _floating(x: Tensor) -> Tensor:
    return x if x.dtype.kind == "f" else x.float()


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between ``x1`` and ``x2`` (broadcast) along ``dim``; that dim is removed.

    Example:
        >>> import dendrite
        >>> a = dendrite.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> [round(v, 4) for v in cosine_similarity(a, dendrite.tensor([[1.0, 0.0]])).tolist()]
        [1.0, 0.7071]
        >>> cosine_similarity(dendrite.zeros(3), dendrite.ones(3), dim=0).item()
        0.0
    """
    x1, x2 = ops.broadcast_tensors(_floating(x1), _floating(x2))
    if not -x1.ndim <= dim < max(x1.ndim, 1):
        raise IndexError(f"cosine_similarity: dim {dim} is out of range for inputs of shape "
                         f"{tuple(x1.shape)}")

    def clamped_norm(x: Tensor) -> Tensor:
        n = norm(x, p=2, dim=dim, keepdim=True)
        return n + (n.detach().clamp(min=eps) - n.detach())

    return ((x1 / clamped_norm(x1)) * (x2 / clamped_norm(x2))).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The p-norm of ``x1 - x2 + eps`` along the last dim: ``(N, D), (N, D) -> (N,)``.

    Example:
        >>> import dendrite
        >>> d = pairwise_distance(dendrite.tensor([[0.0, 0.0]]), dendrite.tensor([[3.0, 4.0]]))
        >>> round(d.item(), 4)
        5.0
    """
    output_dim = max(x1.ndim, x2.ndim)
    return norm(_floating(x1) - _floating(x2) + eps, p=p, dim=output_dim - 1, keepdim=keepdim)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"
          ) -> Tensor:
    """The p-norm distance between every row of ``x1`` ``(*, P, M)`` and every row of ``x2`` ``(*, R, M)``:
    ``(*, P, R)`` (batch dims broadcast). Computed directly from the differences for every ``compute_mode``
    (PyTorch's matrix-product shortcut for p = 2 differs only by rounding).

    Example:
        >>> import dendrite
        >>> cdist(dendrite.tensor([[0.0, 0.0], [6.0, 8.0]]), dendrite.tensor([[3.0, 4.0]])).tolist()
        [[5.0], [5.0]]
    """
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: "
                           f"{x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    difference = _floating(x1).unsqueeze(-2) - _floating(x2).unsqueeze(-3)
    return norm(difference, p=p, dim=-1)
