"""Convolutions (conv1d, conv2d) and their transposes, as matrix products over strided windows.

How a 2-D convolution runs (1-D is 2-D with height 1):

* **im2col.** Pad the input once into a (C, N, Hp, Wp) array, view every kernel window with
  ``as_strided`` as (C, kh, kw, N, Ho, Wo) -- no copy -- and reshape that view into columns
  (C*kh*kw, N*Ho*Wo) (one copy). Then ``out = W(O, C*kh*kw) @ columns`` is one BLAS matrix
  product per group.
* **Backward.** ``dW = dOut(O, N*Ho*Wo) @ columns^T`` is one product; the input gradient is
  ``dColumns = W^T @ dOut`` followed by **col2im**: the kh*kw column slices are added back into
  the padded input -- a loop over kernel offsets only, each one vectorised strided add.
* **The transposed convolution** is the same two moves in the other order: its forward is the
  col2im of ``W^T @ x`` and its backward the im2col of the output gradient.

The columns are kh*kw times larger than the input, so the batch is processed in chunks whose
columns stay under ``_COLUMNS_BUDGET`` elements: temporaries stay in cache and are recycled by
the allocator (a fresh 40 MB array costs ~2.5 ms in page faults alone), and nothing that large
lives from forward to backward: backward rebuilds a chunk's columns (a batch that fits in one
chunk keeps its columns instead).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dendrite.autograd.function import Function
from dendrite.autograd.grad_mode import no_grad
from dendrite.backend import xp
from dendrite.nn.functional.window import as_tuple, check_at_least, format_shape, is_int, owned_array
from dendrite.tensor import Tensor, wrap
from dendrite.utils.blas import matmul

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]

# Elements in one chunk's columns (4 MiB of float32). On the workloads of benchmarks/bench_conv.py
# 2**18..2**20 were fastest; whole-batch columns (2**24) made the forward pass ~20% slower.
_COLUMNS_BUDGET = 1 << 20


# ----------------------------------------------------------------------------- shared helpers
@dataclass(frozen=True)
class _Geometry:
    """Where the kernel windows lie, in 2-D (a 1-D operation has height 1)."""

    kernel: tuple  # (kh, kw)
    stride: tuple
    dilation: tuple
    pads: tuple  # (top, bottom, left, right)
    grid: tuple  # (Ho, Wo): the grid of window positions (for a transposed convolution, its input)


def _chunks(batch: int, per_item: int) -> list:
    """(start, stop) ranges over the batch whose columns hold at most ``_COLUMNS_BUDGET`` elements."""
    step = max(1, min(batch, _COLUMNS_BUDGET // max(per_item, 1)))
    return [(start, min(batch, start + step)) for start in range(0, batch, step)]


def _pad_channels_first(x, pads):
    """(N, C, H, W) -> zero-padded (C, N, H + top + bottom, W + left + right), in one copy."""
    top, bottom, left, right = pads
    n, c, h, w = x.shape
    if not any(pads):
        return xp.ascontiguousarray(x.transpose(1, 0, 2, 3))
    padded = xp.zeros((c, n, h + top + bottom, w + left + right), dtype=x.dtype)
    padded[:, :, top:top + h, left:left + w] = x.transpose(1, 0, 2, 3)
    return padded


def _columns(padded, geometry: _Geometry, groups: int):
    """im2col: padded (C, n, Hp, Wp) -> (groups, C/groups * kh * kw, n * Ho * Wo), one copy."""
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
    ho, wo = geometry.grid
    channels, batch = padded.shape[:2]
    s_c, s_n, s_h, s_w = padded.strides
    # windows[c, p, q, n, i, j] = padded[c, n, i*sh + p*dh, j*sw + q*dw]
    windows = xp.lib.stride_tricks.as_strided(
        padded, (channels, kh, kw, batch, ho, wo), (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw),
        writeable=False)
    return windows.reshape(groups, channels // groups * kh * kw, batch * ho * wo)


def _add_columns(target, columns, geometry: _Geometry) -> None:
    """col2im: target (C, n, Hp, Wp) += columns (C, kh, kw, n, Ho, Wo), each put back at its window."""
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
    ho, wo = geometry.grid
    for p in range(kh):
        rows = slice(p * dh, p * dh + sh * (ho - 1) + 1, sh)
        for q in range(kw):
            target[:, :, rows, q * dw:q * dw + sw * (wo - 1) + 1:sw] += columns[:, p, q]


def _to_channels_first(array, shape, groups: int):
    """(N, C, H, W)-shaped ``array`` -> (groups, C/groups, N*H*W), the layout of the products."""
    batch, channels, positions = shape[0], shape[1], math.prod(shape[2:])
    flat = array.reshape(batch, channels, positions).transpose(1, 0, 2)
    return xp.ascontiguousarray(flat).reshape(groups, channels // groups, batch * positions)


def _from_channels_first(array, shape, bias=None):
    """(C, N, H, W)-ordered ``array`` -> a contiguous (N, C, H, W) array (+ bias per channel, same pass)."""
    batch, channels = shape[:2]
    array = array.reshape((channels, batch) + tuple(shape[2:])).transpose(1, 0, 2, 3)
    if bias is None:
        return xp.ascontiguousarray(array)
    return xp.add(array, bias.reshape(1, -1, 1, 1), out=xp.empty(shape, dtype=array.dtype))


# ----------------------------------------------------------------------------- Functions
class Convolution(Function):
    """out = conv(x, W) + b in (N, C, H, W); 1-D and unbatched arrays are reshaped in and out.

    ``shapes`` = (x as 4-D, W as 4-D, out as 4-D, out as returned).
    """

    def forward(self, x, weight, bias, geometry, groups, shapes):
        x_shape, w_shape, out_shape, _ = shapes
        batch, channels, (kh, kw) = x_shape[0], x_shape[1], geometry.kernel
        positions = math.prod(geometry.grid)
        w = weight.reshape(groups, w_shape[0] // groups, -1)  # (groups, O/groups, C/groups*kh*kw)
        padded = _pad_channels_first(x.reshape(x_shape), geometry.pads)
        out = xp.empty((groups, w.shape[1], batch * positions), dtype=x.dtype)
        chunks = _chunks(batch, channels * kh * kw * positions)
        for start, stop in chunks:
            columns = _columns(padded[:, start:stop], geometry, groups)
            matmul(w, columns, out=out[:, :, start * positions:stop * positions])
        self.geometry, self.groups, self.shapes = geometry, groups, shapes
        self.input_shape, self.weight_shape = x.shape, weight.shape
        self.w = w if self.needs_input_grad[0] else None
        self.padded = padded if self.needs_input_grad[1] else None
        # one chunk's columns are within the budget: keep them rather than rebuild them in backward
        self.columns = columns if self.needs_input_grad[1] and len(chunks) == 1 else None
        return _from_channels_first(out, out_shape, bias).reshape(shapes[3])

    def backward(self, grad):
        # dX = col2im(Wᵀ · dY);  dW = dY · X_colsᵀ;  db = Σ_{n,h,w} dY
        # (X_cols: im2col of the padded input, (C·kh·kw, N·Ho·Wo); per group, per batch chunk)
        geometry, groups, (x_shape, w_shape, out_shape, _) = self.geometry, self.groups, self.shapes
        batch, channels, height, width = x_shape
        (kh, kw), (ho, wo) = geometry.kernel, geometry.grid
        grad_t = _to_channels_first(grad, out_shape, groups)  # (groups, O/groups, N*Ho*Wo)
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[2]:
            grad_b = grad_t.sum(axis=2).reshape(-1)
        if self.needs_input_grad[1]:
            grad_w = xp.zeros((groups, w_shape[0] // groups, math.prod(w_shape[1:])), dtype=grad.dtype)
        top, bottom, left, right = geometry.pads
        if self.needs_input_grad[0]:
            grad_padded = xp.zeros((channels, batch, height + top + bottom, width + left + right), grad.dtype)
            w_t = self.w.transpose(0, 2, 1)
        for start, stop in _chunks(batch, channels * kh * kw * ho * wo):
            grad_chunk = grad_t[:, :, start * ho * wo:stop * ho * wo]
            if grad_w is not None:
                columns = self.columns if self.columns is not None else \
                    _columns(self.padded[:, start:stop], geometry, groups)
                grad_w += matmul(grad_chunk, columns.transpose(0, 2, 1))
            if self.needs_input_grad[0]:
                grad_columns = matmul(w_t, grad_chunk).reshape(channels, kh, kw, stop - start, ho, wo)
                _add_columns(grad_padded[:, start:stop], grad_columns, geometry)
        if self.needs_input_grad[0]:
            grad_x = grad_padded[:, :, top:top + height, left:left + width].transpose(1, 0, 2, 3)
            grad_x = owned_array(grad_x, self.input_shape)
        if grad_w is not None:
            grad_w = owned_array(grad_w, self.weight_shape)
        return grad_x, grad_w, grad_b

    def backward_graph(self, grad):
        # With tensors: dX = conv_transpose(dY, W) (the adjoint in x, same geometry);
        # dW = ConvWeightGrad(X, dY)
        x, weight = self.inputs[0], self.inputs[1]
        x_shape, w_shape, out_shape, _ = self.shapes
        options = {"geometry": self.geometry, "groups": self.groups}
        needs = self.needs_input_grad
        grad_x = grad_w = grad_b = None
        if needs[0]:
            adjoint = (out_shape, w_shape, x_shape, self.input_shape)
            grad_x = TransposedConvolution.apply(grad, weight, None, shapes=adjoint, **options)
        if needs[1]:
            grad_w = ConvWeightGrad.apply(x, grad, shapes=self.shapes, weight_shape=self.weight_shape,
                                          **options)
        if needs[2]:
            grad_b = grad.reshape(out_shape).sum(dim=(0, 2, 3))
        return grad_x, grad_w, grad_b


class TransposedConvolution(Function):
    """out = conv_transpose(x, W) + b, W of shape (C_in, C_out/groups, kh, kw): the adjoint in x of
    ``Convolution``, so forward and backward swap their moves. ``shapes`` as for ``Convolution``."""

    def forward(self, x, weight, bias, geometry, groups, shapes):
        x_shape, _, out_shape, _ = shapes
        batch, in_channels, height, width = x_shape
        out_channels, out_h, out_w, (kh, kw) = out_shape[1], out_shape[2], out_shape[3], geometry.kernel
        x_t = _to_channels_first(x, x_shape, groups)  # (groups, C_in/groups, N*H*W)
        w = weight.reshape(groups, in_channels // groups, -1)  # (groups, C_in/groups, C_out/groups*kh*kw)
        w_t = w.transpose(0, 2, 1)
        top, bottom, left, right = geometry.pads
        full = xp.zeros((out_channels, batch, out_h + top + bottom, out_w + left + right), dtype=x.dtype)
        for start, stop in _chunks(batch, out_channels * kh * kw * height * width):
            columns = matmul(w_t, x_t[:, :, start * height * width:stop * height * width])
            columns = columns.reshape(out_channels, kh, kw, stop - start, height, width)
            _add_columns(full[:, start:stop], columns, geometry)
        out = xp.ascontiguousarray(full[:, :, top:top + out_h, left:left + out_w].transpose(1, 0, 2, 3))
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        self.geometry, self.groups, self.shapes = geometry, groups, shapes
        self.input_shape, self.weight_shape = x.shape, weight.shape
        self.w = w if self.needs_input_grad[0] else None
        self.x_t = x_t if self.needs_input_grad[1] else None
        return out.reshape(shapes[3])

    def backward(self, grad):
        # The adjoint of Convolution: dX = W · im2col(dY);  dW = X · im2col(dY)ᵀ;  db = Σ_{n,h,w} dY
        geometry, groups, (x_shape, w_shape, out_shape, _) = self.geometry, self.groups, self.shapes
        batch, in_channels, height, width = x_shape
        (kh, kw), positions = geometry.kernel, height * width
        grad4 = grad.reshape(out_shape)
        grad_padded = _pad_channels_first(grad4, geometry.pads)  # (C_out, N, Hp, Wp)
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[2]:
            grad_b = grad4.sum(axis=(0, 2, 3))
        if self.needs_input_grad[1]:
            grad_w = xp.zeros((groups, in_channels // groups, math.prod(w_shape[1:])), dtype=grad.dtype)
        if self.needs_input_grad[0]:
            grad_x_t = xp.empty((groups, in_channels // groups, batch * positions), dtype=grad.dtype)
        for start, stop in _chunks(batch, out_shape[1] * kh * kw * positions):
            columns = _columns(grad_padded[:, start:stop], geometry, groups)
            span = slice(start * positions, stop * positions)
            if self.needs_input_grad[0]:
                matmul(self.w, columns, out=grad_x_t[:, :, span])
            if grad_w is not None:
                grad_w += matmul(self.x_t[:, :, span], columns.transpose(0, 2, 1))
        if self.needs_input_grad[0]:
            grad_x = owned_array(grad_x_t.reshape((in_channels, batch, height, width)).transpose(1, 0, 2, 3),
                                 self.input_shape)
        if grad_w is not None:
            grad_w = owned_array(grad_w, self.weight_shape)
        return grad_x, grad_w, grad_b

    def backward_graph(self, grad):
        # The adjoint's adjoint is the convolution: dX = conv(dY, W);  dW = ConvWeightGrad(dY, X)
        x, weight = self.inputs[0], self.inputs[1]
        x_shape, w_shape, out_shape, _ = self.shapes
        options = {"geometry": self.geometry, "groups": self.groups}
        convolution = (out_shape, w_shape, x_shape, self.input_shape)  # dY -> x-shaped, as a convolution
        needs = self.needs_input_grad
        grad_x = grad_w = grad_b = None
        if needs[0]:
            grad_x = Convolution.apply(grad, weight, None, shapes=convolution, **options)
        if needs[1]:
            grad_w = ConvWeightGrad.apply(grad, x, shapes=convolution, weight_shape=self.weight_shape,
                                          **options)
        if needs[2]:
            grad_b = grad.reshape(out_shape).sum(dim=(0, 2, 3))
        return grad_x, grad_w, grad_b


class ConvWeightGrad(Function):
    """``dW = dY · im2col(X)ᵀ``, a convolution's weight gradient as an operation (for double backward).

    Bilinear in ``X`` and ``dY``: its backward is ``d X = conv_transpose(dY, G)``, ``d dY = conv(X, G)``.
    """

    def forward(self, x, grad_output, *, geometry, groups, shapes, weight_shape):
        x_shape, w_shape, out_shape, _ = shapes
        batch, channels = x_shape[:2]
        (kh, kw), (ho, wo) = geometry.kernel, geometry.grid
        self.geometry, self.groups, self.shapes = geometry, groups, shapes
        padded = _pad_channels_first(x.reshape(x_shape), geometry.pads)
        grad_t = _to_channels_first(grad_output, out_shape, groups)
        result = xp.zeros((groups, w_shape[0] // groups, math.prod(w_shape[1:])), dtype=grad_output.dtype)
        for start, stop in _chunks(batch, channels * kh * kw * ho * wo):
            columns = _columns(padded[:, start:stop], geometry, groups)
            result += matmul(grad_t[:, :, start * ho * wo:stop * ho * wo], columns.transpose(0, 2, 1))
        return result.reshape(weight_shape)

    def backward(self, grad):
        with no_grad():  # the same two convolutions as backward_graph, without recording them
            grads = self.backward_graph(wrap(grad))
        return tuple(None if g is None else g.array for g in grads)

    def backward_graph(self, grad):
        x, grad_output = self.inputs
        x_shape, w_shape, out_shape, _ = self.shapes
        options = {"geometry": self.geometry, "groups": self.groups}
        grad_x = grad_grad_output = None
        if self.needs_input_grad[0]:
            adjoint = (out_shape, w_shape, x_shape, tuple(x.shape))
            grad_x = TransposedConvolution.apply(grad_output, grad, None, shapes=adjoint, **options)
        if self.needs_input_grad[1]:
            forward = (x_shape, w_shape, out_shape, tuple(grad_output.shape))
            grad_grad_output = Convolution.apply(x, grad, None, shapes=forward, **options)
        return grad_x, grad_grad_output


# ----------------------------------------------------------------------------- argument checks
def _check_tensors(op: str, dims: int, input, weight, bias, transposed: bool, groups: int):
    """Validate ranks, dtypes, channels and bias; return (x 4-D shape, batched, out channels)."""
    names = "L" if dims == 1 else "H, W"
    for name, value in (("input", input), ("weight", weight)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(value).__name__}")
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{op}: expected input of shape (N, C_in, {names}) or unbatched (C_in, {names}), "
                           f"got {format_shape(input.shape)}")
    if weight.ndim != dims + 2:
        layout = "C_in, C_out/groups" if transposed else "C_out, C_in/groups"
        raise RuntimeError(f"{op}: expected weight of shape ({layout}, {'k' if dims == 1 else 'kH, kW'}), "
                           f"got {format_shape(weight.shape)}")
    if not is_int(groups) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    bias_dtype = input.dtype if bias is None else bias.dtype
    if input.dtype.kind != "f" or weight.dtype != input.dtype or bias_dtype != input.dtype:
        raise RuntimeError(f"{op}: input, weight and bias must share one floating dtype, got input "
                           f"{input.dtype}, weight {weight.dtype}"
                           + ("" if bias is None else f", bias {bias.dtype}"))
    batched = input.ndim == dims + 2
    shape = tuple(input.shape) if batched else (1,) + tuple(input.shape)
    channels = shape[1]
    if transposed:
        if weight.shape[0] != channels or channels % groups:
            raise RuntimeError(f"{op}: weight {format_shape(weight.shape)} expects C_in={weight.shape[0]} "
                               f"input channels (divisible by groups={groups}), "
                               f"got input {format_shape(input.shape)}")
        if weight.shape[1] == 0:  # PyTorch refuses an empty weight here
            raise RuntimeError(f"{op}: expected a non-empty weight, got weight {format_shape(weight.shape)}")
        out_channels = weight.shape[1] * groups
    else:
        if weight.shape[0] == 0:  # PyTorch's check: no output channel at all
            raise RuntimeError(f"{op}: expected weight to have at least 1 output channel (dimension 0), got "
                               f"weight {format_shape(weight.shape)}")
        if weight.shape[0] % groups:
            raise RuntimeError(f"{op}: C_out={weight.shape[0]} (weight {format_shape(weight.shape)}) must be "
                               f"divisible by groups={groups}")
        if weight.shape[1] * groups != channels:
            raise RuntimeError(f"{op}: expected input with C_in={weight.shape[1] * groups} channels "
                               f"(weight {format_shape(weight.shape)}, groups={groups}), "
                               f"got input {format_shape(input.shape)}")
        out_channels = weight.shape[0]
    if 0 in tuple(weight.shape[2:]):
        raise RuntimeError(f"{op}: kernel size should be greater than zero, got weight "
                           f"{format_shape(weight.shape)}")
    if bias is not None and (not isinstance(bias, Tensor) or tuple(bias.shape) != (out_channels,)):
        got = format_shape(bias.shape) if isinstance(bias, Tensor) else type(bias).__name__
        raise RuntimeError(f"{op}: expected bias of shape ({out_channels},), got {got}")
    shape4 = shape if dims == 2 else shape[:2] + (1,) + shape[2:]
    return shape4, batched, out_channels


def _spatial(value, dims: int, what: str, op: str, minimum: int) -> tuple:
    """A per-dimension option as its 2-D (height, width) pair; 1-D operations get height 1 / 0."""
    values = check_at_least(as_tuple(value, dims, what, op), minimum, what, op)
    return values if dims == 2 else (minimum,) + values


def _convolution(op: str, dims: int, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    x_shape, batched, out_channels = _check_tensors(op, dims, input, weight, bias, False, groups)
    w_shape = tuple(weight.shape) if dims == 2 else weight.shape[:2] + (1,) + weight.shape[2:]
    kernel = w_shape[2:]
    stride = _spatial(stride, dims, "stride", op, 1)
    dilation = _spatial(dilation, dims, "dilation", op, 1)
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"{op}: invalid padding string {padding!r}; "
                             "expected 'valid', 'same', an int or a tuple")
        if padding == "same" and stride != (1, 1):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride={stride[2 - dims:]})")
        # 'same': total d*(k-1) per dimension, the odd one extra on the bottom/right, as PyTorch
        totals = [0, 0] if padding == "valid" else [d * (k - 1) for d, k in zip(dilation, kernel)]
        pads = (totals[0] // 2, totals[0] - totals[0] // 2, totals[1] // 2, totals[1] - totals[1] // 2)
    else:
        pad_h, pad_w = _spatial(padding, dims, "padding", op, 0)
        pads = (pad_h, pad_h, pad_w, pad_w)
    sizes = (x_shape[2] + pads[0] + pads[1], x_shape[3] + pads[2] + pads[3])
    spans = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(size < span for size, span in zip(sizes, spans)):
        keep = slice(2 - dims, 2)
        raise RuntimeError(f"{op}: the padded input {format_shape(sizes[keep])} is smaller than the "
                           "dilated kernel "
                           f"{format_shape(spans[keep])} (input {format_shape(input.shape)}, "
                           f"weight {format_shape(weight.shape)})")
    grid = tuple((size - span) // s + 1 for size, span, s in zip(sizes, spans, stride))
    geometry = _Geometry(kernel, stride, dilation, pads, grid)
    out4 = (x_shape[0], out_channels) + grid
    out = out4 if dims == 2 else out4[:2] + grid[1:]
    shapes = (x_shape, w_shape, out4, out if batched else out[1:])
    return Convolution.apply(input, weight, bias, geometry=geometry, groups=groups, shapes=shapes)


def _transposed(op: str, dims: int, input, weight, bias, stride, padding, output_padding, groups,
                dilation) -> Tensor:
    x_shape, batched, out_channels = _check_tensors(op, dims, input, weight, bias, True, groups)
    w_shape = tuple(weight.shape) if dims == 2 else weight.shape[:2] + (1,) + weight.shape[2:]
    kernel = w_shape[2:]
    stride = _spatial(stride, dims, "stride", op, 1)
    dilation = _spatial(dilation, dims, "dilation", op, 1)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    pad_h, pad_w = _spatial(padding, dims, "padding", op, 0)
    extra = _spatial(output_padding, dims, "output_padding", op, 0)
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(f"{op}: output_padding must be smaller than either stride or dilation, got "
                         f"output_padding={extra[2 - dims:]}, stride={stride[2 - dims:]}, "
                         f"dilation={dilation[2 - dims:]}")
    grid = x_shape[2:]
    out_size = tuple((size - 1) * s - 2 * p + d * (k - 1) + e + 1
                     for size, s, p, d, k, e in zip(grid, stride, (pad_h, pad_w), dilation, kernel, extra))
    if min(out_size) < 1:
        raise RuntimeError(f"{op}: the output would be empty: input {format_shape(input.shape)} with weight "
                           f"{format_shape(weight.shape)}, stride {stride[2 - dims:]} and padding "
                           f"{(pad_h, pad_w)[2 - dims:]} gives spatial size "
                           f"{format_shape(out_size[2 - dims:])}")
    geometry = _Geometry(kernel, stride, dilation, (pad_h, pad_h, pad_w, pad_w), grid)
    out4 = (x_shape[0], out_channels) + out_size
    out = out4 if dims == 2 else out4[:2] + out_size[1:]
    shapes = (x_shape, w_shape, out4, out if batched else out[1:])
    return TransposedConvolution.apply(input, weight, bias, geometry=geometry, groups=groups, shapes=shapes)


# ----------------------------------------------------------------------------- public API
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch) over (N, C_in, H, W) or unbatched (C_in, H, W).

    ``weight``: (C_out, C_in/groups, kH, kW); ``bias``: (C_out,) or None. ``stride``, ``padding``
    and ``dilation`` are ints or (h, w) pairs; ``padding`` may also be ``'valid'`` or ``'same'``.
    Output: (N, C_out, H_out, W_out), H_out = (H + 2*pad - dilation*(kH - 1) - 1) // stride + 1.

    Example:
        >>> import dendrite
        >>> x, w = dendrite.randn(8, 3, 28, 28), dendrite.randn(16, 3, 5, 5)
        >>> conv2d(x, w, padding=2).shape
        (8, 16, 28, 28)
    """
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-D convolution over (N, C_in, L) or unbatched (C_in, L); ``weight`` is (C_out, C_in/groups, k).

    Output: (N, C_out, L_out), L_out = (L + 2*pad - dilation*(k - 1) - 1) // stride + 1.

    Example:
        >>> import dendrite
        >>> conv1d(dendrite.randn(4, 2, 10), dendrite.randn(6, 2, 3), padding='same').shape
        (4, 6, 10)
    """
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution ("deconvolution"): the gradient of conv2d with respect to its input.

    ``input``: (N, C_in, H, W) or (C_in, H, W); ``weight``: (C_in, C_out/groups, kH, kW).
    Output: (N, C_out, H_out, W_out) with
    H_out = (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1.

    Example:
        >>> import dendrite
        >>> x, w = dendrite.randn(2, 8, 7, 7), dendrite.randn(8, 4, 4, 4)
        >>> conv_transpose2d(x, w, stride=2, padding=1).shape
        (2, 4, 14, 14)
    """
    return _transposed("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                       dilation)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution over (N, C_in, L) or (C_in, L); ``weight``: (C_in, C_out/groups, k).

    Output length: (L - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1.

    Example:
        >>> import dendrite
        >>> conv_transpose1d(dendrite.randn(2, 3, 5), dendrite.randn(3, 2, 3), stride=2).shape
        (2, 2, 11)
    """
    return _transposed("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                       dilation)
