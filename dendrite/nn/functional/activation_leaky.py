"""Leaky-ReLU variants with a learned or random slope: ``prelu`` and ``rrelu``.

``leaky_relu`` itself (a fixed slope, fused) is in :mod:`dendrite.nn.functional.activation`.
Input ``(N, C, *)`` (or any shape for a single slope) -> output of the same shape.
"""

from __future__ import annotations

from dendrite import backend, ops
from dendrite.backend import xp
from dendrite.nn.functional.activation import leaky_relu
from dendrite.nn.functional.activation_common import finish_inplace
from dendrite.ops.boundary import input_kinds
from dendrite.tensor import Tensor, wrap

__all__ = ["prelu", "rrelu"]


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` if ``x > 0`` else ``weight * x``, one slope per channel (dim 1) or a single slope.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.prelu(dendrite.tensor([[-2.0, 1.0]]), dendrite.tensor([0.25, 0.5])).tolist()
        [[-0.5, 1.0]]
    """
    if weight.numel() != 1:
        channels = input.shape[1] if input.ndim >= 2 else input.shape[0]
        if weight.ndim != 1 or weight.shape[0] != channels:
            raise RuntimeError(
                f"prelu: weight of shape {tuple(weight.shape)} must hold 1 or {channels} slopes "
                f"(the channels of an input of shape {tuple(input.shape)})"
            )
        if input.ndim >= 2:
            weight = weight.reshape((channels,) + (1,) * (input.ndim - 2))
    elif weight.ndim:
        weight = weight.reshape(())
    return ops.where(input > 0, input, weight * input)


@input_kinds("f")
def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Leaky ReLU with a random slope in ``[lower, upper]`` when training, else their mean.

    Input ``(*)``, output the same shape (one slope drawn per element).

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> F.rrelu(dendrite.tensor([-3.0, 1.0])).tolist()
        [-0.6875, 1.0]
    """
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    slopes = backend.move_like(input.array, backend.generator().uniform(lower, upper, input.shape))
    slopes = xp.where(input.array > 0, 1.0, slopes).astype(input.dtype)  # x <= 0 gets a random slope
    return finish_inplace(input, input * wrap(slopes), inplace, "rrelu")
