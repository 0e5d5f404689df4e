"""Iterable-style datasets: a stream of samples with no indexing (PyTorch's ``IterableDataset``).

A map-style :class:`~dendrite.data.Dataset` answers ``dataset[i]``; an
:class:`IterableDataset` only answers ``iter(dataset)`` — right for data read
from a file or a generator as it comes. The :class:`~dendrite.data.DataLoader`
batches consecutive samples of one pass; shuffling, samplers and batch
samplers need indices, so, as in PyTorch, they are refused for it.

dendrite makes batches in the calling process (no worker processes), so
:func:`get_worker_info` is always ``None``, PyTorch's answer in the main
process: code that splits a stream between workers takes its single-process
branch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from dendrite.data.dataset import Dataset

__all__ = ["IterableDataset", "ChainDataset", "get_worker_info"]


class IterableDataset(Dataset):
    """Base class of iterable-style datasets: define ``__iter__()`` yielding samples.

    ``a + b`` chains two iterable datasets (a :class:`ChainDataset`).

    Example:
        >>> from dendrite.data import DataLoader
        >>> class Counting(IterableDataset):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self): return iter(range(self.n))
        >>> list(DataLoader(Counting(5), batch_size=2))
        [tensor([0, 1]), tensor([2, 3]), tensor([4])]
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__()")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it has no dataset[i]; iterate over "
                        f"it (for sample in dataset) or load it with a DataLoader")

    def __len__(self) -> int:
        raise TypeError(f"object of type {type(self).__name__!r} has no len(): an IterableDataset may define "
                        f"__len__ when it knows its length")

    def __add__(self, other: IterableDataset) -> ChainDataset:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets one after another: every sample of the first, then of the second...

    Example:
        >>> class Counting(IterableDataset):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self): return iter(range(self.n))
        >>> list(ChainDataset([Counting(2), Counting(3)]))
        [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets: Iterable[IterableDataset]) -> None:
        self.datasets = list(datasets)
        for position, dataset in enumerate(self.datasets):
            if not isinstance(dataset, IterableDataset):
                raise TypeError(f"ChainDataset only chains IterableDatasets; dataset {position} is a "
                                f"{type(dataset).__name__}")

    def __iter__(self) -> Iterator:
        for dataset in self.datasets:
            yield from dataset

    def __len__(self) -> int:
        return sum(len(dataset) for dataset in self.datasets)


def get_worker_info() -> None:
    """``None``: dendrite loads data in the calling process, PyTorch's main-process answer.

    Example:
        >>> from dendrite.data import get_worker_info
        >>> get_worker_info() is None
        True
    """
    return None
