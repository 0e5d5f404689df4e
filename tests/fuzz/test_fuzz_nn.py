"""Differential fuzzing against PyTorch: nn.functional activations, linear, conv1d/2d, pooling, norms and
losses, with random shapes (mismatches included). Settings: tests/fuzz/conftest.py."""

from __future__ import annotations

import numpy as np
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import dendrite.nn.functional as F
from tests.fuzz.conftest import FUZZ
from tests.fuzz.differential import differential
from tests.fuzz.strategies import FLOATS, arrays, dtypes, shapes

ACTIVATIONS = [
    "relu", "relu6", "gelu", "silu", "elu", "selu", "celu", "leaky_relu", "softplus", "hardtanh", "mish",
    "logsigmoid", "hardswish", "hardsigmoid", "softsign", "tanhshrink", "sigmoid", "tanh", "hardshrink",
    "softshrink",
]


@FUZZ
@given(name=st.sampled_from(ACTIVATIONS), x=arrays(dtypes(*FLOATS), shapes()))
def test_activation(name, x):
    if name == "gelu" and np.isinf(x).any():
        return  # PyTorch's own inconsistency: its vectorized gelu(inf) is NaN, its scalar one inf
    differential(name, getattr(F, name), getattr(TF, name), [x])


@FUZZ
@given(data=st.data())
def test_linear(data):
    dtype = data.draw(dtypes(*FLOATS))
    features = data.draw(st.sampled_from([0, 1, 3]))
    x = data.draw(arrays(dtype, shapes(0, 3, max_side=3).map(lambda s: (*s, features))))
    w = data.draw(arrays(dtype, (data.draw(st.integers(0, 3)), data.draw(st.sampled_from([features, 2])))))
    bias = data.draw(st.one_of(st.none(), arrays(dtype, (w.shape[0],))))
    args = [x, w] if bias is None else [x, w, bias]
    if not all(np.isfinite(a).all() for a in args):
        return  # left alone: OpenBLAS's kernels may skip a zero operand (0 * NaN = 0) where PyTorch's do not
    differential("linear", F.linear, TF.linear, args, scale_atol=True)


@FUZZ
@given(data=st.data(), dims=st.sampled_from([1, 2]))
def test_conv(data, dims):
    dtype = data.draw(dtypes(*FLOATS))
    channels = data.draw(st.integers(1, 2))
    groups = data.draw(st.sampled_from([1, 1, channels]))
    spatial = tuple(data.draw(st.integers(1, 5)) for _ in range(dims))
    x = data.draw(arrays(dtype, (data.draw(st.integers(0, 2)), channels, *spatial)))
    kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(dims))
    w = data.draw(arrays(dtype, (data.draw(st.integers(1, 2)) * groups, channels // groups, *kernel)))
    kwargs = {"stride": data.draw(st.integers(1, 2)), "padding": data.draw(st.integers(0, 1)),
              "dilation": data.draw(st.integers(1, 2)), "groups": groups}
    name = f"conv{dims}d"
    if not np.isfinite(w).all():
        # left alone: a NaN/Inf weight meets the zero padding; PyTorch's float32 oneDNN kernel skips the
        # padding for some shapes (no NaN there) where its im2col kernel (float64, 1-D) multiplies it,
        # as dendrite does
        return
    differential(name, lambda a, b: getattr(F, name)(a, b, **kwargs),
                 lambda a, b: getattr(TF, name)(a, b, **kwargs), [x, w], scale_atol=True)


POOLS = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
         "adaptive_max_pool1d", "adaptive_max_pool2d"]


@FUZZ
@given(name=st.sampled_from(POOLS), data=st.data())
def test_pooling(name, data):
    dims = 1 if name.endswith("1d") else 2
    # Empty dims in max/avg pooling (PyTorch refuses an empty channel or spatial dim: both must refuse);
    # left out of adaptive pooling, which PyTorch accepts in places (not covered in this pass)
    min_side = 1 if name.startswith("adaptive") else 0
    x = data.draw(arrays(dtypes(*FLOATS), shapes(dims + 1, dims + 2, min_side=min_side, max_side=5)))
    if name.startswith("adaptive"):
        args = (data.draw(st.integers(1, 3)),)
        kwargs = {}
    else:
        kernel = data.draw(st.integers(1, 3))
        args = (kernel,)
        kwargs = {"stride": data.draw(st.integers(1, 2)), "padding": data.draw(st.integers(0, kernel // 2))}
    # max pooling's gradient goes to one of several tied maxima (PyTorch's choice): distinct values only
    grad = "max" not in name or np.unique(x).size == x.size
    differential(name, lambda t: getattr(F, name)(t, *args, **kwargs),
                 lambda t: getattr(TF, name)(t, *args, **kwargs), [x], grad=grad)


@FUZZ
@given(data=st.data(), name=st.sampled_from(["layer_norm", "batch_norm", "group_norm", "instance_norm",
                                             "normalize", "rms_norm"]))
def test_norm(data, name):
    dtype = data.draw(dtypes(*FLOATS))
    x = data.draw(arrays(dtype, shapes(2, 4, min_side=1, max_side=3)))
    if dtype == "float32" and (np.abs(x[np.isfinite(x)]) > 1e18).any():
        return  # PyTorch's float32 variance overflows (x² = inf -> NaN) where dendrite's centred one does not
    if name in ("layer_norm", "rms_norm"):
        shape = x.shape[-data.draw(st.integers(1, 2)):]
        w = data.draw(arrays(dtype, shape, special=False))
        call = lambda m, t, weight: getattr(m, name)(t, shape, weight)  # noqa: E731
    elif name == "batch_norm":
        w = data.draw(arrays(dtype, (x.shape[1],), special=False))
        call = lambda m, t, weight: m.batch_norm(t, None, None, weight, training=True)  # noqa: E731
    elif name == "group_norm":
        groups = data.draw(st.sampled_from([1, x.shape[1]]))
        w = data.draw(arrays(dtype, (x.shape[1],), special=False))
        call = lambda m, t, weight: m.group_norm(t, groups, weight)  # noqa: E731
    elif name == "instance_norm":
        w = data.draw(arrays(dtype, (x.shape[1],), special=False))
        call = lambda m, t, weight: m.instance_norm(t, weight=weight)  # noqa: E731
    else:
        w = np.array(0.0, dtype)
        dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
        call = lambda m, t, weight: m.normalize(t, dim=dim)  # noqa: E731
    # Gradients only of float64 or tie-free inputs: a constant slice has variance 0, and its gradient is
    # float32 rounding noise amplified by 1/sqrt(eps), different in each library
    grad = dtype == "float64" or np.unique(x).size == x.size
    # The centring norms' output is (x - mean) * rstd * w, a difference of terms as large as
    # |x| / sqrt(var + eps) (up to |x| / sqrt(1e-5) for a constant slice), which PyTorch rounds separately
    # (x * rstd - mean * rstd) and dendrite after subtracting: they agree to a few rounding units of those
    finite = np.abs(x[np.isfinite(x)])
    terms = finite.max(initial=0.0) / np.sqrt(1e-5) * max(np.abs(w).max(initial=0.0), 1.0)
    rounding = 4 * np.finfo(dtype).eps * terms if name not in ("normalize", "rms_norm") else 0.0
    grad_rounding = 0.0
    if name == "normalize":
        # d(x / |x|) = g / |x| - x (x.g) / |x|³: two terms as large as |g| / |x| (|x| clamped at 1e-12)
        # that cancel (to 0 along a dim of size 1); |g| <= 5 (the random weights of the outputs)
        with np.errstate(invalid="ignore"):
            norms = np.sqrt((x.astype(np.float64) ** 2).sum(axis=dim))
        smallest = max(np.nanmin(norms, initial=np.inf), 1e-12)
        grad_rounding = 4 * np.finfo(dtype).eps * 5 / smallest
    differential(name, lambda t, weight: call(F, t, weight), lambda t, weight: call(TF, t, weight), [x, w],
                 scale_atol=True, grad=grad, rounding=rounding, grad_rounding=grad_rounding)


REGRESSION_LOSSES = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss",
                     "binary_cross_entropy_with_logits", "binary_cross_entropy", "kl_div"]


@FUZZ
@given(name=st.sampled_from(REGRESSION_LOSSES), data=st.data(),
       reduction=st.sampled_from(["mean", "sum", "none"]))
def test_elementwise_loss(name, data, reduction):
    dtype = data.draw(dtypes(*FLOATS))
    shape = data.draw(shapes(0, 3))
    x = data.draw(arrays(dtype, shape))
    target_shape = shape if data.draw(st.integers(0, 5)) else data.draw(shapes(0, 3))
    if name == "binary_cross_entropy":  # probabilities in [0, 1] (PyTorch refuses others: both must refuse)
        x = np.clip(np.abs(x), 0, 1)
        target = data.draw(arrays(dtype, target_shape, special=False)).clip(0, 1)
    else:
        target = data.draw(arrays(dtype, target_shape))
    # PyTorch refuses a soft_margin_loss target that requires grad: the target is detached on both sides
    detach = (lambda t: t.detach()) if name == "soft_margin_loss" else (lambda t: t)
    differential(name, lambda a, b: getattr(F, name)(a, detach(b), reduction=reduction),
                 lambda a, b: getattr(TF, name)(a, detach(b), reduction=reduction), [x, target],
                 scale_atol=True)


@FUZZ
@given(name=st.sampled_from(["cross_entropy", "nll_loss"]), data=st.data(),
       reduction=st.sampled_from(["mean", "sum", "none"]))
def test_classification_loss(name, data, reduction):
    dtype = data.draw(dtypes(*FLOATS))
    n, classes = data.draw(st.integers(0, 3)), data.draw(st.integers(1, 4))
    extra = tuple(data.draw(st.lists(st.integers(1, 2), max_size=1)))
    x = data.draw(arrays(dtype, (n, classes, *extra) if data.draw(st.integers(0, 4)) else (classes,)))
    high = classes + (data.draw(st.integers(0, 5)) == 0)  # sometimes a class out of range: both refuse
    target_shape = (n, *extra) if x.ndim > 1 else ()
    count = int(np.prod(target_shape))
    target = np.array(data.draw(st.lists(st.integers(0, high - 1), min_size=count, max_size=count)), np.int64)
    target = target.reshape(target_shape)
    differential(name, lambda a, b: getattr(F, name)(a, b, reduction=reduction),
                 lambda a, b: getattr(TF, name)(a, b, reduction=reduction), [x, target], scale_atol=True)
