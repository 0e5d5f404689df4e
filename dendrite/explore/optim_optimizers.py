"""The optimisers the optimisation explorer compares, built from the real :mod:`dendrite.optim` classes.

Shared by :mod:`dendrite.explore.optim` (2-D surfaces) and :mod:`dendrite.explore.optim_landscape`
(a small model): the names, how each is built, its plotting colour, and the matplotlib import.
"""

from __future__ import annotations

import dendrite
from dendrite.explore.pyplot import pyplot

__all__ = ["OPTIMIZERS", "COLORS", "make_optimizer", "require_matplotlib"]

OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw")
"""The optimisers compared: names of :func:`make_optimizer`."""

COLORS = {"sgd": "#444444", "momentum": "#1f77b4", "nesterov": "#17becf", "rmsprop": "#2ca02c",
          "adagrad": "#bcbd22", "adam": "#d62728", "adamw": "#9467bd"}


def require_matplotlib():
    """``matplotlib.pyplot`` (Agg unless a backend was chosen: :func:`dendrite.explore.pyplot.pyplot`).

    Example:
        >>> require_matplotlib().__name__
        'matplotlib.pyplot'
    """
    return pyplot("the explorers' figures")


def make_optimizer(name: str, params, lr: float, momentum: float = 0.9,
                   betas: tuple[float, float] = (0.9, 0.999), weight_decay: float = 0.0):
    """The real dendrite optimiser called ``name`` (see :data:`OPTIMIZERS`) over ``params``.

    ``momentum`` is used by ``momentum`` and ``nesterov`` (SGD with ``nesterov=True``) and, as
    RMSprop's own momentum, not at all (RMSprop runs with its default ``momentum=0``); ``betas`` by
    ``adam`` and ``adamw``; ``weight_decay`` by every one (AdamW decouples it).

    Example:
        >>> point = dendrite.nn.Parameter(dendrite.zeros(2))
        >>> type(make_optimizer("nesterov", [point], lr=0.1)).__name__
        'SGD'
    """
    optim = dendrite.optim
    if name == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "nesterov":
        return optim.SGD(params, lr=lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
