"""Window arithmetic shared by the pooling files: output sizes, padding, checks, winner maps.

:func:`_setup` validates a pooling call (kernel, stride, padding, dilation, ceil_mode, the input's
shape) and returns the 4-D view of the input and output with the per-axis windows;
:func:`_pad` / :func:`_crop` pad an input with a fill value and take it back off; and
:func:`_winner_maps` turns flat argmax indices into the two linear maps (spread the gradient to
the winners, pick the winners) that :class:`~dendrite.nn.functional.pooling.MaxPool` and
:class:`~dendrite.nn.functional.pooling_adaptive.AdaptiveMaxPool` use for their double backward.
Output size along an axis: ``floor((n + 2 pad - dilation (k - 1) - 1) / stride) + 1`` (``ceil``
with ``ceil_mode``, as long as the last window starts inside the input or its left padding).
"""

from __future__ import annotations

from dendrite import backend
from dendrite.backend import xp
from dendrite.nn.functional.window import (
    as_tuple,
    check_at_least,
    format_shape,
)
from dendrite.tensor import Tensor


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
