"""Class-index losses: ``cross_entropy`` and ``nll_loss`` (``torch.nn.functional``).

Both are fused ``Function``s with a hand-derived backward: cross-entropy is log-softmax
and NLL in one pass, so its gradient is ``softmax - one_hot`` (scaled by the reduction and
the class weights). Shapes: input ``(N, C)`` or ``(N, C, d1, ...)`` logits (log-probabilities
for NLL), target ``(N,)`` / ``(N, d1, ...)`` class indices or ``(N, C, ...)`` probabilities.
"""

from __future__ import annotations

import math

from dendrite import backend, ops
from dendrite.autograd.function import Function
from dendrite.backend import ndarray, xp
from dendrite.nn.functional.loss_reduction import reduce_array, reduction_mode
from dendrite.ops.graph_operands import constant
from dendrite.tensor import Tensor

__all__ = ["cross_entropy", "nll_loss"]


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
        return rows if rows.shape == shape else rows.reshape(shape)  # (N, C): already in shape
    return xp.moveaxis(rows.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)), -1, 1)


def _row_max(rows):
    """``rows.max(axis=1)``; with a few classes as element-wise maxima of the columns, the same values
    (a maximum is exact, NaN wins in both) at a third of the cost of NumPy's reduction on a small batch."""
    if not 1 < rows.shape[1] <= 4:
        return rows.max(axis=1)
    result = xp.maximum(rows[:, 0], rows[:, 1])
    for column in range(2, rows.shape[1]):
        result = xp.maximum(result, rows[:, column])
    return result


def _row_sums(rows):
    """``rows.sum(axis=1)``; with two classes as the sum of the two columns: the same bits (NumPy's
    reduction adds the one pair too) at half the cost on a small batch."""
    if rows.shape[1] != 2:
        return rows.sum(axis=1)
    return rows[:, 0] + rows[:, 1]


_starts: dict = {}  # (rows, columns) -> read-only arange(rows) * columns, for NumPy arrays


def _row_starts(count: int, classes: int, like):
    """``arange(count) * classes``: where each row of a C-contiguous ``(count, classes)`` array starts in
    its flat view (with ``classes=1``: the row numbers). Kept per shape for NumPy: a batch shape repeats."""
    if type(like) is not ndarray:
        return backend.namespace(like).arange(count) * classes
    starts = _starts.get((count, classes))
    if starts is None:
        if len(_starts) >= 64:  # many shapes (a sweep over batch sizes): start over
            _starts.clear()
        starts = _starts[(count, classes)] = xp.arange(count) * classes
        starts.flags.writeable = False  # shared by every node of this shape
    return starts


def _column(values):
    """Per-row values as a column that broadcasts over the classes (0-d values broadcast anyway)."""
    return values[:, None] if values.ndim else values


def _rows_graph(x):
    """``_rows`` with tensor operations (double backward)."""
    if x.ndim == 2:
        return x
    return x.reshape(1, -1) if x.ndim == 1 else x.movedim(1, -1).reshape(-1, x.shape[1])


def _unrows_graph(rows, shape):
    if len(shape) <= 2:
        return rows.reshape(shape)
    return rows.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)).movedim(-1, 1)


class _ClassIndexLoss(Function):
    """Shared bookkeeping: targets, ignored entries, class weights and the reduction."""

    def _prepare(self, rows, target, valid, weight, reduction):
        """``valid`` marks the rows whose target is not ``ignore_index`` (``None``: all of them)."""
        count = rows.shape[0]
        self.target, self.valid, self.weight, self.reduction = target, valid, weight, reduction
        self.row_index = _row_starts(count, 1, rows)  # with ``safe``, picks each row's target entry
        self.safe = target if valid is None else xp.where(valid, target, 0)
        self.target_weight = None if weight is None else weight[self.safe]
        if valid is None:
            self.total = count if weight is None else self.target_weight.sum()
        else:
            self.total = valid.sum() if weight is None else (self.target_weight * valid).sum()
        self.total = float(self.total)

    def _per_row_grad(self, grad, count):
        """dL/d(loss_i), zero on ignored rows: shape (count,), or 0-d when equal for every row."""
        if self.reduction == "none":
            scale = grad.reshape(count)
        elif self.reduction == "mean":
            if self.total:
                scale = grad / self.total
            else:  # every target ignored: nan, as in PyTorch, without a warning
                with xp.errstate(divide="ignore", invalid="ignore"):
                    scale = grad / self.total
        else:
            scale = grad
        if self.valid is not None:
            scale = xp.where(self.valid, scale, 0).astype(grad.dtype, copy=False)
        return scale

    def _output(self, per_row, dtype, nonnegative: bool = False):
        """The reduced loss; ``nonnegative``: every term is >= 0 or NaN (never -inf)."""
        if self.valid is not None:
            per_row = xp.where(self.valid, per_row, 0)
        if per_row.dtype != dtype:
            per_row = per_row.astype(dtype)
        if self.reduction == "none":
            return per_row.reshape(self.output_shape)
        if nonnegative and self.total:
            # Nothing for _finish's errstate to silence (no inf - inf, no division by zero),
            # and on a small batch the errstate costs as much as the sum itself.
            total = per_row.sum()
            return backend.asarray(total / self.total if self.reduction == "mean" else total, dtype)
        return reduce_array(per_row, self.reduction, self.total)

    def _per_row_grad_graph(self, grad, count):
        """``_per_row_grad`` with tensors: ``(count, 1)`` or 0-d, ready to broadcast over the classes."""
        if self.reduction == "none":
            scale = grad.reshape(count)
        elif self.reduction == "mean":
            with xp.errstate(divide="ignore", invalid="ignore"):
                scale = grad / self.total if self.total else grad * float("nan")
        else:
            scale = grad
        if self.valid is not None:
            scale = ops.where(constant(self.valid, grad) > 0, scale, 0.0)
        return scale.reshape(-1, 1) if scale.ndim else scale

    def _one_hot(self, like):
        result = backend.namespace(self.safe).zeros(
            (self.safe.shape[0], self.shape[1] if len(self.shape) > 1 else self.shape[0]))
        result[self.row_index, self.safe] = 1
        return constant(result, like)


class CrossEntropy(_ClassIndexLoss):
    """log_softmax + nll (+ label smoothing) in one pass. d/dx = p - one_hot, weighted and scaled."""

    # The targets (and class weights) come in as tensors and are read here, not before ``apply``:
    # their values are checked on every call, so a replayed step (``dendrite.compile``) checks them too.
    replayable = True

    def forward(self, x, target, weight=None, *, ignore_index, reduction, smoothing):
        rows = _rows(x)
        target, valid, weight, output_shape = _class_targets("cross_entropy", x, target, weight, ignore_index)
        self.shape, self.output_shape, self.smoothing = x.shape, output_shape, smoothing
        self._prepare(rows, target, valid, weight, reduction)
        shifted = rows - _row_max(rows)[:, None]
        self.exps = xp.exp(shifted)
        self.sums = _row_sums(self.exps)
        log_sums = xp.log(self.sums)
        # each row's target entry in the flat (M, C) arrays: one flat index is cheaper than [rows, targets]
        self.picks = _row_starts(rows.shape[0], rows.shape[1], rows) + self.safe
        nll = log_sums - shifted.reshape(-1)[self.picks]  # -log p(target)
        if weight is not None:
            nll = self.target_weight * nll
        if smoothing:
            classes = rows.shape[1]
            if weight is None:
                smooth = classes * log_sums - shifted.sum(axis=1)
            else:
                smooth = weight.sum() * log_sums - shifted @ weight
            nll = (1 - smoothing) * nll + (smoothing / classes) * smooth
        # -log p >= 0, so without class weights (which may be negative) no term is -inf.
        return self._output(nll, x.dtype, nonnegative=weight is None)

    def backward(self, grad):
        # L = -log softmax(x)[t]:  dx = w_t (softmax(x) - one_hot(t)) dL  (w_t: the target's class weight;
        # dL / count for a mean);  label smoothing ε: (1 - ε) times that + (ε / C) (Σw · softmax(x) - w) dL
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
        # softmax * factor = exps * (factor / sums): the per-row division happens on the short vector.
        result = self.exps * _column(on_probability / self.sums)
        if result.flags.c_contiguous:  # its flat view: result[rows, targets] -= on_target, cheaper
            result.reshape(-1)[self.picks] -= on_target
        else:  # (the layout of a transposed input)
            result[self.row_index, self.safe] -= on_target
        if self.smoothing:
            result -= _column(uniform) if self.weight is None else _column(uniform) * self.weight
        return _unrows(result, self.shape)

    def backward_graph(self, grad):
        # dx = w_t (softmax(x) - one_hot(t)) dL (+ smoothing), the softmax recomputed with tensors
        count, classes = self.exps.shape
        a = self._per_row_grad_graph(grad, count)
        target_weight = None if self.weight is None else constant(self.target_weight.reshape(-1, 1), grad)
        on_target = a if target_weight is None else a * target_weight
        on_probability = on_target
        if self.smoothing:
            on_target = on_target * (1 - self.smoothing)
            uniform = a * (self.smoothing / classes)
            total_weight = classes if self.weight is None else float(self.weight.sum())
            on_probability = on_target + uniform * total_weight
        probabilities = ops.softmax(_rows_graph(self.inputs[0]), dim=1)
        result = probabilities * on_probability - self._one_hot(grad) * on_target
        if self.smoothing:
            result = result - (uniform if self.weight is None else uniform * constant(self.weight, grad))
        return _unrows_graph(result, self.shape)


class NLLLoss(_ClassIndexLoss):
    def forward(self, x, *, target, valid, weight, reduction, output_shape):
        rows = _rows(x)
        self.shape, self.dtype, self.output_shape = x.shape, x.dtype, output_shape
        self._prepare(rows, target, valid, weight, reduction)
        picked = rows[self.row_index, self.safe]
        return self._output(-picked if weight is None else -self.target_weight * picked, x.dtype)

    def backward(self, grad):
        # L = -w_t · x[t]:  dx = -w_t · dL at the target class, 0 elsewhere
        count = self.safe.shape[0]
        a = self._per_row_grad(grad, count)
        result = backend.namespace(grad).zeros(
            (count, self.shape[1] if len(self.shape) > 1 else self.shape[0]),
                                               grad.dtype)
        result[self.row_index, self.safe] = -(a if self.weight is None else a * self.target_weight)
        return _unrows(result, self.shape)

    def backward_graph(self, grad):
        a = self._per_row_grad_graph(grad, self.safe.shape[0])
        if self.weight is not None:
            a = a * constant(self.target_weight.reshape(-1, 1), grad)
        return _unrows_graph(-(self._one_hot(grad) * a), self.shape)


def _class_targets(name: str, x, t, weight, ignore_index: int):
    """Check an index target ``t`` (an array) against the input ``x`` (an array).

    Returns (flat int64 targets, the mask of rows that are not ignored or ``None`` when no row
    is, weight array, target shape).
    """
    if x.ndim == 0:
        raise ValueError(f"{name}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got a 0-d tensor")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{name}: input must be floating point, got {x.dtype}")
    if t.dtype not in (backend.int64, backend.uint8):
        raise RuntimeError(
            f"{name}: target must hold class indices of dtype int64, got {t.dtype}; for class "
            "probabilities pass a float target of the input's shape"
        )
    classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    expected = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    if t.shape != expected:
        raise ValueError(
            f"{name}: expected a target of shape {expected} for input of shape {x.shape} "
            f"(one class index per prediction), got target of shape {t.shape}"
        )
    # (N,) int64 targets, the usual case, are used as they are: reshape and astype would only return views
    flat = t if t.ndim == 1 else t.reshape(-1)
    if flat.dtype != backend.int64:
        flat = flat.astype(backend.int64)
    valid = None
    if flat.size:
        # One reduction finds both kinds of bad targets: a negative one is huge as an unsigned number.
        unsigned = flat.view(xp.uint64)
        out_of_range = unsigned[unsigned.argmax()] >= classes  # argmax: a third of the cost of max
        if out_of_range:
            bad = flat[((flat < 0) | (flat >= classes)) & (flat != ignore_index)]
            if bad.size:
                raise IndexError(
                    f"{name}: target {int(bad[0])} is out of bounds for {classes} classes "
                    f"(valid: 0 to {classes - 1}, or ignore_index={ignore_index})"
                )
        # Out-of-range targets are ignore_index here; an in-range ignore_index needs a look too.
        if out_of_range or 0 <= ignore_index < classes:
            valid = flat != ignore_index
    weights = None
    if weight is not None:
        if weight.ndim != 1 or weight.shape[0] != classes:
            raise RuntimeError(
                f"{name}: weight should hold one value per class ({classes}), got shape {tuple(weight.shape)}"
            )
        weights = weight.astype(x.dtype, copy=False)
    return flat, valid, weights, expected


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
    reduction = reduction_mode("cross_entropy", reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"cross_entropy: label_smoothing must be in [0.0, 1.0], got {label_smoothing}")
    if input.array.ndim and target.array.shape == input.array.shape:
        if target.array.dtype.kind == "f":
            return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
        raise RuntimeError(
            f"cross_entropy: a target of the input's shape holds class probabilities and must be floating "
            f"point, got {target.dtype}"
        )
    return CrossEntropy.apply(input, target, weight, ignore_index=ignore_index, reduction=reduction,
                              smoothing=float(label_smoothing))


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

    ``nll_loss(log_softmax(logits, 1), labels)`` equals ``cross_entropy(logits, labels)``.

    Shapes: input ``(N, C)`` or ``(N, C, d1, ...)`` log-probabilities, target ``(N,)`` /
    ``(N, d1, ...)`` class indices -> scalar.

    Example:
        >>> import dendrite; import dendrite.nn.functional as F
        >>> log_probs = F.log_softmax(dendrite.zeros(2, 4), dim=1)
        >>> round(F.nll_loss(log_probs, dendrite.tensor([0, 3])).item(), 4)
        1.3863
    """
    reduction = reduction_mode("nll_loss", reduction, size_average, reduce)
    weight_array = None if weight is None else weight.array
    flat, valid, weights, shape = _class_targets("nll_loss", input.array, target.array, weight_array,
                                                 ignore_index)
    return NLLLoss.apply(input, target=flat, valid=valid, weight=weights, reduction=reduction,
                         output_shape=shape)
