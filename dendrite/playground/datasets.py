"""The playground's points: built-in sets (2..6 classes), the train/test split, input features, custom CSV.

:func:`builtin_points`, :func:`split_points`, :func:`feature_matrix` and :func:`loss_targets` are
plain functions that the exported script carries verbatim (``inspect.getsource``), so the script
builds the very arrays the session trained on. :func:`parse_csv` and :func:`check_point` validate
what a user uploads or clicks; every problem is a :class:`DataError` naming the line and the fault.
"""

from __future__ import annotations

import math

import numpy as np

from dendrite.data import make_playground, make_playground_multiclass
from dendrite.playground.config import (
    EXTENT,
    MAX_CLASSES,
    MAX_CUSTOM_POINTS,
    MAX_UPLOAD_BYTES,
    MIN_CUSTOM_POINTS,
)

__all__ = ["DataError", "builtin_points", "split_points", "feature_matrix", "loss_targets", "parse_csv",
           "check_point"]


class DataError(ValueError):
    """Custom points or an uploaded CSV are not usable; the message is meant for the page.

    Example:
        >>> try:
        ...     parse_csv("x,y,label\\n1,2\\n", "classification")
        ... except DataError as error:
        ...     print(error)
        line 2: expected 3 columns (x, y, label), got 2
    """


def builtin_points(dataset: str, problem: str, classes: int, points: int, noise: int,
                   data_seed: int) -> tuple:
    """A built-in set: ``(points (n, 2) float32, labels (n,))``, int64 classes or float32 targets.

    ``noise`` is the slider's percent; two-class sets are the TensorFlow Playground's own.

    Example:
        >>> xy, labels = builtin_points("gaussian", "classification", 3, 300, 0, 0)
        >>> xy.shape, xy.dtype, sorted(set(labels.tolist()))
        ((300, 2), dtype('float32'), [0, 1, 2])
    """
    if problem == "regression":
        xy, values = make_playground(dataset, points, noise / 100, data_seed)
        return xy, values.reshape(-1).astype(np.float32)
    return make_playground_multiclass(dataset, points, classes, noise / 100, data_seed)


def split_points(xy: np.ndarray, labels: np.ndarray, train_ratio: int, data_seed: int) -> tuple:
    """``(x_train, y_train, x_test, y_test)``: a seeded shuffle, the first ``train_ratio`` percent trains.

    At least one point lands on each side.

    Example:
        >>> xy = np.arange(20, dtype=np.float32).reshape(10, 2); labels = np.arange(10)
        >>> x_train, y_train, x_test, y_test = split_points(xy, labels, 70, 0)
        >>> len(x_train), len(x_test), sorted(y_train.tolist() + y_test.tolist()) == list(range(10))
        (7, 3, True)
    """
    order = np.random.default_rng(data_seed).permutation(len(xy))
    n_train = min(max(int(round(len(xy) * train_ratio / 100)), 1), len(xy) - 1)
    train, test = order[:n_train], order[n_train:]
    return xy[train], labels[train], xy[test], labels[test]


def feature_matrix(xy: np.ndarray, features: list) -> np.ndarray:
    """The network's inputs ``(n, len(features))`` float32 from points ``(n, 2)``, in ``features``' order.

    Names: ``x1 x2 x1sq x2sq x1x2 sinx1 sinx2`` (``x1sq`` = x1², ``sinx1`` = sin x1).

    Example:
        >>> feature_matrix(np.array([[2.0, 3.0]], np.float32), ["x1", "x1x2", "x2sq"]).tolist()
        [[2.0, 6.0, 9.0]]
    """
    x1 = xy[:, 0].astype(np.float32)
    x2 = xy[:, 1].astype(np.float32)
    columns = {"x1": x1, "x2": x2, "x1sq": x1 * x1, "x2sq": x2 * x2, "x1x2": x1 * x2,
               "sinx1": np.sin(x1), "sinx2": np.sin(x2)}
    return np.stack([columns[name] for name in features], 1).astype(np.float32)


def loss_targets(labels: np.ndarray, problem: str, classes: int) -> np.ndarray:
    """Targets shaped for the loss: binary ``(n, 1)`` float32 0/1, 3+ classes ``(n,)`` int64,
    regression ``(n, 1)`` float32.

    Example:
        >>> loss_targets(np.array([0, 1]), "classification", 2).tolist()
        [[0.0], [1.0]]
    """
    if problem == "classification" and classes > 2:
        return labels.astype(np.int64)
    return labels.astype(np.float32).reshape(-1, 1)


def check_point(x: float, y: float, label, problem: str, where: str = "point") -> tuple:
    """One custom point checked: ``(x, y, label)`` with x, y in [-6, 6] and a valid label.

    Classification labels are whole numbers 0..5; regression targets are numbers in [-1, 1].

    Example:
        >>> check_point(1, -2.5, 1, "classification")
        (1.0, -2.5, 1)
    """
    values = []
    for name, value in (("x", x), ("y", y), ("label", label)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise DataError(f"{where}: {name} must be a finite number, got {value!r}")
        values.append(value)
    x, y, label = values
    if not (-EXTENT <= x <= EXTENT and -EXTENT <= y <= EXTENT):
        raise DataError(f"{where}: ({x:g}, {y:g}) lies outside the view; x and y must be in "
                        f"[-{EXTENT:g}, {EXTENT:g}]")
    if problem == "classification":
        if float(label) != int(label) or not 0 <= label < MAX_CLASSES:
            raise DataError(f"{where}: a class label must be a whole number 0..{MAX_CLASSES - 1}, "
                            f"got {label!r}")
        return float(x), float(y), int(label)
    if not -1.0 <= label <= 1.0:
        raise DataError(f"{where}: a regression target must be in [-1, 1], got {label!r}")
    return float(x), float(y), float(label)


def _number(text: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"line {line}: {column} {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"line {line}: {column} is {text.strip()}; only finite numbers are allowed")
    return value


def parse_csv(text: str, problem: str) -> tuple:
    """Uploaded CSV text ``x,y,label`` (header optional) -> ``(points (n, 2) float32, labels (n,))``.

    Limits: at most 256 KiB and 2000 rows, at least 4 rows; classification needs whole labels
    0..5 with at least 2 distinct classes. Blank lines are skipped.

    Example:
        >>> xy, labels = parse_csv("x,y,label\\n1,1,0\\n-1,-1,1\\n2,0,1\\n0,2,0\\n", "classification")
        >>> xy.shape, labels.tolist()
        ((4, 2), [0, 1, 1, 0])
    """
    if not isinstance(text, str):
        raise DataError(f"upload: expected CSV text, got {type(text).__name__}")
    size = len(text.encode("utf-8"))
    if size > MAX_UPLOAD_BYTES:
        raise DataError(f"upload: the file has {size} bytes; at most {MAX_UPLOAD_BYTES} are allowed")
    rows = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        cells = line.split(",")
        if len(cells) != 3:
            raise DataError(f"line {number}: expected 3 columns (x, y, label), got {len(cells)}")
        if not rows and not any(_looks_numeric(cell) for cell in cells):
            continue  # a header row
        values = [_number(cell, number, column) for cell, column in zip(cells, ("x", "y", "label"))]
        rows.append(check_point(*values, problem, where=f"line {number}"))
        if len(rows) > MAX_CUSTOM_POINTS:
            raise DataError(f"line {number}: more than {MAX_CUSTOM_POINTS} points; at most "
                            f"{MAX_CUSTOM_POINTS} are allowed")
    if len(rows) < MIN_CUSTOM_POINTS:
        raise DataError(f"upload: found {len(rows)} points; at least {MIN_CUSTOM_POINTS} are needed")
    xy = np.array([row[:2] for row in rows], np.float32)
    if problem == "classification":
        labels = np.array([row[2] for row in rows], np.int64)
        if len(set(labels.tolist())) < 2:
            raise DataError(f"upload: every point has class {labels[0]}; at least 2 classes are needed")
        return xy, labels
    return xy, np.array([row[2] for row in rows], np.float32)


def _looks_numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
