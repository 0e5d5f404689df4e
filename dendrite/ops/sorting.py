"""Sorting: sort, argsort, topk, kthvalue, median.

The values are gathered at the sorted positions, so their gradient goes back
to the positions they came from (each input element to at most one output).
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.backend import xp
from dendrite.ops.indexing import Gather
from dendrite.ops.operands import normalize_dims
from dendrite.tensor_base import wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor

SortResult = namedtuple("SortResult", ["values", "indices"])


def _order(data, axis: int, descending: bool):
    """Stable argsort along ``axis``; descending keeps equal elements in their original order.

    NaN counts as larger than everything, as in PyTorch: last ascending (NumPy's order already),
    first descending (negating leaves NaN last, so rows with a NaN sort on (not NaN, -value)).
    """
    if descending:
        if data.dtype.kind == "f":
            nan = xp.isnan(data)
            if nan.any():
                return xp.lexsort((-data, ~nan), axis=axis)  # the last key is the primary one
        key = -data.astype(xp.int64) if data.dtype.kind == "b" else -data
        return xp.argsort(key, axis=axis, kind="stable")
    return xp.argsort(data, axis=axis, kind="stable")


def _pick(input: Tensor, indices, axis: int) -> SortResult:
    values = Gather.apply(input, index=indices, axis=axis)
    return SortResult(values, wrap(indices.astype(backend.int64)))


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> SortResult:
    """``(values, indices)`` sorted along ``dim`` (ties keep their order); both of input's shape.

    Example:
        >>> import dendrite
        >>> values, indices = dendrite.tensor([3.0, 1.0, 2.0]).sort(descending=True)
        >>> values, indices
        (tensor([3., 2., 1.]), tensor([0, 2, 1]))
    """
    (axis,) = normalize_dims(dim, input.ndim)  # a 0-d tensor takes dim in [-1, 0]
    if input.ndim == 0:
        return SortResult(input, wrap(backend.namespace(input._data).zeros((), backend.int64)))
    return _pick(input, _order(input._data, axis, descending), axis)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices (int64, input's shape) that sort ``input`` along ``dim``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[3, 1, 2]]).argsort(dim=1)
        tensor([[1, 2, 0]])
    """
    return sort(input, dim, descending, stable).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> SortResult:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices.

    Shapes: input's shape with ``k`` along ``dim``. ``scores.topk(5, dim=1).indices``
    are the 5 best classes of each row.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 9, 5, 7]]).topk(2, dim=1)
        SortResult(values=tensor([[9, 7]]), indices=tensor([[1, 3]]))
    """
    (axis,) = normalize_dims(dim, input.ndim)
    size = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: k={k} is out of range for dimension {dim} of size {size}")
    order = _order(input._data, axis, descending=largest)
    return _pick(input, xp.take(order, backend.namespace(order).arange(k), axis=axis), axis)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> SortResult:
    """The ``k``-th smallest value (1-based) along ``dim`` and its index; ``dim`` is removed unless keepdim.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[4, 1, 3], [2, 6, 5]]).kthvalue(2, dim=1)
        SortResult(values=tensor([3, 5]), indices=tensor([2, 2]))
    """
    (axis,) = normalize_dims(dim, input.ndim)
    size = input.shape[axis] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue: k={k} is out of range for dimension {dim} of size {size}")
    if input.ndim == 0:
        return sort(input)
    return _kth(input, k, axis, keepdim, nan_wins=False)


def _kth(input: Tensor, k: int, axis: int, keepdim: bool, nan_wins: bool) -> SortResult:
    """The k-th smallest along ``axis``; ``nan_wins`` (median): a row with a NaN answers its first NaN."""
    data = input._data
    indices = xp.take(_order(data, axis, False), [k - 1], axis=axis)
    if nan_wins and data.dtype.kind == "f":
        nan = xp.isnan(data)
        if nan.any():  # PyTorch's median propagates NaN: the first NaN of the row
            first_nan = xp.expand_dims(xp.argmax(nan, axis=axis), axis)
            indices = xp.where(xp.take_along_axis(nan, first_nan, axis), first_nan, indices)
    values, indices = _pick(input, indices, axis)
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return SortResult(values, indices)


def median(input: Tensor, dim=None, keepdim: bool = False):
    """The lower median (PyTorch's): of all elements (a 0-d tensor), or ``(values, indices)`` along ``dim``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 4, 2, 3], [9, 8, 7, 6]])
        >>> x.median(), x.median(dim=1).values
        (tensor(4), tensor([2, 7]))
    """
    if dim is None:
        input, axis, keepdim = input.reshape(-1), 0, False
    else:
        (axis,) = normalize_dims(dim, input.ndim)
        if input.ndim == 0:
            return kthvalue(input, 1, dim, keepdim)
    size = input.shape[axis]
    if size == 0:
        raise RuntimeError(f"median: the {'input' if dim is None else f'dimension {dim}'} is empty; "
                           f"expected at least one element")
    result = _kth(input, (size + 1) // 2, axis, keepdim, nan_wins=True)
    return result.values if dim is None else result
