"""LazyRowsDataset: the samples and batches of TensorDataset, read from an array-like a batch at a time."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite.data import DataLoader, Subset, TensorDataset
from dendrite.data.lazy_rows import LazyRowsDataset


class CountingRows:
    """An array-like that records which rows each read asked for."""

    def __init__(self, array: np.ndarray) -> None:
        self.array, self.reads = array, []

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index):
        self.reads.append(np.asarray(index).tolist())
        return self.array[index]


def _data(n: int = 7):
    x = np.arange(n * 6, dtype=np.float32).reshape(n, 2, 3)
    y = np.arange(n) % 3
    return x, y


def test_samples_and_batches_match_tensor_dataset():
    x, y = _data()
    lazy, eager = LazyRowsDataset(CountingRows(x), y), TensorDataset(x, y)
    assert len(lazy) == 7
    for i in (0, 6, -1):
        for got, want in zip(lazy[i], eager[i]):
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_array_equal(got.array, want.array)
    for got, want in zip(lazy.get_batch([5, 0, 5]), eager.get_batch([5, 0, 5])):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got.array, want.array)
    assert lazy.x.reads[-1] == [5, 0, 5]  # one read for the whole batch


def test_loader_shuffled_batches_match_and_read_only_batches():
    x, y = _data(10)
    rows = CountingRows(x)
    lazy = DataLoader(LazyRowsDataset(rows, y), batch_size=4, shuffle=True, seed=0)
    eager = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=0)
    for _ in range(2):
        for (lx, ly), (ex, ey) in zip(lazy, eager, strict=True):
            np.testing.assert_array_equal(lx.array, ex.array)
            np.testing.assert_array_equal(ly.array, ey.array)
            assert lx.dtype == ex.dtype and ly.dtype == ey.dtype == np.int64
    assert [len(read) for read in rows.reads] == [4, 4, 2] * 2
    assert sorted(sum(rows.reads[:3], [])) == list(range(10))


def test_memmap_rows_keep_their_dtype(tmp_path):
    data = np.arange(24, dtype=np.uint8).reshape(4, 6)
    data.tofile(tmp_path / "rows.bin")
    x = np.memmap(tmp_path / "rows.bin", dtype=np.uint8, mode="r", shape=(4, 6))
    inputs, targets = LazyRowsDataset(x, [1.0, 2.0, 3.0, 4.0]).get_batch(np.array([2, 1]))
    assert type(inputs.array) is np.ndarray and inputs.dtype == np.uint8
    np.testing.assert_array_equal(inputs.array, data[[2, 1]])
    assert targets.dtype == TensorDataset(data, [1.0, 2.0, 3.0, 4.0]).tensors[1].dtype == np.float32
    assert targets.tolist() == [3.0, 2.0]
    del x, inputs


def test_inputs_only_transforms_subset_and_empty_batch():
    x, y = _data(4)
    alone = LazyRowsDataset(x)
    (batch,) = alone.get_batch([1, 3])
    np.testing.assert_array_equal(batch.array, x[[1, 3]])
    assert len(alone[0]) == 1
    doubled = LazyRowsDataset(x, y, transform=lambda row: row * 2, target_transform=lambda t: t + 10)
    eager = TensorDataset(x, y, transform=lambda row: row * 2, target_transform=lambda t: t + 10)
    for got, want in zip(doubled.get_batch([3, 0]), eager.get_batch([3, 0])):
        np.testing.assert_array_equal(got.array, want.array)
    for got, want in zip(doubled[2], eager[2]):
        np.testing.assert_array_equal(got.array, want.array)
    part = Subset(LazyRowsDataset(x, y), [3, 1])
    assert part.batch_indexable and part.get_batch([1])[0].tolist() == x[[1]].tolist()
    empty = LazyRowsDataset(x, y).get_batch([])
    assert empty[0].shape == (0, 2, 3) and empty[1].shape == (0,)


def test_tensor_inputs_and_errors():
    x, y = _data(3)
    from_tensor = LazyRowsDataset(dendrite.tensor(x), y)
    np.testing.assert_array_equal(from_tensor.get_batch([2])[0].array, x[[2]])
    with pytest.raises(ValueError, match="y has 2 rows .* but x has 3"):
        LazyRowsDataset(x, y[:2])
    with pytest.raises(IndexError, match="index 3 is out of range for 3 samples"):
        LazyRowsDataset(x, y)[3]
    with pytest.raises(TypeError, match="needs __len__ and __getitem__"):
        LazyRowsDataset(42, y)
    with pytest.raises(TypeError, match="use get_batch"):
        LazyRowsDataset(x, y)[[0, 1]]
    with pytest.raises(ValueError, match="target_transform needs targets"):
        LazyRowsDataset(x, target_transform=abs)
    assert repr(LazyRowsDataset(x, y)) == "LazyRowsDataset(ndarray (3, 2, 3), y (3,))"
