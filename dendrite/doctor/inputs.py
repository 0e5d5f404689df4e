"""The ``data`` argument of :func:`~dendrite.doctor.examine`, read into host arrays without changing it.

``examine`` accepts a :class:`~dendrite.data.DataLoader`, a map-style
:class:`~dendrite.data.Dataset` (anything with ``__len__`` and ``__getitem__``
returning ``(input, target)``) or an ``(inputs, targets)`` pair of tensors or
NumPy arrays. :func:`read_data` turns any of them into a :class:`DataSample`:
fresh NumPy copies of (at most ``limit``) examples, drawn with the doctor's own
seeded generator, plus what the loader says about batching. The user's arrays,
dataset and loader (including a loader's shuffle generator) are never touched:
a loader is read through its ``dataset``, never iterated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dendrite.backend import to_host
from dendrite.data import DataLoader
from dendrite.tensor import Tensor

__all__ = ["DataSample", "read_data"]


@dataclass
class DataSample:
    """Host copies of (a sample of) the examples and what the loader says about batching.

    Attributes:
        inputs: ``(n, *input_shape)`` NumPy array, a fresh copy.
        targets: ``(n, *target_shape)`` NumPy array, a fresh copy.
        total: number of examples in the whole data set (``n <= total``).
        batch_size: the loader's batch size, ``None`` when no loader was given.
        drop_last: the loader's ``drop_last`` (``False`` without a loader).
        source: what was given, in words (``"DataLoader"``, ``"Dataset"``, ``"(inputs, targets)"``).
        numpy: which of (inputs, targets) were given as NumPy arrays in an ``(inputs, targets)`` pair
            (their floats are cast to the model's dtype, as ``Trainer.fit`` does with NumPy arrays).
    """

    inputs: np.ndarray
    targets: np.ndarray
    total: int
    batch_size: int | None = None
    drop_last: bool = False
    source: str = ""
    numpy: tuple[bool, bool] = (False, False)

    def cast_floats(self, dtype) -> None:
        """Cast the floating arrays that came as NumPy to ``dtype`` (the model's), in place.

        Example:
            >>> sample = read_data((np.zeros((2, 3)), np.zeros(2)))
            >>> sample.cast_floats(np.float32); sample.inputs.dtype, sample.targets.dtype
            (dtype('float32'), dtype('float32'))
        """
        if self.numpy[0] and self.inputs.dtype.kind == "f":
            self.inputs = self.inputs.astype(dtype, copy=False)
        if self.numpy[1] and self.targets.dtype.kind == "f":
            self.targets = self.targets.astype(dtype, copy=False)

    def __len__(self) -> int:
        return len(self.inputs)


def _host(value, what: str) -> np.ndarray:
    """A fresh NumPy copy of a tensor, array, number or nested list."""
    if isinstance(value, Tensor):
        return np.array(to_host(value.array), copy=True)
    try:
        return np.array(value, copy=True)
    except Exception as error:  # noqa: BLE001 - any failure means the value is not array-like
        raise TypeError(f"examine: {what} must be a tensor or a NumPy array, got {type(value).__name__}") \
            from error


def _pair(name: str, value) -> tuple[np.ndarray, np.ndarray]:
    inputs, targets = value
    if inputs is None or targets is None:
        raise ValueError(f"examine: {name}=(inputs, targets) got None for the "
                         f"{'inputs' if inputs is None else 'targets'}; expected a tensor or a NumPy array")
    x, y = _host(inputs, f"{name}[0] (the inputs)"), _host(targets, f"{name}[1] (the targets)")
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"examine: {name}=(inputs, targets) needs arrays with a batch dimension; got shapes "
                         f"{x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"examine: {name} has {len(x)} inputs but {len(y)} targets (shapes {x.shape} and "
                         f"{y.shape}); expected one target per input")
    return x, y


def _rows(dataset, name: str, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``indices`` of a map-style dataset as two stacked arrays (``get_batch`` when it has one)."""
    if getattr(dataset, "batch_indexable", False) and hasattr(dataset, "get_batch"):
        batch = dataset.get_batch(indices)
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ValueError(f"examine: {name} yields {type(batch).__name__} batches; expected (inputs, "
                             f"targets)")
        return _host(batch[0], f"{name} inputs"), _host(batch[1], f"{name} targets")
    xs, ys = [], []
    for index in indices:
        sample = dataset[int(index)]
        if not isinstance(sample, (tuple, list)) or len(sample) < 2:
            raise ValueError(f"examine: {name}[{int(index)}] is a {type(sample).__name__}; expected an "
                             "(input, target) pair from each item")
        xs.append(_host(sample[0], f"{name} inputs"))
        ys.append(_host(sample[1], f"{name} targets"))
    try:
        return np.stack(xs), np.stack(ys)
    except ValueError as error:
        raise ValueError(f"examine: the items of {name} have different shapes ({error}); expected every "
                         "input (and every target) to have the same shape") from error


def read_data(data, name: str = "data", *, limit: int = 4096, seed: int = 0) -> DataSample:
    """Read ``data`` (a DataLoader, a Dataset or an ``(inputs, targets)`` pair) into a :class:`DataSample`.

    Args:
        data: a :class:`~dendrite.data.DataLoader`, a map-style dataset yielding ``(input, target)``,
            or a pair ``(inputs (N, ...), targets (N, ...))`` of tensors or NumPy arrays.
        name: the argument's name, for error messages (``"data"`` or ``"val_data"``).
        limit: at most this many examples are read, a seeded random subset when there are more.
        seed: seed of that subset.

    Shapes: inputs ``(n, *input_shape)`` and targets ``(n, *target_shape)`` with ``n = min(N, limit)``.

    Raises:
        TypeError: ``data`` is none of the accepted kinds.
        ValueError: it is empty, items are not ``(input, target)`` pairs, or the lengths differ.

    Example:
        >>> import numpy as np
        >>> sample = read_data((np.zeros((10, 3), np.float32), np.arange(10)))
        >>> sample.inputs.shape, sample.targets.shape, sample.batch_size
        ((10, 3), (10,), None)
    """
    batch_size, drop_last = None, False
    if isinstance(data, DataLoader):
        source, dataset = "DataLoader", data.dataset
        batch_size, drop_last = data.batch_size, data.drop_last
    elif isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ValueError(f"examine: {name} as a tuple must be (inputs, targets), got {len(data)} items")
        x, y = _pair(name, data)
        if len(x) == 0:
            raise ValueError(f"examine: {name} is empty; expected at least one example")
        total = len(x)
        if total > limit:
            keep = np.sort(np.random.default_rng(seed).choice(total, limit, replace=False))
            x, y = x[keep], y[keep]
        numpy = (not isinstance(data[0], Tensor), not isinstance(data[1], Tensor))
        return DataSample(x, y, total, source="(inputs, targets)", numpy=numpy)
    elif hasattr(data, "__len__") and hasattr(data, "__getitem__") and not isinstance(data, (str, bytes)) \
            and not isinstance(data, (np.ndarray, Tensor)):
        source, dataset = "Dataset", data
    else:
        raise TypeError(f"examine: {name} must be a DataLoader, a Dataset or an (inputs, targets) pair of "
                        f"tensors or NumPy arrays; got {type(data).__name__}")
    total = len(dataset)
    if total == 0:
        raise ValueError(f"examine: {name} ({source}) is empty; expected at least one example")
    indices = np.arange(total)
    if total > limit:
        indices = np.sort(np.random.default_rng(seed).choice(total, limit, replace=False))
    x, y = _rows(dataset, f"{name} ({source})", indices)
    return DataSample(x, y, total, batch_size, drop_last, source)
