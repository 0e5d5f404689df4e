"""Samplers: which sample indices an epoch visits, in which order, and how they are batched.

Every sampler yields Python ints and knows its length. Internally each one
produces the whole epoch's order as one NumPy array (:meth:`Sampler.epoch_indices`),
so :class:`BatchSampler` cuts batches with slices rather than a Python loop over
samples.

Randomness (see :mod:`dendrite.data._random`): with ``generator=`` / ``seed=``
the sampler owns a generator made once, so successive epochs differ but the
whole sequence repeats; without, each epoch derives a generator from dendrite's
global one when iteration starts, so ``dendrite.manual_seed`` fixes the order.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from dendrite.data._random import derive_generator, make_generator
from dendrite.tensor import Tensor


class Sampler:
    """Base class: define ``__iter__`` (yielding indices) and ``__len__``, or ``epoch_indices``.

    Example:
        >>> class Backwards(Sampler):
        ...     def __init__(self, n): self.n = n
        ...     def __len__(self): return self.n
        ...     def __iter__(self): return iter(range(self.n - 1, -1, -1))
        >>> list(Backwards(3))
        [2, 1, 0]
    """

    def epoch_indices(self) -> np.ndarray:
        """One epoch's indices as an int64 array (draws new random numbers for random samplers)."""
        return np.fromiter(iter(self), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices().tolist())

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")


class _RandomSampler(Sampler):
    """Shared generator handling: an owned generator, or one derived per epoch."""

    def __init__(self, generator, seed, who: str) -> None:
        self.generator = make_generator(generator, seed, who)

    def _epoch_generator(self) -> np.random.Generator:
        return self.generator if self.generator is not None else derive_generator()


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``.

    Example:
        >>> list(SequentialSampler(range(3)))
        [0, 1, 2]
    """

    def __init__(self, data_source: Sequence) -> None:
        self.data_source = data_source

    def epoch_indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_RandomSampler):
    """A random order of the samples (a permutation), or draws with replacement.

    Args:
        data_source: anything with a length.
        replacement: draw ``num_samples`` indices independently (with repeats).
        num_samples: how many indices per epoch (default ``len(data_source)``); without
            replacement and larger than the dataset, whole permutations are chained.
        generator / seed: a ``dendrite.Generator``, ``numpy.random.Generator`` or int seed.

    Example:
        >>> sorted(RandomSampler(range(5), seed=0))
        [0, 1, 2, 3, 4]
        >>> list(RandomSampler(range(5), seed=1)) == list(RandomSampler(range(5), seed=1))
        True
    """

    def __init__(self, data_source: Sequence, replacement: bool = False, num_samples: int | None = None,
                 generator=None, *, seed: int | None = None) -> None:
        super().__init__(generator, seed, "RandomSampler")
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = num_samples
        if num_samples is not None and (not isinstance(num_samples, numbers.Integral) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples must be a positive int, got {num_samples!r}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def epoch_indices(self) -> np.ndarray:
        rng, size, count = self._epoch_generator(), len(self.data_source), self.num_samples
        if size == 0:
            return np.zeros(0, dtype=np.int64)
        if self.replacement:
            return rng.integers(0, size, count, dtype=np.int64)
        rounds = [rng.permutation(size) for _ in range(math.ceil(count / size))]
        return np.concatenate(rounds)[:count].astype(np.int64)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_RandomSampler):
    """The given indices, in a random order each epoch.

    Example:
        >>> sorted(SubsetRandomSampler([4, 8, 15], seed=0))
        [4, 8, 15]
    """

    def __init__(self, indices: Sequence[int], generator=None, *, seed: int | None = None) -> None:
        super().__init__(generator, seed, "SubsetRandomSampler")
        self.indices = np.asarray(indices, dtype=np.int64)

    def epoch_indices(self) -> np.ndarray:
        return self.indices[self._epoch_generator().permutation(len(self.indices))]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(_RandomSampler):
    """Draw indices with probability proportional to ``weights`` (oversample rare classes).

    Args:
        weights: one non-negative weight per sample (shape ``(N,)``); see :func:`balanced_weights`.
        num_samples: indices per epoch.
        replacement: with replacement (default) a sample may appear several times.

    Example:
        >>> labels = np.array([0] * 90 + [1] * 10)
        >>> sampler = WeightedRandomSampler(balanced_weights(labels), 1000, seed=0)
        >>> 400 < int((labels[list(sampler)] == 1).sum()) < 600
        True
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator=None, *, seed: int | None = None) -> None:
        super().__init__(generator, seed, "WeightedRandomSampler")
        weights = np.asarray(weights.array if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if weights.ndim != 1 or weights.size == 0:
            raise ValueError(
                f"WeightedRandomSampler: weights must be a non-empty 1-d sequence, got shape {weights.shape}"
            )
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError(
                "WeightedRandomSampler: weights must be finite, non-negative and not all zero"
            )
        if not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(
                f"WeightedRandomSampler: num_samples must be a positive int, got {num_samples!r}"
            )
        if not replacement and num_samples > np.count_nonzero(weights):
            raise ValueError(
                f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement from "
                f"{np.count_nonzero(weights)} samples of non-zero weight"
            )
        self.weights = weights
        self.num_samples = int(num_samples)
        self.replacement = bool(replacement)

    def epoch_indices(self) -> np.ndarray:
        probabilities = self.weights / self.weights.sum()
        chosen = self._epoch_generator().choice(
            len(self.weights), size=self.num_samples, replace=self.replacement, p=probabilities
        )
        return chosen.astype(np.int64)

    def __len__(self) -> int:
        return self.num_samples


def balanced_weights(labels) -> np.ndarray:
    """Per-sample weights ``1 / count(label)``: every class gets equal total weight.

    Example:
        >>> balanced_weights([0, 0, 0, 1]).tolist()
        [0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 1.0]
    """
    labels = np.asarray(labels.array if isinstance(labels, Tensor) else labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iub":
        raise ValueError(
            f"balanced_weights: labels must be a 1-d array of ints, got shape {labels.shape} "
            f"dtype {labels.dtype}"
        )
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse].astype(np.float64)


class BatchSampler(Sampler):
    """Group another sampler's indices into lists of ``batch_size``.

    Example:
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
        >>> len(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=True))
        2
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size must be a positive int, got {batch_size!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)

    def epoch_indices(self) -> np.ndarray:
        raise TypeError("BatchSampler yields lists of indices; iterate it instead of calling epoch_indices()")

    def __iter__(self) -> Iterator[list[int]]:
        if hasattr(self.sampler, "epoch_indices"):
            order = self.sampler.epoch_indices()
        else:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            yield order[start:start + self.batch_size].tolist()

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return math.ceil(len(self.sampler) / self.batch_size)
