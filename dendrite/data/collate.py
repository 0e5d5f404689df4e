"""Collation: turn a list of samples into one batch of tensors.

:func:`default_collate` stacks, position by position:

* tensors and NumPy arrays -> one tensor with a new leading batch dimension
  (the dtype is kept);
* Python numbers follow :func:`dendrite.tensor`'s rules (int -> int64,
  float -> the default float dtype, float32), NumPy scalars keep their dtype
  (PyTorch makes Python floats float64; we keep dendrite's one default);
* tuples, lists, named tuples and dicts -> the same structure of batches;
* strings -> a list of strings.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dendrite import backend
from dendrite.backend import xp
from dendrite.tensor import Tensor, wrap


def _stack_arrays(arrays: list, what: str) -> Tensor:
    reference = arrays[0].shape
    for position, array in enumerate(arrays):
        if array.shape != reference:
            raise RuntimeError(
                f"default_collate: {what}sample {position} has shape {tuple(array.shape)} but sample 0 has "
                f"{tuple(reference)}; expected equal shapes (pad them, or pass collate_fn=...)"
            )
    dtypes = {array.dtype for array in arrays}
    if len(dtypes) > 1:
        raise TypeError(
            f"default_collate: {what}samples have different dtypes {sorted(map(str, dtypes))}; "
            "expected one dtype"
        )
    return wrap(xp.stack(arrays))


def _as_array(item, what: str):
    if isinstance(item, Tensor):
        return item.array
    array = xp.asarray(item)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"default_collate: {what}array of dtype {array.dtype} cannot be a tensor")
    return array


def default_collate(batch: Sequence) -> Any:
    """Merge a list of samples into a batch (see the module docstring for the rules).

    ``N`` samples of shape ``S`` become one ``(N, *S)`` array per field; numbers become ``(N,)``.

    Example:
        >>> import numpy as np
        >>> x, y = default_collate([(np.zeros(3, np.float32), 1), (np.ones(3, np.float32), 0)])
        >>> x.shape, y.tolist(), y.dtype
        ((2, 3), [1, 0], dtype('int64'))
        >>> default_collate([{"a": 1.0}, {"a": 2.0}])["a"].dtype
        dtype('float32')
    """
    return _collate(list(batch), "")


def _collate(batch: list, what: str) -> Any:
    if not batch:
        raise ValueError("default_collate: the batch is empty; expected at least one sample")
    first = batch[0]
    if isinstance(first, (Tensor, np.ndarray)):
        return _stack_arrays([_as_array(item, what) for item in batch], what)
    if isinstance(first, (numbers.Real, np.bool_)):
        return _collate_numbers(batch, what)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, Mapping):
        for position, item in enumerate(batch):
            if not isinstance(item, Mapping) or set(item) != set(first):
                raise ValueError(
                    f"default_collate: {what}sample {position} has keys "
                    f"{sorted(item) if isinstance(item, Mapping) else type(item).__name__} but sample 0 "
                    f"has {sorted(first)}; expected the same keys"
                )
        return {key: _collate([item[key] for item in batch], f"{what}[{key!r}] ") for key in first}
    if isinstance(first, (tuple, list)):
        for position, item in enumerate(batch):
            if not isinstance(item, (tuple, list)) or len(item) != len(first):
                raise ValueError(
                    f"default_collate: {what}sample {position} has {len(item)} elements but sample 0 has "
                    f"{len(first)}; expected samples of equal length"
                )
        columns = [_collate(list(column), f"{what}[{i}] ") for i, column in enumerate(zip(*batch))]
        if hasattr(first, "_fields"):  # a namedtuple keeps its type
            return type(first)(*columns)
        return tuple(columns) if isinstance(first, tuple) else columns
    raise TypeError(
        f"default_collate: {what}samples of type {type(first).__name__} are not supported; expected "
        "tensors, arrays, numbers, strings or tuples/lists/dicts of them (or pass collate_fn=...)"
    )


def _collate_numbers(batch: list, what: str) -> Tensor:
    try:
        array = xp.asarray(batch)
    except ValueError:
        array = None
    if array is None or array.ndim != 1 or array.dtype.kind not in "biuf":
        kinds = sorted({type(item).__name__ for item in batch})
        raise TypeError(f"default_collate: {what}samples mix types {kinds}; expected numbers only")
    if all(isinstance(item, np.generic) for item in batch):
        return wrap(array)  # NumPy scalars keep their dtype
    if array.dtype.kind == "f":
        return wrap(array.astype(backend.get_default_dtype()))
    if array.dtype.kind in "iu":
        return wrap(array.astype(backend.int64))
    return wrap(array)


def default_convert(sample: Any) -> Any:
    """One sample (no batch dimension) with its arrays and numbers made tensors.

    Used by ``DataLoader(batch_size=None)``.

    Example:
        >>> default_convert((np.arange(3), "label"))[0].shape
        (3,)
    """
    if isinstance(sample, Tensor):
        return sample
    if isinstance(sample, np.ndarray) and sample.dtype.kind in "fiub":
        return wrap(xp.asarray(sample))
    if isinstance(sample, Mapping):
        return {key: default_convert(value) for key, value in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(value) for value in sample))
    if isinstance(sample, (tuple, list)):
        return type(sample)(default_convert(value) for value in sample)
    return sample
