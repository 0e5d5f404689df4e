"""Plots that make training visible, saved as image files (PNG by default) atomically.

Each function draws one figure with Matplotlib's object API and its Agg
renderer (no ``pyplot``: no global state, no window, nothing changed for a
notebook that uses another backend), writes it with :mod:`dendrite.utils.atomic`
and returns the path. Matplotlib is an optional extra, imported on first use:
``pip install "dendrite[train]"``.

Without Matplotlib every function raises an ImportError that names the extra, except inside
:func:`pictures_if_possible` (what ``dendrite train`` and the tour run under): there they draw
nothing and return ``None``, so a bare install still trains, with one note instead of pictures.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from dendrite.train._optional import require
from dendrite.train.metrics import to_numpy
from dendrite.utils.atomic import atomic_write_bytes

__all__ = [
    "plot_history", "plot_confusion_matrix", "plot_decision_boundary", "plot_image_grid", "plot_series",
    "plot_points", "pictures_if_possible", "matplotlib_available",
]

_skipping = False  # inside pictures_if_possible() without Matplotlib: draw nothing


def matplotlib_available() -> bool:
    """Whether Matplotlib can be imported (the ``train`` extra is installed).

    Example:
        >>> isinstance(matplotlib_available(), bool)
        True
    """
    try:
        require("matplotlib", "plotting")
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def pictures_if_possible(note: str = "matplotlib is not installed") -> Iterator[bool]:
    """Inside, without Matplotlib, the plots draw nothing and return ``None``; yields whether they draw.

    Without Matplotlib it prints ``dendrite: note: {note}; ...`` once on stderr (nested uses say
    nothing more). With Matplotlib it changes nothing.

    Example:
        >>> with pictures_if_possible() as drawing:
        ...     drawing == matplotlib_available()
        True
    """
    global _skipping
    if _skipping or matplotlib_available():
        yield not _skipping
        return
    print(f"dendrite: note: {note}; training without pictures (install them with: "
          f'pip install "dendrite[train]")', file=sys.stderr, flush=True)
    _skipping = True
    try:
        yield False
    finally:
        _skipping = False


class _NoFigure:
    """What :func:`_figure` returns while pictures are skipped: every call and attribute is itself again."""

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __getitem__(self, key):
        return self

    def __iter__(self):  # zip(axes, items) stops with the items
        while True:
            yield self


def _optional(function):
    """``function`` draws nothing and returns ``None`` while pictures are skipped."""
    @functools.wraps(function)
    def draw(*args, **kwargs):
        return None if _skipping else function(*args, **kwargs)
    return draw


def _figure(width: float, height: float):
    if _skipping:
        return _NoFigure()
    require("matplotlib", "plotting")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path: str | os.PathLike, dpi: int) -> Path | None:
    if isinstance(figure, _NoFigure):
        return None
    path = Path(path)
    image_format = path.suffix.lstrip(".").lower() or "png"
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format, dpi=dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, buffer.getvalue())


def _history_dict(history) -> dict:
    if hasattr(history, "history") and isinstance(history.history, dict):
        return history.history
    if isinstance(history, dict):
        return history.get("history", history) if isinstance(history.get("history"), dict) else history
    raise TypeError(f"plot_history expects a History or a dict of lists, got {type(history).__name__}")


@_optional
def plot_history(history, path: str | os.PathLike, keys: Sequence[str] | None = None,
                 title: str | None = None, dpi: int = 100, labels: dict | None = None) -> Path:
    """Curves per epoch: one panel per quantity (loss, accuracy, ...), train and validation together.

    ``keys`` picks the quantities (default: all, with ``val_`` ones drawn on
    their training counterpart's panel). A logged ``'lr'`` gets a log-scale panel.
    ``labels`` names a line in the legend by its history key (e.g. ``{"val_loss": "test: cross-entropy"}``);
    unnamed lines are "train" and "validation".

    Example:
        >>> import pathlib
        >>> path = pathlib.Path("history.png")
        >>> plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, path).exists()
        True
    """
    values = _history_dict(history)
    names = list(keys) if keys is not None else []
    if keys is None:
        for key in values:
            base = key.removeprefix("val_")
            if base not in names and key not in ("epoch", "batch", "size"):
                names.append(base)
    if not names:
        raise ValueError("plot_history: the history has nothing to plot (no logged quantities)")
    columns = min(len(names), 3)
    rows = math.ceil(len(names) / columns)
    figure = _figure(4.2 * columns, 3.2 * rows)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis, name in zip(axes, names):
        drawn = False
        for key, label, style in ((name, "train", "-"), ("val_" + name, "validation", "--")):
            label = (labels or {}).get(key, label)
            series = values.get(key)
            if series is None or len(series) == 0:
                continue
            series = np.asarray(series, dtype=np.float64)
            axis.plot(np.arange(1, len(series) + 1), series, style, marker="o" if len(series) < 30 else None,
                      markersize=3, label=label if name != "lr" else "learning rate")
            drawn = True
        if not drawn:
            raise KeyError(f"plot_history: {name!r} is not in the history; recorded: {sorted(values)}")
        if name == "lr" and np.all(np.asarray(values[name], dtype=np.float64) > 0):
            axis.set_yscale("log")
        axis.set_title(name)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend()
    for axis in axes[len(names):]:
        axis.set_visible(False)
    if title:
        figure.suptitle(title)
    return _save(figure, path, dpi)


@_optional
def plot_confusion_matrix(matrix, path: str | os.PathLike, class_names: Sequence[str] | None = None,
                          normalize: bool = False, title: str | None = None, dpi: int = 100) -> Path:
    """A confusion matrix as a heat map (rows: true class, columns: predicted), counts written in cells.

    ``normalize=True`` shows each row as fractions of that class.

    Example:
        >>> import pathlib
        >>> path = pathlib.Path("cm.png")
        >>> plot_confusion_matrix([[5, 1], [2, 7]], path, class_names=["cat", "dog"]).exists()
        True
    """
    matrix = np.asarray(to_numpy(matrix), dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"plot_confusion_matrix expects a square (C, C) matrix, got shape {matrix.shape}")
    classes = len(matrix)
    names = list(class_names) if class_names is not None else [str(index) for index in range(classes)]
    if len(names) != classes:
        raise ValueError(f"plot_confusion_matrix: {len(names)} class names for a {classes}x{classes} matrix")
    if normalize:
        totals = matrix.sum(axis=1, keepdims=True)
        matrix = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals != 0)
    size = min(3.0 + 0.45 * classes, 14.0)
    figure = _figure(size + 1.0, size)
    axis = figure.subplots()
    image = axis.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axis, shrink=0.8)
    crowded = classes > 6
    axis.set_xticks(range(classes), names, rotation=45 if crowded else 0, ha="right" if crowded else "center")
    axis.set_yticks(range(classes), names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    if classes <= 20:
        threshold = matrix.max() / 2 if matrix.size else 0
        for row in range(classes):
            for column in range(classes):
                value = matrix[row, column]
                text = f"{value:.2f}" if normalize else f"{int(value)}"
                axis.text(column, row, text, ha="center", va="center", fontsize=8,
                          color="white" if value > threshold else "black")
    axis.set_title(title or ("confusion matrix (row-normalised)" if normalize else "confusion matrix"))
    return _save(figure, path, dpi)


def _as_predict_function(model) -> Callable[[np.ndarray], np.ndarray]:
    """``f(points (M, 2) array) -> outputs array`` from a dendrite Module or a plain function."""
    if hasattr(model, "parameters") and hasattr(model, "eval"):
        import dendrite

        def predict(points: np.ndarray) -> np.ndarray:
            parameters = list(model.parameters())
            dtype = parameters[0].dtype if parameters else dendrite.get_default_dtype()
            was_training = getattr(model, "training", False)
            model.eval()
            try:
                with dendrite.no_grad():
                    return to_numpy(model(dendrite.tensor(points, dtype=dtype)))
            finally:
                model.train(was_training)

        return predict
    if callable(model):
        return lambda points: to_numpy(model(points))
    raise TypeError(f"plot_decision_boundary expects a model or a function, got {type(model).__name__}")


@_optional
def plot_decision_boundary(model, X, y, path: str | os.PathLike, resolution: int = 200, padding: float = 0.5,
                           threshold: float | None = None, title: str | None = None, dpi: int = 100) -> Path:
    """The regions a classifier assigns to each class over 2-D inputs, with the data on top.

    ``model``: a dendrite Module (run in eval mode without gradients) or a
    function of an ``(M, 2)`` array. Outputs ``(M, C)`` are class scores
    (argmax); outputs ``(M,)`` or ``(M, 1)`` are binary scores cut at
    ``threshold`` (default: 0.5 if all scores lie in [0, 1], else 0 for logits).

    Example:
        >>> import pathlib, numpy as np
        >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]); y = np.array([0, 1, 1, 0])
        >>> path = pathlib.Path("boundary.png")
        >>> plot_decision_boundary(lambda p: p[:, 1] - 0.5, X, y, path, resolution=50).exists()
        True
    """
    points, labels = np.asarray(to_numpy(X), dtype=np.float64), np.asarray(to_numpy(y)).ravel()
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D inputs X of shape (N, 2), got {points.shape}")
    if len(labels) != len(points):
        raise ValueError(f"plot_decision_boundary: {len(labels)} labels for {len(points)} points")
    low, high = points.min(axis=0) - padding, points.max(axis=0) + padding
    grid_x, grid_y = np.meshgrid(np.linspace(low[0], high[0], resolution),
                                 np.linspace(low[1], high[1], resolution))
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    outputs = np.asarray(_as_predict_function(model)(grid), dtype=np.float64)
    if outputs.shape[0] != len(grid):
        raise ValueError(f"plot_decision_boundary: the model returned {outputs.shape} for {len(grid)} points")
    figure = _figure(5.5, 4.5)
    axis = figure.subplots()
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        regions = outputs.argmax(axis=1).reshape(grid_x.shape)
        classes = max(outputs.shape[1], int(labels.max()) + 1 if labels.size else 0)
        axis.contourf(grid_x, grid_y, regions, levels=np.arange(classes + 1) - 0.5, cmap="tab10",
                      vmin=0, vmax=9, alpha=0.3)
    else:
        scores = outputs.reshape(grid_x.shape)
        if threshold is None:
            threshold = 0.5 if scores.min() >= 0 and scores.max() <= 1 else 0.0
        axis.contourf(grid_x, grid_y, (scores > threshold).astype(float), levels=[-0.5, 0.5, 1.5],
                      cmap="tab10", vmin=0, vmax=9, alpha=0.3)
        if scores.min() < threshold < scores.max():
            axis.contour(grid_x, grid_y, scores, levels=[threshold], colors="black", linewidths=1)
    axis.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", vmin=0, vmax=9, s=12,
                 edgecolors="black", linewidths=0.3)
    axis.set_xlim(low[0], high[0])
    axis.set_ylim(low[1], high[1])
    axis.set_title(title or "decision boundary")
    return _save(figure, path, dpi)


def _as_images(images) -> np.ndarray:
    images = np.asarray(to_numpy(images), dtype=np.float64)
    if images.ndim == 4 and images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
        images = images.transpose(0, 2, 3, 1)  # PyTorch's (N, C, H, W) to Matplotlib's (N, H, W, C)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise ValueError(
            "plot_image_grid expects images (N, H, W), (N, H, W, 3) or (N, C, H, W); "
            f"got shape {images.shape}"
        )
    return np.clip(images, 0.0, 1.0)


@_optional
def plot_image_grid(images, path: str | os.PathLike, titles: Sequence[str] | None = None,
                    columns: int | None = None, title: str | None = None, cmap: str = "gray",
                    dpi: int = 100) -> Path:
    """A grid of images with values in [0, 1] (samples, reconstructions, filters), optional titles.

    Shapes: ``(N, H, W)`` (grey), ``(N, H, W, 3)`` or ``(N, C, H, W)`` with C 1 or 3.

    Example:
        >>> import pathlib, numpy as np
        >>> path = pathlib.Path("grid.png")
        >>> plot_image_grid(np.random.default_rng(0).random((6, 8, 8)), path).exists()
        True
    """
    images = _as_images(images)
    count = len(images)
    if count == 0:
        raise ValueError("plot_image_grid: no images to draw")
    if titles is not None and len(titles) != count:
        raise ValueError(f"plot_image_grid: {len(titles)} titles for {count} images")
    columns = columns or min(count, int(math.ceil(math.sqrt(count))))
    rows = math.ceil(count / columns)
    figure = _figure(1.6 * columns, 1.6 * rows + (0.3 if title else 0))
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for index, axis in enumerate(axes):
        axis.axis("off")
        if index < count:
            axis.imshow(images[index], cmap=cmap if images.ndim == 3 else None, vmin=0.0, vmax=1.0,
                        interpolation="nearest")
            if titles is not None:
                axis.set_title(str(titles[index]), fontsize=8)
    if title:
        figure.suptitle(title)
    return _save(figure, path, dpi)


@_optional
def plot_series(y_true, y_pred, path: str | os.PathLike, x=None, title: str | None = None,
                labels: tuple[str, str] = ("truth", "prediction"), dpi: int = 100) -> Path:
    """A prediction drawn against the truth over time (or any 1-D axis ``x``).

    Shapes: ``y_true`` and ``y_pred`` ``(T,)`` or ``(T, k)`` (one line pair per column); ``x`` ``(T,)``.

    Example:
        >>> import pathlib, numpy as np
        >>> t = np.linspace(0, 6, 50)
        >>> path = pathlib.Path("series.png")
        >>> plot_series(np.sin(t), np.sin(t) + 0.1, path, x=t).exists()
        True
    """
    truth = np.asarray(to_numpy(y_true), dtype=np.float64)
    prediction = np.asarray(to_numpy(y_pred), dtype=np.float64)
    truth = truth.reshape(len(truth), -1) if truth.ndim else truth.reshape(1, 1)
    prediction = prediction.reshape(len(prediction), -1) if prediction.ndim else prediction.reshape(1, 1)
    if truth.shape != prediction.shape:
        raise ValueError(
            f"plot_series: truth {truth.shape} and prediction {prediction.shape} differ in shape"
        )
    axis_values = np.arange(len(truth)) if x is None else np.asarray(to_numpy(x), dtype=np.float64).ravel()
    if len(axis_values) != len(truth):
        raise ValueError(f"plot_series: x has {len(axis_values)} values for {len(truth)} points")
    figure = _figure(7.0, 3.5)
    axis = figure.subplots()
    for column in range(truth.shape[1]):
        suffix = f" [{column}]" if truth.shape[1] > 1 else ""
        axis.plot(axis_values, truth[:, column], "-", color=f"C{2 * column}", label=labels[0] + suffix)
        axis.plot(axis_values, prediction[:, column], "--", color=f"C{2 * column + 1}",
                  label=labels[1] + suffix)
    axis.grid(alpha=0.3)
    axis.legend()
    axis.set_title(title or "prediction vs truth")
    return _save(figure, path, dpi)


@_optional
def plot_points(points, path: str | os.PathLike, centres=None, title: str | None = None,
                limits: tuple[float, float] | None = None, dpi: int = 100) -> Path:
    """A 2-D scatter of points (e.g. GAN samples), with optional centres (the true modes) marked.

    ``limits``: the same ``(low, high)`` for both axes, so snapshots line up.

    Example:
        >>> import pathlib, numpy as np
        >>> angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
        >>> centres = np.column_stack([np.cos(angles), np.sin(angles)])
        >>> path = pathlib.Path("ring.png")
        >>> plot_points(centres + 0.05, path, centres=centres).exists()
        True
    """
    values = np.asarray(to_numpy(points), dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != 2:
        raise ValueError(f"plot_points expects points of shape (N, 2), got {values.shape}")
    figure = _figure(4.5, 4.5)
    axis = figure.subplots()
    axis.scatter(values[:, 0], values[:, 1], s=6, alpha=0.5, label="samples")
    if centres is not None:
        centre_values = np.asarray(to_numpy(centres), dtype=np.float64).reshape(-1, 2)
        axis.scatter(centre_values[:, 0], centre_values[:, 1], marker="x", s=60, color="C3", label="centres")
        axis.legend(loc="upper right")
    if limits is not None:
        axis.set_xlim(*limits)
        axis.set_ylim(*limits)
    axis.set_aspect("equal")
    axis.grid(alpha=0.3)
    axis.set_title(title or f"{len(values)} points")
    return _save(figure, path, dpi)
