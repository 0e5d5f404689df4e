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
"""

from __future__ import annotations

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.window import (
    as_tuple,
    check_at_least,
    format_shape,
    max_along,
    owned_array,
    spread_along,
    sum_along,
)
from dendrite.ops.graph_operands import linear_map
from dendrite.tensor import Tensor
from dendrite.utils import blas

__all__ = [
    "max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d",
]


# ----------------------------------------------------------------------------- window arithmetic
def _out_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape: a last window may hang over the end only in ceil_mode,
    and must then start inside the input or its left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _setup(op: str, dims: int, input, kernel_size, stride, padding, dilation, ceil_mode, max_pad_rule):
    """Validate a pooling call; return (x 4-D shape, out 4-D shape, returned shape, per-axis windows)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    names = "L" if dims == 1 else "H, W"
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{op}: expected input of shape (N, C, {names}) or unbatched (C, {names}), "
                           f"got {format_shape(input.shape)}")
    kernel = check_at_least(as_tuple(kernel_size, dims, "kernel_size", op), 1, "kernel_size", op)
    if stride is None or stride == []:
        stride = kernel
    else:
        stride = check_at_least(as_tuple(stride, dims, "stride", op), 1, "stride", op)
    padding = check_at_least(as_tuple(padding, dims, "padding", op), 0, "padding", op)
    dilation = check_at_least(as_tuple(dilation, dims, "dilation", op), 1, "dilation", op)
    # PyTorch refuses an empty channel or spatial dim (only a batched input's batch may be 0)
    if 0 in tuple(input.shape)[input.ndim - dims - 1:]:
        raise RuntimeError(f"{op}: expected input of shape (N, C, {names}) or unbatched (C, {names}) with "
                           f"non-empty C and {names} (only N may be 0), got {format_shape(input.shape)}")
    shape = tuple(input.shape) if input.ndim == dims + 2 else (1,) + tuple(input.shape)
    sizes = shape[2:]
    windows, out_sizes = [], []
    for size, k, s, p, d in zip(sizes, kernel, stride, padding, dilation):
        limit = max_pad_rule(k, d)
        if p > limit:
            raise ValueError(f"{op}: padding should be at most half of the (effective) kernel size, got "
                             f"padding={padding}, kernel_size={kernel}" + (f", dilation={dilation}" if
                                                                           dilation != (1,) * dims else ""))
        out = _out_size(size, k, s, p, d, ceil_mode)
        if out < 1:
            raise RuntimeError(f"{op}: input {format_shape(input.shape)} is too small for "
                               f"kernel_size={kernel}, "
                               f"stride={stride}, padding={padding}, dilation={dilation}: the output "
                               f"would be empty")
        # padded extent actually read by the windows: left pad + input + whatever the last one needs
        right = max(0, (out - 1) * s + d * (k - 1) + 1 - p - size)
        windows.append((k, s, d, p, right, out))
        out_sizes.append(out)
    if dims == 1:
        windows.insert(0, (1, 1, 1, 0, 0, 1))
    x4 = shape if dims == 2 else shape[:2] + (1,) + shape[2:]
    out4 = x4[:2] + tuple(w[5] for w in windows)
    returned = shape[:2] + tuple(out_sizes)
    return x4, out4, returned if input.ndim == dims + 2 else returned[1:], tuple(windows)


def _pad(x, windows, value):
    (_, _, _, top, bottom, _), (_, _, _, left, right, _) = windows
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    padded = backend.namespace(x).full((n, c, h + top + bottom, w + left + right), value, dtype=x.dtype)
    padded[:, :, top:top + h, left:left + w] = x
    return padded


def _crop(padded, shape, top: int, left: int):
    if padded.shape == tuple(shape):
        return padded
    return padded[:, :, top:top + shape[2], left:left + shape[3]]


# ----------------------------------------------------------------------------- Functions
def _winner_maps(winners, x_shape, input_shape, returned):
    """Max pooling for fixed ``winners`` (flat H*W index per output) as a linear map and its transpose.

    ``spread``: dX[winner] += dY (overlapping windows add up); ``pick``: each output takes its winner.
    """
    planes, plane = x_shape[0] * x_shape[1], x_shape[2] * x_shape[3]
    offsets = (backend.namespace(winners).arange(planes) * plane).reshape(-1, 1)  # plane p starts at p*plane
    flat = (winners.reshape(planes, -1 if planes else 0) + offsets).reshape(-1)

    def spread(g):
        summed = xp.bincount(flat, weights=g.reshape(-1), minlength=planes * plane)
        return summed.astype(g.dtype, copy=False).reshape(input_shape)

    def pick(h):
        return h.reshape(-1)[flat].reshape(returned)
    return spread, pick


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


class AvgPool(Function):
    """Average pooling of (N, C, H, W): separable window sums divided by a per-position divisor."""

    def forward(self, x, shapes, windows, divisor):
        x_shape, _, returned = shapes
        divisor = backend.move_like(x, divisor)  # made from the shapes
        padded = _pad(x.reshape(x_shape), windows, 0)
        (kh, sh, dh, _, _, ho), (kw, sw, dw, _, _, wo) = windows
        total = sum_along(sum_along(padded, 3, kw, sw, dw, wo), 2, kh, sh, dh, ho)
        self.shapes, self.windows, self.divisor = shapes, windows, divisor
        self.padded_shape, self.input_shape = padded.shape, x.shape
        return (total / divisor).astype(x.dtype, copy=False).reshape(returned)

    def backward(self, grad):
        # dX[i] = Σ_{windows w ∋ i} dY[w] / divisor[w]  (each window shares its gradient evenly)
        x_shape, out_shape, _ = self.shapes
        (kh, sh, dh, top, _, _), (kw, sw, dw, left, _, _) = self.windows
        height, width = self.padded_shape[2:]
        share = (grad.reshape(out_shape) / self.divisor).astype(grad.dtype, copy=False)
        padded = spread_along(spread_along(share, None, 2, kh, sh, dh, height), None, 3, kw, sw, dw, width)
        return owned_array(_crop(padded, x_shape, top, left), self.input_shape)

    def backward_graph(self, grad):
        # Linear: the backward spreads each window's share, its transpose is the forward (window means).
        # (closures over copies, not over self: a released node forgets its fields)
        (x_shape, out_shape, returned), windows, divisor = self.shapes, self.windows, self.divisor
        input_shape, (height, width) = self.input_shape, self.padded_shape[2:]
        (kh, sh, dh, top, _, ho), (kw, sw, dw, left, _, wo) = windows

        def spread(g):
            share = (g.reshape(out_shape) / divisor).astype(g.dtype, copy=False)
            rows = spread_along(share, None, 2, kh, sh, dh, height)
            return owned_array(_crop(spread_along(rows, None, 3, kw, sw, dw, width), x_shape, top, left),
                               input_shape)

        def window_means(h):
            padded = _pad(h.reshape(x_shape), windows, 0)
            total = sum_along(sum_along(padded, 3, kw, sw, dw, wo), 2, kh, sh, dh, ho)
            return (total / divisor).astype(h.dtype, copy=False).reshape(returned)
        return linear_map(grad, to=spread, back=window_means)


def _divisor(windows, sizes, count_include_pad: bool, divisor_override, dtype):
    """PyTorch's divisor per output position: the window clipped to the padded input (or, without
    count_include_pad, to the input itself), or ``divisor_override``."""
    if divisor_override is not None:
        return backend.asarray(divisor_override, dtype=dtype)
    factors = []
    for (k, s, _, pad, _, out), size in zip(windows, sizes):
        start = xp.arange(out) * s - pad
        end = xp.minimum(start + k, size + pad)
        if not count_include_pad:
            start, end = xp.maximum(start, 0), xp.minimum(end, size)
        factors.append(end - start)
    return (factors[0].reshape(-1, 1) * factors[1]).astype(dtype)


class AdaptiveAvgPool(Function):
    """Adaptive average pooling as a product with an averaging matrix on each spatial axis."""

    def forward(self, x, shapes, matrices):
        matrices = tuple(backend.move_like(x, matrix) for matrix in matrices)  # made from the shapes
        x_shape, out_shape, returned = shapes
        out = x.reshape(x_shape)
        if bool(xp.isfinite(x).all()):
            for axis, matrix in ((2, matrices[0]), (3, matrices[1])):
                out = xp.moveaxis(blas.tensordot(out, matrix, axes=(axis, 1)), -1, axis)
        else:
            # a NaN/Inf times an averaging matrix's zero is NaN: sum each window alone, as PyTorch
            for axis, matrix in ((3, matrices[1]), (2, matrices[0])):
                out = self._window_means(out, axis, matrix)
        self.shapes, self.matrices, self.input_shape = shapes, matrices, x.shape
        return backend.ascontiguousarray(out).reshape(returned)

    @staticmethod
    def _window_means(a, axis: int, matrix):
        """Mean of each window (the nonzero run of a row of ``matrix``) of ``a`` along ``axis``."""
        shape = list(a.shape)
        shape[axis] = matrix.shape[0]
        out = backend.namespace(a).empty(shape, dtype=a.dtype)
        for i in range(matrix.shape[0]):
            inside = xp.flatnonzero(matrix[i])
            start, stop = int(inside[0]), int(inside[-1]) + 1
            window = xp.take(a, backend.namespace(a).arange(start, stop), axis=axis).sum(axis=axis)
            xp.moveaxis(out, axis, 0)[i] = window / (stop - start)
        return out

    @staticmethod
    def _spread(grad, axis: int, matrix, size: int):
        """Adjoint of ``_window_means``: each output's gradient / window size added back over its window."""
        shape = list(grad.shape)
        shape[axis] = size
        out = backend.namespace(grad).zeros(shape, dtype=grad.dtype)
        target = xp.moveaxis(out, axis, 0)
        for i in range(matrix.shape[0]):
            inside = xp.flatnonzero(matrix[i])
            start, stop = int(inside[0]), int(inside[-1]) + 1
            target[start:stop] += xp.take(grad, i, axis=axis) / (stop - start)
        return out

    def backward(self, grad):
        # Y = A_h · X · A_wᵀ per plane, so dX = A_hᵀ · dY · A_w  (A: the averaging matrices)
        grad = grad.reshape(self.shapes[1])
        if bool(xp.isfinite(grad).all()):
            for axis, matrix in ((2, self.matrices[0]), (3, self.matrices[1])):
                grad = xp.moveaxis(blas.tensordot(grad, matrix, axes=(axis, 0)), -1, axis)
        else:  # a non-finite gradient reaches only its own window's inputs, as PyTorch
            for axis, matrix in ((2, self.matrices[0]), (3, self.matrices[1])):
                grad = self._spread(grad, axis, matrix, self.shapes[0][axis])
        return owned_array(grad, self.input_shape)

    def backward_graph(self, grad):
        # Linear: Y = A_h · X · A_wᵀ per plane; its gradient map and that map's transpose (the forward).
        (x_shape, out_shape, returned), matrices, input_shape = self.shapes, self.matrices, self.input_shape

        def spread(g):
            g = g.reshape(out_shape)
            for axis, matrix in ((2, matrices[0]), (3, matrices[1])):
                g = xp.moveaxis(blas.tensordot(g, matrix, axes=(axis, 0)), -1, axis)
            return backend.ascontiguousarray(g).reshape(input_shape)

        def average(h):
            h = h.reshape(x_shape)
            for axis, matrix in ((2, matrices[0]), (3, matrices[1])):
                h = xp.moveaxis(blas.tensordot(h, matrix, axes=(axis, 1)), -1, axis)
            return backend.ascontiguousarray(h).reshape(returned)
        return linear_map(grad, to=spread, back=average)


class AdaptiveMaxPool(Function):
    """Adaptive max pooling: separable running max over (possibly overlapping) windows of varying size."""

    def forward(self, x, shapes, windows, return_indices):
        x_shape, out_shape, returned = shapes
        self.n_outputs = 2 if return_indices else 1
        rows, cols = (backend.move_like(x, window) for window in windows)  # made from the shapes
        best_w, col = self._running_max(x.reshape(x_shape), 3, cols)
        out, row = self._running_max(best_w, 2, rows)
        indices = row * x_shape[3] + xp.take_along_axis(col, row, axis=2)
        self.indices, self.shapes, self.input_shape = indices, shapes, x.shape
        out = out.reshape(returned)
        return (out, indices.reshape(returned)) if return_indices else out

    @staticmethod
    def _running_max(a, axis: int, index):
        """index (out, kmax): positions of each window (the last repeated to fill kmax columns)."""
        best = xp.take(a, index[:, 0], axis=axis)
        shape = [1] * a.ndim
        shape[axis] = -1
        where = xp.broadcast_to(index[:, 0].reshape(shape), best.shape).copy()
        for t in range(1, index.shape[1]):
            candidate = xp.take(a, index[:, t], axis=axis)
            # positions grow with t, so a running max of (strictly better) * position keeps the
            # newest winner and, on ties, the first maximum
            xp.maximum(where, (candidate > best) * index[:, t].reshape(shape), out=where)
            xp.maximum(best, candidate, out=best)
        return best, where

    def backward(self, grad):
        # dX[argmax of window] += dY[window]; overlapping windows add (one bincount per plane)
        if self.n_outputs == 2:
            grad = grad[0]
        x_shape, out_shape, _ = self.shapes
        planes, plane = x_shape[0] * x_shape[1], x_shape[2] * x_shape[3]
        # one bincount over (plane number, index in plane) adds overlapping windows' gradients
        flat = self.indices.reshape(planes, -1 if planes else 0) \
            + (backend.namespace(self.indices).arange(planes) * plane).reshape(-1, 1)
        grad_x = xp.bincount(flat.reshape(-1), weights=grad.reshape(-1), minlength=planes * plane)
        return owned_array(grad_x.astype(grad.dtype, copy=False), self.input_shape)

    def backward_graph(self, *grads):
        if grads[0] is None:
            return None
        x_shape, _, returned = self.shapes
        return linear_map(grads[0], *_winner_maps(self.indices, x_shape, self.input_shape, returned))


# ----------------------------------------------------------------------------- public API
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


def _avg_pool(op, dims, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x4, out4, returned, windows = _setup(op, dims, input, kernel_size, stride, padding, 1, ceil_mode,
                                         lambda kernel, dilation: kernel // 2)
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got {input.dtype}")
    if divisor_override is not None and (not isinstance(divisor_override, int) or divisor_override == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    divisor = _divisor(windows, x4[2:], count_include_pad, divisor_override, input.dtype)
    return AvgPool.apply(input, shapes=(x4, out4, returned), windows=windows, divisor=divisor)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling over (N, C, H, W) or (C, H, W); ``stride`` defaults to ``kernel_size``.

    ``count_include_pad``: zero padding counts in the divisor; ``divisor_override``: a fixed divisor.

    Example:
        >>> import dendrite
        >>> avg_pool2d(dendrite.randn(8, 16, 28, 28), 2).shape
        (8, 16, 14, 14)
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-D average pooling over (N, C, L) or (C, L); see :func:`avg_pool2d`.

    Example:
        >>> import dendrite
        >>> avg_pool1d(dendrite.randn(2, 3, 10), 2).shape
        (2, 3, 5)
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def _adaptive_setup(op: str, dims: int, input, output_size):
    """Validate; return (x 4-D shape, out 4-D shape, returned shape, per-axis (starts, ends))."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    names = "L" if dims == 1 else "H, W"
    if input.ndim not in (dims + 1, dims + 2) or 0 in input.shape[-dims:]:
        raise RuntimeError(f"{op}: expected input of shape (N, C, {names}) or unbatched (C, {names}) with "
                           f"non-empty {names}, got {format_shape(input.shape)}")
    sizes = tuple(input.shape[-dims:])
    if isinstance(output_size, (list, tuple)) and len(output_size) == dims:
        output_size = tuple(size if out is None else out for out, size in zip(output_size, sizes))
    outs = check_at_least(as_tuple(output_size, dims, "output_size", op), 1, "output_size", op)
    shape = tuple(input.shape) if input.ndim == dims + 2 else (1,) + tuple(input.shape)
    x4 = shape if dims == 2 else shape[:2] + (1,) + shape[2:]
    out_sizes = outs if dims == 2 else (1,) + outs
    bounds = []
    for size, out in zip(x4[2:], out_sizes):
        index = xp.arange(out)
        bounds.append(((index * size) // out, -((-(index + 1) * size) // out)))  # floor, ceil
    returned = shape[:2] + outs
    return x4, x4[:2] + out_sizes, returned if input.ndim == dims + 2 else returned[1:], bounds


def _adaptive_avg(op: str, dims: int, input, output_size) -> Tensor:
    x4, out4, returned, bounds = _adaptive_setup(op, dims, input, output_size)
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating-point input, got {input.dtype}")
    matrices = []
    for (starts, ends), size in zip(bounds, x4[2:]):
        position = xp.arange(size)
        inside = (position >= starts.reshape(-1, 1)) & (position < ends.reshape(-1, 1))
        matrices.append((inside / (ends - starts).reshape(-1, 1)).astype(input.dtype))
    return AdaptiveAvgPool.apply(input, shapes=(x4, out4, returned), matrices=tuple(matrices))


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed (H_out, W_out) whatever the input size (``None`` keeps a size).

    Window i along an axis of size n covers [floor(i*n/out), ceil((i+1)*n/out)), as in PyTorch.

    Example:
        >>> import dendrite
        >>> adaptive_avg_pool2d(dendrite.randn(2, 8, 7, 9), (3, 1)).shape
        (2, 8, 3, 1)
    """
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average pooling of (N, C, L) or (C, L) to a fixed length; see :func:`adaptive_avg_pool2d`.

    Example:
        >>> import dendrite
        >>> adaptive_avg_pool1d(dendrite.randn(2, 3, 10), 4).shape
        (2, 3, 4)
    """
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def _adaptive_max(op: str, dims: int, input, output_size, return_indices):
    x4, out4, returned, bounds = _adaptive_setup(op, dims, input, output_size)
    if input.dtype.kind != "f":  # PyTorch's adaptive max pooling takes floats only
        raise NotImplementedError(f"{op}: not implemented for {input.dtype} input (as in PyTorch); "
                                  "convert first, e.g. x.float()")
    windows = []
    for starts, ends in bounds:
        longest = int((ends - starts).max())
        windows.append(xp.minimum(starts.reshape(-1, 1) + xp.arange(longest), ends.reshape(-1, 1) - 1))
    return AdaptiveMaxPool.apply(input, shapes=(x4, out4, returned), windows=tuple(windows),
                                 return_indices=bool(return_indices))


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling to a fixed (H_out, W_out); windows as in :func:`adaptive_avg_pool2d`.

    Example:
        >>> import dendrite
        >>> adaptive_max_pool2d(dendrite.randn(2, 8, 7, 9), 2).shape
        (2, 8, 2, 2)
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of (N, C, L) or (C, L) to a fixed length; see :func:`adaptive_max_pool2d`.

    Example:
        >>> import dendrite
        >>> adaptive_max_pool1d(dendrite.randn(2, 3, 10), 4).shape
        (2, 3, 4)
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)
