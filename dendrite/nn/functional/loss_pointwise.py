"""Element-wise losses with a fused backward: regression, binary cross-entropy, KL divergence.

``mse_loss``, ``l1_loss``, ``smooth_l1_loss``, ``huber_loss``,
``binary_cross_entropy(_with_logits)`` and ``kl_div`` (PyTorch's formulas and
arguments) compare ``input`` and ``target`` element by element. Each is one
``Function`` whose hand-derived backward scales the local slope by the
reduction's factor, so a reduced loss needs no extra graph nodes. Gradients
flow to every argument PyTorch differentiates, targets included. The shared
reduction helpers are in :mod:`dendrite.nn.functional.loss`.
"""

from __future__ import annotations

import warnings

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.loss import _finish, _reduce, _reduction, _scale
from dendrite.ops.operands import operands, unbroadcast
from dendrite.tensor import Tensor

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "huber_loss", "kl_div", "l1_loss",
    "mse_loss", "smooth_l1_loss",
]


# ----------------------------------------------------------------------------- regression losses
class PointwiseLoss(Function):
    """A loss of ``d = input - target`` (broadcast) per element; ``slope`` is its derivative in d."""

    def forward(self, x, t, *, kind, parameter, reduction):
        d = x - t
        self.shapes, self.reduction, self.count = (x.shape, t.shape), reduction, d.size
        if kind == "squared":
            loss, self.slope = d * d, 2 * d
        elif kind == "absolute":
            loss, self.slope = xp.abs(d), xp.sign(d)
        elif kind == "smooth_l1":  # parameter: beta
            small = xp.abs(d) < parameter
            loss = xp.where(small, 0.5 * d * d / parameter, xp.abs(d) - 0.5 * parameter)
            self.slope = xp.where(d <= -parameter, -1, xp.where(d >= parameter, 1, d / parameter))
        else:  # huber, parameter: delta
            small = xp.abs(d) < parameter
            loss = xp.where(small, 0.5 * d * d, parameter * (xp.abs(d) - 0.5 * parameter))
            self.slope = xp.where(d <= -parameter, -parameter, xp.where(d >= parameter, parameter, d))
        return _finish(loss.astype(d.dtype, copy=False), reduction)

    def backward(self, grad):
        local = self.slope * _scale(grad, self.reduction, self.count)
        grad_x = unbroadcast(local, self.shapes[0]) if self.needs_input_grad[0] else None
        grad_t = unbroadcast(-local, self.shapes[1]) if self.needs_input_grad[1] else None
        return grad_x, grad_t


def _pointwise(name, input, target, kind, parameter, reduction, weight=None, weighted_mean="sum"):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"{name}: using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )
        try:
            xp.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except ValueError:
            raise RuntimeError(
                f"{name}: the input of shape {tuple(input.shape)} and the target of shape "
                f"{tuple(target.shape)} cannot be broadcast together"
            ) from None
    input, target = operands(input, target)
    if weight is None:
        return PointwiseLoss.apply(input, target, kind=kind, parameter=parameter, reduction=reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{name}: weights and input must have the same size, got weight of shape "
                         f"{tuple(weight.shape)} and input of shape {tuple(input.shape)}")
    loss = PointwiseLoss.apply(input, target, kind=kind, parameter=parameter, reduction="none") * weight
    if reduction == "mean":  # PyTorch: mse/l1 divide by the summed weights, huber by the count
        return loss.sum() / weight.sum() if weighted_mean == "sum" else loss.mean()
    return _reduce(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target)^2``; ``weight`` (input's shape) makes it a weighted mean.

    Example: ``mse_loss(tensor([1., 2.]), tensor([1., 4.]))`` is ``2.0``.
    """
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    return _pointwise("mse_loss", input, target, "squared", None, reduction, weight)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|``. Example: ``l1_loss(tensor([1.]), tensor([3.]))`` is 2."""
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    return _pointwise("l1_loss", input, target, "absolute", None, reduction, weight)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``)."""
    reduction = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:  # PyTorch switches to l1_loss
        return _pointwise("smooth_l1_loss", input, target, "absolute", None, reduction)
    return _pointwise("smooth_l1_loss", input, target, "smooth_l1", float(beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)`` (``d = input - target``)."""
    reduction = _reduction("huber_loss", reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be positive, got {delta}")
    return _pointwise("huber_loss", input, target, "huber", float(delta), reduction, weight, "count")


# ----------------------------------------------------------------------------- binary cross-entropy
class BinaryCrossEntropy(Function):
    def forward(self, x, t, weight=None, *, reduction):
        self.x, self.t, self.weight, self.reduction = x, t, weight, reduction
        with xp.errstate(divide="ignore"):  # log(0) = -inf, clamped at -100 as in PyTorch
            loss = (t - 1) * xp.maximum(xp.log1p(-x), -100) - t * xp.maximum(xp.log(x), -100)
        if weight is not None:
            loss = loss * weight
        return _finish(loss, reduction)

    def backward(self, grad):
        x, t, weight = self.x, self.t, self.weight
        scale = _scale(grad, self.reduction, x.size)
        if weight is not None:
            scale = scale * weight
        grad_x = grad_t = None
        if self.needs_input_grad[0]:
            grad_x = scale * (x - t) / xp.maximum((1 - x) * x, 1e-12)
        if self.needs_input_grad[1]:
            with xp.errstate(divide="ignore"):
                grad_t = -scale * xp.log(x / (1 - x))  # -logit(x)
        return grad_x, grad_t, None


def _check_weight(name: str, what: str, weight, input: Tensor):
    if weight is None:
        return None
    try:
        fits = xp.broadcast_shapes(tuple(weight.shape), tuple(input.shape)) == tuple(input.shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name}: {what} of shape {tuple(weight.shape)} cannot be broadcast to the input's shape "
            f"{tuple(input.shape)}"
        )
    return weight.to(input.dtype)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (t log(x) + (1 - t) log(1 - x))`` for probabilities ``x`` in [0, 1]; logs clamped at -100.

    Shapes: input and target the same shape; weight broadcastable to it.
    Example: ``binary_cross_entropy(tensor([0.5]), tensor([1.]))`` is ``log 2``.
    """
    reduction = _reduction("binary_cross_entropy", reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"binary_cross_entropy: using a target size ({tuple(target.shape)}) that is different to the "
            f"input size ({tuple(input.shape)}) is not supported; please ensure they have the same size"
        )
    data = input.array
    if data.size and not ((data >= 0) & (data <= 1)).all():
        raise RuntimeError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities); "
            "for raw scores use binary_cross_entropy_with_logits"
        )
    weight = _check_weight("binary_cross_entropy", "weight", weight, input)
    input, target = operands(input, target)
    return BinaryCrossEntropy.apply(input, target, weight, reduction=reduction)


def _log_sigmoid(x):
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


class BinaryCrossEntropyWithLogits(Function):
    """``(1 - t) x - (1 + (pos_weight - 1) t) log sigmoid(x)``, weighted: stable for any ``x``."""

    def forward(self, x, t, weight=None, pos_weight=None, *, reduction):
        self.x, self.t, self.weight, self.pos_weight, self.reduction = x, t, weight, pos_weight, reduction
        self.log_sigmoid = _log_sigmoid(x)
        if pos_weight is None:
            loss = (1 - t) * x - self.log_sigmoid
        else:
            loss = (1 - t) * x - ((pos_weight - 1) * t + 1) * self.log_sigmoid
        if weight is not None:
            loss = loss * weight
        return _finish(loss, reduction)

    def backward(self, grad):
        x, t, pos_weight = self.x, self.t, self.pos_weight
        scale = _scale(grad, self.reduction, x.size)
        if self.weight is not None:
            scale = scale * self.weight
        grad_x = grad_t = None
        if self.needs_input_grad[0]:
            sigmoid = xp.exp(self.log_sigmoid)
            if pos_weight is None:
                grad_x = scale * (sigmoid - t)
            else:
                grad_x = scale * ((pos_weight * t + 1 - t) * sigmoid - pos_weight * t)
        if self.needs_input_grad[1]:
            if pos_weight is None:
                grad_t = -scale * x
            else:
                grad_t = scale * (_log_sigmoid(-x) - pos_weight * self.log_sigmoid)
        return (unbroadcast(grad_x, x.shape) if grad_x is not None else None,
                unbroadcast(grad_t, t.shape) if grad_t is not None else None, None, None)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step, on raw scores ``input``.

    Shapes: input and target the same shape; weight and pos_weight broadcastable to it
    (pos_weight usually (C,), weighting the positive examples of each class).
    Example: ``binary_cross_entropy_with_logits(tensor([0.]), tensor([1.]))`` is ``log 2``.
    """
    reduction = _reduction("binary_cross_entropy_with_logits", reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"binary_cross_entropy_with_logits: target size ({tuple(target.shape)}) must be the same as "
            f"input size ({tuple(input.shape)})"
        )
    weight = _check_weight("binary_cross_entropy_with_logits", "weight", weight, input)
    pos_weight = _check_weight("binary_cross_entropy_with_logits", "pos_weight", pos_weight, input)
    input, target = operands(input, target)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction=reduction)


# ----------------------------------------------------------------------------- KL divergence
class KLDivergence(Function):
    """Pointwise ``t (log t - x)``, or ``exp(t) (t - x)`` for a log-space target."""

    def forward(self, x, t, *, log_target):
        self.x, self.t, self.log_target = x, t, log_target
        if log_target:
            self.exp_t = xp.exp(t)
            return self.exp_t * (t - x)
        with xp.errstate(divide="ignore", invalid="ignore"):
            xlogy = xp.where(t == 0, 0, t * xp.log(t))  # 0 log 0 = 0
        return xlogy - t * x

    def backward(self, grad):
        x, t = self.x, self.t
        grad_x = grad_t = None
        if self.log_target:
            if self.needs_input_grad[0]:
                grad_x = -grad * self.exp_t
            if self.needs_input_grad[1]:
                grad_t = grad * self.exp_t * (t - x + 1)
        else:
            if self.needs_input_grad[0]:
                grad_x = -grad * t
            if self.needs_input_grad[1]:
                # PyTorch differentiates xlogy(t, t) as [t != 0] log t + t / t: NaN where t = 0.
                with xp.errstate(divide="ignore", invalid="ignore"):
                    grad_t = grad * (xp.where(t != 0, xp.log(t), 0) + t / t - x)
        return (None if grad_x is None else unbroadcast(grad_x, x.shape),
                None if grad_t is None else unbroadcast(grad_t, t.shape))


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence ``target * (log target - input)`` with ``input`` in log space.

    ``reduction='batchmean'`` (sum / batch size) is the true KL divergence; ``'mean'``
    averages over all elements, as PyTorch does (and warns about).
    Example: ``kl_div(log_softmax(logits, 1), probabilities, reduction='batchmean')``.
    """
    legacy = size_average is not None or reduce is not None
    reduction = _reduction("kl_div", reduction, size_average, reduce, extra=("batchmean",))
    if reduction == "mean" and not legacy:
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the support size; "
            "'batchmean' divides only by the batch size and matches the KL divergence's definition",
            stacklevel=2,
        )
    input, target = operands(input, target)
    loss = KLDivergence.apply(input, target, log_target=log_target)
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)
