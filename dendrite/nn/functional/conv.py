"""Convolutions (conv1d, conv2d) and their transposes, as matrix products over window columns.

How a 2-D convolution runs (1-D is 2-D with height 1; the column machinery, im2col and col2im,
is in :mod:`dendrite.nn.functional.conv_columns`):

* **Forward.** Pad the input once, copy every kernel window into columns (C·kh·kw, n·Ho·Wo) a
  chunk of the batch at a time, and ``out = W(O, C·kh·kw) @ columns`` is one BLAS product per
  chunk and group, written straight into the (O, N·Ho·Wo) result; one pass turns that into
  (N, O, Ho, Wo) and adds the bias.
* **Weight gradient.** ``dW = dOut(O, N·Ho·Wo) @ columns^T``, chunk by chunk (a batch that fits
  in one chunk keeps its forward columns; otherwise they are rebuilt, which costs far less
  memory than keeping them).
* **Input gradient.** For stride 1 it is itself a convolution: the output gradient, padded by
  ``dilation·(k - 1) - pad``, correlated with the flipped kernel (input and output channels
  swapped) -- im2col and one product again, no scatter. Other strides use col2im:
  ``dColumns = W^T @ dOut`` added back at the windows. Nothing is computed for an input that
  does not require a gradient (the first layer's images).
* **The transposed convolution** is the same moves in the other order: its forward is the
  col2im of ``W^T @ x`` and its backward the im2col of the output gradient.
"""

from __future__ import annotations

import math

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.autograd.grad_mode import no_grad
from dendrite.backend import xp
from dendrite.nn.functional.conv_columns import (
    Geometry,
    Im2col,
    add_columns,
    channels_last,
    chunks,
)
from dendrite.nn.functional.window import as_tuple, check_at_least, format_shape, is_int, owned_array
from dendrite.tensor import Tensor, wrap
from dendrite.utils.blas import matmul

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]

# ----------------------------------------------------------------------------- shared helpers
def _to_channels_first(array, shape, groups: int):
    """(N, C, H, W)-shaped ``array`` -> (groups, C/groups, N*H*W), the layout of the products."""
    batch, channels, positions = shape[0], shape[1], math.prod(shape[2:])
    flat = array.reshape(batch, channels, positions).transpose(1, 0, 2)
    return backend.ascontiguousarray(flat).reshape(groups, channels // groups, batch * positions)


def _from_channels_first(array, shape, bias=None):
    """(C, N, H, W)-ordered ``array`` (owned, overwritten) -> a contiguous (N, C, H, W) array + bias.

    The bias is added in place first, along the contiguous rows: adding it while transposing
    (a broadcast over a transposed view) is ~5x slower than the copy itself.
    """
    batch, channels = shape[:2]
    if bias is not None:
        rows = array.reshape(channels, -1)
        xp.add(rows, bias.reshape(-1, 1), out=rows)
    return backend.ascontiguousarray(
        array.reshape((channels, batch) + tuple(shape[2:])).transpose(1, 0, 2, 3))


def _im2col(x4, geometry: Geometry, groups: int) -> tuple:
    """(Im2col over ``x4`` (N, C, H, W) in the faster layout, its batch chunks)."""
    batch, channels = x4.shape[:2]
    per_item = channels * math.prod(geometry.kernel) * math.prod(geometry.grid)
    parts = chunks(batch, per_item)
    largest = max((stop - start for start, stop in parts), default=0)
    return Im2col(x4, geometry, groups, channels_last(channels, geometry, groups), largest), parts


def _weight_gradient(im2col: Im2col, parts, grad_t, weight_shape, kept: bool = False):
    """dW = dY · X_colsᵀ summed over the batch chunks, as a (O, C/groups, kh, kw)-shaped array.

    ``kept``: the buffer still holds the columns of the only chunk (built in forward).
    """
    positions = math.prod(im2col.geometry.grid)
    result = None
    for start, stop in parts:
        columns = im2col.view(start, stop) if kept else im2col(start, stop)
        part = matmul(grad_t[:, :, start * positions:stop * positions], columns.transpose(0, 2, 1))
        result = part if result is None else xp.add(result, part, out=result)
    if result is None:  # an empty batch
        result = backend.namespace(grad_t).zeros(
            (im2col.groups, weight_shape[0] // im2col.groups, im2col.rows // im2col.groups),
                          dtype=grad_t.dtype)
    return im2col.unarrange(result, weight_shape)


def _input_gradient_geometry(geometry: Geometry, input_grid: tuple):
    """The geometry under which dX = conv(dY, flipped W): stride 1, dY padded by d·(k-1) - pad; None
    when the convolution is strided or padded by more than d·(k-1) (then col2im is used)."""
    if geometry.stride != (1, 1):
        return None
    (kh, kw), (dh, dw) = geometry.kernel, geometry.dilation
    top, bottom, left, right = geometry.pads
    pads = (dh * (kh - 1) - top, dh * (kh - 1) - bottom, dw * (kw - 1) - left, dw * (kw - 1) - right)
    if min(pads) < 0:
        return None
    return Geometry(geometry.kernel, (1, 1), geometry.dilation, pads, tuple(input_grid))


def _flipped_transposed(weight, groups: int):
    """W (O, C/g, kh, kw) -> W' (C, O/g, kh, kw) with W'[c, o] = W[o, c] rotated 180°, per group."""
    out_channels, group_channels, kh, kw = weight.shape
    per_group = weight.reshape(groups, out_channels // groups, group_channels, kh, kw)[..., ::-1, ::-1]
    return per_group.transpose(0, 2, 1, 3, 4).reshape(groups * group_channels, out_channels // groups, kh, kw)


# ----------------------------------------------------------------------------- Functions
class Convolution(Function):
    """out = conv(x, W) + b in (N, C, H, W); 1-D and unbatched arrays are reshaped in and out.

    ``shapes`` = (x as 4-D, W as 4-D, out as 4-D, out as returned).
    """

    def forward(self, x, weight, bias, geometry, groups, shapes):
        # Y[o, (n, i, j)] = Σ_rows W[o, row] · X_cols[row, (n, i, j)] + b[o]   (per group, per chunk)
        x_shape, w_shape, out_shape, _ = shapes
        positions = math.prod(geometry.grid)
        weight4 = weight.reshape(w_shape)
        x4 = x.reshape(x_shape)
        im2col, parts = _im2col(x4, geometry, groups)
        w = im2col.arrange(weight4, groups)  # (groups, O/groups, C/groups*kh*kw)
        out = backend.namespace(x).empty((groups, w.shape[1], x_shape[0] * positions), dtype=x.dtype)
        for start, stop in parts:
            matmul(w, im2col(start, stop), out=out[:, :, start * positions:stop * positions])
        self.geometry, self.groups, self.shapes = geometry, groups, shapes
        self.input_shape, self.weight_shape = x.shape, weight.shape
        self.weight = weight4 if self.needs_input_grad[0] else None
        if self.needs_input_grad[1]:
            # One chunk: its columns are still in the buffer, keep them for dW. Several: keep only the
            # input (alive anyway as this node's input) and rebuild the columns in backward, rather
            # than hold the buffers from forward to backward.
            self.im2col, self.x4 = (im2col, None) if len(parts) == 1 else (None, x4)
        return _from_channels_first(out, out_shape, bias).reshape(shapes[3])

    def backward(self, grad):
        # dW = dY · X_colsᵀ;  db = Σ_{n,h,w} dY;
        # dX = conv(pad(dY, d·(k-1) - pad), W rotated 180° with in/out channels swapped)  (stride 1)
        #    = col2im(Wᵀ · dY)                                                            (otherwise)
        groups, (x_shape, w_shape, out_shape, _) = self.groups, self.shapes
        needs = self.needs_input_grad
        grad_t = _to_channels_first(grad, out_shape, groups)  # (groups, O/groups, N*Ho*Wo)
        grad_x = grad_w = grad_b = None
        if needs[2]:
            grad_b = grad_t.sum(axis=2).reshape(-1)
        adjoint = _input_gradient_geometry(self.geometry, x_shape[2:]) if needs[0] else None
        if needs[0] and adjoint is None:
            grad_x = self._scattered_input_gradient(grad_t)
        if needs[1]:
            kept = self.im2col is not None
            im2col, parts = (self.im2col, [(0, x_shape[0])]) if kept else \
                _im2col(self.x4, self.geometry, groups)
            grad_w = owned_array(_weight_gradient(im2col, parts, grad_t, w_shape, kept), self.weight_shape)
            del im2col  # its buffers go before dX needs its own
        del grad_t
        if adjoint is not None:  # a stride-1 convolution of the output gradient: no scatter
            batch, channels, height, width = x_shape
            im2col, parts = _im2col(grad.reshape(out_shape), adjoint, groups)
            w = im2col.arrange(_flipped_transposed(self.weight, groups), groups)  # (groups, C/g, O/g*kh*kw)
            size = height * width
            grad_x_t = backend.namespace(grad).empty(
                (groups, channels // groups, batch * size), dtype=grad.dtype)
            for start, stop in parts:
                matmul(w, im2col(start, stop), out=grad_x_t[:, :, start * size:stop * size])
            del im2col
            grad_x = grad_x_t.reshape(channels, batch, height, width).transpose(1, 0, 2, 3)
            grad_x = owned_array(grad_x, self.input_shape)
        return grad_x, grad_w, grad_b

    def _scattered_input_gradient(self, grad_t):
        geometry, groups, (x_shape, w_shape, _, _) = self.geometry, self.groups, self.shapes
        batch, channels, height, width = x_shape
        (kh, kw), (ho, wo) = geometry.kernel, geometry.grid
        top, bottom, left, right = geometry.pads
        grad_padded = backend.namespace(grad_t).zeros(
            (channels, batch, height + top + bottom, width + left + right), grad_t.dtype)
        w_t = self.weight.reshape(groups, w_shape[0] // groups, -1).transpose(0, 2, 1)
        for start, stop in chunks(batch, channels * kh * kw * ho * wo):
            grad_columns = matmul(w_t, grad_t[:, :, start * ho * wo:stop * ho * wo])
            grad_columns = grad_columns.reshape(channels, kh, kw, stop - start, ho, wo)
            add_columns(grad_padded[:, start:stop], grad_columns, geometry)
        grad_x = grad_padded[:, :, top:top + height, left:left + width].transpose(1, 0, 2, 3)
        return owned_array(grad_x, self.input_shape)

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
        x_shape, w_shape, out_shape, _ = shapes
        batch, in_channels, height, width = x_shape
        out_channels, out_h, out_w, (kh, kw) = out_shape[1], out_shape[2], out_shape[3], geometry.kernel
        x_t = _to_channels_first(x, x_shape, groups)  # (groups, C_in/groups, N*H*W)
        w = weight.reshape(groups, in_channels // groups, -1)  # (groups, C_in/groups, C_out/groups*kh*kw)
        w_t = w.transpose(0, 2, 1)
        top, bottom, left, right = geometry.pads
        full = backend.namespace(x).zeros(
            (out_channels, batch, out_h + top + bottom, out_w + left + right), dtype=x.dtype)
        for start, stop in chunks(batch, out_channels * kh * kw * height * width):
            columns = matmul(w_t, x_t[:, :, start * height * width:stop * height * width])
            columns = columns.reshape(out_channels, kh, kw, stop - start, height, width)
            add_columns(full[:, start:stop], columns, geometry)
        out = backend.ascontiguousarray(full[:, :, top:top + out_h, left:left + out_w].transpose(1, 0, 2, 3))
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        self.geometry, self.groups, self.shapes = geometry, groups, shapes
        self.input_shape, self.weight_shape = x.shape, weight.shape
        self.weight = weight.reshape(w_shape) if self.needs_input_grad[0] else None
        self.x_t = x_t if self.needs_input_grad[1] else None
        return out.reshape(shapes[3])

    def backward(self, grad):
        # The adjoint of Convolution: dX = W · im2col(dY);  dW = X · im2col(dY)ᵀ;  db = Σ_{n,h,w} dY
        geometry, groups, (x_shape, w_shape, out_shape, _) = self.geometry, self.groups, self.shapes
        batch, in_channels, height, width = x_shape
        positions = height * width
        grad4 = grad.reshape(out_shape)
        im2col, parts = _im2col(grad4, geometry, groups)  # the columns of dY, (C_out/g*kh*kw, N*H*W)
        grad_x = grad_w = grad_b = None
        if self.needs_input_grad[2]:
            grad_b = grad4.sum(axis=(0, 2, 3))
        if self.needs_input_grad[0]:
            w = im2col.arrange(self.weight, groups)  # (groups, C_in/groups, rows)
            grad_x_t = backend.namespace(grad).empty(
                (groups, in_channels // groups, batch * positions), dtype=grad.dtype)
            for start, stop in parts:
                matmul(w, im2col(start, stop), out=grad_x_t[:, :, start * positions:stop * positions])
            grad_x = owned_array(grad_x_t.reshape((in_channels, batch, height, width)).transpose(1, 0, 2, 3),
                                 self.input_shape)
        if self.needs_input_grad[1]:
            kept = self.needs_input_grad[0] and len(parts) == 1  # the buffer still holds the only chunk
            grad_w = owned_array(_weight_gradient(im2col, parts, self.x_t, w_shape, kept), self.weight_shape)
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
        self.geometry, self.groups, self.shapes = geometry, groups, shapes
        im2col, parts = _im2col(x.reshape(x_shape), geometry, groups)
        grad_t = _to_channels_first(grad_output, out_shape, groups)
        return owned_array(_weight_gradient(im2col, parts, grad_t, w_shape), weight_shape)

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
    geometry = Geometry(kernel, stride, dilation, pads, grid)
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
    geometry = Geometry(kernel, stride, dilation, (pad_h, pad_h, pad_w, pad_w), grid)
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
