"""``DistributedSampler``: each rank's share of the samples, PyTorch's semantics.

One epoch's order is a permutation drawn from ``seed + epoch`` (the same on every rank,
:meth:`DistributedSampler.set_epoch` moves to the next), padded by repeating its first
indices to a multiple of the number of ranks K (or cut down to one, ``drop_last=True``).
Rank r takes the positions ``r, r + K, r + 2K, ...`` of that order.

Why this matches single-process training with K times the batch: with a per-rank batch of
B, batch j of rank r holds the positions ``K·B·j + r + K·i`` (i < B) of the epoch's order,
so batch j of all ranks together is exactly positions ``K·B·j .. K·B·(j+1) - 1``: the j-th
batch of size K·B that one process reading the same order (``num_replicas=1``) would take.
The gradient of a batch's mean loss depends on the set of samples, not their order, so the
two runs agree step for step (up to floating-point rounding). The match is exact in the
last batch of an epoch too when the dataset's size is a multiple of K; otherwise padding
repeats a few samples there (PyTorch does the same), and ``drop_last=True`` drops them instead.
``pad=False`` does neither: the ranks' shares differ by at most one sample, and with a
:class:`~dendrite.distributed.DistributedTrainer` (which weights each rank's gradient by its
batch size and lets a rank without a last batch take part with none) the match is exact for
every dataset size. ``dendrite train --distributed`` reads its data that way.

The permutation is NumPy's (``numpy.random.default_rng(seed + epoch)``), so it is not the
order PyTorch's sampler would draw for the same seed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sized

import numpy as np

from dendrite.data.sampler import Sampler
from dendrite.distributed import communication

__all__ = ["DistributedSampler"]


def _check_int(name: str, value, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"DistributedSampler: {name} must be an int >= {low}, got {value!r}")
    return int(value)


class DistributedSampler(Sampler):
    """The indices of rank ``rank``'s share of ``dataset``, for a ``DataLoader(sampler=...)``.

    Arguments:
        dataset: anything with a length.
        num_replicas: the number of ranks K (default: the job's world size; 1 without ``init``).
        rank: this rank (default: the job's rank; 0 without ``init``).
        shuffle: a new permutation each epoch (from ``seed + epoch``); ``False``: ``0, 1, 2, ...``.
        seed: the same on every rank.
        drop_last: cut the order down to a multiple of K instead of padding it up.
        pad: ``False``: neither pad nor cut; rank r gets ``ceil((N - r) / K)`` indices.

    Shapes: ``len(sampler)`` is ``ceil(N / K)`` (``floor(N / K)`` with ``drop_last`` when K does not
    divide N); the K ranks' indices together cover the (padded) epoch order once.

    Example:
        >>> [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False)) for r in (0, 1)]
        [[0, 2, 4], [1, 3, 0]]
        >>> sampler = DistributedSampler(range(6), num_replicas=2, rank=0, seed=1)
        >>> first = list(sampler); sampler.set_epoch(1); first != list(sampler)
        True
        >>> uneven = [DistributedSampler(range(5), 2, rank, shuffle=False, pad=False) for rank in (0, 1)]
        >>> [list(sampler) for sampler in uneven]
        [[0, 2, 4], [1, 3]]
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False, pad: bool = True) -> None:
        initialised = communication.is_initialized()
        if num_replicas is None:
            num_replicas = communication.get_world_size() if initialised else 1
        if rank is None:
            rank = communication.get_rank() if initialised else 0
        self.num_replicas = _check_int("num_replicas", num_replicas, 1)
        self.rank = _check_int("rank", rank, 0)
        if self.rank >= self.num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in 0..{self.num_replicas - 1} for "
                             f"num_replicas={self.num_replicas}, got {self.rank}")
        self.dataset = dataset
        self.shuffle, self.drop_last, self.pad = bool(shuffle), bool(drop_last), bool(pad)
        self.seed = _check_int("seed", seed, 0)
        self.epoch = 0
        size = len(dataset)
        if self.drop_last and size % self.num_replicas:
            self.num_samples = math.ceil((size - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(size / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        if not self.pad and not self.drop_last:
            self.total_size = size
            self.num_samples = max(0, math.ceil((size - self.rank) / self.num_replicas))

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s permutation next (call it at the start of every epoch, on every rank).

        The distributed Trainer calls it for you.

        Example:
            >>> sampler = DistributedSampler(range(4), num_replicas=1, rank=0)
            >>> sampler.set_epoch(3); sampler.epoch
            3
        """
        self.epoch = _check_int("epoch", epoch, 0)

    def epoch_indices(self) -> np.ndarray:
        """This rank's indices for the current epoch, as an int64 array."""
        size = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(size).astype(np.int64)
        else:
            order = np.arange(size, dtype=np.int64)
        if self.drop_last:
            order = order[: self.total_size]
        elif self.pad and self.total_size > size and size > 0:
            order = np.resize(order, self.total_size)  # repeats the order from its start: the padding
        return order[self.rank : self.total_size : self.num_replicas]

    def __len__(self) -> int:
        return self.num_samples
