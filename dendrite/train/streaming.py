"""Streaming metrics: accumulate batch by batch, read the epoch's value at the end.

A metric object has ``reset()``, ``update(y_true, y_pred)`` and ``compute()``;
its ``name`` is the key it gets in the training logs (``'accuracy'``, and
``'val_accuracy'`` for the validation pass). Each keeps exact sufficient
statistics (counts, sums, a confusion matrix), so the epoch value equals the
function in :mod:`dendrite.train.metrics` applied to the whole epoch at once.

Example:
    >>> metric = Accuracy()
    >>> metric.update([0, 1], [[0.9, 0.1], [0.2, 0.8]])
    >>> metric.update([1], [[0.7, 0.3]])
    >>> round(metric.compute(), 4)
    0.6667
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np

from dendrite.train import metrics as F

__all__ = [
    "Metric", "Accuracy", "TopKAccuracy", "Precision", "Recall", "F1Score", "MeanSquaredError",
    "MeanAbsoluteError", "R2Score", "Perplexity", "BitsPerCharacter", "MeanMetric", "get_metric",
    "metric_mode", "is_better",
]


class Metric:
    """Base class: subclasses set ``name`` and implement ``reset``, ``update`` and ``compute``."""

    name: str = "metric"
    higher_is_better: bool = True

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, y_true, y_pred) -> None:
        raise NotImplementedError

    def compute(self) -> float:
        raise NotImplementedError

    def clone(self) -> Metric:
        """A fresh copy with the same settings and no accumulated state."""
        fresh = copy.deepcopy(self)
        fresh.reset()
        return fresh

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class _CountMetric(Metric):
    """Mean of a per-element quantity: keeps a running sum and count."""

    def reset(self) -> None:
        self.total, self.count = 0.0, 0

    def compute(self) -> float:
        if self.count == 0:
            raise ValueError(f"metric {self.name!r} has seen no samples; call update() first")
        return self.total / self.count


class Accuracy(_CountMetric):
    """Fraction of correct predictions (labels, class scores, or binary scores vs ``threshold``)."""

    def __init__(self, threshold: float = 0.5, name: str = "accuracy") -> None:
        self.threshold, self.name = threshold, name
        super().__init__()

    def update(self, y_true, y_pred) -> None:
        true, pred = F.predicted_labels(y_true, y_pred, self.threshold, self.name)
        self.total += float((true == pred).sum())
        self.count += true.size


class TopKAccuracy(_CountMetric):
    """Fraction of samples whose label is among the ``k`` highest class scores."""

    def __init__(self, k: int = 5, name: str | None = None) -> None:
        self.k, self.name = k, name or f"top{k}_accuracy"
        super().__init__()

    def update(self, y_true, y_pred) -> None:
        size = F.to_numpy(y_true).size
        self.total += F.top_k_accuracy(y_true, y_pred, self.k) * size
        self.count += size


class _ConfusionMetric(Metric):
    """Accumulates a confusion matrix that grows as new classes appear."""

    kind = "f1"

    def __init__(self, average: str | None = "macro", num_classes: int | None = None,
                 threshold: float = 0.5, name: str | None = None) -> None:
        self.average, self.num_classes, self.threshold = average, num_classes, threshold
        self.name = name or self.kind
        super().__init__()

    def reset(self) -> None:
        size = self.num_classes or 0
        self.matrix = np.zeros((size, size), dtype=np.int64)

    def update(self, y_true, y_pred) -> None:
        true, pred = F.predicted_labels(y_true, y_pred, self.threshold, self.name)
        size = max(len(self.matrix), int(max(true.max(initial=-1), pred.max(initial=-1))) + 1)
        batch = F.confusion_matrix(true, pred, num_classes=self.num_classes or size)
        if len(batch) > len(self.matrix):
            grown = np.zeros_like(batch)
            grown[: len(self.matrix), : len(self.matrix)] = self.matrix
            self.matrix = grown
        self.matrix += batch

    def compute(self) -> float:
        if self.matrix.sum() == 0:
            raise ValueError(f"metric {self.name!r} has seen no samples; call update() first")
        return F.scores_from_confusion(self.matrix, self.kind, self.average)


class Precision(_ConfusionMetric):
    """Precision, macro-averaged over classes by default."""

    kind = "precision"


class Recall(_ConfusionMetric):
    """Recall, macro-averaged over classes by default."""

    kind = "recall"


class F1Score(_ConfusionMetric):
    """F1 score, macro-averaged over classes by default."""

    kind = "f1"


class MeanSquaredError(_CountMetric):
    """Mean squared error over all elements."""

    higher_is_better = False

    def __init__(self, name: str = "mse") -> None:
        self.name = name
        super().__init__()

    def update(self, y_true, y_pred) -> None:
        true, pred = F._regression_pair(y_true, y_pred, self.name)
        self.total += float(((true - pred) ** 2).sum())
        self.count += true.size


class MeanAbsoluteError(_CountMetric):
    """Mean absolute error over all elements."""

    higher_is_better = False

    def __init__(self, name: str = "mae") -> None:
        self.name = name
        super().__init__()

    def update(self, y_true, y_pred) -> None:
        true, pred = F._regression_pair(y_true, y_pred, self.name)
        self.total += float(np.abs(true - pred).sum())
        self.count += true.size


class R2Score(Metric):
    """Coefficient of determination over everything seen (uniform average over outputs)."""

    def __init__(self, name: str = "r2") -> None:
        self.name = name
        super().__init__()

    def reset(self) -> None:
        self.count, self.sums = 0, None

    def update(self, y_true, y_pred) -> None:
        true, pred = F._regression_pair(y_true, y_pred, self.name)
        true, pred = true.reshape(true.shape[0], -1), pred.reshape(true.shape[0], -1)
        batch = np.stack([true.sum(0), (true**2).sum(0), ((true - pred) ** 2).sum(0)])
        self.sums = batch if self.sums is None else self.sums + batch
        self.count += true.shape[0]

    def compute(self) -> float:
        if self.count < 2:
            raise ValueError(f"metric {self.name!r} needs at least two samples, got {self.count}")
        total, total_squares, residual = self.sums
        return F.r2_from_variation(total_squares - total**2 / self.count, residual, scale=total_squares)


class Perplexity(_CountMetric):
    """exp(mean cross-entropy) of class scores (logits) against labels; lower is better."""

    higher_is_better = False

    def __init__(self, name: str = "perplexity") -> None:
        self.name = name
        super().__init__()

    def update(self, y_true, y_pred) -> None:
        true, logits = F.to_numpy(y_true).astype(np.int64), F.to_numpy(y_pred).astype(np.float64)
        axis = F._class_axis(logits, true, self.name)
        shifted = logits - logits.max(axis=axis, keepdims=True)  # stable log-softmax
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        picked = np.take_along_axis(log_probs, np.expand_dims(true, axis), axis=axis)
        self.total += float(-picked.sum())
        self.count += true.size

    def mean_cross_entropy(self) -> float:
        return super().compute()

    def compute(self) -> float:
        return F.perplexity(self.mean_cross_entropy())


class BitsPerCharacter(Perplexity):
    """Mean cross-entropy of class scores against labels, in bits (for character models)."""

    def __init__(self, name: str = "bpc") -> None:
        super().__init__(name=name)

    def compute(self) -> float:
        return F.bits_per_character(self.mean_cross_entropy())


class MeanMetric(_CountMetric):
    """Wrap ``function(y_true, y_pred) -> float`` (a batch mean) into a sample-weighted epoch mean."""

    def __init__(self, function: Callable, name: str | None = None, higher_is_better: bool = True) -> None:
        self.function, self.name = function, name or getattr(function, "__name__", "metric")
        self.higher_is_better = higher_is_better
        super().__init__()

    def update(self, y_true, y_pred) -> None:
        true = F.to_numpy(y_true)
        size = true.shape[0] if true.ndim else 1
        self.total += float(self.function(y_true, y_pred)) * size
        self.count += size


_REGISTRY: dict[str, Callable[[], Metric]] = {
    "accuracy": Accuracy, "acc": Accuracy,
    "top5_accuracy": lambda: TopKAccuracy(5), "top_k_accuracy": lambda: TopKAccuracy(5),
    "precision": Precision, "recall": Recall, "f1": F1Score, "f1_score": lambda: F1Score(name="f1_score"),
    "mse": MeanSquaredError, "mae": MeanAbsoluteError, "r2": R2Score, "r2_score": lambda: R2Score("r2_score"),
    "perplexity": Perplexity, "bpc": BitsPerCharacter, "bits_per_character": lambda: BitsPerCharacter(
        "bits_per_character"
    ),
}


def get_metric(spec: str | Metric | Callable) -> Metric:
    """A metric object from a name (``'accuracy'``, ``'f1'``, ``'mse'``...), an object or a function.

    Example:
        >>> get_metric("f1").name
        'f1'
    """
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        key = spec.lower()
        if key.startswith("top") and key.endswith("_accuracy") and key[3:-9].isdigit():
            return TopKAccuracy(int(key[3:-9]))
        if key not in _REGISTRY:
            raise ValueError(f"unknown metric {spec!r}; expected one of {sorted(_REGISTRY)}, "
                             "a Metric object or a function(y_true, y_pred) -> float")
        return _REGISTRY[key]()
    if callable(spec):
        return MeanMetric(spec)
    raise TypeError(f"a metric must be a name, a Metric or a function, got {type(spec).__name__}")


_LOWER_IS_BETTER = ("loss", "mse", "mae", "error", "perplexity", "bpc", "bits_per_character")


def metric_mode(monitor: str) -> str:
    """``'min'`` or ``'max'``: which direction is an improvement for a logged quantity.

    Example:
        >>> metric_mode("val_loss"), metric_mode("val_accuracy")
        ('min', 'max')
    """
    name = monitor.removeprefix("val_").lower()
    if any(part in name for part in _LOWER_IS_BETTER):
        return "min"
    return "max"


def is_better(current: float, best: float, mode: str, min_delta: float = 0.0) -> bool:
    """True when ``current`` improves on ``best`` by more than ``min_delta`` (NaN never improves)."""
    if current is None or math.isnan(current):
        return False
    if mode == "min":
        return current < best - abs(min_delta)
    return current > best + abs(min_delta)
