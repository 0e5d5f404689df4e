"""How a loss is reduced: ``reduction='none'|'mean'|'sum'`` (and the legacy ``size_average``/``reduce``).

Shared by every loss file. ``reduction_mode`` validates the argument (translating the
legacy pair as PyTorch does), ``reduce_loss`` reduces a loss tensor, and for fused losses
``reduce_array`` reduces the forward's array while ``scale_gradient`` turns the upstream
gradient of the reduced loss into a per-element factor (``grad / count`` for a mean).
"""

from __future__ import annotations

import warnings

from dendrite import backend
from dendrite.backend import xp
from dendrite.tensor import Tensor

__all__ = ["reduction_mode", "reduce_loss", "scale_gradient", "reduce_array"]


def reduction_mode(name: str, reduction: str, size_average=None, reduce=None, extra: tuple = ()) -> str:
    """The validated ``reduction`` for loss ``name``; the legacy size_average/reduce warn, then translate."""
    if size_average is not None or reduce is not None:
        warnings.warn(f"{name}: size_average and reduce are deprecated; use reduction='none'|'mean'|'sum'",
                      stacklevel=3)
        size_average = True if size_average is None else size_average
        reduction = "none" if reduce is False else ("mean" if size_average else "sum")
    if reduction not in ("none", "mean", "sum") + extra:
        expected = ", ".join(repr(r) for r in ("none", "mean", "sum") + extra)
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction; expected {expected}")
    return reduction


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    """``loss.mean()``, ``loss.sum()`` or ``loss`` itself (reduction ``none``)."""
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def scale_gradient(grad, reduction: str, count):
    """The upstream gradient of a reduced loss as a per-element factor."""
    return grad / count if reduction == "mean" else grad


def reduce_array(loss, reduction: str, count=None):
    """The forward array of a fused loss, reduced (a mean divides by ``count``, default ``loss.size``)."""
    with xp.errstate(invalid="ignore", divide="ignore"):
        if reduction == "sum":
            return backend.asarray(loss.sum(), loss.dtype)
        if reduction == "mean":
            return backend.asarray(loss.sum() / (loss.size if count is None else count), loss.dtype)
    return loss
