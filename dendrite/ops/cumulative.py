"""Running (cumulative) sums and products along a dimension.

    d cumsum:  dx_i = sum_{j >= i} g_j                (a reversed running sum)
    d cumprod: dx_i = sum_{j >= i} g_j * prod_{k <= j, k != i} x_k
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.operands import cast, normalize_dims
from dendrite.tensor_base import wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def _reverse_cumsum(array, axis: int):
    return xp.flip(xp.cumsum(xp.flip(array, axis), axis), axis)


class CumSum(Function):
    def forward(self, x, axis):
        self.axis = axis
        return xp.cumsum(x, axis)

    def backward(self, grad):
        return _reverse_cumsum(grad, self.axis)


class CumProd(Function):
    def forward(self, x, axis):
        self.x, self.axis = x, axis
        self.result = xp.cumprod(x, axis)
        return self.result

    def backward(self, grad):
        x, axis = self.x, self.axis
        if xp.all(x != 0):
            return _reverse_cumsum(grad * self.result, axis) / x
        # With zeros the division above is undefined: build each position's sum directly.
        moved_x, moved_grad = xp.moveaxis(x, axis, -1), xp.moveaxis(grad, axis, -1)
        result = xp.zeros_like(moved_x)
        for i in range(moved_x.shape[-1]):
            without_i = moved_x.copy()
            without_i[..., i] = 1
            products = xp.cumprod(without_i, -1)
            result[..., i] = (moved_grad[..., i:] * products[..., i:]).sum(-1)
        return xp.moveaxis(result, -1, axis)


def _prepare(input: Tensor, dim: int, dtype):
    if dtype is not None:
        input = cast(input, dtype)
    elif input._data.dtype.kind in "biu" and input._data.dtype != backend.int64:
        input = wrap(input._data.astype(backend.int64))  # PyTorch accumulates integers in int64
    if input.ndim == 0:
        return input, None
    (axis,) = normalize_dims(dim, input.ndim)
    return input, axis


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sum along ``dim``: ``cumsum(tensor([1, 2, 3]), 0)`` is ``tensor([1, 3, 6])``."""
    input, axis = _prepare(input, dim, dtype)
    return input if axis is None else CumSum.apply(input, axis=axis)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running product along ``dim`` (gradients exact even with zeros)."""
    input, axis = _prepare(input, dim, dtype)
    return input if axis is None else CumProd.apply(input, axis=axis)
