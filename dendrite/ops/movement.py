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
from dendrite.ops.graph_operands import sum_to
from dendrite.ops.operands import DimensionError, cast, normalize_dims, unbroadcast

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def _sizes(sizes) -> tuple:
    """Accept ``f(2, 3)`` as well as ``f((2, 3))``."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    return tuple(int(size) for size in sizes)


class Reshape(Function):
    """``x.reshape(shape)``; backward: the gradient reshaped back."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, x, shape):
        self.input_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.input_shape)

    def backward_graph(self, grad):
        return Reshape.apply(grad, shape=self.input_shape)


class Permute(Function):
    """``x.transpose(dims)``; backward: the gradient transposed by the inverse permutation."""
    replayable = True  # dendrite.compile may replay it (autograd/function.py)
    def forward(self, x, dims):
        self.dims = dims
        return x.transpose(dims)

    def backward(self, grad):
        inverse = [0] * len(self.dims)
        for position, dim in enumerate(self.dims):
            inverse[dim] = position
        return grad.transpose(inverse)

    def backward_graph(self, grad):
        inverse = [0] * len(self.dims)
        for position, dim in enumerate(self.dims):
            inverse[dim] = position
        return Permute.apply(grad, dims=tuple(inverse))


class Expand(Function):
    """``broadcast_to(x, shape)``; backward: the gradient summed back to x's shape."""
    def forward(self, x, shape):
        self.input_shape = x.shape
        return xp.broadcast_to(x, shape)

    def backward(self, grad):
        return unbroadcast(grad, self.input_shape)

    def backward_graph(self, grad):
        return sum_to(grad, self.input_shape)


class Repeat(Function):
    """``tile(x, repeats)``; backward: the gradient's tiles summed."""
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

    def backward_graph(self, grad):
        shape = (1,) * (len(self.repeats) - len(self.input_shape)) + self.input_shape
        pieces = []
        for count, size in zip(self.repeats, shape):
            pieces += [count, size]
        summed = Reshape.apply(grad, shape=tuple(pieces)).sum(dim=tuple(range(0, len(pieces), 2)))
        return Reshape.apply(summed, shape=self.input_shape)


class Flip(Function):
    """``flip(x, axes)``; backward: the gradient flipped back."""
    def forward(self, x, axes):
        self.axes = axes
        return xp.flip(x, axes)

    def backward(self, grad):
        return xp.flip(grad, self.axes)

    def backward_graph(self, grad):
        return Flip.apply(grad, axes=self.axes)


class Roll(Function):
    """``roll(x, shifts, axes)``; backward: the gradient rolled back."""
    def forward(self, x, shifts, axes):
        self.shifts, self.axes, self.shape = shifts, axes, x.shape
        return xp.roll(x, shifts, axes)

    def backward(self, grad):
        if self.axes is None:
            return xp.roll(grad.reshape(-1), -self.shifts).reshape(self.shape)
        return xp.roll(grad, tuple(-s for s in self.shifts), self.axes)

    def backward_graph(self, grad):
        if self.axes is None:
            rolled = Roll.apply(Reshape.apply(grad, shape=(-1,)), shifts=-self.shifts, axes=None)
            return Reshape.apply(rolled, shape=self.shape)
        return Roll.apply(grad, shifts=tuple(-s for s in self.shifts), axes=self.axes)


def alias(input: Tensor) -> Tensor:
    """A new tensor for the same values and shape (a view, as PyTorch returns even for no-op reshapes).

    Example:
        >>> import dendrite
        >>> from dendrite.ops.movement import alias
        >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
        >>> alias(x)
        tensor([1., 2.], grad_fn=<ReshapeBackward>)
    """
    return Reshape.apply(input, shape=input._data.shape)


def reshape(input: Tensor, *shape) -> Tensor:
    """The same values in a new shape of the same size; one dimension may be ``-1`` (inferred).

    Shapes: ``x.reshape(2, -1)`` of a (2, 3, 4) tensor is (2, 12).

    Example:
        >>> import dendrite
        >>> dendrite.arange(6).reshape(2, -1)
        tensor([[0, 1, 2],
                [3, 4, 5]])
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
    """Alias of :func:`reshape` (dendrite tensors are always viewable); ``view(dtype)`` casts.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2, 3, 4).view(-1, 4).shape
        (6, 4)
    """
    if len(shape) == 1 and not isinstance(shape[0], (numbers.Integral, tuple, list)):
        return cast(input, shape[0])
    return reshape(input, *shape)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.reshape(other.shape)``.

    Example:
        >>> import dendrite
        >>> dendrite.arange(4).view_as(dendrite.zeros(2, 2))
        tensor([[0, 1],
                [2, 3]])
    """
    return reshape(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.reshape(other.shape)``.

    Example:
        >>> import dendrite
        >>> dendrite.arange(4).reshape_as(dendrite.zeros(4, 1)).shape
        (4, 1)
    """
    return reshape(input, other.shape)


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder dimensions: ``permute(0, 3, 1, 2)`` takes (N, H, W, C) to (N, C, H, W).

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2, 5, 7, 3).permute(0, 3, 1, 2).shape
        (2, 3, 5, 7)
    """
    dims = _sizes(dims)
    if len(dims) != input._data.ndim:
        raise RuntimeError(
            f"permute: the number of dims ({len(dims)}) does not match the number of dimensions of "
            f"the input ({input._data.ndim}, shape {tuple(input.shape)})"
        )
    dims = normalize_dims(dims, input._data.ndim, "permute: dim")
    return Permute.apply(input, dims=dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions: ``x.transpose(0, 1)`` of (2, 3) is (3, 2). Aliases: ``swapaxes``, ``swapdims``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2, 3]]).transpose(0, 1)
        tensor([[1],
                [2],
                [3]])
    """
    if input._data.ndim == 0:  # each dim in [-1, 0]; they may name the same axis, as in PyTorch
        normalize_dims(dim0, 0)
        normalize_dims(dim1, 0)
        return alias(input)
    (first,) = normalize_dims(dim0, input._data.ndim)
    (second,) = normalize_dims(dim1, input._data.ndim)
    order = list(range(input._data.ndim))
    order[first], order[second] = order[second], order[first]
    return Permute.apply(input, dims=tuple(order))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose of a matrix, (m, n) -> (n, m); a vector or scalar is returned as is.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2], [3, 4]]).t()
        tensor([[1, 3],
                [2, 4]])
    """
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but the input is "
                           f"{input._data.ndim}-D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else alias(input)


def adjoint(input: Tensor) -> Tensor:
    """The last two dimensions swapped (``x.mT``): (..., m, n) -> (..., n, m).

    Example:
        >>> import dendrite
        >>> dendrite.zeros(4, 2, 3).adjoint().shape
        (4, 3, 2)
    """
    return transpose(input, -2, -1)


def _new_axis(dim: int, ndim: int) -> int:
    if not -ndim <= dim < ndim:
        raise DimensionError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})"
        )
    return dim % ndim


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``: (3,) -> (1, 3) with dim=0, (3, 1) with dim=1.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([1, 2, 3])
        >>> x.unsqueeze(0).shape, x.unsqueeze(-1).shape
        ((1, 3), (3, 1))
    """
    shape = list(input._data.shape)
    shape.insert(_new_axis(dim, input._data.ndim + 1), 1)
    return Reshape.apply(input, shape=tuple(shape))


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or only those in ``dim``): (1, 3, 1) -> (3,).

    Example:
        >>> import dendrite
        >>> x = dendrite.zeros(1, 3, 1)
        >>> x.squeeze().shape, x.squeeze(0).shape
        ((3,), (3, 1))
    """
    shape = input._data.shape
    axes = normalize_dims(dim, input._data.ndim) if dim is not None else range(len(shape))
    drop = {a for a in axes if input._data.ndim and shape[a] == 1}
    new_shape = tuple(size for axis, size in enumerate(shape) if axis not in drop)
    return Reshape.apply(input, shape=new_shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim``: (N, C, H, W) -> (N, C*H*W) with start_dim=1.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2, 3, 4, 5).flatten(1).shape, dendrite.zeros(2, 3).flatten().shape
        ((2, 60), (6,))
    """
    (start,) = normalize_dims(start_dim, input._data.ndim)  # a 0-d tensor takes dims in [-1, 0]
    (end,) = normalize_dims(end_dim, input._data.ndim)
    if input._data.ndim == 0:
        return reshape(input, 1)
    (end,) = normalize_dims(end_dim, input._data.ndim)
    if start > end:
        raise RuntimeError("flatten: start_dim cannot come after end_dim")
    shape = input._data.shape
    return reshape(input, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes`` (one may be -1): (N, 12) -> (N, 3, 4).

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2, 12).unflatten(1, (3, -1)).shape
        (2, 3, 4)
    """
    (axis,) = normalize_dims(dim, input._data.ndim)
    shape = input._data.shape
    return reshape(input, shape[:axis] + tuple(sizes) + shape[axis + 1 :])


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast to a larger shape without copying; ``-1`` keeps a dimension, new ones go in front.

    Shapes: a (1, 3) tensor ``.expand(4, 3)`` repeats its row 4 times. The gradient is summed back.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2, 3]]).expand(2, -1)
        tensor([[1, 2, 3],
                [1, 2, 3]])
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
    """``input.expand(other.shape)``.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1], [2]]).expand_as(dendrite.zeros(2, 3))
        tensor([[1, 1, 1],
                [2, 2, 2]])
    """
    return expand(input, other.shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    """``expand`` to ``shape``: (3,) -> (2, 3).

    Example:
        >>> import dendrite
        >>> dendrite.broadcast_to(dendrite.tensor([1, 2, 3]), (2, 3)).shape
        (2, 3)
    """
    return expand(input, tuple(shape))


def repeat(input: Tensor, *repeats) -> Tensor:
    """Tile the tensor ``repeats[i]`` times along each dimension: (2, 3).repeat(2, 1) is (4, 3).

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2]]).repeat(2, 2)
        tensor([[1, 2, 1, 2],
                [1, 2, 1, 2]])
    """
    if not repeats:
        raise TypeError("repeat: missing the repeats, e.g. x.repeat(2, 1) (one per dimension)")
    repeats = _sizes(repeats)
    if any(r < 0 for r in repeats):
        raise RuntimeError(f"repeat: the repeats must be non-negative, got {tuple(repeats)}")
    if len(repeats) < input._data.ndim:
        raise RuntimeError(
            f"repeat: {len(repeats)} repeats given for a {input._data.ndim}-d tensor; "
            "give at least one per dimension"
        )
    return Repeat.apply(input, repeats=repeats)


def tile(input: Tensor, dims) -> Tensor:
    """Like :func:`repeat`, but fewer ``dims`` than dimensions are padded with 1s at the front.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2], [3, 4]]).tile((2,))
        tensor([[1, 2, 1, 2],
                [3, 4, 3, 4]])
    """
    dims = tuple(dims)
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims`` (same shape).

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2], [3, 4]]).flip(0)
        tensor([[3, 4],
                [1, 2]])
    """
    ndim = input._data.ndim
    axes = normalize_dims(dims, ndim)  # a 0-d tensor takes dims in [-1, 0] and stays as it is
    return Flip.apply(input, axes=axes if ndim else ())


def fliplr(input: Tensor) -> Tensor:
    """Reverse the columns (dim 1), same shape.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2, 3]]).fliplr()
        tensor([[3, 2, 1]])
    """
    if input._data.ndim < 2:
        raise RuntimeError(f"fliplr: input must be at least 2-d, got shape {tuple(input.shape)}")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    """Reverse the rows (dim 0), same shape.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([1, 2, 3]).flipud()
        tensor([3, 2, 1])
    """
    if input._data.ndim < 1:
        raise RuntimeError("flipud: input must be at least 1-d, got a 0-d tensor")
    return flip(input, 0)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements along ``dims`` (wrapping around); without dims, over the flattened tensor. Same shape.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([[1, 2, 3], [4, 5, 6]])
        >>> x.roll(1, dims=1).tolist(), x.roll(1).tolist()
        ([[3, 1, 2], [6, 4, 5]], [[6, 1, 2], [3, 4, 5]])
    """
    if dims is None:
        if not isinstance(shifts, numbers.Integral):
            (shifts,) = shifts
        return Roll.apply(input, shifts=int(shifts), axes=None)
    shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(shifts)
    if input._data.size == 0 and len(shifts) == len((dims,) if isinstance(dims, numbers.Integral) else dims):
        return Roll.apply(input, shifts=0, axes=None)  # PyTorch returns an empty input unchanged, any dims
    axes = normalize_dims(dims, input._data.ndim)
    if input._data.ndim == 0:
        raise IndexError(f"roll: dimension specified as {dims} but the tensor has no dimensions")
    if len(shifts) != len(axes):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    return Roll.apply(input, shifts=tuple(int(s) for s in shifts), axes=axes)


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dimension(s) ``source`` to position(s) ``destination``, keeping the others' order.

    Example:
        >>> import dendrite
        >>> dendrite.zeros(2, 3, 4).movedim(-1, 0).shape
        (4, 2, 3)
    """
    sources = normalize_dims(source, input._data.ndim)
    destinations = normalize_dims(destination, input._data.ndim)
    if len(sources) != len(destinations):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must match in length")
    order = [d for d in range(input._data.ndim) if d not in sources]
    if input._data.ndim == 0:  # dims 0 and -1 name the only position of a 0-d tensor
        return permute(input)
    for dst, src in sorted(zip(destinations, sources)):
        order.insert(dst, src)
    return permute(input, *order)


moveaxis = movedim


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start : start + length`` along ``dim`` (that dimension becomes ``length``).

    Example:
        >>> import dendrite
        >>> dendrite.arange(6).reshape(2, 3).narrow(1, 1, 2)
        tensor([[1, 2],
                [4, 5]])
    """
    (axis,) = normalize_dims(dim, input._data.ndim)
    if input._data.ndim == 0:
        raise RuntimeError("narrow: cannot be applied to a 0-dim tensor")
    size = input._data.shape[axis]
    start = int(start) + size if start < 0 else int(start)
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise IndexError(f"narrow: start {start} and length {length} exceed dimension {dim} of size {size}")
    return input[(slice(None),) * axis + (slice(start, start + length),)]


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, with that dimension removed: (2, 3) -> (2,) with dim=1.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2, 3], [4, 5, 6]]).select(1, -1)
        tensor([3, 6])
    """
    (axis,) = normalize_dims(dim, input._data.ndim)
    if input._data.ndim == 0:
        raise IndexError("select: cannot be applied to a 0-dim tensor")
    size = input._data.shape[axis]
    if not -size <= index < size:
        raise IndexError(f"select: index {index} out of range for dimension {dim} of size {size}")
    return input[(slice(None),) * axis + (int(index),)]
