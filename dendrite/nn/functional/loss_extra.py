"""The rarer losses, composed from :mod:`dendrite.ops` (their gradients come for free).

Likelihood losses (``poisson_nll_loss``, ``gaussian_nll_loss``) and the margin
and embedding losses (``margin_ranking_loss``, ``hinge_embedding_loss``,
``soft_margin_loss``, ``multilabel_soft_margin_loss``, ``multi_margin_loss``,
``cosine_embedding_loss``, ``triplet_margin_loss``), with PyTorch's arguments
and formulas. ``reduction`` and the legacy ``size_average``/``reduce`` work as in
:mod:`dendrite.nn.functional.loss`.
"""

from __future__ import annotations

import math

from dendrite import backend, ops
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.activation import logsigmoid
from dendrite.nn.functional.loss import _reduce, _reduction
from dendrite.tensor import Tensor, wrap

__all__ = [
    "cosine_embedding_loss", "gaussian_nll_loss", "hinge_embedding_loss", "margin_ranking_loss",
    "multi_margin_loss", "multilabel_soft_margin_loss", "poisson_nll_loss", "soft_margin_loss",
    "triplet_margin_loss",
]


# ----------------------------------------------------------------------------- composed losses
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """Poisson NLL: ``exp(input) - target * input`` (log_input) or ``input - target log(input + eps)``."""
    reduction = _reduction("poisson_nll_loss", reduction, size_average, reduce)
    loss = ops.exp(input) - target * input if log_input else input - target * ops.log(input + eps)
    if full:  # Stirling's approximation of log(target!), used only where target > 1
        # Computed on the raw target as PyTorch does, so the target gradient matches PyTorch's,
        # including the NaN it has where target == 0 (0 * log 0 in the backward).
        with xp.errstate(divide="ignore", invalid="ignore"):
            stirling = target * ops.log(target) - target + 0.5 * ops.log(2 * math.pi * target)
            loss = loss + ops.where(target > 1, stirling, 0.0)
    return _reduce(loss, reduction)


class _ClampedForward(Function):
    """``max(x, low)`` whose gradient passes through unchanged (PyTorch clamps var under no_grad)."""

    def forward(self, x, *, low):
        return xp.maximum(x, low)

    def backward(self, grad):
        return grad


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Gaussian NLL ``0.5 (log var + (input - target)^2 / var)`` (+ ``0.5 log 2 pi`` if ``full``)."""
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = wrap(xp.full(input.shape, float(var), input.dtype))
    elif bool((var.array < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (var.ndim == input.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(
                f"gaussian_nll_loss: var of shape {tuple(var.shape)} does not fit input of shape "
                f"{tuple(input.shape)}; expected the input's shape, its shape without the last dimension, "
                "or one dimension of size 1"
            )
    reduction = _reduction("gaussian_nll_loss", reduction)
    var = _ClampedForward.apply(var, low=eps)
    loss = 0.5 * (ops.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -target (input1 - input2) + margin)`` with ``target`` in {1, -1}."""
    reduction = _reduction("margin_ranking_loss", reduction, size_average, reduce)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss: all inputs should have the same number of dimensions, got shapes "
            f"{tuple(input1.shape)}, {tuple(input2.shape)} and target {tuple(target.shape)}"
        )
    return _reduce(ops.clamp(-target * (input1 - input2) + margin, min=0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``."""
    reduction = _reduction("hinge_embedding_loss", reduction, size_average, reduce)
    zeros = ops.mul(input, 0.0)
    margin_part = ops.where(target != 1, ops.clamp(margin - input, min=0), zeros)
    return _reduce(margin_part + ops.where(target != -1, input, zeros), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target * input))``, ``target`` in {1, -1}."""
    reduction = _reduction("soft_margin_loss", reduction, size_average, reduce)
    return _reduce(ops.log1p(ops.exp(-target * input)), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Multi-label one-vs-all logistic loss, averaged over the C classes: (N, C) -> (N,) before reduction."""
    reduction = _reduction("multilabel_soft_margin_loss", reduction, size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return _reduce(loss, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge: ``sum_{j != y} max(0, margin - x[y] + x[j])^p / C`` per sample."""
    reduction = _reduction("multi_margin_loss", reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p}")
    if weight is not None and weight.ndim != 1:
        raise ValueError(f"multi_margin_loss: weight must be 1-D, got shape {tuple(weight.shape)}")
    rows = input if input.ndim == 2 else input.reshape(1, -1)
    labels = target.array.reshape(-1, 1).astype(backend.int64)
    classes = rows.shape[1]
    z = margin - ops.gather(rows, 1, wrap(labels)) + rows
    z = ops.where(z > 0, z, ops.mul(z, 0.0))  # PyTorch: no gradient where z == 0
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * wrap(weight.array[labels].astype(input.dtype))
    others = wrap((xp.arange(classes) != labels).astype(input.dtype))
    loss = (z * others).sum(1) / classes
    return _reduce(loss if input.ndim == 2 else loss.reshape(()), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where ``target == -1``."""
    reduction = _reduction("cosine_embedding_loss", reduction, size_average, reduce)
    dim = input1.ndim - 1
    product = (input1 * input2).sum(dim)
    squares = ((input1 * input1).sum(dim) + 1e-12) * ((input2 * input2).sum(dim) + 1e-12)
    cosine = product / ops.sqrt(squares)
    zeros = ops.mul(cosine, 0.0)
    loss = ops.where(target == 1, 1 - cosine, zeros) + ops.where(
        target == -1, ops.clamp(cosine - margin, min=0), zeros)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the p-norm distance over the last dimension."""
    reduction = _reduction("triplet_margin_loss", reduction, size_average, reduce)

    def distance(a, b):
        return ops.norm(a - b + eps, p, dim=max(a.ndim, b.ndim) - 1)

    positive_distance, negative_distance = distance(anchor, positive), distance(anchor, negative)
    if swap:
        negative_distance = ops.minimum(negative_distance, distance(positive, negative))
    return _reduce(ops.clamp(margin + positive_distance - negative_distance, min=0), reduction)
