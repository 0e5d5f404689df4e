"""Operations that move values without changing them: reshape, permute, transpose, squeeze ...

Their backward moves the gradient back the same way: a reshape is undone by
reshaping, a permutation by the inverse permutation. Joining and splitting
(cat, stack, split, chunk) are in :mod:`dendrite.ops.joining`.

Files: this one holds reshaping (reshape, view, squeeze, flatten ...), reordering dimensions
(permute, transpose, t, movedim) and taking one slice (narrow, select), and re-exports the others:
:mod:`dendrite.ops.movement_expand` (expand, expand_as, broadcast_to, repeat, tile) and
:mod:`dendrite.ops.movement_flip` (flip, fliplr, flipud, roll).
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

from dendrite.autograd.function import Function

# Expanding and repeating, and flipping and rolling, live in files of their own; importable from here.
from dendrite.ops.movement_expand import (  # noqa: F401
    Expand,
    Repeat,
    broadcast_to,
    expand,
    expand_as,
    repeat,
    tile,
)
from dendrite.ops.movement_flip import Flip, Roll, flip, fliplr, flipud, roll  # noqa: F401
from dendrite.ops.operands import DimensionError, cast, normalize_dims, size_arguments

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


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
    shape = size_arguments(shape)
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
    dims = size_arguments(dims)
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
