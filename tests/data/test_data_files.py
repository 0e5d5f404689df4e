"""IDX, CIFAR-10 binary and CSV loaders on small files written by the tests."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from dendrite.data import load_cifar10, load_cifar10_batch, load_csv, load_idx, load_mnist


def _idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    dtype = {0x08: ">u1", 0x0D: ">f4", 0x0B: ">i2"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(dtype).tobytes()


def _write_mnist(directory, n_train=6, n_test=4, gz=True):
    rng = np.random.default_rng(0)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 5, 4), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for kind, array in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            data = _idx_bytes(array)
            path = directory / f"{prefix}-{kind}" if not gz else directory / f"{prefix}-{kind}.gz"
            path.write_bytes(gzip.compress(data) if gz else data)
        arrays[prefix] = (images, labels)
    return arrays


def test_idx_round_trip_raw_gzip_and_other_types(tmp_path):
    images = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "raw").write_bytes(_idx_bytes(images))
    (tmp_path / "packed.gz").write_bytes(gzip.compress(_idx_bytes(images)))
    for name in ("raw", "packed.gz"):
        loaded = load_idx(tmp_path / name)
        assert loaded.dtype == np.uint8 and np.array_equal(loaded, images)
    floats = np.array([[1.5, -2.0], [0.25, 8.0]], np.float32)
    (tmp_path / "floats").write_bytes(_idx_bytes(floats, 0x0D))
    loaded = load_idx(tmp_path / "floats")
    assert loaded.dtype == np.float32 and np.array_equal(loaded, floats)
    assert int.from_bytes(_idx_bytes(np.zeros(3, np.uint8))[:4], "big") == 2049  # labels magic
    assert int.from_bytes(_idx_bytes(images)[:4], "big") == 2051  # images magic


def test_idx_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x00\x01\x08\x01" + b"\x00" * 8)
    message = rf"{bad} is not an IDX file: magic number 0x00010801, expected 0x00000801"
    with pytest.raises(ValueError, match=message):
        load_idx(bad)
    truncated = tmp_path / "short-images"
    truncated.write_bytes(_idx_bytes(np.zeros((3, 2, 2), np.uint8))[:-5])
    message = rf"{truncated} has 7 bytes of data but its header says shape \(3, 2, 2\)"
    with pytest.raises(ValueError, match=message):
        load_idx(truncated)
    broken_gzip = tmp_path / "broken.gz"
    broken_gzip.write_bytes(gzip.compress(_idx_bytes(np.zeros(10, np.uint8)))[:-8])
    with pytest.raises(ValueError, match=rf"{broken_gzip} is a damaged gzip file"):
        load_idx(broken_gzip)
    with pytest.raises(FileNotFoundError, match="missing does not exist"):
        load_idx(tmp_path / "missing")


def test_load_mnist(tmp_path):
    arrays = _write_mnist(tmp_path)
    data = load_mnist(tmp_path, name="fashion-mnist")
    assert data.name == "fashion-mnist" and data.num_classes == 10
    assert data.x_train.shape == (6, 5, 4) and data.x_train.dtype == np.float32
    np.testing.assert_allclose(data.x_train, arrays["train"][0] / 255.0, rtol=1e-6)
    assert data.y_test.dtype == np.int64 and data.y_test.tolist() == arrays["t10k"][1].tolist()
    raw = tmp_path / "raw"
    raw.mkdir()
    _write_mnist(raw, gz=False)
    assert load_mnist(raw, scale=False).x_test.dtype == np.uint8


def test_load_mnist_inconsistent_and_missing(tmp_path):
    _write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(np.zeros(3, np.uint8))))
    with pytest.raises(ValueError, match="has 4 images but .*t10k-labels-idx1-ubyte.gz has 3 labels"):
        load_mnist(tmp_path)
    two_d = gzip.compress(_idx_bytes(np.zeros((4, 2), np.uint8)))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(two_d)
    with pytest.raises(ValueError, match=r"expected uint8 labels of shape \(N,\)"):
        load_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="no t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path)


def _cifar_records(labels, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (len(labels), 3, 32, 32), dtype=np.uint8)
    records = np.concatenate([np.asarray(labels, np.uint8)[:, None], images.reshape(len(labels), -1)], 1)
    return images, records.tobytes()


def test_cifar10_batches(tmp_path):
    images1, data1 = _cifar_records([0, 9, 3], 1)
    images2, data2 = _cifar_records([5, 5], 2)
    test_images, test_data = _cifar_records([1], 3)
    (tmp_path / "data_batch_1.bin").write_bytes(data1)
    (tmp_path / "data_batch_2.bin").write_bytes(data2)
    (tmp_path / "test_batch.bin").write_bytes(test_data)
    images, labels = load_cifar10_batch(tmp_path / "data_batch_1.bin")
    assert images.shape == (3, 3, 32, 32) and labels.tolist() == [0, 9, 3]
    np.testing.assert_array_equal(images, images1)  # red plane first, row-major 32x32
    data = load_cifar10(tmp_path)
    assert data.x_train.shape == (5, 3, 32, 32) and data.y_train.tolist() == [0, 9, 3, 5, 5]
    np.testing.assert_allclose(data.x_train[3:], images2 / 255.0, rtol=1e-6)
    np.testing.assert_allclose(data.x_test, test_images / 255.0, rtol=1e-6)
    assert data.info["classes"][9] == "truck"


def test_cifar10_errors(tmp_path):
    _, data = _cifar_records([1, 2], 0)
    truncated = tmp_path / "data_batch_1.bin"
    truncated.write_bytes(data[:-100])
    with pytest.raises(ValueError, match=rf"{truncated} has 6046 bytes, not a whole number of 3073-byte"):
        load_cifar10_batch(truncated)
    _, data = _cifar_records([1, 12], 0)
    truncated.write_bytes(data)
    with pytest.raises(ValueError, match="record 1 has label 12; expected 0..9"):
        load_cifar10_batch(truncated)
    with pytest.raises(FileNotFoundError, match="no test_batch.bin"):
        load_cifar10(tmp_path)
    with pytest.raises(FileNotFoundError, match="no data_batch_1.bin"):
        load_cifar10(tmp_path / "elsewhere")


def test_csv_with_header_text_labels_by_name(tmp_path):
    path = tmp_path / "flowers.csv"
    path.write_text("length,species,width\n1.5,setosa,0.2\n4.7,versicolor,1.4\n1.4,setosa,0.3\n")
    table = load_csv(path, label_column="species")
    x, y = table
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, [[1.5, 0.2], [4.7, 1.4], [1.4, 0.3]], rtol=1e-6)
    assert y.tolist() == [0, 1, 0] and table.classes == ["setosa", "versicolor"]
    assert table.feature_names == ["length", "width"] and table.label_name == "species"


def test_csv_without_header_numeric_labels_and_splits(tmp_path):
    path = tmp_path / "numbers.csv"
    rows = [f"{i},{i * 2},{i % 2}" for i in range(20)]
    path.write_text("\n".join(rows) + "\n")
    x, y = load_csv(path)  # header guessed absent, label = last column
    assert x.shape == (20, 2) and y.dtype == np.int64 and y.tolist() == [i % 2 for i in range(20)]
    splits = load_csv(path, label_column=2, header=False).splits(test_fraction=0.2)
    assert splits.task == "classification" and np.bincount(splits.y_test).tolist() == [2, 2]
    regression = tmp_path / "regression.csv"
    regression.write_text("a;b\n1;0.5\n2;1.5\n3;2.25\n")
    x, y = load_csv(regression, label_column=0, delimiter=";")
    assert y.dtype == np.int64 and x[:, 0].tolist() == [0.5, 1.5, 2.25]
    x, y = load_csv(regression, label_column="b", delimiter=";")
    assert y.dtype == np.float32 and y.tolist() == [0.5, 1.5, 2.25]


def test_csv_errors_name_file_line_and_column(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("a,b,label\n1,2,0\n3,oops,1\n")
    with pytest.raises(ValueError, match=rf"{path} line 3 column 'b' holds 'oops', which is not a number"):
        load_csv(path)
    path.write_text("a,b,label\n1,2,0\n3,4\n")
    with pytest.raises(ValueError, match=rf"{path} line 3 has 2 fields, expected 3"):
        load_csv(path)
    with pytest.raises(ValueError, match=r"no column named 'species'; columns are \['a', 'b', 'label'\]"):
        load_csv(path, label_column="species")
    empty = tmp_path / "empty.csv"
    empty.write_text("\n")
    with pytest.raises(ValueError, match=rf"{empty} is empty"):
        load_csv(empty)
