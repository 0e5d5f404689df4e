"""Operations that move values without changing them: reshape, permute, expand, flip ...

Their backward moves the gradient back the same way: a reshape is undone by
reshaping, a permutation by the inverse permutation, ``expand`` by summing the
copies, ``flip`` and ``roll`` by flipping and rolling back. Joining and
splitting (cat, stack, split, chunk) are in :mod:`dendrite.ops.joining`.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.operands import cast, normalize_dims, unbroadcast

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def _sizes(sizes) -> tuple:
    """Accept ``f(2, 3)`` as well as ``f((2, 3))``."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    return tuple(int(size) for size in sizes)


class Reshape(Function):
    def forward(self, x, shape):
        self.input_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.input_shape)


class Permute(Function):
    def forward(self, x, dims):
        self.dims = dims
        return x.transpose(dims)

    def backward(self, grad):
        inverse = [0] * len(self.dims)
        for position, dim in enumerate(self.dims):
            inverse[dim] = position
        return grad.transpose(inverse)


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
        pieces = []
        for count, size in zip(self.repeats, shape):
            pieces += [count, size]
        summed = grad.reshape(pieces).sum(axis=tuple(range(0, len(pieces), 2)))
        return summed.reshape(self.input_shape)


class Flip(Function):
    def forward(self, x, axes):
        self.axes = axes
        return xp.flip(x, axes)

    def backward(self, grad):
        return xp.flip(grad, self.axes)


class Roll(Function):
    def forward(self, x, shifts, axes):
        self.shifts, self.axes, self.shape = shifts, axes, x.shape
        return xp.roll(x, shifts, axes)

    def backward(self, grad):
        if self.axes is None:
            return xp.roll(grad.reshape(-1), -self.shifts).reshape(self.shape)
        return xp.roll(grad, tuple(-s for s in self.shifts), self.axes)


def alias(input: Tensor) -> Tensor:
    """A new tensor for the same values (a view, as PyTorch returns even for no-op reshapes)."""
    return Reshape.apply(input, shape=input._data.shape)


def reshape(input: Tensor, *shape) -> Tensor:
    """The same values in a new shape; one dimension may be ``-1`` (inferred).

    Example: ``x.reshape(2, -1)`` of a (2, 3, 4) tensor is (2, 12).
    """
    shape = _sizes(shape)
    size = input._data.size
    known = math.prod(d for d in shape if d != -1)
    invalid = shape.count(-1) > 1 or any(d < -1 for d in shape)
    if invalid or (-1 in shape and (known == 0 or size % known)) or (-1 not in shape and known != size):
        raise RuntimeError(
            f"reshape: shape {list(shape)} is invalid for input of shape {tuple(input.shape)} "
            f"(size {size})"
        )
    return Reshape.apply(input, shape=shape)


def view(input: Tensor, *shape) -> Tensor:
    """Alias of :func:`reshape` (dendrite tensors are always viewable); ``view(dtype)`` casts."""
    if len(shape) == 1 and not isinstance(shape[0], (numbers.Integral, tuple, list)):
        return cast(input, shape[0])
    return reshape(input, *shape)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other.shape)


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder dimensions, e.g. ``(N, H, W, C) -> (N, C, H, W)`` with ``permute(0, 3, 1, 2)``."""
    dims = _sizes(dims)
    if len(dims) != input._data.ndim:
        raise RuntimeError(
            f"permute: the number of dims ({len(dims)}) does not match the number of dimensions of "
            f"the input ({input._data.ndim}, shape {tuple(input.shape)})"
        )
    dims = normalize_dims(dims, input._data.ndim, "permute: dim")
    return Permute.apply(input, dims=dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions. Example: ``x.transpose(0, 1)`` of (2, 3) is (3, 2)."""
    if input._data.ndim == 0:
        normalize_dims((dim0, dim1) if dim0 != dim1 else dim0, 0)
        return alias(input)
    (first,) = normalize_dims(dim0, input._data.ndim)
    (second,) = normalize_dims(dim1, input._data.ndim)
    order = list(range(input._data.ndim))
    order[first], order[second] = order[second], order[first]
    return Permute.apply(input, dims=tuple(order))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose of a matrix (a vector or scalar is returned as is)."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but the input is "
                           f"{input._data.ndim}-D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else alias(input)


def adjoint(input: Tensor) -> Tensor:
    """The last two dimensions swapped (``x.mT``)."""
    return transpose(input, -2, -1)


def _new_axis(dim: int, ndim: int) -> int:
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})"
        )
    return dim % ndim


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``: (3,) -> (1, 3) with dim=0, (3, 1) with dim=1."""
    shape = list(input._data.shape)
    shape.insert(_new_axis(dim, input._data.ndim + 1), 1)
    return Reshape.apply(input, shape=tuple(shape))


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or only those in ``dim``)."""
    shape = input._data.shape
    axes = normalize_dims(dim, input._data.ndim) if dim is not None else range(len(shape))
    drop = {a for a in axes if input._data.ndim and shape[a] == 1}
    new_shape = tuple(size for axis, size in enumerate(shape) if axis not in drop)
    return Reshape.apply(input, shape=new_shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim``: (N, C, H, W) -> (N, C*H*W) with start_dim=1."""
    if input._data.ndim == 0:
        return reshape(input, 1)
    (start,) = normalize_dims(start_dim, input._data.ndim)
    (end,) = normalize_dims(end_dim, input._data.ndim)
    if start > end:
        raise RuntimeError("flatten: start_dim cannot come after end_dim")
    shape = input._data.shape
    return reshape(input, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one may be -1): (N, 12) -> (N, 3, 4)."""
    (axis,) = normalize_dims(dim, input._data.ndim)
    shape = input._data.shape
    return reshape(input, shape[:axis] + tuple(sizes) + shape[axis + 1 :])


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast to a larger shape without copying; ``-1`` keeps a dimension.

    Example: ``x.expand(4, 3)`` of a (1, 3) tensor repeats its row 4 times.
    """
    sizes = _sizes(sizes)
    shape = input._data.shape
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
    return Expand.apply(input, shape=target)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other.shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    """``expand`` to ``shape``."""
    return expand(input, tuple(shape))


def repeat(input: Tensor, *repeats) -> Tensor:
    """Tile the tensor ``repeats[i]`` times along each dimension: (2, 3).repeat(2, 1) is (4, 3)."""
    repeats = _sizes(repeats)
    if len(repeats) < input._data.ndim:
        raise RuntimeError(
            f"repeat: {len(repeats)} repeats given for a {input._data.ndim}-d tensor; "
            "give at least one per dimension"
        )
    return Repeat.apply(input, repeats=repeats)


def tile(input: Tensor, dims) -> Tensor:
    """Like :func:`repeat`, but fewer ``dims`` than dimensions are padded with 1s at the front."""
    dims = tuple(dims)
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims``."""
    axes = normalize_dims(dims, input._data.ndim)
    return Flip.apply(input, axes=axes)


def fliplr(input: Tensor) -> Tensor:
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    return flip(input, 0)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements along ``dims`` (wrapping around); without dims, over the flattened tensor."""
    if dims is None:
        if not isinstance(shifts, numbers.Integral):
            (shifts,) = shifts
        return Roll.apply(input, shifts=int(shifts), axes=None)
    shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
    axes = normalize_dims(dims, input._data.ndim)
    if len(shifts) != len(axes):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    return Roll.apply(input, shifts=tuple(int(s) for s in shifts), axes=axes)


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dimension(s) ``source`` to position(s) ``destination``, keeping the others' order."""
    sources = normalize_dims(source, input._data.ndim)
    destinations = normalize_dims(destination, input._data.ndim)
    if len(sources) != len(destinations):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must match in length")
    order = [d for d in range(input._data.ndim) if d not in sources]
    for dst, src in sorted(zip(destinations, sources)):
        order.insert(dst, src)
    return permute(input, *order)


moveaxis = movedim


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start : start + length`` along ``dim``."""
    (axis,) = normalize_dims(dim, input._data.ndim)
    size = input._data.shape[axis]
    start = int(start) + size if start < 0 else int(start)
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise IndexError(f"narrow: start {start} and length {length} exceed dimension {dim} of size {size}")
    return input[(slice(None),) * axis + (slice(start, start + length),)]


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, with that dimension removed."""
    (axis,) = normalize_dims(dim, input._data.ndim)
    size = input._data.shape[axis]
    if not -size <= index < size:
        raise IndexError(f"select: index {index} out of range for dimension {dim} of size {size}")
    return input[(slice(None),) * axis + (int(index),)]
