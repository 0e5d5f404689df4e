"""load_user_data: formats recognised, statistics of training rows only, labels checked, a validation part."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dendrite.cli.main import main
from dendrite.data import DataFileError, DataSpec, load_user_data
from dendrite.data.user_data import detect_format, read_inputs
from tests.cli import own_files as make


def test_formats_are_recognised_from_files_and_folders(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.zeros((4, 2)), y=np.arange(4))
    make.write_table(tmp_path / "a.csv", make.table_rows(5))
    make.mnist_folder(tmp_path / "mnist", 8, 4)
    make.cifar_binary_folder(tmp_path / "cifar", 4, 4)
    (tmp_path / "photos" / "cat").mkdir(parents=True)
    assert detect_format(tmp_path / "a.npz") == "npz" and detect_format(tmp_path / "a.csv") == "csv"
    assert detect_format(tmp_path / "mnist") == "idx"
    assert detect_format(tmp_path / "mnist" / "train-images-idx3-ubyte") == "idx"
    assert detect_format(tmp_path / "cifar") == "cifar10" and detect_format(tmp_path / "photos") == "images"
    (tmp_path / "notes.doc").write_text("x")
    with pytest.raises(DataFileError, match="notes.doc: is not a data file"):
        detect_format(tmp_path / "notes.doc")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        detect_format(tmp_path / "nowhere")


def test_a_float_table_is_standardised_with_the_training_rows_statistics_only(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[5.0, -3.0, 0.0], scale=[2.0, 0.5, 1.0], size=(200, 3))
    y = (x[:, 0] > 5).astype(np.int64)
    np.savez(tmp_path / "table.npz", x=x, y=y)
    data = load_user_data(tmp_path / "table.npz", seed=3)
    splits, spec = data.splits, data.spec
    assert splits.x_train.shape == (160, 3) and splits.x_test.shape == (40, 3)
    # the standardised training part has mean 0 and std 1 exactly; the test part only roughly
    np.testing.assert_allclose(splits.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(splits.x_train.std(axis=0), 1.0, atol=1e-5)
    assert not np.allclose(splits.x_test.mean(axis=0), 0.0, atol=1e-5)
    raw_train = splits.x_train * np.asarray(spec.std) + np.asarray(spec.mean)
    train_rows = [np.flatnonzero(np.all(np.isclose(x, row, atol=1e-4), axis=1))[0] for row in raw_train]
    np.testing.assert_allclose(spec.mean, x[train_rows].mean(axis=0), rtol=1e-6)


def test_keras_layout_and_class_names_come_from_the_archive(tmp_path):
    images, labels = make.band_images(40, 2)
    np.savez(tmp_path / "k.npz", x_train=images[:30], y_train=labels[:30], x_test=images[30:],
             y_test=labels[30:], classes=np.array(["top", "bottom"]))
    data = load_user_data(tmp_path / "k.npz")
    assert len(data.splits.x_train) == 30 and len(data.splits.x_test) == 10
    assert data.spec.classes == ["top", "bottom"] and data.splits.x_train.max() <= 1.0  # pixels / 255


def test_labels_are_compared_not_cast(tmp_path):
    spec = DataSpec("npz", "classification", (2,), classes=["1", "2"], label_values=[1, 2])
    np.savez(tmp_path / "new.npz", x=np.zeros((3, 2), np.float32), y=np.array([1.0, 2.5, 2.0]))
    with pytest.raises(DataFileError, match=r"new.npz record 1: has label 2\.5"):
        read_inputs(spec, tmp_path / "new.npz", require_target=True)
    x, y, ids = read_inputs(spec, tmp_path / "new.npz", require_target=False)
    assert x.shape == (3, 2) and y is None and ids.tolist() == [0, 1, 2]


def test_the_validation_curve_is_the_val_file(tmp_path, capsys):
    data = make.write_table(tmp_path / "train.csv", make.table_rows(300, seed=0))
    val = make.write_table(tmp_path / "val.csv", make.table_rows(90, seed=1))
    assert main(["train", "mlp", "--data", str(data), "--val", str(val), "--epochs", "4", "--quiet",
                 "--out", str(tmp_path / "run")]) == 0
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())["history"]
    assert main(["evaluate", str(tmp_path / "run"), "--data", str(val), "--quiet"]) == 0
    capsys.readouterr()
    evaluation = json.loads((tmp_path / "run" / "evaluation-val" / "metrics.json").read_text())
    assert evaluation["n"] == 90
    assert history[-1]["val_accuracy"] == pytest.approx(evaluation["accuracy"], abs=1e-12)
