"""Resizing: ``interpolate`` (nearest, nearest-exact, linear, bilinear, area) and its aliases.

Resizing is separable, one spatial axis at a time:

* **nearest**: output position o reads input position ``floor(o * in/out)`` (PyTorch's rule,
  computed in float32 as PyTorch does, so the same positions are picked); the forward pass
  gathers, the backward pass sums each run of equal positions back (``add.reduceat``).
* **linear / bilinear**: each output is a weighted sum of two neighbours -- a product with a
  small (out, in) weight matrix along each axis, whose transpose is the backward pass.
* **area**: adaptive average pooling.
"""

from __future__ import annotations

import copy
import math

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from dendrite.nn.functional.window import format_shape, sum_along
from dendrite.ops.graph_operands import linear_map
from dendrite.tensor import Tensor
from dendrite.utils import blas

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_LINEAR = {"linear": 1, "bilinear": 2}


def _repeats(indices, shape) -> tuple | None:
    """Per-axis repeat counts when every axis maps output o to input o // r (integer upscaling)."""
    repeats = []
    for index, size in zip(indices, shape[-len(indices):]):
        repeat = len(index) // size if size else 0
        if repeat < 1 or len(index) != size * repeat:
            return None
        if not xp.array_equal(index, xp.arange(len(index)) // repeat):
            return None
        repeats.append(repeat)
    return tuple(repeats)


class NearestResize(Function):
    """Gather along the trailing axes through one source-index array per axis."""

    def forward(self, x, indices):
        self.repeats = _repeats(indices, x.shape)  # on the host: the index maps come from shapes
        indices = tuple(backend.move_like(x, index) for index in indices)
        self.indices, self.input_shape = indices, x.shape
        if self.repeats is not None:  # integer upscaling: one broadcast copy, no gather
            lead, spatial = x.shape[:-len(indices)], x.shape[-len(indices):]
            split = lead + sum(((size, 1) for size in spatial), ())
            wide = lead + sum(((size, r) for size, r in zip(spatial, self.repeats)), ())
            out = backend.namespace(x).empty(
                lead + tuple(size * r for size, r in zip(spatial, self.repeats)), dtype=x.dtype)
            out.reshape(wide)[...] = x.reshape(split)
            return out
        for axis, index in zip(range(-len(indices), 0), indices):
            x = xp.take(x, index, axis=axis)
        return x

    def backward(self, grad):
        # Y[i] = X[src(i)]:  dX[k] = Σ_{i with src(i) = k} dY[i]  (integer scales: a sum over each r-block)
        if self.repeats is not None:  # sum each r-block: sum pooling with kernel = stride = r
            for axis, repeat in zip(range(grad.ndim - len(self.repeats), grad.ndim), self.repeats):
                if repeat > 1:  # (numpy's sum over small strided axes is 20x slower than this)
                    grad = sum_along(grad, axis, repeat, repeat, 1, self.input_shape[axis])
            return grad if max(self.repeats) > 1 else grad.copy()
        for axis, index in reversed(list(zip(range(-len(self.indices), 0), self.indices))):
            # indices never decrease: sum each run of equal positions, then put the sums in place
            starts = xp.flatnonzero(xp.concatenate([[True], index[1:] != index[:-1]]))
            shape = list(grad.shape)
            shape[axis] = self.input_shape[axis]
            folded = backend.namespace(grad).zeros(shape, dtype=grad.dtype)
            place = (slice(None),) * (grad.ndim + axis) + (index[starts],)
            folded[place] = xp.add.reduceat(grad, starts, axis=axis)
            grad = folded
        return grad

    def backward_graph(self, grad):
        # Linear: backward sums each source's copies; its transpose is the forward gather itself.
        indices = self.indices
        back = lambda h: NearestResize().forward(h, indices)  # noqa: E731
        return linear_map(grad, to=copy.copy(self).backward, back=back), None


class LinearResize(Function):
    """Product with one (out, in) interpolation matrix along each trailing axis."""

    def forward(self, x, matrices, neighbours):
        matrices = tuple(backend.move_like(x, matrix) for matrix in matrices)  # made from the shapes
        neighbours = tuple(tuple(backend.move_like(x, part) for part in pair) for pair in neighbours)
        self.matrices, self.neighbours = matrices, neighbours
        axes = range(x.ndim - len(matrices), x.ndim)
        if bool(xp.isfinite(x).all()):
            for axis, matrix in zip(axes, matrices):
                x = xp.moveaxis(blas.tensordot(x, matrix, axes=(axis, 1)), -1, axis)
        else:
            # a NaN/Inf times a matrix's zero is NaN: blend each output's two neighbours alone, as PyTorch
            # (which reads both, even where one's weight is 0)
            for axis, (low, high, weight_high) in zip(axes, neighbours):
                shape = [1] * x.ndim
                shape[axis] = -1
                weight_high = weight_high.reshape(shape)
                x = xp.take(x, low, axis=axis) * (1 - weight_high) + xp.take(x, high, axis=axis) * weight_high
        return backend.ascontiguousarray(x)

    def backward(self, grad):
        # Y = M · X along each resized axis:  dX = Mᵀ · dY  (M: the (out, in) interpolation matrix)
        axes = range(grad.ndim - len(self.matrices), grad.ndim)
        if bool(xp.isfinite(grad).all()):
            for axis, matrix in zip(axes, self.matrices):
                grad = xp.moveaxis(blas.tensordot(grad, matrix, axes=(axis, 0)), -1, axis)
            return backend.ascontiguousarray(grad)
        # a non-finite gradient reaches only its output's two neighbours
        for axis, (low, high, weight_high), matrix in zip(axes, self.neighbours, self.matrices):
            moved = xp.moveaxis(grad, axis, 0)
            weight_high = weight_high.reshape((-1,) + (1,) * (moved.ndim - 1))
            out = backend.namespace(grad).zeros((matrix.shape[1],) + moved.shape[1:], dtype=grad.dtype)
            xp.add.at(out, low, moved * (1 - weight_high))
            xp.add.at(out, high, moved * weight_high)
            grad = xp.moveaxis(out, 0, axis)
        return backend.ascontiguousarray(grad)

    def backward_graph(self, grad):
        # Linear: dX = Mᵀ · dY along each axis; its transpose is the forward product with M.
        matrices, neighbours = self.matrices, self.neighbours
        back = lambda h: LinearResize().forward(h, matrices, neighbours)  # noqa: E731
        return linear_map(grad, to=copy.copy(self).backward, back=back), None, None


def _nearest_index(size: int, out: int, scale, exact: bool, dtype):
    """Source position of each output position: PyTorch's nearest_idx / nearest_exact_idx.

    Rounding matters where o * size / out is a whole number. PyTorch computes in float32 for
    float32 input; for float64 in double, rounding the position to float32 (``floorf``) before
    flooring. (Its 2-D float64 kernel occasionally rounds otherwise.)
    """
    if not exact and out in (size, 2 * size):  # PyTorch's shortcuts for scale 1 and 2
        return xp.arange(out) // (out // size)
    offset = 0.5 if exact else 0.0
    if dtype == xp.float64:
        factor = 1.0 / scale if scale else size / out
        position = ((xp.arange(out) + offset) * factor).astype(xp.float32)
    else:
        factor = xp.float32(1.0 / scale) if scale else xp.float32(size) / xp.float32(out)
        position = (xp.arange(out, dtype=xp.float32) + xp.float32(offset)) * factor
    return xp.minimum(xp.floor(position).astype(xp.int64), size - 1)


def _linear_matrix(size: int, out: int, scale, align_corners: bool, dtype):
    """(out, size) weights of PyTorch's linear interpolation (two neighbours per output)."""
    if out == size:
        return xp.eye(size, dtype=dtype)
    low, high, weight_high = _linear_neighbours(size, out, scale, align_corners, dtype)
    matrix = xp.zeros((out, size), dtype=dtype)
    rows = xp.arange(out)
    xp.add.at(matrix, (rows, low), 1 - weight_high)
    xp.add.at(matrix, (rows, high), weight_high)
    return matrix


def _linear_neighbours(size: int, out: int, scale, align_corners: bool, dtype):
    """Each output's two source positions (low, high) and the weight of ``high``, as PyTorch's kernel."""
    if out == size:
        index = xp.arange(size)
        return index, index, xp.zeros(size, dtype=dtype)
    if align_corners:
        factor = dtype.type(size - 1) / dtype.type(out - 1) if out > 1 else dtype.type(0)
        source = xp.arange(out, dtype=dtype) * factor
    else:
        factor = dtype.type(1.0 / scale) if scale else dtype.type(size) / dtype.type(out)
        # PyTorch's float32 kernel fuses (i + 0.5) * factor - 0.5 into one rounding (an FMA), which decides
        # whether a weight is exactly 0 (and so whether 0 * Inf = NaN reaches an output). A float32
        # factor times the position is exact in float64, so one rounding to float32 at the end is the FMA.
        wide = xp.float64 if dtype == xp.float32 else dtype
        source = (xp.arange(out, dtype=wide) + 0.5) * factor.astype(wide) - 0.5
        source = xp.maximum(source.astype(dtype), 0)
    low = xp.minimum(xp.floor(source).astype(xp.int64), size - 1)
    high = low + (low < size - 1)
    weight_high = xp.clip(source - low.astype(dtype), 0, 1)
    return low, high, weight_high


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor`` (exactly one of them).

    Modes: 'nearest' (output o reads input floor(o * in / out)), 'nearest-exact' (reads
    floor((o + 0.5) * in / out)), 'linear' (3-D input), 'bilinear' (4-D input), 'area'.
    ``align_corners`` (linear modes only): map the corner pixels' centres onto each other.

    Example:
        >>> import dendrite
        >>> interpolate(dendrite.randn(1, 3, 8, 8), scale_factor=2).shape
        (1, 3, 16, 16)
        >>> interpolate(dendrite.randn(1, 3, 8, 8), size=(5, 12), mode='bilinear').shape
        (1, 3, 5, 12)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: input must be a Tensor, got {type(input).__name__}")
    dims = input.ndim - 2
    if dims not in (1, 2):
        raise NotImplementedError(f"interpolate: supports 3-D (N, C, L) and 4-D (N, C, H, W) inputs, "
                                  f"got {format_shape(input.shape)}")
    modes = ("nearest", "nearest-exact", "linear", "bilinear", "area")
    if mode not in modes:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; expected one of {modes}")
    if mode in _LINEAR and _LINEAR[mode] != dims:
        raise ValueError(f"interpolate: mode {mode!r} needs a {_LINEAR[mode] + 2}-D input, "
                         f"got {format_shape(input.shape)}")
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError("interpolate: align_corners can only be set with the interpolating modes "
                         f"linear | bilinear, not {mode!r}")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    sizes = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    scales = (None,) * dims
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size")
        outs = tuple(size) if isinstance(size, (list, tuple)) else (size,) * dims
        if len(outs) != dims or not all(isinstance(o, int) and not isinstance(o, bool) for o in outs):
            raise ValueError(f"interpolate: size must be an int or {dims} ints for input "
                             f"{format_shape(input.shape)}, got {size!r}")
    else:
        factors = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else (scale_factor,) * dims
        if len(factors) != dims or not all(isinstance(f, (int, float)) and f > 0 for f in factors):
            raise ValueError(f"interpolate: scale_factor must be a positive number or {dims} of them for "
                             f"input {format_shape(input.shape)}, got {scale_factor!r}")
        outs = tuple(math.floor(s * f) for s, f in zip(sizes, factors))
        if not recompute_scale_factor and mode != "area":
            scales = tuple(float(f) for f in factors)
    if min(outs) < 1:
        raise ValueError(f"interpolate: the output size {outs} for input {format_shape(input.shape)} "
                         "must be positive")
    if mode == "area":
        return (adaptive_avg_pool1d if dims == 1 else adaptive_avg_pool2d)(input, outs)
    if mode in _LINEAR:
        if input.dtype.kind != "f":
            raise RuntimeError(f"interpolate: mode {mode!r} needs a floating-point input, got {input.dtype}")
        matrices = tuple(_linear_matrix(s, o, f, bool(align_corners), input.dtype)
                         for s, o, f in zip(sizes, outs, scales))
        neighbours = tuple(_linear_neighbours(s, o, f, bool(align_corners), input.dtype)
                           for s, o, f in zip(sizes, outs, scales))
        return LinearResize.apply(input, matrices=matrices, neighbours=neighbours)
    indices = tuple(_nearest_index(s, o, f, mode == "nearest-exact", input.dtype)
                    for s, o, f in zip(sizes, outs, scales))
    return NearestResize.apply(input, indices=indices)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated name of :func:`interpolate` (kept for PyTorch compatibility); the same shapes.

    Example:
        >>> import dendrite
        >>> upsample(dendrite.tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
        [[[1.0, 1.0, 2.0, 2.0]]]
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``; (N, C, L) or (N, C, H, W).

    Example:
        >>> import dendrite
        >>> upsample_nearest(dendrite.tensor([[[[1.0, 2.0]]]]), size=(2, 4)).tolist()
        [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
    """
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``.

    Input (N, C, H, W), output (N, C, H_out, W_out).

    Example:
        >>> import dendrite
        >>> upsample_bilinear(dendrite.tensor([[[[1.0, 2.0]]]]), size=(1, 3)).tolist()
        [[[[1.0, 1.5, 2.0]]]]
    """
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
