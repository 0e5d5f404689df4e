"""Index arrays for gather, scatter and friends: reading one, checking its bounds, addressing with it.

``_index_array`` reads an index given as a tensor or a list (integers only); ``check_index_bounds``
refuses what PyTorch refuses (a negative index, or one past the end: NumPy would wrap or fail
elsewhere); ``_scatter_index`` turns an index along one axis into a full NumPy index, so that
``result[where]`` or ``xp.add.at(result, where, ...)`` addresses ``out[i][index[i][j]]``. Used by
:mod:`dendrite.ops.indexing` (gather, index_select) and :mod:`dendrite.ops.indexing_scatter`.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.backend import ndarray
from dendrite.tensor_base import TensorBase


def _scatter_index(index, axis: int) -> tuple:
    # xp.indices(index.shape, sparse=True), made on the index's own device
    module, ndim = backend.namespace(index), index.ndim
    grids = [index if d == axis else module.arange(size).reshape((1,) * d + (size,) + (1,) * (ndim - d - 1))
             for d, size in enumerate(index.shape)]
    return tuple(grids)


def _index_array(index, name: str) -> ndarray:
    array = index._data if isinstance(index, TensorBase) else backend.asarray(index)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer (long) tensor, got dtype {array.dtype}")
    return array


class IndexOutOfBoundsError(IndexError, RuntimeError):
    """An index outside ``[0, size)``: PyTorch raises RuntimeError or IndexError depending on the op and
    the dim, so this is both, and either ``except`` catches it.

    Example:
        >>> import dendrite
        >>> try:
        ...     dendrite.zeros(3).gather(0, dendrite.tensor([-1]))
        ... except RuntimeError as error:
        ...     print(str(error).split(" (")[0])
        gather: index -1 is out of bounds for dimension 0 with size 3
    """


def check_index_bounds(name: str, index: ndarray, size: int, axis: int) -> None:
    """Raise as PyTorch does where an index is negative or ``>= size`` (NumPy would wrap a negative one).

    gather, scatter, scatter_add, index_add and index_select take no negative indices in PyTorch
    (take and take_along_dim do, and wrap them). Two reductions over the index, no copy.

    Example:
        >>> import numpy as np
        >>> from dendrite.ops.indexing_arrays import check_index_bounds
        >>> check_index_bounds("index_select", np.array([0, 2]), 3, 0)  # fine: nothing happens
        >>> try:
        ...     check_index_bounds("index_select", np.array([3]), 3, 0)
        ... except IndexError as error:
        ...     print(type(error).__name__)
        IndexOutOfBoundsError
    """
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = int(index.min()) if index.min() < 0 else int(index.max())
        raise IndexOutOfBoundsError(f"{name}: index {bad} is out of bounds for dimension {axis} with size "
                                    f"{size} (expected 0 <= index < {size}; negative indices do not wrap)")
