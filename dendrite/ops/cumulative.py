"""Running (cumulative) sums and products along a dimension.

    d cumsum:  dx_i = sum_{j >= i} g_j                (a reversed running sum)
    d cumprod: dx_i = sum_{j >= i} g_j * prod_{k <= j, k != i} x_k
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import composed_gradients, linear_map
from dendrite.ops.joining import Stack
from dendrite.ops.operands import cast, normalize_dims
from dendrite.tensor_base import wrap

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor


def _reverse_cumsum(array, axis: int):
    return xp.flip(xp.cumsum(xp.flip(array, axis), axis), axis)


class CumSum(Function):
    """Running sum along an axis; backward: the reversed running sum of the gradient."""
    def forward(self, x, axis):
        self.axis = axis
        return xp.cumsum(x, axis)

    def backward(self, grad):
        return _reverse_cumsum(grad, self.axis)

    def backward_graph(self, grad):
        axis = self.axis
        return linear_map(grad, to=lambda g: _reverse_cumsum(g, axis), back=lambda h: xp.cumsum(h, axis))


class CumProd(Function):
    """Running product along an axis; backward: dx_i = sum_{j >= i} g_j * prod_{k <= j, k != i} x_k."""
    def forward(self, x, axis):
        self.x, self.axis = x, axis
        self.result = xp.cumprod(x, axis)
        return self.result

    def backward(self, grad):
        x, axis = self.x, self.axis
        if axis is None or x.shape[axis] == 1:  # one factor: the gradient itself (as PyTorch), not
            return grad  # g * x / x, which is 0 where g * x underflows (x = 1e-45)
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

    def backward_graph(self, grad):
        # Recomputed as running products along the axis (exact with zeros, differentiable to any order)
        axis = self.axis

        def composed(x):
            running = [x.select(axis, 0)]
            for i in range(1, x.shape[axis]):
                running.append(running[-1] * x.select(axis, i))
            return Stack.apply(*running, axis=axis)
        return composed_gradients(self, grad, composed)[0]


def _prepare(input: Tensor, dim: int, dtype):
    if dtype is not None:
        input = cast(input, dtype)
    elif input._data.dtype.kind in "biu" and input._data.dtype != backend.int64:
        input = wrap(input._data.astype(backend.int64))  # PyTorch accumulates integers in int64
    (axis,) = normalize_dims(dim, input.ndim)  # a 0-d tensor takes dim in [-1, 0], as PyTorch
    return input, None if input.ndim == 0 else axis


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sum along ``dim``: ``out[i] = input[0] + ... + input[i]``; same shape (integers -> int64).

    Example:
        >>> import dendrite
        >>> dendrite.cumsum(dendrite.tensor([[1, 2, 3], [4, 5, 6]]), dim=1)
        tensor([[ 1,  3,  6],
                [ 4,  9, 15]])
        >>> x = dendrite.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> x.cumsum(0).sum().backward(); x.grad
        tensor([3., 2., 1.])
    """
    input, axis = _prepare(input, dim, dtype)
    return input if axis is None else CumSum.apply(input, axis=axis)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running product along ``dim``: ``out[i] = input[0] * ... * input[i]``; same shape.

    Gradients are exact even where ``input`` has zeros.

    Example:
        >>> import dendrite
        >>> x = dendrite.tensor([2.0, 3.0, 4.0], requires_grad=True)
        >>> y = x.cumprod(0); y
        tensor([ 2.,  6., 24.], grad_fn=<CumProdBackward>)
        >>> y.sum().backward(); x.grad
        tensor([16., 10.,  6.])
    """
    input, axis = _prepare(input, dim, dtype)
    return input if axis is None else CumProd.apply(input, axis=axis)
