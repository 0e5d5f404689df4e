"""ONNX forms of the layer operations: linear, convolution, pooling, normalisation, embedding.

dendrite runs 1-D convolution and pooling as 2-D ones of height 1 and keeps the
2-D geometry on the node; the ONNX node gets the true number of spatial
dimensions back (a Conv with a 1-D kernel), and unbatched inputs (C, H, W) are
given a batch axis of 1 around it.
"""

from __future__ import annotations

import numpy as np

from dendrite.interop.onnx_export.builder import handles
from dendrite.interop.onnx_export.ops_shape import along_axis
from dendrite.nn.functional.conv import Convolution, TransposedConvolution
from dendrite.nn.functional.linear import Linear
from dendrite.nn.functional.normalization import BatchNorm, GroupNorm, LayerNorm, RMSNorm
from dendrite.nn.functional.pooling import AdaptiveAvgPool, AdaptiveMaxPool, AvgPool, MaxPool
from dendrite.nn.functional.sparse import Embedding


def _bias(b, node, index: int = 2) -> list:
    has_bias = len(node.inputs) > index and node.inputs[index] is not None
    return [b.input(node, index)] if has_bias else []


def _batched_call(b, node, x: str, batched: bool, op_type: str, inputs: list, **attributes) -> None:
    """Run ``op_type`` on ``x`` (plus ``inputs``), adding and removing a batch axis if ``x`` has none."""
    if batched:
        b.add(op_type, [x, *inputs], [b.output(node)], **attributes)
        return
    result = b.add(op_type, [b.unsqueeze(x, [0]), *inputs], **attributes)
    b.squeeze(result, [0], [b.output(node)])


def _pool_rank(x_shape: tuple, x4: tuple, trivial_height: bool) -> tuple[int, bool]:
    """(spatial dimensions, batched) of a pooling input that dendrite viewed as ``x4`` (N, C, H, W)."""
    if len(x_shape) == 4:
        return 2, True
    if len(x_shape) == 2:
        return 1, False
    if trivial_height and tuple(x4) == tuple(x_shape[:2]) + (1,) + tuple(x_shape[2:]):
        return 1, True
    return 2, False


# ----------------------------------------------------------------------------- linear
@handles(Linear)
def _linear(b, node):
    x, weight, bias = b.input(node, 0), b.input(node, 1), _bias(b, node)
    if node.inputs[0].ndim == 2:
        b.add("Gemm", [x, weight, *bias], [b.output(node)], transB=1)
        return
    product = b.add("MatMul", [x, b.add("Transpose", [weight], perm=[1, 0])], 1 if bias else [b.output(node)])
    if bias:
        b.add("Add", [product, bias[0]], [b.output(node)])


# ----------------------------------------------------------------------------- convolution
def _conv_geometry(node):
    options = node.trace_options
    geometry = options["geometry"]
    dims = node.inputs[1].ndim - 2
    batched = node.inputs[0].ndim == dims + 2
    top, bottom, left, right = geometry.pads
    keep = slice(2 - dims, 2)
    return options, geometry, dims, batched, keep, (top, bottom, left, right)


@handles(Convolution)
def _convolution(b, node):
    options, geometry, dims, batched, keep, (top, bottom, left, right) = _conv_geometry(node)
    pads = [top, left, bottom, right] if dims == 2 else [left, right]
    attributes = dict(kernel_shape=list(geometry.kernel[keep]), strides=list(geometry.stride[keep]),
                      dilations=list(geometry.dilation[keep]), pads=pads, group=int(options["groups"]))
    _batched_call(b, node, b.input(node, 0), batched, "Conv", [b.input(node, 1), *_bias(b, node)],
                  **attributes)


@handles(TransposedConvolution)
def _transposed_convolution(b, node):
    options, geometry, dims, batched, keep, (top, _, left, _) = _conv_geometry(node)
    x4, _, out4, _ = options["shapes"]
    extra = []
    for size, out, stride, pad, dilation, kernel in zip(x4[2:], out4[2:], geometry.stride, (top, left),
                                                        geometry.dilation, geometry.kernel):
        extra.append(out - ((size - 1) * stride - 2 * pad + dilation * (kernel - 1) + 1))
    pads = [top, left, top, left] if dims == 2 else [left, left]
    attributes = dict(kernel_shape=list(geometry.kernel[keep]), strides=list(geometry.stride[keep]),
                      dilations=list(geometry.dilation[keep]), pads=pads, output_padding=extra[keep],
                      group=int(options["groups"]))
    _batched_call(b, node, b.input(node, 0), batched, "ConvTranspose", [b.input(node, 1), *_bias(b, node)],
                  **attributes)


# ----------------------------------------------------------------------------- pooling
def _pool_windows(b, node):
    """(spatial dims, batched, windows of those dims, ONNX begin pads, ONNX end pads)."""
    options = node.trace_options
    x4 = options["shapes"][0]
    windows = options["windows"]
    dims, batched = _pool_rank(node.inputs[0].shape, x4, windows[0] == (1, 1, 1, 0, 0, 1))
    windows = windows[2 - dims:]
    sizes = x4[4 - dims:]
    ends = []
    for (kernel, stride, dilation, pad, _, out), size in zip(windows, sizes):
        span = dilation * (kernel - 1) + 1
        # the end padding that gives exactly ``out`` windows (PyTorch's ceil_mode may need extra)
        end = max(0, (out - 1) * stride + span - pad - size)
        if (size + pad + end - span) // stride + 1 != out:
            b.fail(f"pooling window {kernel} with stride {stride} and padding {pad} over size {size} "
                   f"giving {out} outputs has no ONNX equivalent")
        ends.append(end)
    return dims, batched, windows, [w[3] for w in windows], ends


@handles(MaxPool)
def _max_pool(b, node):
    if node.n_outputs == 2:
        b.fail("max pooling with return_indices=True is not supported (PyTorch's indices differ from ONNX's)")
    dims, batched, windows, begins, ends = _pool_windows(b, node)
    attributes = dict(kernel_shape=[w[0] for w in windows], strides=[w[1] for w in windows],
                      dilations=[w[2] for w in windows], pads=begins + ends)
    _batched_call(b, node, b.input(node, 0), batched, "MaxPool", [], **attributes)


@handles(AvgPool)
def _avg_pool(b, node):
    dims, batched, windows, begins, ends = _pool_windows(b, node)
    x4 = node.trace_options["shapes"][0]
    divisor = np.broadcast_to(np.asarray(node.trace_options["divisor"], dtype=np.float64),
                              tuple(w[5] for w in node.trace_options["windows"]))
    # Which ONNX count_include_pad gives dendrite's divisor at every output position?
    included = np.full(divisor.shape, float(np.prod([w[0] for w in windows])))
    excluded = np.ones(divisor.shape)
    for position, ((kernel, stride, _, pad, _, out), size) in enumerate(zip(windows, x4[4 - dims:])):
        start = np.arange(out) * stride - pad
        counts = np.minimum(start + kernel, size) - np.maximum(start, 0)
        shape = [1, 1]
        shape[position + 2 - dims] = -1
        excluded = excluded * counts.reshape(shape)
    if np.allclose(divisor, included):
        count_include_pad = 1
    elif np.allclose(divisor, excluded):
        count_include_pad = 0
    else:
        b.fail("average pooling with this ceil_mode / count_include_pad / divisor_override combination has "
               "no ONNX AveragePool equivalent")
    attributes = dict(kernel_shape=[w[0] for w in windows], strides=[w[1] for w in windows],
                      pads=begins + ends, count_include_pad=count_include_pad)
    _batched_call(b, node, b.input(node, 0), batched, "AveragePool", [], **attributes)


@handles(AdaptiveAvgPool)
def _adaptive_avg_pool(b, node):
    x4, out4, _ = node.trace_options["shapes"]
    matrices = node.trace_options["matrices"]
    x_shape = node.inputs[0].shape
    dims, batched = _pool_rank(x_shape, x4, matrices[0].shape == (1, 1))
    x = b.input(node, 0)
    if batched and all(size == 1 for size in out4[2:]):
        b.add("GlobalAveragePool", [x], [b.output(node)])
        return
    # Any output size: a product with the averaging matrix along each spatial axis (as dendrite does).
    steps = [(matrices[1], -1)] + ([(matrices[0], -2)] if matrices[0].shape != (1, 1) else [])
    for position, (matrix, axis) in enumerate(steps):
        last = position == len(steps) - 1
        outputs = [b.output(node)] if last else 1
        x = along_axis(b, x, matrix, axis, len(x_shape), node.trace_dtypes[0], outputs)


@handles(AdaptiveMaxPool)
def _adaptive_max_pool(b, node):
    if node.n_outputs == 2:
        b.fail("adaptive max pooling with return_indices=True is not supported")
    x4, out4, _ = node.trace_options["shapes"]
    trivial = x4[2] == 1 and out4[2] == 1
    dims, batched = _pool_rank(node.inputs[0].shape, x4, trivial)
    x = b.input(node, 0)
    if batched and all(size == 1 for size in out4[2:]):
        b.add("GlobalMaxPool", [x], [b.output(node)])
        return
    sizes, outs = x4[4 - dims:], out4[4 - dims:]
    if any(size % out for size, out in zip(sizes, outs)):
        b.fail(f"adaptive max pooling from {tuple(sizes)} to {tuple(outs)} (not a whole multiple) has no "
               "ONNX equivalent")
    kernel = [size // out for size, out in zip(sizes, outs)]
    _batched_call(b, node, x, batched, "MaxPool", [], kernel_shape=kernel, strides=kernel)


# ----------------------------------------------------------------------------- normalisation
def _affine_or(b, node, index: int, fill: float, size: tuple) -> str:
    """The weight / bias input, or a constant of ``fill`` when the layer has none."""
    if len(node.inputs) > index and node.inputs[index] is not None:
        return b.input(node, index)
    return b.const(np.full(size, fill, dtype=node.trace_dtypes[0]))


@handles(BatchNorm)
def _batch_norm(b, node):
    options = node.trace_options
    channels = node.inputs[0].shape[1]
    if options["training"]:  # no running statistics (track_running_stats=False, InstanceNorm)
        _batch_statistics_norm(b, node, float(options["eps"]))
        return
    inputs = [b.input(node, 0), _affine_or(b, node, 1, 1.0, (channels,)),
              _affine_or(b, node, 2, 0.0, (channels,)),
              b.option(node, "running_mean"), b.option(node, "running_var")]
    b.add("BatchNormalization", inputs, [b.output(node)], epsilon=float(options["eps"]))


def _batch_statistics_norm(b, node, eps: float) -> None:
    """Normalise with the statistics of this batch: over every axis but the channels (1)."""
    ndim = node.inputs[0].ndim
    axes = [0] + list(range(2, ndim))
    x = b.input(node, 0)
    centered = b.add("Sub", [x, b.reduce("ReduceMean", x, axes, True)])
    variance = b.reduce("ReduceMean", b.add("Mul", [centered, centered]), axes, True)
    std = b.add("Sqrt", [b.add("Add", [variance, b.scalar_like(eps, node.trace_dtypes[0])])])
    has_weight = len(node.inputs) > 1 and node.inputs[1] is not None
    has_bias = len(node.inputs) > 2 and node.inputs[2] is not None
    out = b.add("Div", [centered, std], 1 if has_weight or has_bias else [b.output(node)])
    trailing = list(range(1, ndim - 1))
    for present, index, op_type in ((has_weight, 1, "Mul"), (has_bias, 2, "Add")):
        if present:
            value = b.input(node, index)
            value = b.unsqueeze(value, trailing) if trailing else value
            last = op_type == "Add" or not has_bias
            out = b.add(op_type, [out, value], [b.output(node)] if last else 1)


@handles(LayerNorm)
def _layer_norm(b, node):
    normalized, eps = tuple(node.trace_options["normalized"]), float(node.trace_options["eps"])
    x = b.input(node, 0)
    weight, bias = _affine_or(b, node, 1, 1.0, normalized), _affine_or(b, node, 2, 0.0, normalized)
    if b.opset >= 17:
        b.add("LayerNormalization", [x, weight, bias], [b.output(node)], axis=-len(normalized), epsilon=eps)
        return
    axes = list(range(-len(normalized), 0))
    centered = b.add("Sub", [x, b.reduce("ReduceMean", x, axes, True)])
    variance = b.reduce("ReduceMean", b.add("Mul", [centered, centered]), axes, True)
    std = b.add("Sqrt", [b.add("Add", [variance, b.scalar_like(eps, node.trace_dtypes[0])])])
    scaled = b.add("Mul", [b.add("Div", [centered, std]), weight])
    b.add("Add", [scaled, bias], [b.output(node)])


@handles(RMSNorm)
def _rms_norm(b, node):
    normalized, eps = tuple(node.trace_options["normalized"]), float(node.trace_options["eps"])
    x = b.input(node, 0)
    axes = list(range(-len(normalized), 0))
    mean_square = b.reduce("ReduceMean", b.add("Mul", [x, x]), axes, True)
    inverse = b.add("Reciprocal", [b.add("Sqrt", [b.add("Add", [mean_square,
                                                                b.scalar_like(eps, node.trace_dtypes[0])])])])
    has_weight = len(node.inputs) > 1 and node.inputs[1] is not None
    scaled = b.add("Mul", [x, inverse], 1 if has_weight else [b.output(node)])
    if has_weight:
        b.add("Mul", [scaled, b.input(node, 1)], [b.output(node)])


@handles(GroupNorm)
def _group_norm(b, node):
    groups, eps = int(node.trace_options["groups"]), float(node.trace_options["eps"])
    x_shape = node.inputs[0].shape
    dtype = node.trace_dtypes[0]
    x = b.input(node, 0)
    # Standardise each (sample, group) with InstanceNormalization over a (N, groups, -1) view,
    # then the per-channel affine map on the original shape.
    grouped = b.add("Reshape", [x, b.ints([0, groups, -1])])
    ones, zeros = b.const(np.ones(groups, dtype)), b.const(np.zeros(groups, dtype))
    normalized = b.add("InstanceNormalization", [grouped, ones, zeros], epsilon=eps)
    has_weight = len(node.inputs) > 1 and node.inputs[1] is not None
    has_bias = len(node.inputs) > 2 and node.inputs[2] is not None
    restored = b.add("Reshape", [normalized, b.add("Shape", [x])],
                     1 if has_weight or has_bias else [b.output(node)])
    trailing = list(range(1, len(x_shape) - 1))
    for present, index, op_type in ((has_weight, 1, "Mul"), (has_bias, 2, "Add")):
        if present:
            last = op_type == "Add" or not has_bias
            value = b.input(node, index)
            value = b.unsqueeze(value, trailing) if trailing else value
            restored = b.add(op_type, [restored, value], [b.output(node)] if last else 1)


# ----------------------------------------------------------------------------- embedding
@handles(Embedding)
def _embedding(b, node):
    indices = b.option(node, "indices")
    b.add("Gather", [b.input(node, 0), indices], [b.output(node)], axis=0)
