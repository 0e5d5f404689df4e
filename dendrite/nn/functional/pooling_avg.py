"""Average pooling (``avg_pool1d``, ``avg_pool2d``): separable window sums over a divisor.

Forward: ``y = (sum of the window) / d`` where ``d`` is the window clipped to the padded input
(``count_include_pad=True``) or to the input itself, or ``divisor_override``. Backward: each
output's gradient divided by its ``d`` is spread back over its window (the same separable sums,
transposed). Window arithmetic is in :mod:`dendrite.nn.functional.pooling_geometry`.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.pooling_geometry import _crop, _pad, _setup
from dendrite.nn.functional.window import (
    owned_array,
    spread_along,
    sum_along,
)
from dendrite.ops.graph_operands import linear_map
from dendrite.tensor import Tensor

__all__ = ["avg_pool1d", "avg_pool2d"]


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
