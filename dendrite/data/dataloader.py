"""``DataLoader``: iterate over a dataset in (shuffled) batches of tensors.

The loader asks its batch sampler for lists of indices and turns each list
into a batch. Two ways to do that:

* the fast path: the dataset answers ``get_batch(indices)`` (a
  :class:`~dendrite.data.TensorDataset`, or a :class:`~dendrite.data.Subset` of
  one) and no ``collate_fn`` was given -> one fancy-index per array;
* otherwise ``collate_fn([dataset[i] for i in indices])``, by default
  :func:`~dendrite.data.default_collate`.

Both give the same batches (a tuple of tensors for a ``TensorDataset``).
Batches are made in the calling process: ``num_workers`` is accepted for
PyTorch compatibility and ignored (with a warning when non-zero).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from dendrite.data._random import make_generator
from dendrite.data.collate import default_collate, default_convert
from dendrite.data.iterable import IterableDataset
from dendrite.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


class DataLoader:
    """Batches of a map-style dataset, optionally shuffled, as dendrite tensors.

    Args:
        dataset: anything with ``__len__`` and ``__getitem__`` (e.g. a ``TensorDataset``), or an
            :class:`~dendrite.data.IterableDataset` (batches of consecutive samples; no shuffle).
        batch_size: samples per batch; ``None`` yields single samples (no batch dimension).
        shuffle: a new random order every epoch (a :class:`RandomSampler`).
        sampler: the order of indices (excludes ``shuffle``).
        batch_sampler: yields whole lists of indices (excludes batch_size/shuffle/sampler/drop_last).
        collate_fn: merges a list of samples into a batch (default :func:`default_collate`).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        generator / seed: the shuffle's randomness: a ``dendrite.Generator``,
            ``numpy.random.Generator`` or int seed (made once: epochs differ, the run repeats).
            Without either, each epoch derives a generator from dendrite's global one when
            iteration starts, so
            ``dendrite.manual_seed(s)`` before training fixes every epoch's order.

    Shapes: for ``TensorDataset(x, y)`` with ``x`` of shape ``(N, ...)``, each batch is a tuple
    ``(x_batch, y_batch)`` of shapes ``(B, ...)`` and ``(B,)``; ``len(loader)`` is the number
    of batches per epoch.

    Example:
        >>> import numpy as np
        >>> from dendrite.data import TensorDataset
        >>> data = TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
        >>> loader = DataLoader(data, batch_size=2, shuffle=True, seed=0)
        >>> len(loader), [tuple(x.shape) for x, y in loader]
        (3, [(2, 2), (2, 2), (1, 2)])
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = False,
                 sampler: Sampler | None = None, batch_sampler: Sampler | None = None,
                 num_workers: int = 0, collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, generator=None, *, seed: int | None = None) -> None:
        if num_workers:
            warnings.warn(
                f"DataLoader: num_workers={num_workers} is ignored; dendrite makes batches in the "
                "calling process (TensorDataset batches are one fancy-index each)",
                stacklevel=2,
            )
        if batch_size is not None and (
            not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size <= 0
        ):
            raise ValueError(f"DataLoader: batch_size must be a positive int or None, got {batch_size!r}")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler "
                    "and drop_last; leave those at their defaults"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: drop_last=True needs a batch_size (got batch_size=None)")
        if sampler is not None and shuffle:
            raise ValueError(
                "DataLoader: sampler and shuffle=True are mutually exclusive; the sampler decides the order"
            )
        if isinstance(dataset, IterableDataset):
            # A stream has no indices: the options that choose indices are refused, as in PyTorch.
            options = (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler))
            for option, value in options:
                if value is not None and value is not False:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {option} "
                                     f"option, but got {option}={value!r}")
        elif not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader: dataset of type {type(dataset).__name__} needs __len__ and __getitem__ "
                "(a map-style dataset)"
            )
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.generator = make_generator(generator, seed, "DataLoader")
        if isinstance(dataset, IterableDataset):
            self.sampler = self.batch_sampler = None
            self.collate_fn = collate_fn
            return
        if sampler is None:
            if shuffle:
                sampler = RandomSampler(dataset, generator=self.generator)
            else:
                sampler = SequentialSampler(dataset)
        self.sampler = sampler
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, self.drop_last)
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn

    @property
    def uses_fast_path(self) -> bool:
        """True when batches come from ``dataset.get_batch`` (one fancy-index per array)."""
        return (
            self.collate_fn is None
            and self.batch_sampler is not None
            and bool(getattr(self.dataset, "batch_indexable", False))
        )

    def __iter__(self) -> Iterator[Any]:
        dataset = self.dataset
        if isinstance(dataset, IterableDataset):
            yield from self._iterate_stream(dataset)
            return
        if self.batch_sampler is None:  # batch_size=None: one sample at a time
            convert = self.collate_fn or default_convert
            for index in self.sampler:
                yield convert(dataset[index])
            return
        if self.uses_fast_path:
            for indices in self.batch_sampler:
                yield dataset.get_batch(indices)
            return
        collate = self.collate_fn or default_collate
        for indices in self.batch_sampler:
            yield collate([dataset[index] for index in indices])

    def _iterate_stream(self, dataset: IterableDataset) -> Iterator[Any]:
        """Consecutive samples of one pass, ``batch_size`` at a time (the last one shorter unless dropped)."""
        if self.batch_size is None:
            convert = self.collate_fn or default_convert
            yield from (convert(sample) for sample in dataset)
            return
        collate, batch = self.collate_fn or default_collate, []
        for sample in dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield collate(batch)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):  # known only when the stream knows its length
            length = len(self.dataset)
            if self.batch_size is None:
                return length
            return length // self.batch_size if self.drop_last else -(-length // self.batch_size)
        if self.batch_sampler is None:
            return len(self.sampler)
        return len(self.batch_sampler)

    def __repr__(self) -> str:
        if isinstance(self.dataset, IterableDataset):
            return f"DataLoader({type(self.dataset).__name__} (iterable), batch_size={self.batch_size})"
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
            f"sampler={type(self.sampler).__name__}, drop_last={self.drop_last})"
        )
