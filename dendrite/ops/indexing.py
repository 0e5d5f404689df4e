"""Indexing ``x[...]`` with PyTorch/NumPy semantics, and gather/scatter helpers.

Basic indices (integers, slices, ``None``, ``...``) select a view; its
gradient is written back into a zero tensor at the same place. Advanced
indices (integer or boolean tensors, lists) may pick an element more than
once, so the backward *adds* into place with ``xp.add.at``.
"""

from __future__ import annotations

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.tensor import Tensor, _new_tensor


def plain_index(index):
    """Translate an index that may contain tensors or lists into a NumPy index."""
    if isinstance(index, tuple):
        return tuple(_plain_item(item) for item in index)
    return _plain_item(index)


def _plain_item(item):
    if isinstance(item, Tensor):
        item = item._data
        if item.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int or bool tensors, got a float tensor")
        return item
    if isinstance(item, list):
        array = xp.asarray(item)
        if array.dtype.kind == "f":
            raise IndexError("lists used as indices must hold integers or bools")
        return array
    return item


def _is_advanced(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(item, xp.ndarray) for item in items)


class GetItem(Function):
    def forward(self, x, index, advanced):
        self.shape, self.index, self.advanced = x.shape, index, advanced
        return xp.asarray(x[index])

    def backward(self, grad):
        result = xp.zeros(self.shape, grad.dtype)
        if self.advanced:
            xp.add.at(result, self.index, grad)
        else:
            result[self.index] = grad
        return result


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]``: integers, slices, None, Ellipsis, integer/bool tensors or lists."""
    index = plain_index(index)
    return GetItem.apply(x, index=index, advanced=_is_advanced(index))


class Gather(Function):
    def forward(self, x, index, axis):
        self.shape, self.index, self.axis = x.shape, index, axis
        return xp.take_along_axis(x, index, axis)

    def backward(self, grad):
        result = xp.zeros(self.shape, grad.dtype)
        grids = list(xp.indices(self.index.shape, sparse=True))
        grids[self.axis] = self.index
        xp.add.at(result, tuple(grids), grad)
        return result


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = x[i][index[i][j]]`` for ``dim=1`` (and likewise for other dims)."""
    from dendrite.ops.reduce import normalize_dims

    (axis,) = normalize_dims(dim, x._data.ndim)
    index_array = index._data if isinstance(index, Tensor) else xp.asarray(index)
    if index_array.ndim != x._data.ndim:
        raise RuntimeError(
            f"gather: index tensor must have the same number of dimensions as input "
            f"({index_array.ndim} vs {x._data.ndim})"
        )
    return Gather.apply(x, index=index_array, axis=axis)


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of ``x`` along ``dim`` at positions ``index`` (1-D)."""
    from dendrite.ops.reduce import normalize_dims

    (axis,) = normalize_dims(dim, x._data.ndim)
    selector = (slice(None),) * axis + (plain_index(index),)
    return GetItem.apply(x, index=selector, advanced=True)


def nonzero(x: Tensor) -> Tensor:
    """Indices of the non-zero elements, shape (count, ndim)."""
    return _new_tensor(xp.stack(xp.nonzero(x._data), axis=-1).astype(xp.int64))
