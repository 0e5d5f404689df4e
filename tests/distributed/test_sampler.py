"""DistributedSampler: PyTorch's partition rules, and the property the doubled-batch match rests on."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dendrite.distributed import DistributedSampler


def _shares(size: int, ranks: int, **options) -> list[list[int]]:
    return [list(DistributedSampler(range(size), num_replicas=ranks, rank=rank, **options))
            for rank in range(ranks)]


@pytest.mark.parametrize("size, ranks", [(10, 2), (11, 2), (11, 3), (3, 4)])
def test_padding_gives_every_rank_ceil_n_over_k_and_covers_every_sample(size, ranks):
    shares = _shares(size, ranks, seed=3)
    expected = -(-size // ranks)
    assert [len(share) for share in shares] == [expected] * ranks
    together = sum(shares, [])
    assert set(together) == set(range(size))
    assert len(together) - len(set(together)) == expected * ranks - size  # the padding's repeats


@pytest.mark.parametrize("size, ranks", [(10, 2), (11, 2), (11, 3)])
def test_drop_last_cuts_to_a_multiple_of_k_without_repeats(size, ranks):
    shares = _shares(size, ranks, seed=3, drop_last=True)
    assert [len(share) for share in shares] == [size // ranks] * ranks
    together = sum(shares, [])
    assert len(set(together)) == len(together)


@pytest.mark.parametrize("size, ranks", [(10, 2), (11, 2), (11, 3), (2, 3)])
def test_without_padding_the_shares_differ_by_at_most_one_and_cover_each_sample_once(size, ranks):
    shares = _shares(size, ranks, seed=3, pad=False)
    assert sorted(sum(shares, [])) == list(range(size))
    assert [len(share) for share in shares] == [len(range(rank, size, ranks)) for rank in range(ranks)]


@pytest.mark.parametrize("pad", [True, False])
def test_batch_j_of_all_ranks_is_batch_j_of_one_process_with_k_times_the_batch(pad):
    size, ranks, batch = 29, 2, 4  # 29: odd, and not a multiple of the global batch
    order = list(DistributedSampler(range(size), num_replicas=1, rank=0, seed=5, pad=pad))
    shares = _shares(size, ranks, seed=5, pad=pad)
    for start in range(0, size - size % (ranks * batch), ranks * batch):  # the full global batches
        j = start // (ranks * batch)
        together = sorted(sum((share[j * batch:(j + 1) * batch] for share in shares), []))
        assert together == sorted(order[start:start + ranks * batch])


def test_each_epoch_has_its_own_order_the_same_on_every_rank():
    samplers = [DistributedSampler(range(20), num_replicas=2, rank=rank, seed=1) for rank in (0, 1)]
    first = [list(sampler) for sampler in samplers]
    for sampler in samplers:
        sampler.set_epoch(1)
    second = [list(sampler) for sampler in samplers]
    assert first != second
    assert sorted(sum(second, [])) == list(range(20))  # still a partition: every rank drew the same order
    assert list(DistributedSampler(range(6), num_replicas=1, rank=0, shuffle=False)) == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("options, message", [
    ({"num_replicas": 2, "rank": 2}, "rank must be in 0..1"),
    ({"num_replicas": 0, "rank": 0}, "num_replicas must be an int >= 1"),
    ({"num_replicas": 2, "rank": 0, "seed": -1}, "seed must be an int >= 0"),
])
def test_bad_arguments_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        DistributedSampler(range(4), **options)


def test_without_init_the_sampler_is_a_job_of_one():
    sampler = DistributedSampler(np.arange(5), shuffle=False)
    assert (sampler.num_replicas, sampler.rank, list(sampler)) == (1, 0, [0, 1, 2, 3, 4])


def test_import_dendrite_does_not_import_mpi4py():
    code = ("import sys, dendrite, dendrite.distributed, dendrite.recipes.classification; "
            "print('mpi4py' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr
