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
from collections.abc import Callable

import numpy as np

from dendrite.train import metrics

__all__ = [
    "Metric", "Accuracy", "TopKAccuracy", "Precision", "Recall", "F1Score", "MeanSquaredError",
    "MeanAbsoluteError", "R2Score", "Perplexity", "BitsPerCharacter", "MeanMetric", "get_metric",
]


class Metric:
    """Base class: subclasses set ``name`` and implement ``reset``, ``update`` and ``compute``.

    ``update(y_true, y_pred)`` takes one batch (arrays, lists or tensors; the
    shapes of :mod:`dendrite.train.metrics`); ``compute()`` returns a float over
    every batch since ``reset()``. ``higher_is_better`` tells monitors the direction.

    Example:
        >>> class Count(Metric):
        ...     name = "count"
        ...     def reset(self): self.n = 0
        ...     def update(self, y_true, y_pred): self.n += len(y_true)
        ...     def compute(self): return float(self.n)
        >>> metric = Count(); metric.update([1, 2], [1, 2]); metric.compute()
        2.0
        >>> fresh = metric.clone()   # same settings, nothing accumulated
        >>> fresh.compute(), metric.compute()
        (0.0, 2.0)
        >>> metric.reset(); metric.compute()
        0.0
    """

    name: str = "metric"
    higher_is_better: bool = True

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every batch seen so far (called by ``__init__`` and at each epoch's start)."""
        raise NotImplementedError

    def update(self, y_true, y_pred) -> None:
        """Accumulate one batch."""
        raise NotImplementedError

    def compute(self) -> float:
        """The metric over every batch since ``reset()``."""
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
    """Fraction of correct predictions (labels, class scores, or binary scores vs ``threshold``).

    Shapes: ``y_true`` labels ``(N, ...)``; ``y_pred`` labels of the same shape,
    class scores ``(N, C, ...)`` or binary scores of ``y_true``'s shape.

    Example:
        >>> metric = Accuracy(); metric.update([1, 0], [[0.2, 0.8], [0.3, 0.7]]); metric.compute()
        0.5
    """

    def __init__(self, threshold: float = 0.5, name: str = "accuracy") -> None:
        self.threshold, self.name = threshold, name
        super().__init__()

    def update(self, y_true, y_pred) -> None:
        true, pred = metrics.predicted_labels(y_true, y_pred, self.threshold, self.name)
        self.total += float((true == pred).sum())
        self.count += true.size


class TopKAccuracy(_CountMetric):
    """Fraction of samples whose label is among the ``k`` highest class scores.

    Shapes: ``y_true`` labels ``(N,)``; ``y_pred`` class scores ``(N, C)`` with ``C >= k``.

    Example:
        >>> metric = TopKAccuracy(k=2); metric.update([2], [[0.5, 0.1, 0.4]]); metric.compute()
        1.0
    """

    def __init__(self, k: int = 5, name: str | None = None) -> None:
        self.k, self.name = k, name or f"top{k}_accuracy"
        super().__init__()

    def update(self, y_true, y_pred) -> None:
        size = metrics.to_numpy(y_true).size
        self.total += metrics.top_k_accuracy(y_true, y_pred, self.k) * size
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
        true, pred = metrics.predicted_labels(y_true, y_pred, self.threshold, self.name)
        size = max(len(self.matrix), int(max(true.max(initial=-1), pred.max(initial=-1))) + 1)
        batch = metrics.confusion_matrix(true, pred, num_classes=self.num_classes or size)
        if len(batch) > len(self.matrix):
            grown = np.zeros_like(batch)
            grown[: len(self.matrix), : len(self.matrix)] = self.matrix
            self.matrix = grown
        self.matrix += batch

    def compute(self) -> float:
        if self.matrix.sum() == 0:
            raise ValueError(f"metric {self.name!r} has seen no samples; call update() first")
        return metrics.scores_from_confusion(self.matrix, self.kind, self.average)


class Precision(_ConfusionMetric):
    """Precision, macro-averaged over classes by default (``average=None``: one value per class).

    Shapes: as :class:`Accuracy`.

    Example:
        >>> metric = Precision(); metric.update([0, 1, 1], [0, 1, 0]); round(metric.compute(), 4)
        0.75
    """

    kind = "precision"


class Recall(_ConfusionMetric):
    """Recall, macro-averaged over classes by default (``average=None``: one value per class).

    Shapes: as :class:`Accuracy`.

    Example:
        >>> metric = Recall(); metric.update([0, 1, 1], [0, 1, 0]); metric.compute()
        0.75
    """

    kind = "recall"


class F1Score(_ConfusionMetric):
    """F1 score, macro-averaged over classes by default (``average=None``: one value per class).

    Shapes: as :class:`Accuracy`.

    Example:
        >>> metric = F1Score(); metric.update([0, 1, 1], [0, 1, 0]); round(metric.compute(), 4)
        0.6667
    """

    kind = "f1"


class MeanSquaredError(_CountMetric):
    """Mean squared error over all elements.

    Shapes: ``y_true`` and ``y_pred`` both ``(N, ...)``, the same shape.

    Example:
        >>> metric = MeanSquaredError(); metric.update([1.0, 2.0], [1.0, 4.0]); metric.compute()
        2.0
    """

    higher_is_better = False

    def __init__(self, name: str = "mse") -> None:
        self.name = name
        super().__init__()

    def update(self, y_true, y_pred) -> None:
        true, pred = metrics._regression_pair(y_true, y_pred, self.name)
        self.total += float(((true - pred) ** 2).sum())
        self.count += true.size


class MeanAbsoluteError(_CountMetric):
    """Mean absolute error over all elements.

    Shapes: ``y_true`` and ``y_pred`` both ``(N, ...)``, the same shape.

    Example:
        >>> metric = MeanAbsoluteError(); metric.update([1.0, 2.0], [1.0, 4.0]); metric.compute()
        1.0
    """

    higher_is_better = False

    def __init__(self, name: str = "mae") -> None:
        self.name = name
        super().__init__()

    def update(self, y_true, y_pred) -> None:
        true, pred = metrics._regression_pair(y_true, y_pred, self.name)
        self.total += float(np.abs(true - pred).sum())
        self.count += true.size


class R2Score(Metric):
    """Coefficient of determination over everything seen (uniform average over outputs).

    Shapes: ``y_true`` and ``y_pred`` both ``(N,)`` or ``(N, outputs...)``; needs ``N >= 2`` in all.

    Example:
        >>> metric = R2Score(); metric.update([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]); metric.compute()
        1.0
    """

    def __init__(self, name: str = "r2") -> None:
        self.name = name
        super().__init__()

    def reset(self) -> None:
        self.count, self.sums = 0, None

    def update(self, y_true, y_pred) -> None:
        true, pred = metrics._regression_pair(y_true, y_pred, self.name)
        true, pred = true.reshape(true.shape[0], -1), pred.reshape(true.shape[0], -1)
        batch = np.stack([true.sum(0), (true**2).sum(0), ((true - pred) ** 2).sum(0)])
        self.sums = batch if self.sums is None else self.sums + batch
        self.count += true.shape[0]

    def compute(self) -> float:
        if self.count < 2:
            raise ValueError(f"metric {self.name!r} needs at least two samples, got {self.count}")
        total, total_squares, residual = self.sums
        return metrics.r2_from_variation(total_squares - total**2 / self.count, residual, scale=total_squares)


class Perplexity(_CountMetric):
    """exp(mean cross-entropy) of class scores (logits) against labels; lower is better.

    Shapes: ``y_true`` labels ``(N, ...)``; ``y_pred`` logits ``(N, C, ...)`` or ``(N, T, C)``.

    Example:
        >>> metric = Perplexity(); metric.update([0, 1], [[0.0, 0.0], [0.0, 0.0]]); round(metric.compute(), 4)
        2.0
    """

    higher_is_better = False

    def __init__(self, name: str = "perplexity") -> None:
        self.name = name
        super().__init__()

    def update(self, y_true, y_pred) -> None:
        true, logits = metrics.to_numpy(y_true).astype(np.int64), metrics.to_numpy(y_pred).astype(np.float64)
        axis = metrics._class_axis(logits, true, self.name)
        shifted = logits - logits.max(axis=axis, keepdims=True)  # stable log-softmax
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        picked = np.take_along_axis(log_probs, np.expand_dims(true, axis), axis=axis)
        self.total += float(-picked.sum())
        self.count += true.size

    def mean_cross_entropy(self) -> float:
        """The mean cross-entropy in nats over everything seen (the log of the perplexity).

        Example:
            >>> metric = Perplexity(); metric.update([0], [[0.0, 0.0]])
            >>> round(metric.mean_cross_entropy(), 4)   # log 2
            0.6931
        """
        return super().compute()

    def compute(self) -> float:
        return metrics.perplexity(self.mean_cross_entropy())


class BitsPerCharacter(Perplexity):
    """Mean cross-entropy of class scores against labels, in bits (for character models).

    Shapes: as :class:`Perplexity`.

    Example:
        >>> metric = BitsPerCharacter(); metric.update([0, 1], [[0.0, 0.0], [0.0, 0.0]]); metric.compute()
        1.0
    """

    def __init__(self, name: str = "bpc") -> None:
        super().__init__(name=name)

    def compute(self) -> float:
        return metrics.bits_per_character(self.mean_cross_entropy())


class MeanMetric(_CountMetric):
    """Wrap ``function(y_true, y_pred) -> float`` (a batch mean) into a sample-weighted epoch mean.

    Shapes: whatever ``function`` takes; a batch's weight is ``len(y_true)``.

    Example:
        >>> metric = MeanMetric(lambda y_true, y_pred: 1.0, name="ones")
        >>> metric.update([0, 0], [0, 0]); metric.update([0], [0]); metric.compute()
        1.0
    """

    def __init__(self, function: Callable, name: str | None = None, higher_is_better: bool = True) -> None:
        self.function, self.name = function, name or getattr(function, "__name__", "metric")
        self.higher_is_better = higher_is_better
        super().__init__()

    def update(self, y_true, y_pred) -> None:
        true = metrics.to_numpy(y_true)
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
