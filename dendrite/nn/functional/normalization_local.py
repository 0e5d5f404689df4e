"""Local response normalisation: each channel divided by the energy of its neighbouring channels.

``b_c = a_c / (k + alpha / size * sum_{c' near c} a_{c'}^2) ** beta``, the window from
``c - size // 2`` to ``c + (size - 1) // 2`` (zero beyond the edges), as in PyTorch (AlexNet's
LRN). Composed of recorded operations, so its gradient comes from theirs.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.tensor import Tensor
from dendrite.tensor_base import wrap

__all__ = ["local_response_norm"]


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
