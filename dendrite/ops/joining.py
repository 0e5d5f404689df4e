"""Joining and splitting: cat, stack, split, chunk, unbind.

``cat`` and ``split`` are each other's backward: the gradient of a
concatenation is split at the same boundaries, the gradient of the pieces of
a split is concatenated (with zeros for pieces that received none).
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.movement import alias, narrow, squeeze
from dendrite.ops.operands import DimensionError, cast, normalize_dims
from dendrite.tensor_base import TensorBase, wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


class Cat(Function):
    """``concatenate(arrays, axis)``; backward: the gradient split at the same boundaries."""
    def forward(self, *arrays, axis):
        self.axis = axis
        self.boundaries = xp.cumsum([a.shape[axis] for a in arrays])[:-1]
        return xp.concatenate(arrays, axis=axis)

    def backward(self, grad):
        return tuple(xp.split(grad, self.boundaries.tolist(), axis=self.axis))

    def backward_graph(self, grad):
        starts = [0, *self.boundaries.tolist()]
        ends = [*self.boundaries.tolist(), grad.shape[self.axis]]
        return tuple(grad.narrow(self.axis, start, end - start) for start, end in zip(starts, ends))


class Stack(Function):
    """``stack(arrays, axis)``; backward: the gradient's slices along ``axis``."""
    def forward(self, *arrays, axis):
        self.axis = axis
        return xp.stack(arrays, axis=axis)

    def backward(self, grad):
        return tuple(xp.moveaxis(grad, self.axis, 0))

    def backward_graph(self, grad):
        return tuple(grad.select(self.axis, i) for i in range(grad.shape[self.axis]))


class Split(Function):
    """Several outputs: the pieces of one tensor along an axis."""

    def forward(self, x, sections, axis):
        self.shape, self.axis = x.shape, axis
        self.n_outputs = len(sections)
        self.boundaries = xp.cumsum(sections)[:-1]
        return tuple(xp.split(x, self.boundaries.tolist(), axis=axis))

    def backward(self, grads):
        like = next(g for g in grads if g is not None)
        pieces = xp.split(backend.namespace(like).zeros(self.shape, like.dtype), self.boundaries.tolist(),
                          axis=self.axis)
        return xp.concatenate([p if g is None else g for g, p in zip(grads, pieces)], axis=self.axis)

    def backward_graph(self, *grads):
        like = next(g for g in grads if g is not None)
        pieces = xp.split(backend.namespace(like).zeros(
            self.shape, like.dtype), self.boundaries.tolist(), axis=self.axis)
        return Cat.apply(*[wrap(p) if g is None else g for g, p in zip(grads, pieces)], axis=self.axis)


def _same_dtype(tensors, name: str) -> list:
    """The tensors, checked and promoted to their common dtype (PyTorch promotes in cat/stack)."""
    if isinstance(tensors, TensorBase):
        raise TypeError(f"{name}(): expected a sequence of tensors, got a single Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name}(): expected a non-empty list of tensors")
    for position, item in enumerate(tensors):
        if not isinstance(item, TensorBase):
            raise TypeError(
                f"{name}(): expected a sequence of tensors, but element {position} is a {type(item).__name__}"
            )
    dtype = tensors[0]._data.dtype
    for item in tensors[1:]:
        dtype = backend.result_dtype(dtype, item._data.dtype)
    return [cast(item, dtype) for item in tensors]


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension; the other dimensions must match (dtypes promote).

    Shapes: (2, 3) and (2, 5) with ``dim=1`` -> (2, 8). Aliases: ``concat``, ``concatenate``.

    Example:
        >>> import dendrite
        >>> dendrite.cat([dendrite.tensor([[1, 2]]), dendrite.tensor([[3, 4], [5, 6]])])
        tensor([[1, 2],
                [3, 4],
                [5, 6]])
        >>> dendrite.cat([dendrite.zeros(2, 3), dendrite.zeros(2, 5)], dim=1).shape
        (2, 8)
    """
    tensors = _same_dtype(tensors, "cat")
    # PyTorch's legacy rule: 1-D empty tensors of shape (0,) are skipped (all of them: a (0,) result)
    if all(item._data.shape == (0,) for item in tensors):
        return Cat.apply(*tensors, axis=0)
    tensors = [item for item in tensors if item._data.shape != (0,)]
    reference = tensors[0]._data.shape
    if not reference:
        raise RuntimeError("cat: zero-dimensional tensor (at position 0) cannot be concatenated")
    (axis,) = normalize_dims(dim, len(reference))
    for position, item in enumerate(tensors):
        shape = item._data.shape
        if len(shape) != len(reference) or any(
            a != b for i, (a, b) in enumerate(zip(shape, reference)) if i != axis
        ):
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {dim}. Expected "
                f"{tuple(reference)} (any size in dim {dim}) but got {tuple(shape)} for tensor "
                f"number {position} in the list"
            )
    return Cat.apply(*tensors, axis=axis)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension ``dim``.

    Shapes: k tensors of shape S -> S with k inserted at ``dim``: 3 of (2,) give (3, 2) at dim=0.

    Example:
        >>> import dendrite
        >>> a, b = dendrite.tensor([1, 2]), dendrite.tensor([3, 4])
        >>> dendrite.stack([a, b]), dendrite.stack([a, b], dim=1).tolist()
        (tensor([[1, 2],
                [3, 4]]), [[1, 3], [2, 4]])
    """
    tensors = _same_dtype(tensors, "stack")
    reference = tensors[0]._data.shape
    for position, item in enumerate(tensors):
        if item._data.shape != reference:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {tuple(reference)} at entry 0 "
                f"and {tuple(item._data.shape)} at entry {position}"
            )
    ndim = len(reference) + 1
    if not -ndim <= dim < ndim:
        raise DimensionError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})"
        )
    return Stack.apply(*tensors, axis=dim % ndim)


def hstack(tensors) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors): (2, 1) and (2, 3) -> (2, 4).

    Example:
        >>> import dendrite
        >>> dendrite.hstack([dendrite.tensor([1, 2]), dendrite.tensor([3])])
        tensor([1, 2, 3])
    """
    tensors = list(tensors)
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along dim 0, treating 1-D tensors of length n as rows (1, n).

    Example:
        >>> import dendrite
        >>> dendrite.vstack([dendrite.tensor([1, 2]), dendrite.tensor([3, 4])])
        tensor([[1, 2],
                [3, 4]])
    """
    return cat([t.reshape(1, -1) if t.ndim == 1 else t for t in tensors], 0)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces along ``dim`` of ``split_size`` (the last may be smaller), or of the given list of sizes.

    Shapes: ``x.split(2)`` of a (5, 3) tensor gives (2, 3), (2, 3), (1, 3).

    Example:
        >>> import dendrite
        >>> dendrite.arange(5).split([1, 4])
        (tensor([0]), tensor([1, 2, 3, 4]))
        >>> [piece.shape for piece in dendrite.zeros(5, 3).split(2)]
        [(2, 3), (2, 3), (1, 3)]
    """
    (axis,) = normalize_dims(dim, tensor._data.ndim)
    if tensor._data.ndim == 0:
        raise RuntimeError("split: expects at least a 1-dimensional tensor")
    length = tensor._data.shape[axis]
    if isinstance(split_size_or_sections, numbers.Integral):
        size = int(split_size_or_sections)
        if size <= 0:
            raise RuntimeError(f"split: split_size must be positive, got {size}")
        sections = [size] * (length // size) + ([length % size] if length % size else [])
        if not sections:
            sections = [0]
    else:
        sections = [int(s) for s in split_size_or_sections]
        if sum(sections) != length:
            raise RuntimeError(
                f"split: split sizes {sections} must sum exactly to {length}, the size of dimension {dim} "
                f"of the input (shape {tuple(tensor.shape)})"
            )
    if len(sections) == 1:
        return (alias(tensor),)
    return Split.apply(tensor, sections=sections, axis=axis)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split along ``dim`` into ``chunks`` pieces of ``ceil(n / chunks)`` (fewer if they run out).

    Example:
        >>> import dendrite
        >>> dendrite.arange(5).chunk(2)
        (tensor([0, 1, 2]), tensor([3, 4]))
    """
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be greater than 0, got {chunks}")
    (axis,) = normalize_dims(dim, input._data.ndim)
    if input._data.ndim == 0:
        raise RuntimeError("chunk: expects at least a 1-dimensional tensor")
    length = input._data.shape[axis]
    if length == 0:  # PyTorch: `chunks` empty pieces
        return tuple(narrow(input, axis, 0, 0) for _ in range(chunks))
    return split(input, max(1, -(-length // chunks)), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, each with that dimension removed: (3, 2) -> three of (2,) for dim=0.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2], [3, 4]]).unbind(1)
        (tensor([1, 3]), tensor([2, 4]))
    """
    if input._data.ndim == 0:
        raise IndexError(f"unbind: dimension specified as {dim} but the tensor has no dimensions")
    (axis,) = normalize_dims(dim, input._data.ndim)
    if input._data.shape[axis] == 0:
        return ()  # no slices along an empty dim (PyTorch)
    return tuple(squeeze(piece, axis) for piece in split(input, 1, axis))


def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded to their common broadcast shape: (3, 1) and (4,) both become (3, 4).

    Example:
        >>> import dendrite
        >>> a, b = dendrite.broadcast_tensors(dendrite.zeros(3, 1), dendrite.zeros(4))
        >>> a.shape, b.shape
        ((3, 4), (3, 4))
    """
    shape = xp.broadcast_shapes(*[t.shape for t in tensors])
    return tuple(t.expand(shape) for t in tensors)


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-D tensors; ``indexing='ij'`` (matrix) or ``'xy'`` (Cartesian).

    Shapes: 1-D tensors of sizes (n, m) -> grids of shape (n, m) for 'ij', (m, n) for 'xy'.

    Example:
        >>> import dendrite
        >>> rows, cols = dendrite.meshgrid(dendrite.tensor([0, 1]), dendrite.tensor([5, 6, 7]))
        >>> rows.tolist(), cols.tolist()
        ([[0, 0, 0], [1, 1, 1]], [[5, 6, 7], [5, 6, 7]])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    count = len(tensors)
    swap = indexing == "xy" and count >= 2
    order = [1, 0] + list(range(2, count)) if swap else list(range(count))
    sizes = [tensors[i].numel() for i in order]
    grids = []
    for position, tensor in enumerate(tensors):
        axis = order.index(position)
        shape = [1] * count
        shape[axis] = -1
        grids.append(tensor.reshape(shape).expand(sizes))
    return tuple(grids)
