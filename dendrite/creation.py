"""Making tensors: from data, filled with a constant, ranges, random values.

Dtype rules follow PyTorch: Python floats give the default float dtype
(float32), Python ints give int64, bools give bool, and a NumPy array keeps
its own dtype.
"""

from __future__ import annotations

import numbers

from dendrite import backend
from dendrite.backend import xp
from dendrite.tensor import Tensor, _new_tensor


def as_array(data, dtype=None) -> xp.ndarray:
    """A fresh backend array for ``data`` with PyTorch's dtype inference."""
    if isinstance(data, Tensor):
        array = data._data.copy()
    elif isinstance(data, xp.ndarray):
        array = data.copy()
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(item, Tensor) for item in _flat(data)):
            data = _tensors_to_values(data)
        array = xp.array(data)
        if array.dtype == object:
            raise TypeError(f"could not make a tensor from {type(data).__name__}: ragged or mixed data")
        if array.dtype.kind == "f" and dtype is None:
            array = array.astype(backend.get_default_dtype())
        elif array.dtype.kind in "iu" and dtype is None:
            array = array.astype(backend.int64)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"unsupported dtype {array.dtype} for a tensor; expected a number or bool type")
    if dtype is not None:
        array = array.astype(backend.as_dtype(dtype), copy=False)
    return array


def _flat(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        else:
            yield item


def _tensors_to_values(items):
    if isinstance(items, Tensor):
        return items._data
    if isinstance(items, (list, tuple)):
        return [_tensors_to_values(item) for item in items]
    return items


def _leaf(array, requires_grad: bool) -> Tensor:
    tensor = _new_tensor(array)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _size(size) -> tuple:
    """Accept ``zeros(2, 3)``, ``zeros((2, 3))`` and ``zeros([2, 3])``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for dim in size:
        if not isinstance(dim, numbers.Integral) or dim < 0:
            raise ValueError(f"sizes must be non-negative integers, got {size}")
    return tuple(int(dim) for dim in size)


def _float_dtype(dtype):
    return backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays).

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2], [3, 4]]).dtype
        dtype('int64')
        >>> dendrite.tensor([0.5, 1.5], requires_grad=True)
        tensor([0.5000, 1.5000], requires_grad=True)
    """
    return _leaf(as_array(data, dtype), requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """Like :func:`tensor` but reuses ``data`` when it already is a matching tensor."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == backend.as_dtype(dtype)):
        return data
    if isinstance(data, xp.ndarray) and (dtype is None or data.dtype == backend.as_dtype(dtype)):
        return _new_tensor(data)
    return tensor(data, dtype)


def from_numpy(array: xp.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (same dtype)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return _new_tensor(xp.asarray(array))


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros, e.g. ``zeros(2, 3)``."""
    return _leaf(xp.zeros(_size(size), _float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones, e.g. ``ones(2, 3)``."""
    return _leaf(xp.ones(_size(size), _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (its values are whatever memory held)."""
    return _leaf(xp.empty(_size(size), _float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it)."""
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _leaf(xp.full(_size((size,)), fill_value, backend.as_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` (inclusive) to ``end`` (exclusive) by ``step``.

    Integers give int64, any float argument gives float32, as in PyTorch.
    """
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = backend.int64 if is_int else backend.get_default_dtype()
    return _leaf(xp.arange(start, end, step).astype(backend.as_dtype(dtype)), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _leaf(xp.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """The ``n x m`` identity matrix."""
    return _leaf(xp.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform random values in [0, 1)."""
    array = backend.generator().random(_size(size)).astype(_float_dtype(dtype))
    return _leaf(array, requires_grad)


def randn(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal random values."""
    array = backend.generator().standard_normal(_size(size)).astype(_float_dtype(dtype))
    return _leaf(array, requires_grad)


def randint(low, high=None, size=(), dtype=None) -> Tensor:
    """Random integers in [low, high); ``randint(10, (3,))`` means low=0, high=10."""
    if high is None:
        low, high = 0, low
    if isinstance(size, numbers.Integral):
        size = (size,)
    array = backend.generator().integers(low, high, size=tuple(size))
    return _new_tensor(array.astype(backend.int64 if dtype is None else backend.as_dtype(dtype)))


def randperm(n: int, dtype=None) -> Tensor:
    """A random permutation of ``0 .. n-1``."""
    array = backend.generator().permutation(n)
    return _new_tensor(array.astype(backend.int64 if dtype is None else backend.as_dtype(dtype)))


def normal(mean: float, std: float, size, dtype=None) -> Tensor:
    """Normal random values with the given mean and standard deviation."""
    array = backend.generator().normal(mean, std, _size((size,))).astype(_float_dtype(dtype))
    return _new_tensor(array)


def _like_dtype(other: Tensor, dtype):
    return other.dtype if dtype is None else backend.as_dtype(dtype)


def zeros_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(xp.zeros(other.shape, _like_dtype(other, dtype)), requires_grad)


def ones_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(xp.ones(other.shape, _like_dtype(other, dtype)), requires_grad)


def empty_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(xp.empty(other.shape, _like_dtype(other, dtype)), requires_grad)


def full_like(other: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(xp.full(other.shape, fill_value, _like_dtype(other, dtype)), requires_grad)


def rand_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    array = backend.generator().random(other.shape).astype(_like_dtype(other, dtype))
    return _leaf(array, requires_grad)


def randn_like(other: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    array = backend.generator().standard_normal(other.shape).astype(_like_dtype(other, dtype))
    return _leaf(array, requires_grad)
