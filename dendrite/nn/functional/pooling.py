"""Pooling: max, average and adaptive pooling over 1-D and 2-D inputs.

**Separable windows.** A kh x kw window is a kw-wide window along W followed by a kh-tall one
along H: the maximum (or sum) over a rectangle is the maximum over its rows of each row's
maximum. So 2-D pooling is two 1-D passes, each a loop over kernel offsets of vectorised
strided slices -- kw + kh passes instead of kh * kw, and no window is ever copied.

**Argmax the same way.** Each row keeps the first column that wins, then the first winning row
is kept: that is the first maximum in row-major order, PyTorch's rule for ties. The backward
pass routes the gradient back in the reverse order: to the winning rows, then to the winning
columns of those rows.

Adaptive average pooling is a product with a small averaging matrix on each axis.

Files: this one holds max pooling (``MaxPool``, ``max_pool1d``, ``max_pool2d`` and their
``_with_indices`` forms) and re-exports the others: ``pooling_avg`` (average pooling),
``pooling_adaptive`` (adaptive average and max pooling), ``pooling_geometry`` (window arithmetic).
"""

from __future__ import annotations

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp

# Average and adaptive pooling live in files of their own; importable from here as before.
from dendrite.nn.functional.pooling_adaptive import (  # noqa: F401
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
)
from dendrite.nn.functional.pooling_avg import AvgPool, avg_pool1d, avg_pool2d  # noqa: F401
from dendrite.nn.functional.pooling_geometry import _crop, _pad, _setup, _winner_maps
from dendrite.nn.functional.window import (
    max_along,
    owned_array,
    spread_along,
)
from dendrite.ops.graph_operands import linear_map
from dendrite.tensor import Tensor

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d",
]


class MaxPool(Function):
    """Max pooling of (N, C, H, W) with separable argmax; outputs (values[, flat indices in H*W])."""

    def forward(self, x, shapes, windows, return_indices):
        x_shape, out_shape, returned = shapes
        self.n_outputs = 2 if return_indices else 1
        lowest = -xp.inf if x.dtype.kind == "f" else xp.iinfo(x.dtype).min
        padded = _pad(x.reshape(x_shape), windows, lowest)
        (kh, sh, dh, top, _, ho), (kw, sw, dw, left, _, wo) = windows
        want_arg = return_indices or True in self.needs_input_grad
        rows, col_arg = max_along(padded, 3, kw, sw, dw, wo, want_arg)
        out, row_arg = max_along(rows, 2, kh, sh, dh, ho, want_arg)
        if kh == kw == 1:  # each window is one element: do not hand out a view of the input
            out = out.copy()
        self.shapes, self.windows, self.input_shape = shapes, windows, x.shape
        self.padded_shape, self.col_arg, self.row_arg = padded.shape, col_arg, row_arg
        out = out.reshape(returned)
        if not return_indices:
            return out
        # flat index h*W + w of each winner in the unpadded input, as PyTorch returns it
        module = backend.namespace(row_arg)
        row = module.arange(ho).reshape(-1, 1) * sh + row_arg.astype(xp.int64) * dh
        col = xp.take_along_axis(col_arg, row, axis=2).astype(xp.int64) * dw + module.arange(wo) * sw
        indices = (row - top) * x_shape[3] + (col - left)
        return out, indices.reshape(returned)

    def backward(self, grad):
        # dX[argmax of window] += dY[window]: the gradient goes to each window's (first) maximum,
        # spread back along H to the winning rows, then along W to the winning columns.
        if self.n_outputs == 2:
            grad = grad[0]
        x_shape, out_shape, _ = self.shapes
        (kh, sh, dh, top, _, _), (kw, sw, dw, left, _, _) = self.windows
        height, width = self.padded_shape[2:]
        rows = spread_along(grad.reshape(out_shape), self.row_arg, 2, kh, sh, dh, height)
        padded = spread_along(rows, self.col_arg, 3, kw, sw, dw, width)
        if kh == kw == sh == sw == 1:  # 1x1 windows: the spread was the identity, do not return `grad`
            padded = padded.copy()
        return owned_array(_crop(padded, x_shape, top, left), self.input_shape)

    def backward_graph(self, *grads):
        # Linear in the input for fixed winners: dX[winner] += dY, whose transpose picks the winners.
        if grads[0] is None:
            return None
        x_shape, _, returned = self.shapes
        (_, sh, dh, top, _, ho), (_, sw, dw, left, _, wo) = self.windows
        module = backend.namespace(self.row_arg)
        row = module.arange(ho).reshape(-1, 1) * sh + self.row_arg.astype(xp.int64) * dh
        col = xp.take_along_axis(self.col_arg, row, axis=2).astype(xp.int64) * dw + module.arange(wo) * sw
        winners = (row - top) * x_shape[3] + (col - left)
        return linear_map(grads[0], *_winner_maps(winners, x_shape, self.input_shape, returned))


def _max_pad_limit(kernel: int, dilation: int) -> int:
    return (dilation * (kernel - 1) + 1) // 2


def _max_pool(op, dims, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x4, out4, returned, windows = _setup(op, dims, input, kernel_size, stride, padding, dilation, ceil_mode,
                                         _max_pad_limit)
    # PyTorch's kernels: no bool at all; its max_pool1d (without indices) takes floats only
    if input.dtype.kind == "b" or (op == "max_pool1d" and not return_indices and input.dtype.kind != "f"):
        raise NotImplementedError(f"{op}: not implemented for {input.dtype} input (as in PyTorch); "
                                  "convert first, e.g. x.float()")
    return MaxPool.apply(input, shapes=(x4, out4, returned), windows=windows,
                         return_indices=bool(return_indices))


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """2-D max pooling over (N, C, H, W) or (C, H, W); ``stride`` defaults to ``kernel_size``.

    Output: (N, C, H_out, W_out), H_out = floor_or_ceil((H + 2*pad - dilation*(k - 1) - 1) / stride) + 1.
    With ``return_indices`` also the flat index (h * W + w) of each maximum in its input plane.

    Example:
        >>> import dendrite
        >>> max_pool2d(dendrite.randn(8, 16, 28, 28), 2).shape
        (8, 16, 14, 14)
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """1-D max pooling over (N, C, L) or (C, L); see :func:`max_pool2d`.

    Example:
        >>> import dendrite
        >>> max_pool1d(dendrite.randn(2, 3, 10), 3, stride=2).shape
        (2, 3, 4)
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = True):
    """:func:`max_pool2d` returning ``(values, indices)``; indices are flat positions in each ``H * W`` plane.

    Example:
        >>> import dendrite
        >>> values, indices = max_pool2d_with_indices(dendrite.arange(16.0).reshape(1, 1, 4, 4), 2)
        >>> values.tolist(), indices.tolist()
        ([[[[5.0, 7.0], [13.0, 15.0]]]], [[[[5, 7], [13, 15]]]])
    """
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = True):
    """:func:`max_pool1d` returning ``(values, indices)``: each (N, C, L_out), indices into L.

    Example:
        >>> import dendrite
        >>> values, indices = max_pool1d_with_indices(dendrite.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
        >>> values.tolist(), indices.tolist()
        ([[[3.0, 2.0]]], [[[1, 2]]])
    """
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)
