"""Loss functions (PyTorch's ``torch.nn.functional`` losses, same arguments and formulas).

Every loss takes ``reduction``: ``'none'`` (one value per element or sample),
``'mean'`` or ``'sum'``. The legacy ``size_average``/``reduce`` arguments are
accepted and translated as PyTorch does.

The losses that matter for speed or stability are fused ``Function``s with a
hand-derived backward: cross-entropy over class indices (log-softmax and NLL in
one pass; its gradient is ``softmax - one_hot``, scaled), NLL, the pointwise
regression losses, both binary cross-entropies and KL divergence. The rarer
margin and embedding losses are composed from :mod:`dendrite.ops`.
Gradients flow to every argument PyTorch differentiates, targets included.
"""

from __future__ import annotations

import math
import warnings

from dendrite import backend, ops
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.elementwise import operands, unbroadcast
from dendrite.tensor import Tensor, _new_tensor

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss", "cross_entropy",
    "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss", "kl_div", "l1_loss", "margin_ranking_loss",
    "mse_loss", "multi_margin_loss", "multilabel_soft_margin_loss", "nll_loss", "poisson_nll_loss",
    "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss",
]


def _reduction(name: str, reduction: str, size_average=None, reduce=None, extra: tuple = ()) -> str:
    if size_average is not None or reduce is not None:
        warnings.warn(f"{name}: size_average and reduce are deprecated; use reduction='none'|'mean'|'sum'",
                      stacklevel=3)
        size_average = True if size_average is None else size_average
        reduction = "none" if reduce is False else ("mean" if size_average else "sum")
    if reduction not in ("none", "mean", "sum") + extra:
        expected = ", ".join(repr(r) for r in ("none", "mean", "sum") + extra)
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction; expected {expected}")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _scale(grad, reduction: str, count):
    """The upstream gradient of a reduced loss as a per-element factor."""
    return grad / count if reduction == "mean" else grad


def _finish(loss, reduction: str, count=None):
    with xp.errstate(invalid="ignore", divide="ignore"):
        if reduction == "sum":
            return xp.asarray(loss.sum(), loss.dtype)
        if reduction == "mean":
            return xp.asarray(loss.sum() / (loss.size if count is None else count), loss.dtype)
    return loss


# ----------------------------------------------------------------------------- class-index losses
def _rows(x):
    """(C,), (N, C) or (N, C, d1, ...) as (M, C) rows, one per prediction."""
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return x.reshape(1, -1)
    return xp.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _unrows(rows, shape):
    if len(shape) <= 2:
        return rows.reshape(shape)
    return xp.moveaxis(rows.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)), -1, 1)


def _column(values):
    """Per-row values as a column that broadcasts over the classes (0-d values broadcast anyway)."""
    return values[:, None] if values.ndim else values


class _ClassIndexLoss(Function):
    """Shared bookkeeping: targets, ignored entries, class weights and the reduction."""

    def _prepare(self, rows, target, weight, ignore_index, reduction):
        count = rows.shape[0]
        self.target, self.weight, self.reduction = target, weight, reduction
        self.valid = None if ignore_index < 0 and target.min(initial=0) >= 0 else target != ignore_index
        self.safe = target if self.valid is None else xp.where(self.valid, target, 0)
        self.target_weight = None if weight is None else weight[self.safe]
        if self.valid is None:
            self.total = count if weight is None else self.target_weight.sum()
        else:
            self.total = self.valid.sum() if weight is None else (self.target_weight * self.valid).sum()
        self.total = float(self.total)

    def _per_row_grad(self, grad, count):
        """dL/d(loss_i), zero on ignored rows: shape (count,), or 0-d when equal for every row."""
        if self.reduction == "none":
            scale = grad.reshape(count)
        elif self.reduction == "mean":
            with xp.errstate(divide="ignore", invalid="ignore"):
                scale = grad / self.total
        else:
            scale = grad
        if self.valid is not None:
            scale = xp.where(self.valid, scale, 0).astype(grad.dtype, copy=False)
        return scale

    def _output(self, per_row, dtype):
        if self.valid is not None:
            per_row = xp.where(self.valid, per_row, 0)
        if self.reduction == "none":
            return per_row.reshape(self.output_shape).astype(dtype, copy=False)
        return _finish(per_row.astype(dtype, copy=False), self.reduction, self.total)


class CrossEntropy(_ClassIndexLoss):
    """log_softmax + nll (+ label smoothing) in one pass. d/dx = p - one_hot, weighted and scaled."""

    def forward(self, x, *, target, weight, ignore_index, reduction, smoothing, output_shape):
        rows = _rows(x)
        self.shape, self.output_shape, self.smoothing = x.shape, output_shape, smoothing
        self._prepare(rows, target, weight, ignore_index, reduction)
        shifted = rows - rows.max(axis=1, keepdims=True)
        self.exps = xp.exp(shifted)
        self.sums = self.exps.sum(axis=1)
        log_sums = xp.log(self.sums)
        picked = shifted[xp.arange(rows.shape[0]), self.safe] - log_sums  # log p(target)
        nll = -picked if weight is None else -self.target_weight * picked
        if smoothing:
            classes = rows.shape[1]
            if weight is None:
                smooth = classes * log_sums - shifted.sum(axis=1)
            else:
                smooth = weight.sum() * log_sums - shifted @ weight
            nll = (1 - smoothing) * nll + (smoothing / classes) * smooth
        return self._output(nll, x.dtype)

    def backward(self, grad):
        count, classes = self.exps.shape
        a = self._per_row_grad(grad, count)
        on_target = a if self.weight is None else a * self.target_weight
        if self.smoothing:
            on_target = on_target * (1 - self.smoothing)
            uniform = a * (self.smoothing / classes)
            total_weight = classes if self.weight is None else self.weight.sum()
            on_probability = on_target + uniform * total_weight
        else:
            on_probability = on_target
        result = self.exps / self.sums[:, None]  # the softmax probabilities
        result *= _column(on_probability)
        result[xp.arange(count), self.safe] -= on_target
        if self.smoothing:
            result -= _column(uniform) if self.weight is None else _column(uniform) * self.weight
        return _unrows(result, self.shape)


class NLLLoss(_ClassIndexLoss):
    def forward(self, x, *, target, weight, ignore_index, reduction, output_shape):
        rows = _rows(x)
        self.shape, self.dtype, self.output_shape = x.shape, x.dtype, output_shape
        self._prepare(rows, target, weight, ignore_index, reduction)
        picked = rows[xp.arange(rows.shape[0]), self.safe]
        return self._output(-picked if weight is None else -self.target_weight * picked, x.dtype)

    def backward(self, grad):
        count = self.safe.shape[0]
        a = self._per_row_grad(grad, count)
        result = xp.zeros((count, self.shape[1] if len(self.shape) > 1 else self.shape[0]), grad.dtype)
        result[xp.arange(count), self.safe] = -(a if self.weight is None else a * self.target_weight)
        return _unrows(result, self.shape)


def _class_targets(name: str, input: Tensor, target: Tensor, weight, ignore_index: int):
    """Check an index target against the input; return (flat int64 targets, weight array, class count)."""
    if input.ndim == 0:
        raise ValueError(f"{name}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{name}: input must be floating point, got {input.dtype}")
    t = target._data
    if t.dtype not in (backend.int64, backend.uint8):
        raise RuntimeError(
            f"{name}: target must hold class indices of dtype int64, got {t.dtype}; for class "
            "probabilities pass a float target of the input's shape"
        )
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    expected = () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])
    if tuple(t.shape) != expected:
        raise ValueError(
            f"{name}: expected a target of shape {expected} for input of shape {tuple(input.shape)} "
            f"(one class index per prediction), got target of shape {tuple(t.shape)}"
        )
    flat = t.reshape(-1).astype(backend.int64, copy=False)
    if flat.size and (flat.min() < 0 or flat.max() >= classes):
        bad = flat[((flat < 0) | (flat >= classes)) & (flat != ignore_index)]
        if bad.size:
            raise IndexError(
                f"{name}: target {int(bad[0])} is out of bounds for {classes} classes "
                f"(valid: 0 to {classes - 1}, or ignore_index={ignore_index})"
            )
    weights = None
    if weight is not None:
        if weight.ndim != 1 or weight.shape[0] != classes:
            raise RuntimeError(
                f"{name}: weight should hold one value per class ({classes}), got shape {tuple(weight.shape)}"
            )
        weights = weight._data.astype(input.dtype, copy=False)
    return flat, weights, classes, expected


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits ``input`` and class indices or class probabilities.

    Shapes: input (C,), (N, C) or (N, C, d1, ...); target int64 (), (N,) or (N, d1, ...)
    holding class indices, or a float target of the input's shape holding probabilities.
    ``weight`` (C,) rescales classes; ``'mean'`` with indices divides by the summed
    weights of the non-ignored targets, as PyTorch does.

    Example:
        >>> import dendrite
        >>> logits = dendrite.tensor([[2.0, 0.5, -1.0]])
        >>> round(cross_entropy(logits, dendrite.tensor([0])).item(), 4)
        0.2413
    """
    reduction = _reduction("cross_entropy", reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be in [0.0, 1.0], got {label_smoothing}")
    if input.ndim and target.dtype.kind == "f" and tuple(target.shape) == tuple(input.shape):
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    if input.ndim and tuple(target.shape) == tuple(input.shape):
        raise RuntimeError(
            f"cross_entropy: a target of the input's shape holds class probabilities and must be floating "
            f"point, got {target.dtype}"
        )
    flat, weights, _, shape = _class_targets("cross_entropy", input, target, weight, ignore_index)
    return CrossEntropy.apply(input, target=flat, weight=weights, ignore_index=ignore_index,
                              reduction=reduction, smoothing=float(label_smoothing), output_shape=shape)


def _cross_entropy_probabilities(input, target, weight, reduction, smoothing):
    class_dim = 0 if input.ndim == 1 else 1
    classes = input.shape[class_dim]
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != classes):
        raise RuntimeError(
            f"cross_entropy: weight should hold one value per class ({classes}), "
            f"got shape {tuple(weight.shape)}"
        )
    log_probabilities = ops.log_softmax(input, class_dim)
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    if smoothing > 0:
        target = target * (1 - smoothing) + smoothing / classes
    products = log_probabilities * target
    if weight is not None:
        products = products * weight.to(input.dtype).reshape((classes,) + (1,) * (input.ndim - class_dim - 1))
    if reduction == "none":
        return -products.sum(class_dim)
    if reduction == "sum":
        return -products.sum()
    return -products.sum() / (input.numel() / classes if input.numel() else math.nan)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` at class indices ``target``.

    Shapes as :func:`cross_entropy` with index targets. Example:
    ``nll_loss(log_softmax(logits, 1), labels)`` equals ``cross_entropy(logits, labels)``.
    """
    reduction = _reduction("nll_loss", reduction, size_average, reduce)
    flat, weights, _, shape = _class_targets("nll_loss", input, target, weight, ignore_index)
    return NLLLoss.apply(input, target=flat, weight=weights, ignore_index=ignore_index,
                         reduction=reduction, output_shape=shape)


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
    data = input._data
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
        var = _new_tensor(xp.full(input.shape, float(var), input.dtype))
    elif bool((var._data < 0).any()):
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
    from dendrite.nn.functional.activation import logsigmoid

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
    labels = target._data.reshape(-1, 1).astype(backend.int64)
    classes = rows.shape[1]
    z = margin - ops.gather(rows, 1, _new_tensor(labels)) + rows
    z = ops.where(z > 0, z, ops.mul(z, 0.0))  # PyTorch: no gradient where z == 0
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * _new_tensor(weight._data[labels].astype(input.dtype))
    others = _new_tensor((xp.arange(classes) != labels).astype(input.dtype))
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
