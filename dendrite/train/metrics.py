"""Metrics as plain functions on arrays (``y_true`` first, as in scikit-learn and Keras).

Every function accepts NumPy arrays, lists or dendrite tensors. Predictions may
be labels, class scores or binary scores:

* scores of shape ``(N, C)`` or ``(N, C, d1, ...)`` with labels ``(N, d1, ...)``
  (PyTorch's ``CrossEntropyLoss`` layout) are reduced with an argmax over the
  class axis; ``(N, T, C)`` scores with ``(N, T)`` labels (class axis last) work too;
* floating scores with the labels' shape are binary: ``score > threshold``
  (0.5 for probabilities; pass ``threshold=0.0`` for logits).

Metrics are computed on the host with NumPy: they are summaries of finished
batches, never part of the graph, so they do not go through the backend ``xp``.
The streaming versions the Trainer accumulates batch by batch live in
:mod:`dendrite.train.running_metrics`.
"""

from __future__ import annotations

import math

import numpy as np

from dendrite import backend
from dendrite.tensor import Tensor

__all__ = [
    "accuracy", "top_k_accuracy", "confusion_matrix", "precision", "recall", "f1_score",
    "mse", "mae", "r2_score", "bits_per_character", "perplexity", "to_numpy", "predicted_labels",
]


def to_numpy(values) -> np.ndarray:
    """``values`` (tensor, array, list, number) as a host NumPy array, detached from any graph.

    Shapes: unchanged (a number gives a 0-d array).

    Example:
        >>> import dendrite
        >>> to_numpy(dendrite.ones(2, requires_grad=True)).tolist(), to_numpy([1, 2]).shape
        ([1.0, 1.0], (2,))
    """
    if isinstance(values, Tensor):  # a dendrite Tensor: read the array without the requires_grad check
        return backend.to_host(values.array)
    return np.asarray(values)


def _class_axis(scores: np.ndarray, labels: np.ndarray, where: str) -> int:
    """Which axis of ``scores`` holds the classes, given the labels' shape."""
    if scores.ndim >= 2 and scores.shape[:1] + scores.shape[2:] == labels.shape:
        return 1  # PyTorch's layout: (N, C, d1, ...)
    if scores.shape[:-1] == labels.shape:
        return scores.ndim - 1  # class axis last: (N, T, C)
    raise ValueError(
        f"{where}: scores of shape {scores.shape} do not match labels of shape {labels.shape}; "
        "expected scores (N, C, ...) with labels (N, ...), or scores with the labels' shape"
    )


def predicted_labels(y_true, y_pred, threshold: float = 0.5, where: str = "metric") -> tuple:
    """``(true labels, predicted labels)`` as integer arrays of one shape (see the module docstring).

    Shapes: ``y_true`` ``(N, ...)``; ``y_pred`` labels ``(N, ...)``, class scores
    ``(N, C, ...)`` / ``(N, T, C)`` (argmax) or binary scores ``(N, ...)`` / ``(N, 1)``
    (``> threshold``). Both results have ``y_true``'s shape.

    Example:
        >>> true, pred = predicted_labels([0, 1], [[0.9, 0.1], [0.4, 0.6]])
        >>> true.tolist(), pred.tolist()
        ([0, 1], [0, 1])
    """
    true, pred = to_numpy(y_true), to_numpy(y_pred)
    if pred.ndim == true.ndim + 1 and not (pred.shape[-1] == 1 and pred.shape[:-1] == true.shape):
        pred = pred.argmax(axis=_class_axis(pred, true, where))
    else:
        if pred.shape != true.shape and pred.size == true.size and pred.ndim == true.ndim + 1:
            pred = pred.reshape(true.shape)  # (N, 1) binary scores with (N,) labels
        if pred.shape != true.shape:
            raise ValueError(
                f"{where}: predictions of shape {pred.shape} do not match labels of shape {true.shape}"
            )
        if pred.dtype.kind == "f":
            pred = pred > threshold
    if true.dtype.kind == "f":
        if not np.all(true == np.round(true)):
            raise ValueError(f"{where}: labels must be whole numbers (class indices or 0/1), got {true[:5]}")
    return true.astype(np.int64), pred.astype(np.int64)


def accuracy(y_true, y_pred, threshold: float = 0.5) -> float:
    """Fraction of predictions equal to the labels.

    Shapes: labels ``(N, ...)``; predictions as labels of that shape, class scores ``(N, C, ...)``
    or binary scores (see the module docstring). Returns a float.

    Example:
        >>> accuracy([0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
        0.6666666666666666
    """
    true, pred = predicted_labels(y_true, y_pred, threshold, "accuracy")
    if true.size == 0:
        raise ValueError("accuracy of an empty batch is undefined; expected at least one label")
    return float(np.mean(true == pred))


def top_k_accuracy(y_true, scores, k: int = 5) -> float:
    """Fraction of samples whose label is among the ``k`` highest scores.

    Shapes: labels ``(N,)``, scores ``(N, C)`` with ``C >= k``. Returns a float.

    Example:
        >>> top_k_accuracy([2, 0], [[0.1, 0.5, 0.4], [0.2, 0.3, 0.5]], k=2)
        0.5
    """
    true, scores = to_numpy(y_true).astype(np.int64), to_numpy(scores)
    if scores.ndim != true.ndim + 1:
        raise ValueError(f"top_k_accuracy expects scores (N, C, ...) for labels (N, ...); "
                         f"got scores {scores.shape} and labels {true.shape}")
    axis = _class_axis(scores, true, "top_k_accuracy")
    classes = scores.shape[axis]
    if not 1 <= k <= classes:
        raise ValueError(f"top_k_accuracy: k must be between 1 and the number of classes ({classes}), "
                         f"got {k}")
    # The label's score beats all but at most k-1 others: ties count in the label's favour,
    # which matches scikit-learn's top_k_accuracy_score when scores are distinct.
    label_scores = np.take_along_axis(scores, np.expand_dims(true, axis), axis=axis)
    higher = (scores > label_scores).sum(axis=axis)
    return float(np.mean(higher < k))


def confusion_matrix(y_true, y_pred, num_classes: int | None = None, threshold: float = 0.5) -> np.ndarray:
    """``(C, C)`` counts: row = true class, column = predicted class.

    ``num_classes`` defaults to one more than the largest label seen.

    Example:
        >>> confusion_matrix([0, 1, 1], [0, 0, 1])
        array([[1, 0],
               [1, 1]])
    """
    true, pred = predicted_labels(y_true, y_pred, threshold, "confusion_matrix")
    true, pred = true.ravel(), pred.ravel()
    if true.size and min(true.min(), pred.min()) < 0:
        raise ValueError("confusion_matrix: labels must be non-negative class indices")
    seen = int(max(true.max(initial=-1), pred.max(initial=-1))) + 1
    if num_classes is None:
        num_classes = seen
    elif seen > num_classes:
        raise ValueError(f"confusion_matrix: found class {seen - 1} but num_classes={num_classes}")
    return np.bincount(true * num_classes + pred, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes
    )


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    # scikit-learn's zero_division=0: an undefined ratio (no predictions / no samples) counts as 0.
    out = np.zeros(np.shape(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def scores_from_confusion(matrix: np.ndarray, kind: str, average: str | None = "macro"):
    """Precision, recall or F1 from a confusion matrix (used by the streaming metrics too).

    Classes that never occur in either labels or predictions are left out of
    the macro and weighted averages, as scikit-learn does by default.
    Shapes: ``matrix`` ``(C, C)``, rows true classes, columns predicted;
    ``average=None`` gives an array of ``C`` values, otherwise a float.

    Example:
        >>> scores_from_confusion([[2, 0], [1, 1]], "precision", average=None).round(4).tolist()
        [0.6667, 1.0]
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    true_positive = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    if average == "micro":
        true_positive, predicted, actual = true_positive.sum(), predicted.sum(), actual.sum()
    precision_value = _safe_divide(true_positive, predicted)
    recall_value = _safe_divide(true_positive, actual)
    if kind == "precision":
        per_class = precision_value
    elif kind == "recall":
        per_class = recall_value
    elif kind == "f1":
        per_class = _safe_divide(2 * true_positive, predicted + actual)
    else:
        raise ValueError(f"unknown score {kind!r}; expected 'precision', 'recall' or 'f1'")
    if average == "micro":
        return float(per_class)
    present = (predicted + actual) > 0
    if average is None or average == "none":
        return per_class
    if average == "macro":
        return float(per_class[present].mean()) if present.any() else 0.0
    if average == "weighted":
        return float((per_class * actual).sum() / actual.sum()) if actual.sum() else 0.0
    raise ValueError(f"unknown average {average!r}; expected 'macro', 'micro', 'weighted' or None")


def precision(y_true, y_pred, average: str | None = "macro", num_classes: int | None = None) -> float:
    """Precision (true positives / predicted positives), macro-averaged over classes by default.

    Shapes: labels ``(N, ...)``; predictions as labels of that shape, class scores ``(N, C, ...)``
    or binary scores (see the module docstring). Returns a float (an array per class with ``average=None``).

    Example:
        >>> precision([0, 1, 1, 2], [0, 1, 0, 2])
        0.8333333333333334
    """
    return scores_from_confusion(confusion_matrix(y_true, y_pred, num_classes), "precision", average)


def recall(y_true, y_pred, average: str | None = "macro", num_classes: int | None = None) -> float:
    """Recall (true positives / actual positives), macro-averaged over classes by default.

    Shapes: labels ``(N, ...)``; predictions as labels of that shape, class scores ``(N, C, ...)``
    or binary scores (see the module docstring). Returns a float (an array per class with ``average=None``).

    Example:
        >>> recall([0, 1, 1, 2], [0, 1, 0, 2])
        0.8333333333333334
    """
    return scores_from_confusion(confusion_matrix(y_true, y_pred, num_classes), "recall", average)


def f1_score(y_true, y_pred, average: str | None = "macro", num_classes: int | None = None) -> float:
    """F1 (harmonic mean of precision and recall per class), macro-averaged by default.

    Shapes: labels ``(N, ...)``; predictions as labels of that shape, class scores ``(N, C, ...)``
    or binary scores (see the module docstring). Returns a float (an array per class with ``average=None``).

    Example:
        >>> round(f1_score([0, 1, 1, 2], [0, 1, 0, 2]), 4)
        0.7778
    """
    return scores_from_confusion(confusion_matrix(y_true, y_pred, num_classes), "f1", average)


def _regression_pair(y_true, y_pred, where: str) -> tuple:
    true, pred = to_numpy(y_true).astype(np.float64), to_numpy(y_pred).astype(np.float64)
    if pred.shape != true.shape and pred.size == true.size:
        pred = pred.reshape(true.shape)  # (N, 1) predictions for (N,) targets
    if pred.shape != true.shape:
        raise ValueError(f"{where}: predictions of shape {pred.shape} do not match targets {true.shape}")
    if true.size == 0:
        raise ValueError(f"{where} of an empty batch is undefined")
    return true, pred


def mse(y_true, y_pred) -> float:
    """Mean squared error over all elements; ``y_true`` and ``y_pred`` have the same shape.

    Example:
        >>> mse([1.0, 2.0], [1.0, 4.0])
        2.0
    """
    true, pred = _regression_pair(y_true, y_pred, "mse")
    return float(np.mean((true - pred) ** 2))


def mae(y_true, y_pred) -> float:
    """Mean absolute error over all elements; ``y_true`` and ``y_pred`` have the same shape.

    Example:
        >>> mae([1.0, 2.0], [1.0, 4.0])
        1.0
    """
    true, pred = _regression_pair(y_true, y_pred, "mae")
    return float(np.mean(np.abs(true - pred)))


def r2_from_variation(total_variation, residual_squares, scale=0.0) -> float:
    """R² per output from SS_tot and SS_res, averaged uniformly over outputs (scikit-learn's rules).

    ``scale`` bounds the rounding error in ``total_variation``: streaming sums
    leave a tiny positive SS_tot for constant targets, exact centring leaves 0.
    Shapes: both ``(outputs,)`` (or scalars); the result is one float.

    Example:
        >>> r2_from_variation([4.0, 2.0], [1.0, 0.0])
        0.875
    """
    total_variation = np.asarray(total_variation, dtype=np.float64)
    residual = np.asarray(residual_squares, dtype=np.float64)
    # Constant targets: a perfect fit scores 1, anything else 0 (scikit-learn's force_finite).
    constant = total_variation <= 1e-12 * np.asarray(scale, dtype=np.float64)
    safe = np.where(constant, 1.0, total_variation)
    scores = np.where(constant, np.where(residual == 0, 1.0, 0.0), 1.0 - residual / safe)
    return float(np.mean(scores))


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination, 1 - SS_res / SS_tot (averaged over outputs for 2-D targets).

    Shapes: ``y_true`` and ``y_pred`` both ``(N,)`` or ``(N, outputs)``, ``N >= 2``. Returns a float.

    Example:
        >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
        0.5
    """
    true, pred = _regression_pair(y_true, y_pred, "r2_score")
    if true.ndim == 0 or true.shape[0] < 2:
        raise ValueError(f"r2_score needs at least two samples, got targets of shape {true.shape}")
    true, pred = true.reshape(true.shape[0], -1), pred.reshape(true.shape[0], -1)
    total_variation = ((true - true.mean(axis=0)) ** 2).sum(axis=0)
    residual = ((true - pred) ** 2).sum(axis=0)
    return r2_from_variation(total_variation, residual)


def bits_per_character(mean_cross_entropy: float) -> float:
    """Bits per character from a mean cross-entropy in nats (divide by ln 2).

    Example:
        >>> bits_per_character(math.log(2))
        1.0
    """
    return float(mean_cross_entropy) / math.log(2.0)


def perplexity(mean_cross_entropy: float) -> float:
    """Perplexity, exp(mean cross-entropy in nats): the effective number of equally likely choices.

    Example:
        >>> round(perplexity(math.log(4)), 6)
        4.0
    """
    return float(math.exp(mean_cross_entropy)) if mean_cross_entropy < 709 else math.inf
