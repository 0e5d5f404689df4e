"""``gumbel_softmax``: a differentiable sample of a categorical distribution (PyTorch's functional form).

    g = -log(E),  E ~ Exponential(1)        (Gumbel(0, 1) noise)
    y_soft = softmax((logits + g) / tau)
    hard:  y = one_hot(argmax y_soft) - y_soft.detach() + y_soft   (one-hot forward, y_soft's gradient)
"""

from __future__ import annotations

from dendrite.creation import rand_like
from dendrite.nn.functional.activation import softmax
from dendrite.tensor import Tensor

__all__ = ["gumbel_softmax"]


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1
                   ) -> Tensor:
    """Gumbel-softmax samples over ``dim`` of ``logits`` (any shape, same shape out); ``hard=True`` gives
    one-hot vectors whose gradient is the soft sample's (straight-through).

    Example:
        >>> import dendrite
        >>> import dendrite.nn.functional as F
        >>> y = F.gumbel_softmax(dendrite.zeros(2, 3), tau=0.5, hard=True)
        >>> y.sum(dim=-1).tolist(), sorted(set(y.flatten().tolist()))
        ([1.0, 1.0], [0.0, 1.0])
    """
    exponential = -(1 - rand_like(logits)).log()  # Exponential(1) by inversion of U in [0, 1)
    gumbels = -exponential.log()
    y_soft = softmax((logits + gumbels) / tau, dim=dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim=dim, keepdim=True)
    y_hard = (y_soft.detach() * 0).scatter(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
