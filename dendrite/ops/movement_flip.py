"""Reversing and rotating: ``flip``, ``fliplr``, ``flipud``, ``roll``.

The values stay, their order along some dimensions changes; the shape is the same. The backward
undoes the move: a flip is its own inverse, and a roll by ``s`` is undone by a roll by ``-s``.
Reshaping and reordering dimensions are in :mod:`dendrite.ops.movement`.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.operands import normalize_dims

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


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
            # Tensor.reshape makes the same Reshape node (Reshape lives in movement.py, which imports this)
            rolled = Roll.apply(grad.reshape(-1), shifts=-self.shifts, axes=None)
            return rolled.reshape(self.shape)
        return Roll.apply(grad, shifts=tuple(-s for s in self.shifts), axes=self.axes)


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
