"""Operations that move values without changing them.

Their backward moves the gradient back the same way: a reshape is undone by
reshaping, a permutation by the inverse permutation, ``expand`` by summing the
copies, ``cat`` by splitting, ``flip`` by flipping again.
"""

from __future__ import annotations

import math
import numbers

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.elementwise import unbroadcast
from dendrite.ops.reduce import normalize_dims
from dendrite.tensor import Tensor


def _sizes(sizes) -> tuple:
    """Accept ``f(2, 3)`` as well as ``f((2, 3))``."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)


class Reshape(Function):
    def forward(self, x, shape):
        self.input_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.input_shape)


class Permute(Function):
    def forward(self, x, dims):
        self.inverse = tuple(xp.argsort(dims))
        return x.transpose(dims)

    def backward(self, grad):
        return grad.transpose(self.inverse)


class Expand(Function):
    def forward(self, x, shape):
        self.input_shape = x.shape
        return xp.broadcast_to(x, shape)

    def backward(self, grad):
        return unbroadcast(grad, self.input_shape)


class Repeat(Function):
    def forward(self, x, repeats):
        self.input_shape = x.shape
        self.repeats = repeats
        return xp.tile(x, repeats)

    def backward(self, grad):
        # Split each axis into (repeat, size) and sum over the repeat parts.
        shape = (1,) * (len(self.repeats) - len(self.input_shape)) + self.input_shape
        split = []
        for count, size in zip(self.repeats, shape):
            split += [count, size]
        summed = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(self.input_shape)


class Cat(Function):
    def forward(self, *arrays, axis):
        self.axis = axis
        self.boundaries = xp.cumsum([a.shape[axis] for a in arrays])[:-1]
        return xp.concatenate(arrays, axis=axis)

    def backward(self, grad):
        return tuple(xp.split(grad, self.boundaries, axis=self.axis))


class Stack(Function):
    def forward(self, *arrays, axis):
        self.axis = axis
        return xp.stack(arrays, axis=axis)

    def backward(self, grad):
        return tuple(xp.moveaxis(grad, self.axis, 0))


class Split(Function):
    """Several outputs: the pieces of one tensor along an axis."""

    def forward(self, x, sections, axis):
        self.shape, self.axis = x.shape, axis
        self.n_outputs = len(sections)
        self.boundaries = xp.cumsum(sections)[:-1]
        return tuple(xp.split(x, self.boundaries, axis=axis))

    def backward(self, grads):
        pieces = xp.split(xp.zeros(self.shape, next(g for g in grads if g is not None).dtype),
                          self.boundaries, axis=self.axis)
        return xp.concatenate([g if g is not None else p for g, p in zip(grads, pieces)], axis=self.axis)


class Flip(Function):
    def forward(self, x, axes):
        self.axes = axes
        return xp.flip(x, axes)

    def backward(self, grad):
        return xp.flip(grad, self.axes)


def reshape(x: Tensor, *shape) -> Tensor:
    """The same values in a new shape; one dimension may be ``-1`` (inferred)."""
    shape = _sizes(shape)
    size = x._data.size
    known = math.prod(d for d in shape if d != -1)
    if shape.count(-1) > 1 or (-1 in shape and (known == 0 or size % known)) or (
        -1 not in shape and known != size
    ):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")
    if shape == x._data.shape:
        return x
    return Reshape.apply(x, shape=shape)


def view(x: Tensor, *shape) -> Tensor:
    """Alias of :func:`reshape` (dendrite tensors are always viewable)."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, xp.integer)):
        from dendrite.ops.elementwise import cast

        return cast(x, shape[0])
    return reshape(x, *shape)


def view_as(x: Tensor, other: Tensor) -> Tensor:
    return reshape(x, other.shape)


def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    return reshape(x, other.shape)


def permute(x: Tensor, *dims) -> Tensor:
    """Reorder dimensions, e.g. ``(N, H, W, C) -> (N, C, H, W)`` with ``permute(0, 3, 1, 2)``."""
    dims = _sizes(dims)
    if len(dims) != x._data.ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions: got {len(dims)} dims for a "
            f"{x._data.ndim}-d tensor"
        )
    dims = normalize_dims(dims, x._data.ndim, "permute: dim")
    if dims == tuple(range(len(dims))):
        return x
    return Permute.apply(x, dims=dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    (first,) = normalize_dims(dim0, x._data.ndim)
    (second,) = normalize_dims(dim1, x._data.ndim)
    if first == second:
        return x
    order = list(range(x._data.ndim))
    order[first], order[second] = order[second], order[first]
    return Permute.apply(x, dims=tuple(order))


def t(x: Tensor) -> Tensor:
    """Transpose of a matrix (a vector is returned as is)."""
    if x._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x._data.ndim}D")
    return transpose(x, 0, -1) if x._data.ndim == 2 else x


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``."""
    ndim = x._data.ndim + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    shape = list(x._data.shape)
    shape.insert(dim % ndim, 1)
    return Reshape.apply(x, shape=tuple(shape))


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or only those in ``dim``)."""
    shape = x._data.shape
    axes = normalize_dims(dim, x._data.ndim) if dim is not None else range(len(shape))
    drop = {a for a in axes if x._data.ndim and shape[a] == 1}
    new_shape = tuple(size for axis, size in enumerate(shape) if axis not in drop)
    if new_shape == shape:
        return x
    return Reshape.apply(x, shape=new_shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one: (N, C, H, W) -> (N, C*H*W) with start_dim=1."""
    if x._data.ndim == 0:
        return reshape(x, 1)
    (start,) = normalize_dims(start_dim, x._data.ndim)
    (end,) = normalize_dims(end_dim, x._data.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = x._data.shape
    return reshape(x, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one may be -1)."""
    (axis,) = normalize_dims(dim, x._data.ndim)
    shape = x._data.shape
    return reshape(x, shape[:axis] + tuple(sizes) + shape[axis + 1 :])


def expand(x: Tensor, *sizes) -> Tensor:
    """Broadcast to a larger shape without copying; ``-1`` keeps a dimension."""
    sizes = _sizes(sizes)
    shape = x._data.shape
    offset = len(sizes) - len(shape)
    if offset < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({len(shape)})"
        )
    target = tuple(shape[i - offset] if size == -1 and i >= offset else size for i, size in enumerate(sizes))
    for i, size in enumerate(shape):
        if size != 1 and size != target[i + offset]:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({target[i + offset]}) must match the existing "
                f"size ({size}) at non-singleton dimension {i}. Target sizes: {list(sizes)}. "
                f"Tensor sizes: {list(shape)}"
            )
    if target == shape:
        return x
    return Expand.apply(x, shape=target)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return expand(x, other.shape)


def broadcast_to(x: Tensor, shape) -> Tensor:
    return expand(x, tuple(shape))


def repeat(x: Tensor, *repeats) -> Tensor:
    """Tile the tensor ``repeats[i]`` times along each dimension."""
    repeats = _sizes(repeats)
    if len(repeats) < x._data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    return Repeat.apply(x, repeats=repeats)


def _same_dtype(tensors, name):
    from dendrite import backend
    from dendrite.ops.elementwise import cast

    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name}(): expected a non-empty list of tensors")
    for item in tensors:
        if not isinstance(item, Tensor):
            raise TypeError(f"{name}(): expected a sequence of tensors, got {type(item).__name__}")
    dtype = tensors[0]._data.dtype
    for item in tensors[1:]:
        dtype = backend.result_dtype(dtype, item._data.dtype)
    return [cast(item, dtype) for item in tensors]


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension; other dimensions must match."""
    tensors = _same_dtype(tensors, "cat")
    (axis,) = normalize_dims(dim, tensors[0]._data.ndim)
    reference = tensors[0]._data.shape
    for position, item in enumerate(tensors):
        shape = item._data.shape
        if len(shape) != len(reference) or any(
            a != b for i, (a, b) in enumerate(zip(shape, reference)) if i != axis
        ):
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {dim}. Expected "
                f"{tuple(reference)} (but any size in dim {dim}) but got {tuple(shape)} for tensor "
                f"number {position} in the list"
            )
    return Cat.apply(*tensors, axis=axis)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension."""
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
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    return Stack.apply(*tensors, axis=dim % ndim)


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of ``split_size`` (the last may be smaller), or of the given list of sizes."""
    (axis,) = normalize_dims(dim, x._data.ndim)
    length = x._data.shape[axis]
    if isinstance(split_size_or_sections, numbers.Integral):
        size = int(split_size_or_sections)
        if size <= 0:
            raise RuntimeError(f"split expects split_size be positive, but got split_size={size}")
        sections = [size] * (length // size) + ([length % size] if length % size else [])
        if not sections:
            sections = [0]
    else:
        sections = [int(s) for s in split_size_or_sections]
        if sum(sections) != length:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's size "
                f"at dimension {dim}), but got split_sizes={sections}"
            )
    if len(sections) == 1:
        return (x,)
    return Split.apply(x, sections=sections, axis=axis)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of ``ceil(n / chunks)`` (fewer if they run out)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    (axis,) = normalize_dims(dim, x._data.ndim)
    length = x._data.shape[axis]
    return split(x, max(1, -(-length // chunks)), dim)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, each with that dimension removed."""
    return tuple(squeeze(piece, dim) for piece in split(x, 1, dim))


def flip(x: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims``."""
    axes = normalize_dims(dims, x._data.ndim)
    return Flip.apply(x, axes=axes)


def movedim(x: Tensor, source: int, destination: int) -> Tensor:
    order = list(range(x._data.ndim))
    (src,) = normalize_dims(source, x._data.ndim)
    (dst,) = normalize_dims(destination, x._data.ndim)
    order.remove(src)
    order.insert(dst, src)
    return permute(x, *order)
