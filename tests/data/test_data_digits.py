"""The shipped 8x8 digits: split, scaling, checksum, and agreement with its source."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dendrite.data import ChecksumError, load_digits
from dendrite.data.digits import DIGITS_PATH, DIGITS_SHA256, sha256_of

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_digits.py"


def test_shapes_dtypes_and_scaling():
    data = load_digits()
    assert data.x_train.shape == (1437, 8, 8) and data.x_test.shape == (360, 8, 8)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.num_classes == 10 and data.input_shape == (8, 8) and data.task == "classification"
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    np.testing.assert_array_equal(data.x_train * 16, np.round(data.x_train * 16))  # raw values were 0..16
    raw = load_digits(scale=False)
    assert raw.x_train.dtype == np.uint8 and raw.x_train.max() == 16
    np.testing.assert_array_equal(raw.x_train.astype(np.float32) / 16, data.x_train)


def test_stratified_360_image_test_split():
    data = load_digits()
    test_counts = np.bincount(data.y_test, minlength=10)
    total_counts = test_counts + np.bincount(data.y_train, minlength=10)
    assert test_counts.sum() == 360
    assert total_counts.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # Largest-remainder shares of 20%: 360 * count / 1797, each within one image.
    assert np.all(np.abs(test_counts - 360 * total_counts / 1797) < 1)
    assert test_counts.tolist() == [36, 37, 35, 37, 36, 36, 36, 36, 35, 36]


def test_checksum_is_verified(tmp_path):
    assert sha256_of(DIGITS_PATH) == DIGITS_SHA256
    copy = tmp_path / "digits.npz"
    shutil.copyfile(DIGITS_PATH, copy)
    assert load_digits(copy).x_test.shape == (360, 8, 8)
    damaged = bytearray(copy.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    copy.write_bytes(bytes(damaged))
    with pytest.raises(ChecksumError, match=f"{copy}.*SHA-256 [0-9a-f]{{64}}, expected {DIGITS_SHA256}"):
        load_digits(copy)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npz does not exist"):
        load_digits(tmp_path / "nothing.npz")


def test_loading_works_with_scikit_learn_unavailable():
    code = (
        "import sys; sys.modules['sklearn'] = None\n"  # any import of sklearn now fails
        "from dendrite.data import load_digits\n"
        "assert load_digits().x_test.shape == (360, 8, 8)\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _script():
    spec = importlib.util.spec_from_file_location("make_digits", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rebuild_reproduces_the_shipped_file_and_matches_scikit_learn():
    datasets = pytest.importorskip("sklearn.datasets")
    import hashlib

    assert hashlib.sha256(_script().build()).hexdigest() == DIGITS_SHA256
    bunch = datasets.load_digits()
    with np.load(DIGITS_PATH, allow_pickle=False) as archive:
        for part in ("train", "test"):
            index = archive[f"index_{part}"]
            np.testing.assert_array_equal(archive[f"x_{part}"], bunch.images[index].astype(np.uint8))
            np.testing.assert_array_equal(archive[f"y_{part}"], bunch.target[index])
        assert sorted(np.concatenate([archive["index_train"], archive["index_test"]]).tolist()) == list(
            range(1797)
        )
