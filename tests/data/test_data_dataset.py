"""Dataset, TensorDataset, Subset, ConcatDataset, random_split."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite.data import ConcatDataset, Dataset, Subset, TensorDataset, random_split


def _data(n=10):
    return TensorDataset(np.arange(n * 3, dtype=np.float32).reshape(n, 3), np.arange(n))


def test_tensor_dataset_item_and_len():
    data = _data()
    assert len(data) == 10
    x, y = data[4]
    assert isinstance(x, dendrite.Tensor) and isinstance(y, dendrite.Tensor)
    assert x.shape == (3,) and y.shape == ()
    assert x.tolist() == [12.0, 13.0, 14.0] and int(y) == 4
    assert int(data[-1][1]) == 9


def test_tensor_dataset_accepts_tensors_and_shares_numpy_memory():
    features = np.zeros((4, 2), np.float32)
    data = TensorDataset(features, dendrite.arange(4))
    features[1, 0] = 7.0  # wrapped without a copy
    assert data[1][0].tolist() == [7.0, 0.0]
    assert data[1][1].dtype == dendrite.int64


def test_tensor_dataset_get_batch_equals_items():
    data = _data()
    indices = [7, 2, 2, 9]
    xb, yb = data.get_batch(indices)
    assert xb.shape == (4, 3) and yb.shape == (4,)
    for row, index in enumerate(indices):
        assert xb[row].tolist() == data[index][0].tolist()
        assert int(yb[row]) == int(data[index][1])


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match=r"tensor 1 has 3 rows .* tensor 0 has 4"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(IndexError, match="out of range for 10 samples"):
        _data()[10]


def test_tensor_dataset_transforms_apply_per_sample_in_both_paths():
    data = TensorDataset(np.ones((3, 2), np.float32), np.arange(3),
                         transform=lambda x: x * 2, target_transform=lambda y: y + 10)
    x, y = data[1]
    assert x.tolist() == [2.0, 2.0] and int(y) == 11
    xb, yb = data.get_batch([0, 2])
    assert xb.tolist() == [[2.0, 2.0], [2.0, 2.0]] and yb.tolist() == [10, 12]


def test_subset_and_its_batch_path():
    data = _data()
    part = Subset(data, [5, 1, 8])
    assert len(part) == 3 and int(part[0][1]) == 5 and int(part[-1][1]) == 8
    assert part.batch_indexable
    assert part.get_batch([2, 0])[1].tolist() == [8, 5]
    with pytest.raises(IndexError, match="index 10 is out of range"):
        Subset(data, [1, 10])


def test_concat_dataset():
    both = ConcatDataset([_data(3), _data(2)])
    assert len(both) == 5
    assert [int(both[i][1]) for i in range(5)] == [0, 1, 2, 0, 1]
    assert int(both[-1][1]) == 1
    assert len(_data(3) + _data(4)) == 7
    with pytest.raises(IndexError):
        both[5]


def test_base_dataset_requires_methods():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]


def test_random_split_counts_fractions_and_disjointness():
    data = _data(10)
    parts = random_split(data, [0.7, 0.3], seed=0)
    assert [len(p) for p in parts] == [7, 3]
    seen = sorted(int(p[i][1]) for p in parts for i in range(len(p)))
    assert seen == list(range(10))
    # Fractions that do not divide evenly: leftovers go to the first parts, as in PyTorch.
    assert [len(p) for p in random_split(_data(10), [1 / 3] * 3, seed=0)] == [4, 3, 3]


def test_random_split_is_reproducible():
    first = [p.indices.tolist() for p in random_split(_data(20), [15, 5], seed=3)]
    rng = np.random.default_rng(3)
    second = [p.indices.tolist() for p in random_split(_data(20), [15, 5], generator=rng)]
    assert first == second
    dendrite.manual_seed(11)
    third = [p.indices.tolist() for p in random_split(_data(20), [15, 5])]
    dendrite.manual_seed(11)
    fourth = [p.indices.tolist() for p in random_split(_data(20), [15, 5])]
    assert third == fourth
    assert first != [p.indices.tolist() for p in random_split(_data(20), [15, 5], seed=4)]


def test_random_split_errors():
    with pytest.raises(ValueError, match="sum to 9 but the dataset has 10"):
        random_split(_data(10), [5, 4])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(_data(10), [0.5, 0.4])
    with pytest.raises(ValueError, match="either generator= or seed="):
        random_split(_data(10), [5, 5], generator=1, seed=1)
