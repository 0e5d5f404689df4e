"""Truth tests over a tensor: ``all``, ``any`` and ``count_nonzero`` (no gradient: bool and int64 results).

``all`` and ``any`` reduce over ``dim`` (every dim when None) to bool; ``dim=()`` reduces nothing,
as in PyTorch. ``count_nonzero`` counts the non-zero elements as int64. Sums, means, moments and
norms are in :mod:`dendrite.ops.reduce`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.backend import xp
from dendrite.ops.operands import reduction_dims
from dendrite.tensor_base import wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def _no_dims(dim) -> bool:
    """``dim=()`` or ``[]``: all/any reduce nothing there (sum, var, count_nonzero reduce every dim)."""
    return dim is not None and not isinstance(dim, (int, xp.integer)) and len(dim) == 0


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where every element (over ``dim``) is non-zero (bool).

    Shapes: ``dim`` (int, tuple, or None for all) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 0], [2, 3]])
        >>> x.all(), x.all(dim=1)
        (tensor(False), tensor([False,  True]))
    """
    if _no_dims(dim):  # PyTorch reduces nothing over dim=(): each element as a bool
        data = input._data
        return wrap((data != 0).astype(data.dtype) if data.dtype == xp.uint8 else data.astype(bool))
    axes = reduction_dims(dim, input._data.ndim)
    return wrap(backend.asarray(xp.all(input._data, axis=axes, keepdims=keepdim)))


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where some element (over ``dim``) is non-zero (bool).

    Shapes: ``dim`` (int, tuple, or None for all) is removed, or kept as size 1 with ``keepdim=True``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[0, 0], [2, 0]])
        >>> x.any(), x.any(dim=1)
        (tensor(True), tensor([False,  True]))
    """
    if _no_dims(dim):  # PyTorch reduces nothing over dim=(): each element as a bool
        data = input._data
        return wrap((data != 0).astype(data.dtype) if data.dtype == xp.uint8 else data.astype(bool))
    axes = reduction_dims(dim, input._data.ndim)
    return wrap(backend.asarray(xp.any(input._data, axis=axes, keepdims=keepdim)))


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """Number of non-zero elements (over ``dim``), as int64; ``dim`` is removed.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[0, 1, 2], [0, 0, 3]])
        >>> x.count_nonzero(), x.count_nonzero(dim=1)
        (tensor(3), tensor([2, 1]))
    """
    axes = reduction_dims(dim, input._data.ndim)
    return wrap(backend.asarray(xp.count_nonzero(input._data, axis=axes), dtype=backend.int64))
