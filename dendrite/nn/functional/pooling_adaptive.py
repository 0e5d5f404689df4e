"""Adaptive pooling (``adaptive_avg_pool*``, ``adaptive_max_pool*``): a fixed output size for any input.

Window ``i`` of ``out`` along an axis of size ``n`` covers ``[floor(i n / out), ceil((i + 1) n / out))``,
as in PyTorch. Adaptive average pooling is a product with a small averaging matrix on each axis
(backward: the transposed product); adaptive max pooling is a separable running maximum over
those (possibly overlapping) windows, its gradient routed to the first winner.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.pooling_geometry import _winner_maps
from dendrite.nn.functional.window import (
    as_tuple,
    check_at_least,
    format_shape,
    owned_array,
)
from dendrite.ops.graph_operands import linear_map
from dendrite.tensor import Tensor
from dendrite.utils import blas

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d"]


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
