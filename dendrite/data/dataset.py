"""Datasets: indexable collections of samples (PyTorch's ``torch.utils.data`` vocabulary).

A *map-style* dataset answers ``len(dataset)`` and ``dataset[i]``. The ones
here:

* :class:`TensorDataset` wraps arrays/tensors that share their first dimension;
  ``dataset[i]`` is a tuple of the ``i``-th rows. It also answers
  :meth:`TensorDataset.get_batch`, one fancy-index per array for a whole batch,
  which :class:`~dendrite.data.DataLoader` uses instead of a Python loop over
  samples (the difference is large for small models, whose training step costs
  about as much as collating a batch sample by sample).
* :class:`Subset` (a view through a list of indices), :class:`ConcatDataset`
  (datasets one after another) and :func:`random_split`.
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np

from dendrite.backend import xp
from dendrite.creation import as_tensor
from dendrite.data._random import resolve_generator
from dendrite.tensor import Tensor, wrap


class Dataset:
    """Base class of map-style datasets: define ``__getitem__(index)`` and ``__len__()``.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self): return 4
        ...     def __getitem__(self, i): return float(i), float(i * i)
        >>> Squares()[3]
        (3.0, 9.0)
    """

    #: True when the dataset has ``get_batch(indices)`` returning a collated batch.
    batch_indexable = False

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _as_tensor(data, position: int) -> Tensor:
    if isinstance(data, Tensor):
        return data.detach()
    try:
        return as_tensor(data)  # shares memory with a NumPy array
    except TypeError as error:
        raise TypeError(f"TensorDataset: tensor {position} could not be made a tensor: {error}") from None


class TensorDataset(Dataset):
    """Samples are rows of tensors (or arrays) that share their first dimension.

    Args:
        *tensors: dendrite tensors, NumPy arrays or nested lists, each of shape ``(N, ...)``.
            Arrays are wrapped without a copy.
        transform: optional callable applied to each sample of the first tensor (an array of
            shape ``(...)``), e.g. a :class:`~dendrite.data.transforms.Compose` of augmentations.
        target_transform: optional callable applied to each sample of the second tensor.

    ``dataset[i]`` is a tuple of tensors ``(x[i], y[i], ...)``; ``get_batch([i, j, k])`` is
    the tuple of stacked rows ``(x[[i, j, k]], ...)``.

    Example:
        >>> import numpy as np
        >>> data = TensorDataset(np.zeros((5, 3), np.float32), np.arange(5))
        >>> x, y = data[2]
        >>> x.shape, int(y)
        ((3,), 2)
        >>> [t.shape for t in data.get_batch([0, 4])]
        [(2, 3), (2,)]
    """

    batch_indexable = True

    def __init__(self, *tensors, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, e.g. TensorDataset(x, y)")
        self.tensors = tuple(_as_tensor(data, position) for position, data in enumerate(tensors))
        for position, tensor in enumerate(self.tensors):
            if tensor.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {position} is a 0-d scalar; expected shape (N, ...)"
                )
            if tensor.shape[0] != self.tensors[0].shape[0]:
                raise ValueError(
                    f"TensorDataset: tensor {position} has {tensor.shape[0]} rows (shape "
                    f"{tuple(tensor.shape)}) but tensor 0 has {self.tensors[0].shape[0]} (shape "
                    f"{tuple(self.tensors[0].shape)}); expected the same size in dimension 0"
                )
        if target_transform is not None and len(self.tensors) < 2:
            raise ValueError("TensorDataset: target_transform needs a second tensor (the targets)")
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _transforms(self) -> list:
        return [self.transform, self.target_transform] + [None] * (len(self.tensors) - 2)

    def __getitem__(self, index) -> tuple:
        if isinstance(index, numbers.Integral):
            length = len(self)
            if not -length <= index < length:
                raise IndexError(f"TensorDataset index {index} is out of range for {length} samples")
            index = (int(index), Ellipsis)  # ``a[i, ...]`` keeps a 0-d array, not a NumPy scalar
        elif isinstance(index, Tensor):
            index = index.array
        sample = []
        for tensor, transform in zip(self.tensors, self._transforms()):
            row = tensor.array[index]
            if transform is not None:
                row = transform(row)
            sample.append(row if isinstance(row, Tensor) else wrap(xp.asarray(row)))
        return tuple(sample)

    def get_batch(self, indices) -> tuple:
        """The samples at ``indices`` stacked: a tuple of tensors of shape ``(len(indices), ...)``."""
        indices = xp.asarray(indices, dtype=xp.int64)
        batch = []
        for tensor, transform in zip(self.tensors, self._transforms()):
            rows = tensor.array[indices]  # one fancy-index: a fresh copy of the batch
            if transform is not None:
                rows = xp.stack([_array_of(transform(row)) for row in rows]) if len(rows) else rows
            batch.append(wrap(rows))
        return tuple(batch)

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return f"TensorDataset({shapes})"


def _array_of(value):
    return value.array if isinstance(value, Tensor) else xp.asarray(value)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (no copy of the data).

    Example:
        >>> import numpy as np
        >>> part = Subset(TensorDataset(np.arange(10)), [7, 3])
        >>> len(part), int(part[0][0])
        (2, 7)
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        indices = np.asarray(indices)
        if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
            raise TypeError(
                f"Subset: indices must be a 1-d sequence of ints, got shape {indices.shape} "
                f"dtype {indices.dtype}"
            )
        indices = indices.astype(np.int64)
        length = len(dataset)
        if indices.size and (indices.min() < -length or indices.max() >= length):
            bad = indices[(indices < -length) | (indices >= length)][0]
            raise IndexError(f"Subset: index {bad} is out of range for a dataset of {length} samples")
        self.indices = indices

    @property
    def batch_indexable(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.dataset, "batch_indexable", False))

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[int(self.indices[i])] for i in index]
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices) -> tuple:
        """Delegates to the wrapped dataset's ``get_batch`` (when it has one): shapes ``(len(indices), ...)``.

        Example:
            >>> import numpy as np
            >>> part = Subset(TensorDataset(np.arange(10), np.arange(10) * 2), [7, 3, 5])
            >>> [t.tolist() for t in part.get_batch([0, 2])]
            [[7, 5], [14, 10]]
        """
        if not self.batch_indexable:
            raise TypeError(f"Subset: the wrapped {type(self.dataset).__name__} has no get_batch")
        return self.dataset.get_batch(self.indices[np.asarray(indices, dtype=np.int64)])


class ConcatDataset(Dataset):
    """Several datasets one after another: indices ``0 .. len(a)-1`` are ``a``'s, then ``b``'s...

    Example:
        >>> import numpy as np
        >>> both = ConcatDataset([TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 12))])
        >>> len(both), int(both[3][0])
        (5, 10)
    """

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        self.cumulative_sizes = []
        total = 0
        for dataset in self.datasets:
            total += len(dataset)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        length = len(self)
        if not -length <= index < length:
            raise IndexError(f"ConcatDataset index {index} is out of range for {length} samples")
        index = index % length
        part = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[part - 1] if part else 0
        return self.datasets[part][index - start]


def _split_lengths(lengths: Sequence, total: int) -> list[int]:
    """Integer lengths; fractions summing to 1 become counts (the remainder goes round-robin)."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty; expected e.g. [800, 200] or [0.8, 0.2]")
    if all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in lengths):
        if any(n < 0 for n in lengths) or sum(lengths) != total:
            raise ValueError(
                f"random_split: lengths {lengths} sum to {sum(lengths)} but the dataset has {total} "
                "samples; expected non-negative lengths summing to the dataset size (or fractions "
                "summing to 1)"
            )
        return [int(n) for n in lengths]
    fractions = [float(f) for f in lengths]
    if any(f < 0 or f > 1 for f in fractions) or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise ValueError(
            f"random_split: fractions {fractions} must each be in [0, 1] and sum to 1 "
            f"(they sum to {sum(fractions):g})"
        )
    counts = [math.floor(total * f) for f in fractions]
    for i in range(total - sum(counts)):  # as PyTorch: leftovers one each, from the first split on
        counts[i % len(counts)] += 1
    return counts


def random_split(dataset: Dataset, lengths: Sequence, generator=None, *, seed: int | None = None) -> list:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given lengths.

    Args:
        lengths: counts summing to ``len(dataset)`` or fractions summing to 1.
        generator / seed: a ``dendrite.Generator``, ``numpy.random.Generator`` or int; without
            either, one is derived from dendrite's global generator (so ``dendrite.manual_seed``
            fixes the split).

    Example:
        >>> import numpy as np
        >>> train, test = random_split(TensorDataset(np.arange(10)), [0.8, 0.2], seed=0)
        >>> len(train), len(test)
        (8, 2)
    """
    counts = _split_lengths(lengths, len(dataset))
    order = resolve_generator(generator, seed, "random_split").permutation(len(dataset))
    parts, start = [], 0
    for count in counts:
        parts.append(Subset(dataset, order[start:start + count]))
        start += count
    return parts
