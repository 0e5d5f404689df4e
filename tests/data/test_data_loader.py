"""Samplers, collation and the DataLoader (fast path, reproducibility, lengths)."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import dendrite
from dendrite.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    balanced_weights,
    default_collate,
)


def _data(n=10):
    return TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


class _Plain(Dataset):
    """The same samples as ``_data`` but without get_batch: forces the collate path."""

    def __init__(self, n=10):
        self.inner = _data(n)

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, index):
        x, y = self.inner[index]
        return x.numpy(), int(y)


def _order(loader):
    return [y.tolist() for _, y in loader]


# ----------------------------------------------------------------------------- samplers
def test_sequential_and_random_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    order = list(RandomSampler(range(50), seed=0))
    assert sorted(order) == list(range(50)) and order != list(range(50))
    assert list(RandomSampler(range(50), seed=0)) == order
    with_replacement = list(RandomSampler(range(5), replacement=True, num_samples=40, seed=0))
    assert len(with_replacement) == 40 and len(set(with_replacement)) < 40
    chained = list(RandomSampler(range(3), num_samples=7, seed=0))
    assert len(chained) == 7 and sorted(chained[:3]) == [0, 1, 2]


def test_random_sampler_owned_generator_gives_new_epochs_that_repeat():
    sampler = RandomSampler(range(30), seed=5)
    epochs = [list(sampler), list(sampler)]
    assert epochs[0] != epochs[1]
    again = RandomSampler(range(30), seed=5)
    assert [list(again), list(again)] == epochs


def test_subset_random_sampler():
    order = list(SubsetRandomSampler([4, 8, 15, 16, 23, 42], seed=0))
    assert sorted(order) == [4, 8, 15, 16, 23, 42]


def test_weighted_sampler_balances_rare_class():
    labels = np.array([0] * 950 + [1] * 50)
    drawn = np.array(list(WeightedRandomSampler(balanced_weights(labels), 4000, seed=0)))
    share = (labels[drawn] == 1).mean()
    assert 0.45 < share < 0.55  # ~5% without weighting
    no_replacement = list(WeightedRandomSampler([1, 1, 0, 1], 3, replacement=False, seed=0))
    assert sorted(no_replacement) == [0, 1, 3]


def test_weighted_sampler_errors():
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="without replacement from 2 samples"):
        WeightedRandomSampler([1, 0, 1], 3, replacement=False)
    with pytest.raises(ValueError, match="num_samples"):
        WeightedRandomSampler([1, 1], 0)


def test_batch_sampler():
    batches = list(BatchSampler(SequentialSampler(range(7)), 3, drop_last=False))
    assert batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        BatchSampler(range(3), 0, False)


# ----------------------------------------------------------------------------- collate
def test_default_collate_structures_and_dtypes():
    Pair = collections.namedtuple("Pair", "image label")
    batch = default_collate([Pair(np.zeros((2, 2), np.float64), 3), Pair(np.ones((2, 2), np.float64), 4)])
    assert isinstance(batch, Pair)
    assert batch.image.shape == (2, 2, 2) and batch.image.dtype == dendrite.float64
    assert batch.label.dtype == dendrite.int64 and batch.label.tolist() == [3, 4]
    mapped = default_collate([{"x": 1.5, "name": "a"}, {"x": 2.5, "name": "b"}])
    assert mapped["x"].dtype == dendrite.float32 and mapped["name"] == ["a", "b"]
    assert default_collate([True, False]).dtype == dendrite.bool
    assert default_collate([np.int32(1), np.int32(2)]).dtype == dendrite.int32
    assert default_collate([1, 2.5]).dtype == dendrite.float32  # a float anywhere makes floats
    tensors = default_collate([dendrite.ones(3), dendrite.zeros(3)])
    assert tensors.shape == (2, 3)


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match=r"sample 1 has shape \(3,\) but sample 0 has \(2,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="sample 1 has 1 elements but sample 0 has 2"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="not supported"):
        default_collate([object(), object()])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])


# ----------------------------------------------------------------------------- loader
def test_loader_batches_and_len():
    loader = DataLoader(_data(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [tuple(x.shape) for x, _ in batches] == [(4, 2), (4, 2), (2, 2)]
    assert batches[0][1].tolist() == [0, 1, 2, 3]
    dropped = DataLoader(_data(10), batch_size=4, drop_last=True)
    assert len(dropped) == 2 == len(list(dropped))


def test_fast_path_is_used_and_matches_collate_path():
    fast = DataLoader(_data(10), batch_size=3, shuffle=True, seed=1)
    slow = DataLoader(_Plain(10), batch_size=3, shuffle=True, seed=1)
    assert fast.uses_fast_path and not slow.uses_fast_path
    for (xf, yf), (xs, ys) in zip(fast, slow):
        assert xf.tolist() == xs.tolist() and yf.tolist() == ys.tolist()
        assert xf.dtype == xs.dtype and yf.dtype == ys.dtype
    assert DataLoader(Subset(_data(10), [1, 2, 3]), batch_size=2).uses_fast_path
    collated = DataLoader(_data(10), batch_size=4, collate_fn=default_collate)
    assert not collated.uses_fast_path
    for (xc, yc), (xf, yf) in zip(collated, DataLoader(_data(10), batch_size=4)):
        assert xc.tolist() == xf.tolist() and yc.tolist() == yf.tolist() and yc.dtype == yf.dtype


def test_fast_path_avoids_per_sample_getitem():
    class Counting(TensorDataset):
        calls = 0

        def __getitem__(self, index):
            Counting.calls += 1
            return super().__getitem__(index)

    loader = DataLoader(Counting(np.zeros((100, 2)), np.zeros(100)), batch_size=10, shuffle=True, seed=0)
    assert sum(len(y) for _, y in loader) == 100
    assert Counting.calls == 0


def test_shuffle_is_reproducible_with_seed_generator_and_manual_seed():
    first = _order(DataLoader(_data(20), batch_size=5, shuffle=True, seed=7))
    assert sorted(sum(first, [])) == list(range(20)) and sum(first, []) != list(range(20))
    assert _order(DataLoader(_data(20), batch_size=5, shuffle=True, seed=7)) == first
    rng = np.random.default_rng(7)
    assert _order(DataLoader(_data(20), batch_size=5, shuffle=True, generator=rng)) == first
    assert _order(DataLoader(_data(20), batch_size=5, shuffle=True, seed=8)) != first

    dendrite.manual_seed(0)
    loader = DataLoader(_data(20), batch_size=5, shuffle=True)
    epochs = [_order(loader), _order(loader)]
    assert epochs[0] != epochs[1]  # each epoch derives a new order
    dendrite.manual_seed(0)
    loader = DataLoader(_data(20), batch_size=5, shuffle=True)
    assert [_order(loader), _order(loader)] == epochs


def test_loader_with_seed_differs_across_epochs_but_repeats_as_a_run():
    loader = DataLoader(_data(20), batch_size=20, shuffle=True, seed=3)
    run = [_order(loader) for _ in range(3)]
    assert run[0] != run[1]
    again = DataLoader(_data(20), batch_size=20, shuffle=True, seed=3)
    assert [_order(again) for _ in range(3)] == run


def test_loader_with_samplers():
    sampler = WeightedRandomSampler([0.0] * 5 + [1.0] * 5, num_samples=20, seed=0)
    loader = DataLoader(_data(10), batch_size=4, sampler=sampler)
    labels = sum(_order(loader), [])
    assert len(labels) == 20 and min(labels) >= 5 and len(loader) == 5
    batch_sampler = BatchSampler(SequentialSampler(range(10)), 6, drop_last=False)
    assert _order(DataLoader(_data(10), batch_sampler=batch_sampler)) == [list(range(6)), list(range(6, 10))]


def test_loader_batch_size_none_yields_samples():
    loader = DataLoader(_Plain(3), batch_size=None)
    samples = list(loader)
    assert len(loader) == 3 and samples[2][0].shape == (2,) and samples[2][1] == 2
    assert isinstance(samples[0][0], dendrite.Tensor)


def test_loader_argument_errors():
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(_data(), sampler=SequentialSampler(range(10)), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler is mutually exclusive"):
        DataLoader(_data(), batch_size=4, batch_sampler=BatchSampler(range(10), 2, False))
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(_data(), batch_size=0)
    with pytest.raises(TypeError, match="needs __len__ and __getitem__"):
        DataLoader(iter(range(3)))
    with pytest.warns(UserWarning, match="num_workers=2 is ignored"):
        DataLoader(_data(), num_workers=2)
