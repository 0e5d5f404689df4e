"""NumPy references for the fused ``nn.functional`` registry entries (tests/ops/registry_fused.py).

Each takes the entry's arguments as NumPy arrays (and plain values) and computes
the textbook formula directly, in float64, with explicit loops over kernel
offsets and windows where that is the clearest statement.
"""

from __future__ import annotations

import math

import numpy as np

from tests.ops.registry import _rng

_erf = np.vectorize(math.erf)


def distinct_values(*shape) -> np.ndarray:
    """Well-separated values in random order (no ties: a max-pool window has one winner)."""
    count = int(np.prod(shape))
    return (_rng.permutation(count) * 0.37 - count * 0.15).reshape(shape)


def zeros_like(x, **_):
    return np.zeros_like(x)


# ----------------------------------------------------------------------------- activations
def leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, x * negative_slope)


def elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x))


def selu(x):
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * elu(x, alpha)


def celu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x / alpha))


def softplus(x, beta=1.0, threshold=20.0):
    return np.where(x * beta > threshold, x, np.log1p(np.exp(x * beta)) / beta)


def gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def silu(x):
    return x / (1 + np.exp(-x))


def mish(x):
    return x * np.tanh(np.log1p(np.exp(x)))


def hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.clip(x, min_val, max_val)


def relu6(x):
    return np.clip(x, 0, 6)


def hardsigmoid(x):
    return np.clip(x + 3, 0, 6) / 6


def hardswish(x):
    return x * hardsigmoid(x)


def logsigmoid(x):
    return -np.log1p(np.exp(-x))


def threshold(x, threshold, value):
    return np.where(x > threshold, x, value)


def normalize(x, p=2.0, dim=1, eps=1e-12):
    if p == math.inf:
        norm = np.abs(x).max(axis=dim, keepdims=True)
    else:
        norm = (np.abs(x) ** p).sum(axis=dim, keepdims=True) ** (1 / p)
    return x / np.maximum(norm, eps)


# ----------------------------------------------------------------------------- linear and convolution
def linear(x, weight, bias=None):
    return x @ weight.T + (0 if bias is None else bias)


def bilinear(x1, x2, weight, bias=None):
    return np.einsum("...i,oij,...j->...o", x1, weight, x2) + (0 if bias is None else bias)


def _tuple(value, count):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * count


def _window(offset, start, step, count):
    return slice(start + offset, start + offset + step * (count - 1) + 1, step)


def conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation: per kernel offset, a strided slice of the padded input times that weight tap."""
    if x.ndim == weight.ndim - 1:  # unbatched
        return conv(x[None], weight, bias, stride, padding, dilation, groups)[0]
    dims = x.ndim - 2
    kernel, stride, dilation = weight.shape[2:], _tuple(stride, dims), _tuple(dilation, dims)
    if padding == "same":
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        pads = [(t // 2, t - t // 2) for t in total]
    else:
        pads = [(p, p) for p in _tuple(0 if padding == "valid" else padding, dims)]
    x = np.pad(x, [(0, 0), (0, 0), *pads])
    sizes = [(x.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(dims)]
    out_channels = weight.shape[0]
    in_group, out_group = x.shape[1] // groups, out_channels // groups
    out = np.zeros((x.shape[0], out_channels, *sizes))
    for g in range(groups):
        for tap in np.ndindex(*kernel):
            window = tuple(_window(tap[i] * dilation[i], 0, stride[i], sizes[i]) for i in range(dims))
            patch = x[(slice(None), slice(g * in_group, (g + 1) * in_group), *window)]
            taps = weight[(slice(g * out_group, (g + 1) * out_group), slice(None), *tap)]
            out[:, g * out_group : (g + 1) * out_group] += np.einsum("nc...,oc->no...", patch, taps)
    return out if bias is None else out + bias.reshape((1, -1) + (1,) * dims)


def conv_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The adjoint of ``conv``: every input element scatters its weight taps into the output."""
    dims = x.ndim - 2
    kernel = weight.shape[2:]
    stride, padding = _tuple(stride, dims), _tuple(padding, dims)
    output_padding, dilation = _tuple(output_padding, dims), _tuple(dilation, dims)
    lengths = x.shape[2:]
    full = [
        (lengths[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 + output_padding[i]
        for i in range(dims)
    ]
    in_group, out_group = x.shape[1] // groups, weight.shape[1]
    out = np.zeros((x.shape[0], out_group * groups, *full))
    for g in range(groups):
        for tap in np.ndindex(*kernel):
            window = tuple(_window(tap[i] * dilation[i], 0, stride[i], lengths[i]) for i in range(dims))
            taps = weight[(slice(g * in_group, (g + 1) * in_group), slice(None), *tap)]
            contribution = np.einsum("nc...,co->no...", x[:, g * in_group : (g + 1) * in_group], taps)
            out[(slice(None), slice(g * out_group, (g + 1) * out_group), *window)] += contribution
    crop = tuple(slice(padding[i], full[i] - padding[i] + 0) for i in range(dims))
    out = out[(slice(None), slice(None), *crop)]
    return out if bias is None else out + bias.reshape((1, -1) + (1,) * dims)


# ----------------------------------------------------------------------------- pooling
def _pool_geometry(x, dims, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = _tuple(kernel_size, dims)
    stride = kernel if stride is None or stride == [] else _tuple(stride, dims)
    padding, dilation = _tuple(padding, dims), _tuple(dilation, dims)
    sizes = []
    for i in range(dims):
        length = x.shape[-dims + i]
        span = length + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1
        size = (-(-span // stride[i]) if ceil_mode else span // stride[i]) + 1
        if ceil_mode and (size - 1) * stride[i] >= length + padding[i]:
            size -= 1  # the last window must start inside the input or its left padding
        sizes.append(size)
    return kernel, stride, padding, dilation, sizes


def _windows(x, dims, kernel, stride, padding, dilation, sizes):
    """Per output position: its index, its window's start and the window's positions inside the input."""
    for out in np.ndindex(*sizes):
        starts = [out[i] * stride[i] - padding[i] for i in range(dims)]
        ranges = [[starts[i] + k * dilation[i] for k in range(kernel[i])] for i in range(dims)]
        inside = [[p for p in r if 0 <= p < x.shape[-dims + i]] for i, r in enumerate(ranges)]
        yield out, starts, inside


def in_dims(function, dims: int):
    """The reference ``function`` for a pooling op over the last ``dims`` dimensions."""
    return lambda x, *args, **kwargs: function(x, *args, dims=dims, **kwargs)


def max_pool(
    x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False, dims=2
):
    kernel, stride, padding, dilation, sizes = _pool_geometry(
        x, dims, kernel_size, stride, padding, dilation, ceil_mode
    )
    lead = x.shape[:-dims]
    values, where = np.zeros(lead + tuple(sizes)), np.zeros(lead + tuple(sizes), np.int64)
    spatial = x.shape[-dims:]
    for out, _, inside in _windows(x, dims, kernel, stride, padding, dilation, sizes):
        positions = _product(inside)
        candidates = np.stack([x[(..., *p)] for p in positions], -1)
        best = candidates.argmax(-1)
        values[(..., *out)] = candidates.max(-1)
        flat = np.asarray([np.ravel_multi_index(p, spatial) for p in positions])
        where[(..., *out)] = flat[best]
    return (values, where) if return_indices else values


def max_pool_with_indices(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, dims=2):
    return max_pool(x, kernel_size, stride, padding, dilation, ceil_mode, True, dims)


def avg_pool(
    x,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
    dims=2,
):
    kernel, stride, padding, dilation, sizes = _pool_geometry(
        x, dims, kernel_size, stride, padding, 1, ceil_mode
    )
    out_array = np.zeros(x.shape[:-dims] + tuple(sizes))
    for out, starts, inside in _windows(x, dims, kernel, stride, padding, dilation, sizes):
        total = sum(x[(..., *p)] for p in _product(inside))
        if divisor_override:
            divisor = divisor_override
        elif count_include_pad:  # window clipped to the padded input
            divisor = math.prod(
                min(starts[i] + kernel[i], x.shape[-dims + i] + padding[i]) - starts[i] for i in range(dims)
            )
        else:
            divisor = math.prod(len(r) for r in inside)
        out_array[(..., *out)] = total / divisor
    return out_array


def _product(ranges):
    return [tuple(r[i] for r, i in zip(ranges, index)) for index in np.ndindex(*[len(r) for r in ranges])]


def _adaptive_ranges(length, size):
    return [
        list(range(math.floor(o * length / size), math.ceil((o + 1) * length / size))) for o in range(size)
    ]


def _adaptive(x, output_size, dims, reduce):
    sizes = [length if s is None else s for length, s in zip(x.shape[-dims:], _tuple(output_size, dims))]
    ranges = [_adaptive_ranges(x.shape[-dims + i], sizes[i]) for i in range(dims)]
    results = []
    for out in np.ndindex(*sizes):
        inside = [ranges[i][out[i]] for i in range(dims)]
        results.append(reduce(x, inside))
    values = [
        np.stack([r[k] for r in results], -1).reshape(x.shape[:-dims] + tuple(sizes))
        for k in range(len(results[0]))
    ]
    return values


def adaptive_avg_pool(x, output_size, dims=2):
    def mean(x, inside):
        return (np.mean(np.stack([x[(..., *p)] for p in _product(inside)], -1), -1),)

    return _adaptive(x, output_size, dims, mean)[0]


def adaptive_max_pool(x, output_size, return_indices=False, dims=2):
    spatial = x.shape[-dims:]

    def maximum(x, inside):
        positions = _product(inside)
        candidates = np.stack([x[(..., *p)] for p in positions], -1)
        flat = np.asarray([np.ravel_multi_index(p, spatial) for p in positions])
        return candidates.max(-1), flat[candidates.argmax(-1)]

    values, where = _adaptive(x, output_size, dims, maximum)
    return (values, where) if return_indices else values


# ----------------------------------------------------------------------------- normalisation
def _standardize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def _channel(vector, ndim):
    return 1 if vector is None else vector.reshape((1, -1) + (1,) * (ndim - 2))


def _affine(x, weight, bias):
    return x * _channel(weight, x.ndim) + (0 if bias is None else _channel(bias, x.ndim))


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if training:
        xhat = _standardize(x, (0, *range(2, x.ndim)), eps)
    else:
        xhat = (x - _channel(running_mean, x.ndim)) / np.sqrt(_channel(running_var, x.ndim) + eps)
    return _affine(xhat, weight, bias)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    xhat = _standardize(x, tuple(range(x.ndim - len(normalized_shape), x.ndim)), eps)
    return xhat * (1 if weight is None else weight) + (0 if bias is None else bias)


def rms_norm(x, normalized_shape, weight=None, eps=None):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    result = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return result * (1 if weight is None else weight)


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    grouped = x.reshape(x.shape[0], num_groups, -1)
    xhat = _standardize(grouped, (2,), eps).reshape(x.shape)
    return _affine(xhat, weight, bias)


def instance_norm(x, weight=None, bias=None, eps=1e-5):
    return _affine(_standardize(x, tuple(range(2, x.ndim)), eps), weight, bias)


# ----------------------------------------------------------------------------- losses
def _reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)


def _log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def nll_loss(
    log_probabilities, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
):
    batched = log_probabilities.ndim > 1
    if not batched:
        log_probabilities, target = log_probabilities[None], np.asarray(target)[None]
    classes = log_probabilities.shape[1]
    weight = np.ones(classes) if weight is None else weight
    rows = np.moveaxis(log_probabilities, 1, -1).reshape(-1, classes)
    labels = target.reshape(-1)
    valid = labels != ignore_index
    safe = np.where(valid, labels, 0)
    picked = rows[np.arange(len(labels)), safe] * weight[safe] * valid
    smooth = (rows * weight).sum(axis=1) * valid
    loss = -((1 - label_smoothing) * picked + label_smoothing / classes * smooth)
    if reduction == "none":
        return loss.reshape(target.shape) if batched else loss[0]
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (weight[safe] * valid).sum()


def cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    log_probabilities = _log_softmax(x, 1 if x.ndim > 1 else 0)
    if target.dtype.kind == "f":  # class probabilities
        return _reduce(-(target * log_probabilities).sum(axis=1), reduction)
    return nll_loss(log_probabilities, target, weight, ignore_index, reduction, label_smoothing)


def mse_loss(x, target, reduction="mean"):
    return _reduce((x - target) ** 2, reduction)


def l1_loss(x, target, reduction="mean"):
    return _reduce(np.abs(x - target), reduction)


def smooth_l1_loss(x, target, reduction="mean", beta=1.0):
    error = np.abs(x - target)
    return _reduce(np.where(error < beta, 0.5 * error**2 / beta, error - 0.5 * beta), reduction)


def huber_loss(x, target, reduction="mean", delta=1.0):
    error = np.abs(x - target)
    return _reduce(np.where(error < delta, 0.5 * error**2, delta * (error - 0.5 * delta)), reduction)


def binary_cross_entropy(x, target, weight=None, reduction="mean"):
    loss = -(target * np.log(x) + (1 - target) * np.log(1 - x))
    return _reduce(loss * (1 if weight is None else weight), reduction)


def binary_cross_entropy_with_logits(x, target, weight=None, pos_weight=None, reduction="mean"):
    pos = 1 if pos_weight is None else pos_weight
    loss = -(pos * target * logsigmoid(x) + (1 - target) * logsigmoid(-x))
    return _reduce(loss * (1 if weight is None else weight), reduction)


def kl_div(x, target, reduction="mean", log_target=False):
    loss = np.exp(target) * (target - x) if log_target else target * (np.log(target) - x)
    if reduction == "batchmean":
        return loss.sum() / x.shape[0]
    return _reduce(loss, reduction)


def gaussian_nll_loss(x, target, var, full=False, eps=1e-6, reduction="mean"):
    if var.shape == x.shape[:-1]:
        var = var[..., None]
    var = np.maximum(var, eps)
    loss = 0.5 * (np.log(var) + (x - target) ** 2 / var) + (0.5 * math.log(2 * math.pi) if full else 0)
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- padding, resizing, lookup
def pad(x, pad, mode="constant", value=None):
    pairs = [(0, 0)] * (x.ndim - len(pad) // 2) + [
        (pad[2 * i], pad[2 * i + 1]) for i in reversed(range(len(pad) // 2))
    ]
    crop = tuple(
        slice(max(-before, 0), x.shape[axis] - max(-after, 0)) for axis, (before, after) in enumerate(pairs)
    )
    grow = [(max(before, 0), max(after, 0)) for before, after in pairs]
    numpy_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    options = {"constant_values": value or 0} if mode == "constant" else {}
    return np.pad(x[crop], grow, mode=numpy_mode, **options)


def _source(out_size, in_size, scale, align_corners, mode):
    """Source coordinate of every output position along one axis (PyTorch's conventions)."""
    ratio = in_size / out_size if scale is None else 1 / scale
    o = np.arange(out_size, dtype=np.float64)
    if mode == "nearest":
        return np.minimum(np.floor(o * ratio), in_size - 1).astype(np.int64)
    if mode == "nearest-exact":
        return np.minimum(np.floor((o + 0.5) * ratio), in_size - 1).astype(np.int64)
    if align_corners:
        return o * ((in_size - 1) / (out_size - 1) if out_size > 1 else 0)
    return np.maximum((o + 0.5) * ratio - 0.5, 0)


def interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    dims = x.ndim - 2
    scales = _tuple(scale_factor, dims) if scale_factor is not None else (None,) * dims
    sizes = (
        _tuple(size, dims)
        if size is not None
        else tuple(math.floor(s * f) for s, f in zip(x.shape[2:], scales))
    )
    for axis in range(dims):
        in_size = x.shape[2 + axis]
        source = _source(sizes[axis], in_size, scales[axis], align_corners, mode)
        if mode.startswith("nearest"):
            x = np.take(x, source, axis=2 + axis)
            continue
        low = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
        high = np.minimum(low + 1, in_size - 1)
        fraction = (source - low).reshape((-1,) + (1,) * (dims - 1 - axis))
        x = np.take(x, low, axis=2 + axis) * (1 - fraction) + np.take(x, high, axis=2 + axis) * fraction
    return x


def embedding(index, weight, padding_idx=None, scale_grad_by_freq=False):
    return weight[index]
