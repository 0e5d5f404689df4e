"""Gradient clipping over everything one optimizer updates (used by the Trainer and callbacks)."""

from __future__ import annotations

from dendrite.nn.utils import clip_grad_norm_

__all__ = ["clip_optimizer_gradients", "parameters_of"]


def parameters_of(optimizer) -> list:
    """Every parameter an optimizer updates, from its ``param_groups`` (in group order).

    Example:
        >>> import dendrite
        >>> a, b = dendrite.nn.Parameter(dendrite.zeros(2)), dendrite.nn.Parameter(dendrite.zeros(3))
        >>> optimizer = dendrite.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1)
        >>> [p.shape for p in parameters_of(optimizer)]
        [(2,), (3,)]
    """
    return [parameter for group in optimizer.param_groups for parameter in group["params"]]


def clip_optimizer_gradients(optimizer, max_norm: float, norm_type: float = 2.0) -> float:
    """Clip the gradients of the optimizer's parameters to total norm ``max_norm``; return the norm before.

    Clipping by optimizer rather than by model matters for GANs, where each of
    two optimizers steps only its own network.

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.zeros(2))
        >>> w.grad = dendrite.tensor([3.0, 4.0])
        >>> optimizer = dendrite.optim.SGD([w], lr=0.1)
        >>> clip_optimizer_gradients(optimizer, max_norm=1.0)
        5.0
        >>> [round(v, 4) for v in w.grad.tolist()]
        [0.6, 0.8]
    """
    if max_norm is None or not max_norm > 0:
        raise ValueError(f"gradient clipping: max_norm must be a positive number, got {max_norm}")
    return float(clip_grad_norm_(parameters_of(optimizer), max_norm, norm_type))
