"""Plots: each function writes a valid, non-trivial PNG atomically and returns its path."""

from __future__ import annotations

import os

import numpy as np
import pytest

from dendrite.train import History, plots
from tests.train.train_helpers import make_blobs, make_model

matplotlib_image = pytest.importorskip("matplotlib.image")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path, min_colours: int = 8):
    """The file is a PNG that decodes, with real content (many colours, not one flat fill)."""
    assert path.exists(), path
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = matplotlib_image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    colours = np.unique(pixels.reshape(-1, pixels.shape[-1]).round(3), axis=0)
    assert len(colours) >= min_colours, f"{path.name}: only {len(colours)} colours"
    assert [name for name in os.listdir(path.parent) if ".tmp" in name] == []
    return pixels


def test_plot_history_from_history_and_dict(tmp_path):
    history = History()
    for epoch in range(6):
        history.on_epoch_end(epoch, {"loss": 1 / (epoch + 1), "accuracy": 0.5 + epoch / 20,
                                     "val_loss": 1.2 / (epoch + 1), "val_accuracy": 0.45 + epoch / 20,
                                     "lr": 0.1 * 0.5**epoch})
    path = plots.plot_history(history, tmp_path / "history.png", title="run")
    assert path == tmp_path / "history.png"
    assert_png(path)
    assert_png(plots.plot_history(history.to_dict(), tmp_path / "sub" / "from_dict.png", keys=["loss"]))
    with pytest.raises(KeyError, match="'f1' is not in the history"):
        plots.plot_history(history, tmp_path / "bad.png", keys=["f1"])


def test_plot_confusion_matrix(tmp_path):
    matrix = np.array([[30, 2, 1], [4, 25, 3], [0, 5, 28]])
    assert_png(plots.plot_confusion_matrix(matrix, tmp_path / "cm.png", class_names=["a", "b", "c"]))
    assert_png(plots.plot_confusion_matrix(matrix, tmp_path / "cm_norm.png", normalize=True))
    with pytest.raises(ValueError, match="square"):
        plots.plot_confusion_matrix(np.zeros((2, 3)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="2 class names"):
        plots.plot_confusion_matrix(matrix, tmp_path / "x.png", class_names=["a", "b"])


def test_plot_decision_boundary_with_a_model_and_with_a_function(tmp_path):
    points, labels = make_blobs(64)
    model = make_model()
    model.train()
    path = plots.plot_decision_boundary(model, points, labels, tmp_path / "model.png", resolution=60)
    assert_png(path)
    assert model.training  # the plot put the model back in the mode it found it in
    binary = plots.plot_decision_boundary(lambda grid: grid.sum(axis=1), points, labels,
                                          tmp_path / "function.png", resolution=60)
    assert_png(binary)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plots.plot_decision_boundary(model, np.zeros((5, 3)), np.zeros(5), tmp_path / "x.png")


def test_plot_image_grid_layouts_and_titles(tmp_path):
    generator = np.random.default_rng(0)
    assert_png(plots.plot_image_grid(generator.random((5, 8, 8)), tmp_path / "gray.png",
                                     titles=[str(i) for i in range(5)]))
    assert_png(plots.plot_image_grid(generator.random((4, 3, 8, 8)), tmp_path / "chw.png"))  # (N, C, H, W)
    assert_png(plots.plot_image_grid(generator.random((4, 8, 8, 3)), tmp_path / "hwc.png", columns=4))
    with pytest.raises(ValueError, match="titles"):
        plots.plot_image_grid(generator.random((3, 8, 8)), tmp_path / "x.png", titles=["a"])
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        plots.plot_image_grid(generator.random((3, 8)), tmp_path / "x.png")


def test_plot_series_and_points(tmp_path):
    t = np.linspace(0, 10, 100)
    assert_png(plots.plot_series(np.sin(t), np.sin(t) + 0.1 * np.cos(3 * t), tmp_path / "series.png", x=t))
    assert_png(plots.plot_series(np.stack([np.sin(t), np.cos(t)], 1), np.zeros((100, 2)),
                                 tmp_path / "series2.png"))
    with pytest.raises(ValueError, match="differ in shape"):
        plots.plot_series(np.zeros(5), np.zeros(6), tmp_path / "x.png")
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    centres = 2 * np.column_stack([np.cos(angles), np.sin(angles)])
    samples = centres[np.random.default_rng(0).integers(0, 8, 300)] + np.random.default_rng(1).normal(
        scale=0.05, size=(300, 2))
    assert_png(plots.plot_points(samples, tmp_path / "ring.png", centres=centres, limits=(-3, 3)))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plots.plot_points(np.zeros(4), tmp_path / "x.png")


def test_plot_overwrites_atomically(tmp_path):
    path = tmp_path / "p.png"
    path.write_bytes(b"old")
    plots.plot_points(np.random.default_rng(0).normal(size=(50, 2)), path)
    assert_png(path)


def test_optional_extras_are_not_imported_with_the_package_and_missing_ones_are_named(monkeypatch, tmp_path):
    import subprocess
    import sys

    code = ("import sys, dendrite, dendrite.train; "
            "print(sorted(m for m in ('matplotlib', 'tqdm', 'torch', 'sklearn') if m in sys.modules))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r'pip install "dendrite\[train\]"'):
        plots.plot_points(np.zeros((3, 2)), tmp_path / "p.png")
    monkeypatch.setitem(sys.modules, "tqdm", None)
    from dendrite.train import Trainer

    with pytest.raises(ImportError, match="tqdm"):
        Trainer(None, progress=True)
