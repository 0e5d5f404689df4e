"""The dataset registry behind load_dataset and ``dendrite datasets``; DataSplits helpers."""

from __future__ import annotations

import numpy as np
import pytest

from dendrite.data import (
    DataLoader,
    DataSplits,
    list_datasets,
    load_dataset,
    register_dataset,
    train_test_split,
)
from dendrite.data.registry import dataset_names, unregister_dataset

BUILT_IN = ["circle", "xor", "gaussian", "spiral", "moons", "plane", "multigauss", "digits", "ring8",
            "mackey-glass", "sine", "pytext"]
FROM_FILES = ["mnist", "fashion-mnist", "cifar10", "csv"]


def test_every_dataset_is_registered():
    assert set(BUILT_IN + FROM_FILES) <= set(dataset_names())


def test_list_datasets_rows_without_loading():
    rows = {row["name"]: row for row in list_datasets(load=False)}
    assert rows["digits"]["train"] is None and rows["digits"]["task"] == "classification"
    assert rows["mnist"]["needs_files"] and rows["mnist"]["options"]["directory"] == "<required>"
    assert rows["circle"]["options"] == {"n": 1000, "noise": 0.0, "seed": 0, "test_fraction": 0.2}


def test_list_datasets_names_a_failing_loader():
    def broken():
        raise OSError("disk on fire")

    register_dataset("broken-test-set", broken, "regression", "fails", replace=True)
    try:
        with pytest.raises(RuntimeError, match="loading 'broken-test-set' .* failed: disk on fire"):
            list_datasets()
    finally:
        unregister_dataset("broken-test-set")


def test_list_datasets_reports_sizes_and_shapes():
    rows = {row["name"]: row for row in list_datasets()}
    assert (rows["digits"]["train"], rows["digits"]["test"]) == (1437, 360)
    assert rows["digits"]["input_shape"] == (8, 8) and rows["digits"]["num_classes"] == 10
    assert rows["spiral"]["input_shape"] == (2,) and rows["spiral"]["train"] + rows["spiral"]["test"] == 1000
    assert rows["mackey-glass"]["input_shape"] == (20, 1) and rows["mackey-glass"]["target_shape"] == (1,)
    assert rows["pytext"]["task"] == "text" and rows["pytext"]["num_classes"] > 50
    assert rows["cifar10"]["train"] is None
    for name in BUILT_IN:
        assert rows[name]["train"] > 0 and rows[name]["test"] > 0, name


def test_load_dataset_passes_options_and_normalises_names():
    data = load_dataset("Mackey_Glass", n_points=400, window=10)
    assert data.name == "mackey-glass" and data.x_train.shape == (310, 10, 1)
    xor = load_dataset("xor", n=100, noise=0.2, seed=5, test_fraction=0.5)
    assert xor.x_test.shape == (50, 2)


def test_load_dataset_errors():
    with pytest.raises(KeyError, match="unknown dataset 'mnits'; known datasets: .*mnist"):
        load_dataset("mnits")
    with pytest.raises(TypeError, match=r"load_dataset\('circle'\): .*'radius'.*accepted options: n=1000"):
        load_dataset("circle", radius=3)


def test_register_and_csv_through_the_registry(tmp_path):
    def tiny():
        x = np.zeros((4, 2), np.float32)
        return DataSplits("tiny", "regression", x, x[:, :1], x, x[:, :1], (2,))

    register_dataset("tiny-test-set", tiny, "regression", "four zeros", replace=True)
    try:
        assert load_dataset("tiny_test_set").x_train.shape == (4, 2)
        with pytest.raises(ValueError, match="already registered"):
            register_dataset("tiny-test-set", tiny, "regression", "again")
    finally:
        unregister_dataset("tiny-test-set")
    assert "tiny-test-set" not in dataset_names()
    with pytest.raises(ValueError, match="task 'clustering' is not one of"):
        register_dataset("other", tiny, "clustering", "?")
    path = tmp_path / "points.csv"
    path.write_text("x,y,label\n" + "".join(f"{i},{-i},{i % 3}\n" for i in range(30)))
    data = load_dataset("csv", path=path, label_column="label", test_fraction=0.2)
    assert data.name == "points" and data.num_classes == 3 and data.x_test.shape == (6, 2)


def test_data_splits_feed_a_loader():
    data = load_dataset("gaussian", n=200)
    x, y = next(iter(DataLoader(data.train_dataset(), batch_size=32, shuffle=True, seed=0)))
    assert x.shape == (32, 2) and y.shape == (32,) and str(y.dtype) == "int64"
    with pytest.raises(ValueError, match="x_train has 3 rows but y_train has 2"):
        DataSplits("bad", "classification", np.zeros((3, 2)), np.zeros(2), np.zeros((1, 2)), np.zeros(1),
                   (2,))


def test_train_test_split_stratified_and_seeded():
    x = np.arange(100)
    y = np.array([0] * 80 + [1] * 20)
    x_train, y_train, x_test, y_test = train_test_split(x, y, 0.25, stratify=True)
    assert np.bincount(y_test).tolist() == [20, 5] and len(x_train) == 75
    assert sorted(np.concatenate([x_train, x_test]).tolist()) == list(range(100))
    first, again, other = (train_test_split(x, y, 0.25, seed=seed)[2] for seed in (1, 1, 2))
    assert np.array_equal(first, again) and not np.array_equal(first, other)
