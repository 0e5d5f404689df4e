"""Gated activations: ``glu`` (one half of the input gates the other through a sigmoid).

Input ``(..., 2n, ...)`` -> output ``(..., n, ...)`` along ``dim``. Composed from
:mod:`dendrite.ops`, so the gradient comes for free.
"""

from __future__ import annotations

from dendrite import ops
from dendrite.tensor import Tensor

__all__ = ["glu"]


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: halves ``a, b`` of ``dim``, ``a * sigmoid(b)``. (..., 2n, ...) -> (..., n, ...).

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.glu(dendrite.ones(4, 6)).shape
        (4, 3)
    """
    if input.ndim == 0 or input.shape[dim] % 2:
        raise RuntimeError(
            f"glu: halving dimension {dim} must have an even size, got input of shape {tuple(input.shape)}"
        )
    half = input.shape[dim] // 2  # narrow, not chunk: an empty dim gives two empty halves
    first, second = ops.narrow(input, dim, 0, half), ops.narrow(input, dim, half, half)
    return first * ops.sigmoid(second)
