"""Expanding and repeating: ``expand``, ``expand_as``, ``broadcast_to``, ``repeat``, ``tile``.

Both make a larger tensor out of copies of the input. ``expand`` broadcasts (a view in PyTorch,
no copy); its backward sums the gradient over the copies back to the input's shape. ``repeat``
and ``tile`` tile the values; their backward splits each axis into (repeat, size) and sums over
the repeats. Reshaping and reordering dimensions are in :mod:`dendrite.ops.movement`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import sum_to
from dendrite.ops.operands import size_arguments, unbroadcast

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


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
        # Tensor.reshape makes the same Reshape node (Reshape lives in movement.py, which imports this file)
        summed = grad.reshape(tuple(pieces)).sum(dim=tuple(range(0, len(pieces), 2)))
        return summed.reshape(self.input_shape)


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast to a larger shape without copying; ``-1`` keeps a dimension, new ones go in front.

    Shapes: a (1, 3) tensor ``.expand(4, 3)`` repeats its row 4 times. The gradient is summed back.

    Example:
        >>> import dendrite
        >>> dendrite.tensor([[1, 2, 3]]).expand(2, -1)
        tensor([[1, 2, 3],
                [1, 2, 3]])
    """
    sizes = size_arguments(sizes)
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
    repeats = size_arguments(repeats)
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
