"""Max, average and adaptive pooling against PyTorch (values, indices, gradients), finite differences,
the composed form and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F
from tests.helpers import assert_close, compare_with_torch

RNG = np.random.default_rng(0)


def compare_pair(ours_fn, theirs_fn, x):
    """Like compare_with_torch for functions returning (values, indices); indices must be equal."""
    ours_x, theirs_x = dendrite.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ours, ours_idx), (theirs, theirs_idx) = ours_fn(ours_x), theirs_fn(theirs_x)
    assert_close(ours, theirs, what="forward")
    assert ours_idx.dtype == dendrite.int64
    np.testing.assert_array_equal(ours_idx.numpy(), theirs_idx.numpy())
    weights = RNG.standard_normal(tuple(theirs.shape))
    (ours * dendrite.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    assert_close(ours_x.grad, theirs_x.grad, what="gradient")


MAX_POOL2D_CASES = [
    ((2, 3, 8, 8), {"kernel_size": 2}),
    ((2, 3, 9, 7), {"kernel_size": 2}),  # odd sizes: the last row / column is dropped
    ((2, 3, 9, 8), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 3, 9, 8), {"kernel_size": 3, "stride": 1}),  # overlapping windows
    ((2, 2, 10, 9), {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0)}),
    ((2, 2, 10, 9), {"kernel_size": 2, "dilation": 2}),
    ((2, 2, 11, 10), {"kernel_size": (2, 3), "stride": 2, "padding": (1, 1), "dilation": (2, 1)}),
    ((2, 3, 9, 8), {"kernel_size": 2, "ceil_mode": True}),
    ((2, 3, 10, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((1, 2, 7, 7), {"kernel_size": 4, "stride": 3, "ceil_mode": True}),
    ((1, 2, 5, 5), {"kernel_size": 1}),
    ((2, 1, 4, 4), {"kernel_size": 4}),
    ((3, 7, 6), {"kernel_size": 2, "stride": 1}),  # unbatched
]


@pytest.mark.parametrize("shape, options", MAX_POOL2D_CASES)
def test_max_pool2d_matches_torch(shape, options):
    x = RNG.standard_normal(shape)
    compare_with_torch(lambda t: F.max_pool2d(t, **options), lambda t: TF.max_pool2d(t, **options), [x])
    compare_pair(lambda t: F.max_pool2d(t, **options, return_indices=True),
                 lambda t: TF.max_pool2d(t, **options, return_indices=True), x)


MAX_POOL1D_CASES = [
    ((2, 3, 10), {"kernel_size": 2}),
    ((2, 3, 11), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 3, 11), {"kernel_size": 2, "dilation": 3, "ceil_mode": True}),
    ((3, 9), {"kernel_size": 4, "stride": 1}),  # unbatched
]


@pytest.mark.parametrize("shape, options", MAX_POOL1D_CASES)
def test_max_pool1d_matches_torch(shape, options):
    x = RNG.standard_normal(shape)
    compare_with_torch(lambda t: F.max_pool1d(t, **options), lambda t: TF.max_pool1d(t, **options), [x])
    compare_pair(lambda t: F.max_pool1d(t, **options, return_indices=True),
                 lambda t: TF.max_pool1d(t, **options, return_indices=True), x)


@pytest.mark.parametrize("options", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}])
def test_max_pool_ties_go_to_the_first_maximum_like_torch(options):
    """After a ReLU many windows hold several equal zeros: the gradient must go where PyTorch sends it."""
    x = np.maximum(RNG.integers(-3, 3, (2, 3, 8, 8)).astype(np.float64), 0)
    compare_pair(lambda t: F.max_pool2d(t, **options, return_indices=True),
                 lambda t: TF.max_pool2d(t, **options, return_indices=True), x)


def test_max_pool2d_with_indices_aliases():
    x = RNG.standard_normal((2, 2, 6, 6))
    compare_pair(lambda t: F.max_pool2d_with_indices(t, 3, 2, 1),
                 lambda t: TF.max_pool2d_with_indices(t, 3, 2, 1), x)
    compare_pair(lambda t: F.max_pool1d_with_indices(t[0], 3, 2),
                 lambda t: TF.max_pool1d_with_indices(t[0], 3, 2), x)


def test_max_pool2d_integer_input():
    x = RNG.integers(-50, 50, (2, 3, 6, 6))
    ours, theirs = F.max_pool2d(dendrite.tensor(x), 3, 2, 1), TF.max_pool2d(torch.tensor(x), 3, 2, 1)
    assert ours.dtype == dendrite.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


AVG_POOL2D_CASES = [
    ((2, 3, 8, 8), {"kernel_size": 2}),
    ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2}),
    ((2, 3, 9, 8), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 3, 9, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ((2, 3, 9, 8), {"kernel_size": 3, "stride": 1, "padding": 1}),
    ((2, 2, 10, 9), {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0)}),
    ((2, 3, 9, 8), {"kernel_size": 2, "ceil_mode": True}),
    ((2, 3, 10, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 3, 10, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                     "count_include_pad": False}),
    ((2, 3, 8, 8), {"kernel_size": 3, "stride": 2, "padding": 1, "divisor_override": 4}),
    ((1, 2, 7, 7), {"kernel_size": 4, "stride": 3, "ceil_mode": True}),
    ((3, 7, 6), {"kernel_size": 2}),  # unbatched
]


@pytest.mark.parametrize("shape, options", AVG_POOL2D_CASES)
def test_avg_pool2d_matches_torch(shape, options):
    compare_with_torch(lambda t: F.avg_pool2d(t, **options), lambda t: TF.avg_pool2d(t, **options),
                       [RNG.standard_normal(shape)])


@pytest.mark.parametrize("shape, options", [
    ((2, 3, 10), {"kernel_size": 2}),
    ((2, 3, 11), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ((2, 3, 11), {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True}),
    ((3, 9), {"kernel_size": 3, "stride": 1}),
])
def test_avg_pool1d_matches_torch(shape, options):
    compare_with_torch(lambda t: F.avg_pool1d(t, **options), lambda t: TF.avg_pool1d(t, **options),
                       [RNG.standard_normal(shape)])


ADAPTIVE_CASES = [
    ((2, 3, 8, 8), 1),
    ((2, 3, 8, 8), (2, 4)),
    ((2, 3, 7, 9), (3, 4)),  # windows of unequal sizes
    ((2, 3, 5, 6), (7, 8)),  # larger than the input: overlapping windows
    ((2, 3, 7, 9), (None, 2)),  # None keeps that size
    ((3, 10, 7), 3),  # unbatched
]


@pytest.mark.parametrize("shape, output_size", ADAPTIVE_CASES)
def test_adaptive_avg_pool2d_matches_torch(shape, output_size):
    compare_with_torch(lambda t: F.adaptive_avg_pool2d(t, output_size),
                       lambda t: TF.adaptive_avg_pool2d(t, output_size), [RNG.standard_normal(shape)])


@pytest.mark.parametrize("shape, output_size", ADAPTIVE_CASES)
def test_adaptive_max_pool2d_matches_torch(shape, output_size):
    x = RNG.standard_normal(shape)
    compare_with_torch(lambda t: F.adaptive_max_pool2d(t, output_size),
                       lambda t: TF.adaptive_max_pool2d(t, output_size), [x])
    compare_pair(lambda t: F.adaptive_max_pool2d(t, output_size, return_indices=True),
                 lambda t: TF.adaptive_max_pool2d(t, output_size, return_indices=True), x)


@pytest.mark.parametrize("shape, output_size", [
    ((2, 3, 10), 1), ((2, 3, 10), 4), ((2, 3, 7), 9), ((3, 11), 5)])
def test_adaptive_pool1d_matches_torch(shape, output_size):
    x = RNG.standard_normal(shape)
    compare_with_torch(lambda t: F.adaptive_avg_pool1d(t, output_size),
                       lambda t: TF.adaptive_avg_pool1d(t, output_size), [x])
    compare_pair(lambda t: F.adaptive_max_pool1d(t, output_size, return_indices=True),
                 lambda t: TF.adaptive_max_pool1d(t, output_size, return_indices=True), x)


def test_adaptive_max_pool_ties_like_torch():
    x = np.maximum(RNG.integers(-2, 2, (2, 2, 7, 9)).astype(np.float64), 0)
    compare_pair(lambda t: F.adaptive_max_pool2d(t, (3, 4), True),
                 lambda t: TF.adaptive_max_pool2d(t, (3, 4), True), x)


@pytest.mark.parametrize("function", [
    lambda t: F.max_pool2d(t, 3, 2, 1),
    lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda t: F.adaptive_avg_pool2d(t, (2, 3)),
    lambda t: F.adaptive_max_pool2d(t, (2, 3)),
])
def test_pooling_gradcheck(function):
    x = dendrite.tensor(RNG.standard_normal((1, 2, 5, 6)), requires_grad=True)
    assert dendrite.autograd.gradcheck(function, (x,))


def test_pooling_equals_composed_form():
    """Separable max / average pooling against a stack of all kh*kw window offsets."""
    x = RNG.standard_normal((2, 3, 9, 7))
    fused, composed = dendrite.tensor(x, requires_grad=True), dendrite.tensor(x, requires_grad=True)
    out_fused = F.max_pool2d(fused, 3, 2) + F.avg_pool2d(fused, 3, 2)
    offsets = dendrite.stack([composed[:, :, p:p + 7:2, q:q + 5:2] for p in range(3) for q in range(3)])
    out_composed = offsets.amax(0) + offsets.mean(0)
    assert_close(out_fused, out_composed.detach().numpy(), rtol=1e-12)
    weights = dendrite.tensor(RNG.standard_normal(out_fused.shape))
    (out_fused * weights).sum().backward()
    (out_composed * weights).sum().backward()
    assert_close(fused.grad, composed.grad.numpy(), rtol=1e-12)


def test_pooling_keeps_float32():
    x = dendrite.randn(2, 3, 8, 8, requires_grad=True)
    for function in (lambda t: F.max_pool2d(t, 2), lambda t: F.avg_pool2d(t, 3, 2, 1),
                     lambda t: F.adaptive_avg_pool2d(t, 3), lambda t: F.adaptive_max_pool2d(t, 3)):
        x.grad = None
        out = function(x)
        out.sum().backward()
        assert out.dtype == x.grad.dtype == dendrite.float32


@pytest.mark.parametrize("function", [
    lambda t: F.max_pool2d(t, 2), lambda t: F.avg_pool2d(t, 3, 1, 1), lambda t: F.adaptive_avg_pool2d(t, 2),
    lambda t: F.adaptive_max_pool2d(t, 2)])
def test_pooling_empty_batch(function):
    x = dendrite.zeros(0, 3, 6, 6, requires_grad=True)
    out = function(x)
    out.sum().backward()
    assert out.shape[:2] == (0, 3) and x.grad.shape == x.shape


def test_max_pool_output_does_not_share_memory_with_input():
    x = dendrite.randn(1, 1, 3, 3)
    out = F.max_pool2d(x, 1)
    x.numpy()[...] = 0
    assert out.abs().sum().item() > 0


@pytest.mark.parametrize("call, message", [
    (lambda: F.max_pool2d(dendrite.randn(1, 1, 8, 8), 2, padding=2),
     r"max_pool2d: padding should be at most half of the \(effective\) kernel size"),
    (lambda: F.avg_pool2d(dendrite.randn(1, 1, 8, 8), 3, padding=2),
     r"avg_pool2d: padding should be at most half"),
    (lambda: F.max_pool2d(dendrite.randn(1, 1, 2, 2), 3),
     r"max_pool2d: input \(1, 1, 2, 2\) is too small for kernel_size=\(3, 3\)"),
    (lambda: F.max_pool2d(dendrite.randn(8, 8), 2),
     r"max_pool2d: expected input of shape \(N, C, H, W\) or unbatched \(C, H, W\), got \(8, 8\)"),
    (lambda: F.max_pool1d(dendrite.randn(1, 2, 3, 8), 2),
     r"max_pool1d: expected input of shape \(N, C, L\)"),
    (lambda: F.max_pool2d(dendrite.randn(1, 1, 8, 8), 0), r"kernel_size must be positive"),
    (lambda: F.avg_pool2d(dendrite.randn(1, 1, 8, 8), 2, divisor_override=0), r"divisor_override must be"),
    (lambda: F.adaptive_avg_pool2d(dendrite.randn(1, 1, 8, 8), (2, 0)), r"output_size must be positive"),
    (lambda: F.adaptive_max_pool2d(dendrite.randn(8), 2), r"adaptive_max_pool2d: expected input of shape"),
])
def test_pooling_errors_name_the_problem(call, message):
    with pytest.raises((RuntimeError, ValueError, TypeError), match=message):
        call()
