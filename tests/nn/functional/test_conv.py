"""conv1d/2d and conv_transpose1d/2d against PyTorch, finite differences, the composed form, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F
import dendrite.nn.functional.conv as conv_module
import dendrite.nn.functional.conv_columns as columns_module
from tests.helpers import assert_close, compare_with_torch

RNG = np.random.default_rng(0)

# (input shape, weight shape, options, with bias)
CONV2D_CASES = [
    ((2, 3, 7, 7), (4, 3, 3, 3), {}, True),
    ((2, 3, 8, 9), (5, 3, 3, 3), {"padding": 1}, True),
    ((2, 3, 9, 8), (4, 3, 3, 2), {"stride": 2, "padding": (1, 0)}, False),
    ((1, 2, 11, 10), (3, 2, 5, 5), {"stride": (2, 3), "padding": 2}, True),
    ((2, 2, 12, 11), (3, 2, 3, 3), {"dilation": 2}, True),
    ((2, 2, 12, 11), (3, 2, 3, 2), {"dilation": (1, 3), "padding": (2, 1), "stride": (1, 2)}, True),
    ((2, 4, 6, 7), (6, 2, 3, 3), {"groups": 2, "padding": 1}, True),
    ((2, 4, 6, 7), (8, 1, 3, 3), {"groups": 4, "padding": 1}, True),  # depthwise, multiplier 2
    ((2, 3, 6, 6), (3, 1, 3, 3), {"groups": 3, "stride": 2}, False),  # depthwise
    ((2, 3, 7, 6), (4, 3, 3, 3), {"padding": "same"}, True),
    ((2, 3, 7, 6), (4, 3, 4, 2), {"padding": "same"}, True),  # even kernel: extra pad bottom/right
    ((2, 3, 9, 8), (4, 3, 3, 4), {"padding": "same", "dilation": (2, 1)}, True),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"padding": "valid"}, False),
    ((2, 3, 5, 4), (2, 3, 5, 4), {}, True),  # kernel covers the whole input
    ((3, 1, 1, 9), (2, 1, 1, 3), {"stride": (1, 2)}, True),
    ((2, 3, 10, 10), (4, 3, 1, 1), {"stride": 3}, True),  # 1x1 kernel with a stride larger than it
    ((4, 3, 6, 6), (4, 3, 3, 3), {"stride": 4, "padding": 2}, True),
    ((3, 7, 7), (4, 3, 3, 3), {"padding": 1}, True),  # unbatched
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("x_shape, w_shape, options, with_bias", CONV2D_CASES)
def test_conv2d_matches_torch(x_shape, w_shape, options, with_bias):
    arrays = [RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)]
    if with_bias:
        arrays.append(RNG.standard_normal(w_shape[0]))
    compare_with_torch(lambda *t: F.conv2d(*t, **options), lambda *t: TF.conv2d(*t, **options), arrays)


CONV1D_CASES = [
    ((2, 3, 10), (4, 3, 3), {}, True),
    ((2, 3, 11), (4, 3, 3), {"stride": 2, "padding": 1}, True),
    ((2, 4, 12), (6, 2, 5), {"groups": 2, "dilation": 2, "padding": 3}, False),
    ((2, 3, 9), (5, 3, 4), {"padding": "same"}, True),
    ((2, 3, 9), (5, 3, 3), {"padding": "same", "dilation": 3}, True),
    ((2, 4, 9), (4, 1, 3), {"groups": 4}, True),
    ((3, 10), (2, 3, 3), {"stride": 3}, True),  # unbatched
]


@pytest.mark.parametrize("x_shape, w_shape, options, with_bias", CONV1D_CASES)
def test_conv1d_matches_torch(x_shape, w_shape, options, with_bias):
    arrays = [RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)]
    if with_bias:
        arrays.append(RNG.standard_normal(w_shape[0]))
    compare_with_torch(lambda *t: F.conv1d(*t, **options), lambda *t: TF.conv1d(*t, **options), arrays)


# (input shape, weight shape (C_in, C_out/groups, ...), options, with bias)
TRANSPOSE2D_CASES = [
    ((2, 3, 4, 5), (3, 4, 3, 3), {}, True),
    ((2, 3, 4, 5), (3, 2, 3, 3), {"stride": 2}, True),
    ((2, 3, 4, 5), (3, 2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, True),
    ((2, 3, 5, 4), (3, 2, 4, 4), {"stride": 2, "padding": 1}, False),
    ((2, 3, 4, 4), (3, 2, 3, 2), {"stride": (3, 2), "padding": (2, 0), "output_padding": (2, 1)}, True),
    ((2, 4, 4, 5), (4, 3, 3, 3), {"groups": 2, "stride": 2}, True),
    ((2, 4, 4, 5), (4, 1, 3, 3), {"groups": 4, "padding": 1}, True),
    ((2, 3, 4, 5), (3, 2, 3, 3), {"dilation": 2, "padding": 2}, True),
    ((2, 3, 4, 5), (3, 2, 2, 3), {"dilation": (2, 1), "stride": 2, "output_padding": 1}, True),
    ((3, 4, 5), (3, 2, 3, 3), {"stride": 2}, True),  # unbatched
]


@pytest.mark.parametrize("x_shape, w_shape, options, with_bias", TRANSPOSE2D_CASES)
def test_conv_transpose2d_matches_torch(x_shape, w_shape, options, with_bias):
    arrays = [RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)]
    if with_bias:
        groups = options.get("groups", 1)
        arrays.append(RNG.standard_normal(w_shape[1] * groups))
    compare_with_torch(lambda *t: F.conv_transpose2d(*t, **options),
                       lambda *t: TF.conv_transpose2d(*t, **options), arrays)


@pytest.mark.parametrize("x_shape, w_shape, options", [
    ((2, 3, 6), (3, 4, 3), {}),
    ((2, 3, 6), (3, 2, 4), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 4, 5), (4, 1, 3), {"groups": 2, "dilation": 2}),
    ((3, 6), (3, 2, 3), {"stride": 3}),  # unbatched
])
def test_conv_transpose1d_matches_torch(x_shape, w_shape, options):
    groups = options.get("groups", 1)
    arrays = [RNG.standard_normal(x_shape), RNG.standard_normal(w_shape),
              RNG.standard_normal(w_shape[1] * groups)]
    compare_with_torch(lambda *t: F.conv_transpose1d(*t, **options),
                       lambda *t: TF.conv_transpose1d(*t, **options), arrays)


@pytest.mark.parametrize("budget", [1, 700])
def test_batch_chunks_give_the_same_result(monkeypatch, budget):
    """A tiny columns budget forces one chunk per sample (1) or uneven chunks (700)."""
    monkeypatch.setattr(columns_module, "COLUMNS_BUDGET", budget)
    x, w, b = RNG.standard_normal((5, 3, 6, 6)), RNG.standard_normal((4, 3, 3, 3)), RNG.standard_normal(4)
    compare_with_torch(lambda *t: F.conv2d(*t, padding=1, stride=(1, 2)),
                       lambda *t: TF.conv2d(*t, padding=1, stride=(1, 2)), [x, w, b])
    w_t = RNG.standard_normal((3, 4, 3, 3))
    compare_with_torch(lambda *t: F.conv_transpose2d(*t, stride=2),
                       lambda *t: TF.conv_transpose2d(*t, stride=2), [x, w_t, b])


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("last", [False, True], ids=["channels-first", "channels-last"])
@pytest.mark.parametrize("budget", [None, 1])
@pytest.mark.parametrize("x_shape, w_shape, options, with_bias", CONV2D_CASES)
def test_conv2d_both_column_layouts(monkeypatch, x_shape, w_shape, options, with_bias, last, budget):
    """Each im2col layout (channels first, channels last where groups allow), whole batch and chunked."""
    monkeypatch.setattr(conv_module, "channels_last", lambda channels, geometry, groups: last and groups == 1)
    if budget is not None:
        monkeypatch.setattr(columns_module, "COLUMNS_BUDGET", budget)
    arrays = [RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)]
    if with_bias:
        arrays.append(RNG.standard_normal(w_shape[0]))
    compare_with_torch(lambda *t: F.conv2d(*t, **options), lambda *t: TF.conv2d(*t, **options), arrays)


@pytest.mark.parametrize("last", [False, True], ids=["channels-first", "channels-last"])
@pytest.mark.parametrize("x_shape, w_shape, options, with_bias", TRANSPOSE2D_CASES)
def test_conv_transpose2d_both_column_layouts(monkeypatch, x_shape, w_shape, options, with_bias, last):
    monkeypatch.setattr(conv_module, "channels_last", lambda channels, geometry, groups: last and groups == 1)
    arrays = [RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)]
    if with_bias:
        arrays.append(RNG.standard_normal(w_shape[1] * options.get("groups", 1)))
    compare_with_torch(lambda *t: F.conv_transpose2d(*t, **options),
                       lambda *t: TF.conv_transpose2d(*t, **options), arrays)


def test_conv2d_gradcheck():
    x = dendrite.tensor(RNG.standard_normal((2, 2, 4, 5)), requires_grad=True)
    w = dendrite.tensor(RNG.standard_normal((4, 1, 2, 3)), requires_grad=True)
    b = dendrite.tensor(RNG.standard_normal(4), requires_grad=True)
    assert dendrite.autograd.gradcheck(lambda *t: F.conv2d(*t, stride=(2, 1), padding=1, groups=2), (x, w, b))


def test_conv_transpose2d_gradcheck():
    x = dendrite.tensor(RNG.standard_normal((1, 2, 3, 3)), requires_grad=True)
    w = dendrite.tensor(RNG.standard_normal((2, 2, 2, 3)), requires_grad=True)
    b = dendrite.tensor(RNG.standard_normal(2), requires_grad=True)
    assert dendrite.autograd.gradcheck(
        lambda *t: F.conv_transpose2d(*t, stride=2, padding=(1, 0), output_padding=1), (x, w, b))


def test_conv2d_equals_composed_form():
    """The fused op against the same sum of shifted-slice products built from dendrite primitives."""
    x, w, b = RNG.standard_normal((2, 3, 7, 6)), RNG.standard_normal((4, 3, 3, 2)), RNG.standard_normal(4)
    fused = [dendrite.tensor(a, requires_grad=True) for a in (x, w, b)]
    composed = [dendrite.tensor(a, requires_grad=True) for a in (x, w, b)]
    out_fused = F.conv2d(*fused, stride=2, padding=1)

    xc, wc, bc = composed
    padded = F.pad(xc, (1, 1, 1, 1))
    out_composed = bc.reshape(1, 4, 1, 1)
    for p in range(3):
        for q in range(2):
            window = padded[:, :, p:p + 7:2, q:q + 7:2]  # (N, C, Ho=4, Wo=4)
            out_composed = out_composed + (window.unsqueeze(1) * wc[:, :, p, q].reshape(1, 4, 3, 1, 1)).sum(2)
    assert_close(out_fused, out_composed.detach().numpy(), rtol=1e-12)
    weights = dendrite.tensor(RNG.standard_normal(out_fused.shape))
    (out_fused * weights).sum().backward()
    (out_composed * weights).sum().backward()
    for ours, reference in zip(fused, composed):
        assert_close(ours.grad, reference.grad.numpy(), rtol=1e-10)


def test_conv_keeps_float32_and_skips_unwanted_gradients():
    x = dendrite.randn(2, 3, 8, 8)
    w = dendrite.randn(4, 3, 3, 3, requires_grad=True)
    b = dendrite.zeros(4, requires_grad=True)
    out = F.conv2d(x, w, b, padding=1)
    out.sum().backward()
    assert out.dtype == w.grad.dtype == b.grad.dtype == dendrite.float32
    assert x.grad is None
    assert_close(b.grad, np.full(4, 2 * 8 * 8.0))
    x.requires_grad_(True)
    out = F.conv_transpose2d(x, dendrite.randn(3, 2, 3, 3), stride=2)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == dendrite.float32


def test_conv2d_accepts_non_contiguous_input():
    x = RNG.standard_normal((2, 6, 6, 3))
    w, b = RNG.standard_normal((4, 3, 3, 3)), RNG.standard_normal(4)
    compare_with_torch(lambda t, *rest: F.conv2d(t.permute(0, 3, 1, 2), *rest, padding=1),
                       lambda t, *rest: TF.conv2d(t.permute(0, 3, 1, 2), *rest, padding=1), [x, w, b])


@pytest.mark.parametrize("function, weight_shape", [
    (F.conv2d, (4, 3, 3, 3)), (F.conv_transpose2d, (3, 4, 3, 3)), (F.conv1d, (4, 3, 3))])
def test_empty_batch(function, weight_shape):
    x = dendrite.zeros((0, 3, 6, 6) if len(weight_shape) == 4 else (0, 3, 6), requires_grad=True)
    out = function(x, dendrite.randn(*weight_shape), padding=1)
    out.sum().backward()
    expected = {F.conv2d: (0, 4, 6, 6), F.conv_transpose2d: (0, 4, 6, 6), F.conv1d: (0, 4, 6)}[function]
    assert out.shape == expected and x.grad.shape == x.shape


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(dendrite.randn(8, 1, 28, 28), dendrite.randn(32, 3, 5, 5)),
     r"expected input with C_in=3 channels .*\(32, 3, 5, 5\).*got input \(8, 1, 28, 28\)"),
    (lambda: F.conv2d(dendrite.randn(28, 28), dendrite.randn(32, 1, 5, 5)),
     r"conv2d: expected input of shape \(N, C_in, H, W\) or unbatched \(C_in, H, W\), got \(28, 28\)"),
    (lambda: F.conv2d(dendrite.randn(1, 1, 28, 28), dendrite.randn(32, 1, 5)),
     r"conv2d: expected weight of shape \(C_out, C_in/groups, kH, kW\), got \(32, 1, 5\)"),
    (lambda: F.conv2d(dendrite.randn(1, 4, 8, 8), dendrite.randn(3, 2, 3, 3), groups=2),
     r"C_out=3 .* divisible by groups=2"),
    (lambda: F.conv2d(dendrite.randn(1, 1, 8, 8), dendrite.randn(3, 1, 3, 3), dendrite.randn(4)),
     r"expected bias of shape \(3,\), got \(4\)"),
    (lambda: F.conv2d(dendrite.randn(1, 1, 3, 3), dendrite.randn(3, 1, 5, 5)),
     r"padded input \(3, 3\) is smaller than the dilated kernel \(5, 5\)"),
    (lambda: F.conv2d(dendrite.randn(1, 1, 8, 8), dendrite.randn(3, 1, 3, 3), stride=2, padding="same"),
     r"padding='same' is not supported for strided"),
    (lambda: F.conv2d(dendrite.randn(1, 1, 8, 8), dendrite.randn(3, 1, 3, 3), padding="full"),
     r"invalid padding string 'full'"),
    (lambda: F.conv2d(dendrite.randn(1, 1, 8, 8), dendrite.randn(3, 1, 3, 3), padding=-1),
     r"padding must be non-negative"),
    (lambda: F.conv2d(dendrite.randn(1, 1, 8, 8), dendrite.randn(3, 1, 3, 3), stride=(1, 2, 3)),
     r"stride must be an int or a tuple of 2 ints"),
    (lambda: F.conv2d(dendrite.randn(1, 1, 8, 8, dtype=dendrite.float64), dendrite.randn(3, 1, 3, 3)),
     r"share one floating dtype, got input float64, weight float32"),
    (lambda: F.conv1d(dendrite.randn(2, 3, 10), dendrite.randn(4, 2, 3)),
     r"conv1d: expected input with C_in=2 channels"),
    (lambda: F.conv_transpose2d(dendrite.randn(1, 3, 4, 4), dendrite.randn(2, 3, 3, 3)),
     r"conv_transpose2d: weight \(2, 3, 3, 3\) expects C_in=2"),
    (lambda: F.conv_transpose2d(dendrite.randn(1, 2, 4, 4), dendrite.randn(2, 3, 3, 3), stride=2,
                                output_padding=2),
     r"output_padding must be smaller than either stride or dilation"),
])
def test_conv_errors_name_the_problem(call, message):
    with pytest.raises((RuntimeError, ValueError, TypeError), match=message):
        call()
