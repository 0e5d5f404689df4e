"""Image grids, pictures and array files shared by the GAN and autoencoder recipes.

Images are NumPy arrays ``(N, H, W)`` with pixels in [0, 1]; files are written
atomically (they appear complete or not at all).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dendrite.train import plots
from dendrite.utils.atomic import atomic_path

__all__ = ["tile_images", "save_array", "plot_canvas", "plot_point_snapshots"]


def tile_images(images, columns: int | None = None, pad: int = 1) -> np.ndarray:
    """Images (N, H, W) laid out in one (rows*(H+pad)+pad, columns*(W+pad)+pad) canvas, pad value 1.

    Example:
        >>> tile_images(np.zeros((6, 8, 8)), columns=3).shape
        (19, 28)
    """
    images = np.asarray(images, dtype=np.float32)
    images = images.reshape(len(images), *images.shape[-2:])
    count, height, width = images.shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    canvas = np.ones((rows * (height + pad) + pad, columns * (width + pad) + pad), np.float32)
    for index, image in enumerate(images):
        top, left = pad + (index // columns) * (height + pad), pad + (index % columns) * (width + pad)
        canvas[top:top + height, left:left + width] = image
    return canvas


def save_array(path: Path, array) -> Path:
    """``numpy.save`` written atomically (the file appears complete or not at all).

    Shapes: the array is saved with its own shape.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     np.load(save_array(Path(folder) / "a.npy", np.zeros((3, 2)))).shape
        (3, 2)
    """
    with atomic_path(path) as temporary:
        np.save(temporary, np.asarray(array))
    return Path(path)


def plot_canvas(canvas, path: Path, title: str, inches: float = 5.5) -> Path:
    """One large grey image (e.g. from :func:`tile_images`) with a title, saved as a PNG.

    Shapes: canvas (H, W) with values in [0, 1] (clipped).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = plot_canvas(tile_images(np.zeros((4, 8, 8))), Path(folder) / "c.png", "zeros")
        ...     path.read_bytes()[:4]
        b'\x89PNG'
    """
    figure = plots._figure(inches, inches * canvas.shape[0] / canvas.shape[1] + 0.4)
    axis = figure.subplots()
    axis.imshow(np.clip(canvas, 0.0, 1.0), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    axis.axis("off")
    axis.set_title(title)
    return plots._save(figure, path, 100)


def plot_point_snapshots(snapshots: list, path: Path, centres=None, limit: float = 3.0) -> Path:
    """One panel per ``(label, points (N, 2))`` snapshot, all on the same axes limits.

    Shapes: each snapshot's points (N, 2); ``centres`` (K, 2) or ``None``.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = plot_point_snapshots([("start", np.zeros((5, 2)))], Path(folder) / "s.png")
        ...     path.name
        's.png'
    """
    figure = plots._figure(2.8 * len(snapshots), 3.0)
    for axis, (label, points) in zip(figure.subplots(1, len(snapshots), squeeze=False).ravel(), snapshots):
        axis.scatter(points[:, 0], points[:, 1], s=3, alpha=0.4)
        if centres is not None:
            axis.scatter(centres[:, 0], centres[:, 1], marker="x", s=40, color="C3")
        axis.set_xlim(-limit, limit)
        axis.set_ylim(-limit, limit)
        axis.set_aspect("equal")
        axis.set_title(label, fontsize=9)
        axis.tick_params(labelsize=7)
    return plots._save(figure, path, 100)
