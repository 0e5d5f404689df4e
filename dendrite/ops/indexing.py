"""Indexing ``x[...]`` with PyTorch/NumPy semantics, and gather, index_select, take, nonzero.

Basic indices (integers, slices, ``None``, ``...``) select a view; its
gradient is written back into a zero tensor at the same place. Advanced
indices (integer or boolean tensors, lists) may pick an element more than
once, so the backward *adds* into place with ``xp.add.at``.

Files: this one reads at indices; writing into a copy at indices (scatter, scatter_add,
index_add) is in :mod:`dendrite.ops.indexing_scatter`, and reading and checking index arrays in
:mod:`dendrite.ops.indexing_arrays`; both are re-exported from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import ndarray, xp
from dendrite.ops.graph_operands import linear_map

# Index arrays (reading, bounds) and the scatter family live in files of their own; importable from here.
from dendrite.ops.indexing_arrays import (  # noqa: F401
    IndexOutOfBoundsError,
    _index_array,
    _scatter_index,
    check_index_bounds,
)
from dendrite.ops.indexing_scatter import (  # noqa: F401
    IndexAdd,
    Scatter,
    ScatterAdd,
    _scatter_call,
    _window_maps,
    index_add,
    scatter,
    scatter_add,
)
from dendrite.ops.operands import normalize_dims
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def plain_index(index):
    """Translate an index that may contain tensors or lists into a NumPy index (same structure).

    Example:
        >>> import dendrite
        >>> from dendrite.ops.indexing import plain_index
        >>> plain_index((slice(None), dendrite.tensor([0, 2])))
        (slice(None, None, None), array([0, 2]))
    """
    if isinstance(index, tuple):
        return tuple([_plain_item(item) for item in index])
    return _plain_item(index)


def _plain_item(item):
    if isinstance(item, TensorBase):
        item = item._data
        if item.dtype.kind == "f":
            raise IndexError(
                "tensors used as indices must be long, int or bool tensors, got a float tensor"
            )
        return item
    if isinstance(item, list):
        array = backend.asarray(item)
        if array.dtype.kind == "f":
            raise IndexError("lists used as indices must hold integers or bools")
        return array
    return item


def _kind(index) -> str:
    """'basic' (a view), 'mask' (bool arrays only: no repeats) or 'advanced' (may repeat)."""
    items = index if isinstance(index, tuple) else (index,)
    arrays = [item for item in items if backend.is_array(item)]
    if not arrays:
        return "basic"
    if all(array.dtype.kind == "b" for array in arrays) and len(arrays) == 1:
        return "mask"
    return "advanced"


class GetItem(Function):
    """``x[index]``; backward: the gradient written (advanced index: added) into zeros at ``index``."""
    def forward(self, x, index, kind):
        index = backend.index_on_device_of(x, index)  # a list indexing a CUDA tensor goes to the GPU
        self.shape, self.index, self.kind = x.shape, index, kind
        result = x[index]
        if type(result) is not ndarray and kind != "advanced" and not backend.on_device(result):
            # NumPy answers a number for x[0] of a vector; PyTorch a 0-d view (x[0] += 1 changes x).
            result = x[(index if type(index) is tuple else (index,)) + (Ellipsis,)]
        return result

    def backward(self, grad):
        result = backend.namespace(grad).zeros(self.shape, grad.dtype)
        if self.kind == "advanced":
            xp.add.at(result, self.index, grad)
        else:
            result[self.index] = grad
        return result

    def backward_graph(self, grad):
        # Linear in x: the transpose (write/add into zeros) and its own transpose (index again).
        shape, index, kind = self.shape, self.index, self.kind

        def put(g):
            result = backend.namespace(g).zeros(shape, g.dtype)
            if kind == "advanced":
                xp.add.at(result, index, g)
            else:
                result[index] = g
            return result
        return linear_map(grad, to=put, back=lambda h: h[index])


def getitem(input: Tensor, index) -> Tensor:
    """``input[index]``: integers, slices, None, Ellipsis, integer/bool tensors or lists.

    Shapes as NumPy: an integer drops its dim, a slice keeps it, ``None`` adds one, a bool
    mask of the input's shape gives 1-D. Repeated indices add up in backward.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 2, 3], [4, 5, 6]])
        >>> x[:, 0], x[x > 4], x[1, None].shape
        (tensor([1, 4]), tensor([5, 6]), (1, 3))
        >>> w = dendrite.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> w[dendrite.tensor([0, 0, 2])].sum().backward(); w.grad
        tensor([2., 0., 1.])
    """
    index = plain_index(index)
    try:
        return GetItem.apply(input, index=index, kind=_kind(index))
    except IndexError as error:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape {tuple(input.shape)}: {error}") \
            from None


class Gather(Function):
    """``take_along_axis(x, index, axis)``; backward: the gradient added into zeros at ``index``."""
    def forward(self, x, index, axis):
        self.shape, self.index, self.axis = x.shape, index, axis
        # PyTorch lets the index be smaller than the input in the other dims: cut the input to fit.
        window = tuple(slice(None) if d == axis else slice(0, size) for d, size in enumerate(index.shape))
        return xp.take_along_axis(x[window], index, axis)

    def backward(self, grad):
        result = backend.namespace(grad).zeros(self.shape, grad.dtype)
        xp.add.at(result, _scatter_index(self.index, self.axis), grad)
        return result

    def backward_graph(self, grad):
        shape, index, axis = self.shape, self.index, self.axis
        window = tuple(slice(None) if d == axis else slice(0, size) for d, size in enumerate(index.shape))

        def put(g):
            result = backend.namespace(g).zeros(shape, g.dtype)
            xp.add.at(result, _scatter_index(index, axis), g)
            return result
        return linear_map(grad, to=put, back=lambda h: xp.take_along_axis(h[window], index, axis))


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = input[i][index[i][j]]`` for ``dim=1`` (and likewise for other dims).

    Shapes: ``index`` has input's ndim; the output has ``index``'s shape. Picking each
    row's class score: ``scores.gather(1, labels.unsqueeze(1))``.

    Example:
        >>> import dendrite
        >>> scores = dendrite.tensor([[0.1, 0.9], [0.8, 0.2]])
        >>> scores.gather(1, dendrite.tensor([[1], [0]]))
        tensor([[0.9000],
                [0.8000]])
    """
    (axis,) = normalize_dims(dim, max(input._data.ndim, 1))  # a 0-d input reads as one element
    array = _index_array(index, "gather")
    if array.size == 0:  # PyTorch: an empty index gives an empty result of its shape, whatever its rank
        return input.reshape(-1)[0:0].reshape(array.shape)
    if input._data.ndim <= 1 and array.ndim <= 1:  # PyTorch reads 0-d input and index as 1-D
        check_index_bounds("gather", array, input._data.size, 0)
        return Gather.apply(input.reshape(-1), index=array.reshape(-1), axis=0).reshape(array.shape)
    if array.ndim != input._data.ndim:
        raise RuntimeError(
            f"gather: index {array.shape} must have the same number of dimensions as the input "
            f"{tuple(input.shape)}"
        )
    if any(i > n for d, (i, n) in enumerate(zip(array.shape, input._data.shape)) if d != axis):
        raise RuntimeError(f"gather: index {array.shape} must be no larger than the input "
                           f"{tuple(input.shape)} in every dimension but dim={dim}")
    check_index_bounds("gather", array, input._data.shape[axis], axis)
    return Gather.apply(input, index=array, axis=axis)


def take_along_dim(input: Tensor, indices: Tensor, dim: int) -> Tensor:
    """NumPy's take_along_axis: like :func:`gather`, with index and input broadcasting outside ``dim``.

    Shapes: output = the broadcast shape, with ``indices``' size along ``dim``.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[10, 30, 20], [60, 40, 50]])
        >>> dendrite.take_along_dim(x, x.argmax(1, keepdim=True), dim=1)
        tensor([[30],
                [60]])
    """
    array = _index_array(indices, "take_along_dim")
    if array.ndim != input._data.ndim:
        raise RuntimeError(f"take_along_dim: input and indices should have the same number of dimensions, "
                           f"got input {tuple(input.shape)} and indices {tuple(array.shape)}")
    if input._data.ndim == 0:
        raise RuntimeError(f"take_along_dim: dim {dim} specified but the input is 0-d (no dimensions)")
    (axis,) = normalize_dims(dim, input._data.ndim)
    size = input._data.shape[axis]
    # PyTorch wraps a negative index once (-1 is the last); past that it wraps silently modulo the size
    # (and divides by zero over an empty dim): dendrite refuses those instead
    if array.size and ((array >= size) | (array < -size)).any():
        raise IndexError(f"take_along_dim: index out of range for dim {dim} of size {size} (expected "
                         f"{-size} <= index < {size}), got indices between {array.min()} and {array.max()}")
    array = xp.where(array < 0, array + size, array)
    outside = [shape[:axis] + (1,) + shape[axis + 1:] for shape in (input._data.shape, array.shape)]
    try:
        shape = list(xp.broadcast_shapes(*outside))
    except ValueError:
        raise RuntimeError(f"take_along_dim: input {tuple(input.shape)} and indices {tuple(array.shape)} "
                           f"cannot be broadcast together outside dim {dim}") from None
    shape[axis] = array.shape[axis]
    source = input.expand(*shape[:axis], input._data.shape[axis], *shape[axis + 1:])
    return Gather.apply(source, index=xp.broadcast_to(array, shape), axis=axis)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of ``input`` along ``dim`` at positions ``index`` (1-D): embedding lookup with dim=0.

    Shapes: input's shape with ``len(index)`` along ``dim``.

    Example:
        >>> import dendrite
        >>> table = dendrite.tensor([[0, 0], [1, 1], [2, 2]])
        >>> table.index_select(0, dendrite.tensor([2, 0]))
        tensor([[2, 2],
                [0, 0]])
    """
    (axis,) = normalize_dims(dim, max(input._data.ndim, 1))  # a 0-d input reads as one element
    array = _index_array(index, "index_select")
    if array.ndim > 1:
        raise IndexError(f"index_select: index must be 0-D or 1-D, got shape {array.shape}")
    if input._data.ndim == 0:  # PyTorch: exactly one index, 0-d result
        if array.size != 1:
            raise RuntimeError(f"index_select: the index into a 0-d input must have exactly 1 value, "
                               f"got {array.size}")
        check_index_bounds("index_select", array, 1, 0)
        return GetItem.apply(input.reshape(1), index=(array.reshape(-1),), kind="advanced").reshape(())
    check_index_bounds("index_select", array, input._data.shape[axis], axis)
    selector = (slice(None),) * axis + (array.reshape(-1),)
    return GetItem.apply(input, index=selector, kind="advanced")


def masked_select(input: Tensor, mask) -> Tensor:
    """The elements where ``mask`` (broadcast with input's shape) is true, as a 1-D tensor.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 2], [3, 4]])
        >>> x.masked_select(dendrite.tensor([True, False]))
        tensor([1, 3])
    """
    mask = mask._data if isinstance(mask, TensorBase) else backend.asarray(mask)
    if mask.shape != input._data.shape:
        input = input.expand(*xp.broadcast_shapes(mask.shape, input._data.shape))
        mask = xp.broadcast_to(mask, input._data.shape)
    return GetItem.apply(input, index=mask, kind="mask")


def take(input: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened input at ``index`` (the result has index's shape).

    Example:
        >>> import dendrite
        >>> dendrite.take(dendrite.tensor([[1, 2], [3, 4]]), dendrite.tensor([[0, 3]]))
        tensor([[1, 4]])
    """
    flat, positions = input.reshape(-1), _index_array(index, "take")
    size = flat.shape[0]
    if getattr(positions, "size", 0):  # PyTorch: negative positions count from the end, others must exist
        if size == 0:
            raise IndexError("take(): tried to take from an empty tensor")
        low, high = int(positions.min()), int(positions.max())
        if low < -size or high >= size:
            bad = low if low < -size else high
            raise IndexError(f"take(): index {bad} is out of range for a tensor of {size} elements")
    return GetItem.apply(flat, index=positions, kind="advanced")


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the non-zero elements: int64 of shape (count, ndim), or one 1-D tensor per dim.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[0, 1], [2, 0]])
        >>> x.nonzero()
        tensor([[0, 1],
                [1, 0]])
        >>> x.nonzero(as_tuple=True)
        (tensor([0, 1]), tensor([1, 0]))
    """
    data = input._data
    if data.ndim == 0:  # PyTorch: a 0-d tensor is one element at no coordinates
        count = int(bool(data))
        if as_tuple:
            return (wrap(backend.namespace(data).zeros(count, dtype=xp.int64)),)
        return wrap(backend.namespace(data).zeros((count, 0), dtype=xp.int64))
    found = xp.nonzero(data)
    if as_tuple:
        return tuple(wrap(backend.asarray(axis_index, dtype=xp.int64)) for axis_index in found)
    return wrap(xp.stack(found, axis=-1).astype(xp.int64).reshape(-1, input._data.ndim))
