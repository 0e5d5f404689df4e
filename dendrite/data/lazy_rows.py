"""``LazyRowsDataset``: samples whose inputs are read from an array-like only when a batch asks for them.

:class:`~dendrite.data.TensorDataset` wraps arrays held in memory. The inputs of
a large data set may not fit there: a folder of pictures
(:class:`~dendrite.data.image_decode.ImageArray`, which decodes the files it is
indexed with) or a ``numpy.memmap`` over a file. This dataset indexes such an
array-like once per batch, so only the batch's rows are ever read, and gives the
same samples and batches as ``TensorDataset(np.asarray(x), y)`` would.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from dendrite.backend import xp
from dendrite.data.dataset import Dataset, _array_of, _as_tensor
from dendrite.tensor import Tensor, wrap

__all__ = ["LazyRowsDataset"]


class LazyRowsDataset(Dataset):
    """Samples ``(x[i], y[i])`` where ``x`` is any array-like read a batch of rows at a time.

    Args:
        x: the inputs, of shape ``(N, ...)``: anything with ``len(x)``, ``x[i]`` and ``x[indices]``
            for an int64 array of indices (an ``ImageArray``, a ``numpy.memmap``, an array).
            Rows keep ``x``'s dtype, as in ``TensorDataset``.
        y: the targets, shape ``(N, ...)``: a NumPy array (or a tensor or list, converted as
            ``TensorDataset`` converts them), or ``None`` for inputs only (samples ``(x[i],)``).
        transform / target_transform: optional callables applied to each input / target row, as
            in ``TensorDataset``.

    ``dataset[i]`` is ``(x[i], y[i])`` as tensors; ``get_batch(indices)`` reads ``x[indices]``
    once and returns the tuple of stacked rows (the ``DataLoader``'s fast path).

    Example:
        >>> import numpy as np
        >>> np.arange(12, dtype=np.float32).tofile("rows.bin")
        >>> x = np.memmap("rows.bin", dtype=np.float32, mode="r", shape=(4, 3))
        >>> data = LazyRowsDataset(x, np.array([0, 1, 0, 1]))
        >>> inputs, targets = data.get_batch([3, 1])
        >>> inputs.tolist(), targets.tolist()
        ([[9.0, 10.0, 11.0], [3.0, 4.0, 5.0]], [1, 1])
        >>> del x, data, inputs  # let go of the file
    """

    batch_indexable = True

    def __init__(self, x, y=None, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        if isinstance(x, Tensor) or isinstance(x, (list, tuple)):  # in memory already: as TensorDataset
            x = _as_tensor(x, 0).array
        if not hasattr(x, "__len__") or not hasattr(x, "__getitem__"):
            raise TypeError(f"LazyRowsDataset: x of type {type(x).__name__} needs __len__ and __getitem__ "
                            "(an array-like of shape (N, ...))")
        self.x = x
        self.y = None if y is None else _as_tensor(y, 1).array
        if self.y is not None:
            if self.y.ndim == 0:
                raise ValueError("LazyRowsDataset: y is a 0-d scalar; expected shape (N, ...)")
            if self.y.shape[0] != len(x):
                raise ValueError(f"LazyRowsDataset: y has {self.y.shape[0]} rows (shape "
                                 f"{tuple(self.y.shape)}) but x has {len(x)}; expected the same number "
                                 "of samples")
        elif target_transform is not None:
            raise ValueError("LazyRowsDataset: target_transform needs targets y")
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index) -> tuple:
        if not isinstance(index, numbers.Integral):
            raise TypeError(f"LazyRowsDataset index must be an int, got {type(index).__name__}; "
                            "use get_batch(indices) for several samples")
        length = len(self)
        if not -length <= index < length:
            raise IndexError(f"LazyRowsDataset index {index} is out of range for {length} samples")
        index = int(index) % length
        row = self.x[index]
        if self.transform is not None:
            row = self.transform(row)
        sample = [row if isinstance(row, Tensor) else wrap(xp.asarray(row))]
        if self.y is not None:
            target = self.y[index, ...]  # ``a[i, ...]`` keeps a 0-d array, not a NumPy scalar
            if self.target_transform is not None:
                target = self.target_transform(target)
            sample.append(target if isinstance(target, Tensor) else wrap(xp.asarray(target)))
        return tuple(sample)

    def get_batch(self, indices) -> tuple:
        """The samples at ``indices`` stacked: a tuple of tensors of shape ``(len(indices), ...)``."""
        indices = np.asarray(indices, dtype=np.int64)
        rows = xp.asarray(np.asarray(self.x[indices]))  # the array-like reads these rows only
        batch = [(self.transform, rows)]
        if self.y is not None:
            batch.append((self.target_transform, self.y[xp.asarray(indices)]))
        stacked = []
        for transform, part in batch:
            if transform is not None:
                part = xp.stack([_array_of(transform(row)) for row in part]) if len(part) else part
            stacked.append(wrap(part))
        return tuple(stacked)

    def __repr__(self) -> str:
        shape = tuple(getattr(self.x, "shape", (len(self.x),)))
        targets = "" if self.y is None else f", y {tuple(self.y.shape)}"
        return f"LazyRowsDataset({type(self.x).__name__} {shape}{targets})"
