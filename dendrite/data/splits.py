"""``DataSplits``: one dataset's train and test arrays plus what a trainer needs to know.

Every built-in dataset (see :mod:`dendrite.data.registry`) and the file
loaders return a :class:`DataSplits`. The arrays are NumPy arrays on the host;
:meth:`DataSplits.train_dataset` wraps them (without a copy) in a
:class:`~dendrite.data.TensorDataset` for a :class:`~dendrite.data.DataLoader`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dendrite.data._random import resolve_generator
from dendrite.data.dataset import TensorDataset

TASKS = ("classification", "regression", "sequence", "text", "generative")


@dataclass
class DataSplits:
    """Train/test arrays and metadata.

    Attributes:
        name: registry name, e.g. ``'digits'``.
        task: ``'classification'``, ``'regression'``, ``'sequence'`` (windowed series
            regression), ``'text'`` (token streams) or ``'generative'`` (samples to imitate).
        x_train, x_test: inputs of shape ``(N, *input_shape)``; for ``'text'`` the token-id
            streams of shape ``(N,)``.
        y_train, y_test: targets of shape ``(N,)`` (class ids, int64) or ``(N, k)`` (regression,
            float32); ``None`` for text.
        input_shape: shape of one input, e.g. ``(8, 8)`` or ``(2,)``.
        num_classes: number of classes (vocabulary size for text), ``None`` for regression.
        info: extra facts: description, source and licence, normalisation statistics, ...
        x_val, y_val: a validation part (shapes as the test part) when the data has one, else
            ``None``; training curves use it, and fall back on the test part without it.

    Example:
        >>> import numpy as np
        >>> splits = DataSplits("demo", "classification", np.zeros((4, 2), np.float32), np.arange(4),
        ...                     np.zeros((1, 2), np.float32), np.arange(1), (2,), 4)
        >>> len(splits.train_dataset()), len(splits.test_dataset()), splits.summary()["train"]
        (4, 1, 4)
        >>> splits.target_shape
        ()
    """

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    input_shape: tuple
    num_classes: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"DataSplits({self.name!r}): task {self.task!r} is not one of {TASKS}")
        for part, x, y in (("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test),
                           ("val", self.x_val, self.y_val)):
            if x is not None and y is not None and len(x) != len(y):
                raise ValueError(
                    f"DataSplits({self.name!r}): x_{part} has {len(x)} rows but y_{part} has {len(y)}; "
                    "expected one target per input"
                )
        self.input_shape = tuple(self.input_shape)

    @property
    def target_shape(self) -> tuple | None:
        """Shape of one target: ``()`` for class ids, ``(k,)`` for regression, ``None`` for text."""
        return None if self.y_train is None else tuple(self.y_train.shape[1:])

    def train_dataset(self, transform=None) -> TensorDataset:
        """``TensorDataset(x_train, y_train)`` (shares memory with the arrays).

        ``transform`` maps each input sample.
        """
        return self._dataset(self.x_train, self.y_train, transform, "train")

    def test_dataset(self) -> TensorDataset:
        """``TensorDataset(x_test, y_test)`` (shares memory with the arrays)."""
        return self._dataset(self.x_test, self.y_test, None, "test")

    def val_dataset(self):
        """The validation part as a dataset: ``x_val``/``y_val`` when the data has them, else the test part.

        Without a validation part, curves labelled "val" show the held-out test data
        (nothing is tuned on it); ``has_validation`` tells which.

        Example:
            >>> import numpy as np
            >>> x, y = np.zeros((4, 2), np.float32), np.arange(4)
            >>> splits = DataSplits("demo", "classification", x, y, x[:2], y[:2], (2,), 4)
            >>> len(splits.val_dataset()), splits.has_validation  # the test part stands in
            (2, False)
            >>> splits.x_val, splits.y_val = x[:1], y[:1]
            >>> len(splits.val_dataset()), splits.has_validation
            (1, True)
        """
        if self.x_val is None:
            return self.test_dataset()
        return self._dataset(self.x_val, self.y_val, None, "val")

    @property
    def has_validation(self) -> bool:
        """Whether the data has its own validation part (else :meth:`val_dataset` is the test part)."""
        return self.x_val is not None

    def _dataset(self, x, y, transform, part: str) -> TensorDataset:
        if y is None:
            raise TypeError(
                f"{self.name}: a {self.task} dataset has no targets to pair; use x_{part} directly "
                "(e.g. dendrite.data.bptt_batches for text)"
            )
        if not isinstance(x, np.ndarray) and hasattr(x, "shape"):  # a lazy array: images decoded per batch
            from dendrite.data.lazy_rows import LazyRowsDataset

            return LazyRowsDataset(x, y, transform=transform)
        return TensorDataset(x, y, transform=transform)

    def summary(self) -> dict[str, Any]:
        """One row for ``dendrite datasets``: name, task, sizes, shapes, classes, description."""
        return {
            "name": self.name,
            "task": self.task,
            "train": len(self.x_train),
            "test": len(self.x_test),
            "input_shape": self.input_shape,
            "target_shape": self.target_shape,
            "num_classes": self.num_classes,
            "description": self.info.get("description", ""),
        }


def _stratified_test_counts(labels: np.ndarray, n_test: int) -> dict:
    """Per-class test counts proportional to class sizes, summing exactly to ``n_test``.

    Largest-remainder apportionment; ties go to the smaller class id, so the result is fixed.
    """
    classes, counts = np.unique(labels, return_counts=True)
    quotas = counts * n_test / counts.sum()
    chosen = np.floor(quotas).astype(int)
    remainders = quotas - chosen
    order = sorted(range(len(classes)), key=lambda i: (-remainders[i], i))
    for i in order[: n_test - chosen.sum()]:
        chosen[i] += 1
    return {int(c): int(k) for c, k in zip(classes, chosen)}


def train_test_split(x: np.ndarray, y: np.ndarray | None = None, test_fraction: float = 0.2,
                     seed: int | None = 0, stratify: bool = False, generator=None) -> tuple:
    """Shuffle and split rows into ``(x_train, y_train, x_test, y_test)``.

    Shapes: ``x (N, *)`` -> ``(N_train, *)`` and ``(N_test, *)``; ``y (N, *)`` likewise (``None`` stays None).

    Args:
        test_fraction: share of rows in the test part (rounded to the nearest row).
        seed / generator: the shuffle's randomness (fixed by default: ``seed=0``; a generator
            wins over the seed; ``seed=None`` derives one from dendrite's global generator).
        stratify: keep each class's share equal in both parts (``y`` must hold class ids).

    Example:
        >>> import numpy as np
        >>> parts = train_test_split(np.arange(10), np.arange(10) % 2, 0.2, stratify=True)
        >>> [len(p) for p in parts], np.bincount(parts[3]).tolist()
        ([8, 8, 2, 2], [1, 1])
    """
    x = np.asarray(x)
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"train_test_split: test_fraction must be in [0, 1), got {test_fraction}")
    if y is not None and len(y) != len(x):
        raise ValueError(f"train_test_split: x has {len(x)} rows but y has {len(y)}")
    # An explicit generator wins over the (default) seed; seed=None derives from dendrite's generator.
    rng = resolve_generator(generator, None if generator is not None else seed, "train_test_split")
    n_test = int(round(len(x) * test_fraction))
    if stratify:
        if y is None:
            raise ValueError("train_test_split: stratify=True needs class labels y")
        y_array = np.asarray(y)
        test_index = []
        for label, count in _stratified_test_counts(y_array, n_test).items():
            members = np.flatnonzero(y_array == label)
            test_index.append(rng.permutation(members)[:count])
        test_index = np.sort(np.concatenate(test_index))
        is_test = np.zeros(len(x), bool)
        is_test[test_index] = True
        train_index = rng.permutation(np.flatnonzero(~is_test))
        test_index = rng.permutation(test_index)
    else:
        order = rng.permutation(len(x))
        train_index, test_index = order[n_test:], order[:n_test]
    y_train = None if y is None else np.asarray(y)[train_index]
    y_test = None if y is None else np.asarray(y)[test_index]
    return x[train_index], y_train, x[test_index], y_test
