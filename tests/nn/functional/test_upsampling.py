"""interpolate (nearest, nearest-exact, linear, bilinear, area) and its aliases against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F
from tests.helpers import compare_with_torch

RNG = np.random.default_rng(0)

NEAREST_CASES = [
    ((2, 3, 5, 6), {"scale_factor": 2}),
    ((2, 3, 5, 6), {"scale_factor": (3, 1)}),
    ((2, 3, 5, 6), {"size": (7, 13)}),
    ((2, 3, 9, 8), {"size": (4, 3)}),  # downsampling skips positions
    ((2, 3, 7, 9), {"scale_factor": (1.7, 0.6)}),
    ((2, 3, 7, 9), {"scale_factor": 1.3, "recompute_scale_factor": True}),
    ((2, 3, 7, 9), {"scale_factor": 2.0000001}),  # PyTorch's scale-2 shortcut
    ((2, 3, 10), {"scale_factor": 2.5}),
    ((2, 3, 10), {"size": 4}),
    ((2, 3, 10), {"size": 10}),
]


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("shape, options", NEAREST_CASES)
def test_nearest_matches_torch(mode, shape, options):
    compare_with_torch(lambda t: F.interpolate(t, mode=mode, **options),
                       lambda t: TF.interpolate(t, mode=mode, **options), [RNG.standard_normal(shape)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nearest_rounds_source_positions_like_torch(dtype):
    """Where o * in / out is a whole number, float32 and float64 arithmetic pick different pixels;
    PyTorch's kernels round in a dtype-dependent way, and so must we."""
    for length, size in ((14, 46), (18, 66), (21, 69), (24, 94), (39, 132), (48, 152)):
        x = np.arange(length, dtype=dtype).reshape(1, 1, length)
        for mode in ("nearest", "nearest-exact"):
            ours = F.interpolate(dendrite.tensor(x), size=size, mode=mode).numpy()
            np.testing.assert_array_equal(ours, TF.interpolate(torch.tensor(x), size=size, mode=mode).numpy())


LINEAR_CASES = [
    ((2, 3, 5, 6), {"scale_factor": 2}),
    ((2, 3, 5, 6), {"size": (7, 13)}),
    ((2, 3, 9, 8), {"size": (4, 3)}),
    ((2, 3, 7, 9), {"scale_factor": (1.7, 0.6)}),
    ((2, 3, 7, 9), {"scale_factor": (1.7, 0.6), "recompute_scale_factor": True}),
    ((2, 3, 7, 9), {"size": (1, 9)}),
    ((2, 3, 1, 4), {"size": (3, 8)}),
]


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("shape, options", LINEAR_CASES)
def test_bilinear_and_linear_match_torch(align_corners, shape, options):
    compare_with_torch(lambda t: F.interpolate(t, mode="bilinear", align_corners=align_corners, **options),
                       lambda t: TF.interpolate(t, mode="bilinear", align_corners=align_corners, **options),
                       [RNG.standard_normal(shape)])
    options_1d = {key: value if not isinstance(value, tuple) else value[1] for key, value in options.items()}
    compare_with_torch(
        lambda t: F.interpolate(t[:, :, 0], mode="linear", align_corners=align_corners, **options_1d),
        lambda t: TF.interpolate(t[:, :, 0], mode="linear", align_corners=align_corners, **options_1d),
        [RNG.standard_normal(shape)])


@pytest.mark.parametrize("shape, options", [
    ((2, 3, 8, 9), {"size": (3, 4)}), ((2, 3, 8, 9), {"scale_factor": 0.5}), ((2, 3, 10), {"size": 4})])
def test_area_matches_torch(shape, options):
    compare_with_torch(lambda t: F.interpolate(t, mode="area", **options),
                       lambda t: TF.interpolate(t, mode="area", **options), [RNG.standard_normal(shape)])


def test_upsample_aliases_match_torch():
    x = RNG.standard_normal((1, 2, 4, 5))
    compare_with_torch(lambda t: F.upsample(t, scale_factor=2), lambda t: TF.interpolate(t, scale_factor=2),
                       [x])
    compare_with_torch(lambda t: F.upsample_nearest(t, size=(6, 7)), lambda t: TF.interpolate(t, size=(6, 7)),
                       [x])
    compare_with_torch(lambda t: F.upsample_bilinear(t, scale_factor=2),
                       lambda t: TF.interpolate(t, scale_factor=2, mode="bilinear", align_corners=True), [x])


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_interpolate_gradcheck(mode):
    x = dendrite.tensor(RNG.standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert dendrite.autograd.gradcheck(lambda t: F.interpolate(t, size=(5, 3), mode=mode), (x,))


def test_interpolate_keeps_float32():
    x = dendrite.randn(1, 2, 3, 4, requires_grad=True)
    for mode in ("nearest", "bilinear"):
        x.grad = None
        out = F.interpolate(x, scale_factor=2, mode=mode)
        out.sum().backward()
        assert out.dtype == x.grad.dtype == dendrite.float32


@pytest.mark.parametrize("call, message", [
    (lambda: F.interpolate(dendrite.randn(1, 2, 4, 4)), r"give exactly one of size and scale_factor"),
    (lambda: F.interpolate(dendrite.randn(1, 2, 4, 4), size=4, scale_factor=2), r"exactly one"),
    (lambda: F.interpolate(dendrite.randn(1, 2, 4, 4), size=(2, 3, 4)), r"size must be an int or 2 ints"),
    (lambda: F.interpolate(dendrite.randn(1, 2, 4, 4), scale_factor=2, mode="linear"),
     r"mode 'linear' needs a 3-D input"),
    (lambda: F.interpolate(dendrite.randn(1, 2, 4, 4), scale_factor=2, align_corners=True),
     r"align_corners can only be set with the interpolating modes"),
    (lambda: F.interpolate(dendrite.randn(1, 2, 4, 4), scale_factor=2, mode="bicubic"),
     r"mode 'bicubic' is not supported"),
    (lambda: F.interpolate(dendrite.randn(4, 4), scale_factor=2), r"supports 3-D \(N, C, L\) and 4-D"),
    (lambda: F.interpolate(dendrite.randn(1, 2, 4, 4), scale_factor=0.1), r"output size \(0, 0\)"),
])
def test_interpolate_errors_name_the_problem(call, message):
    with pytest.raises((RuntimeError, ValueError, TypeError, NotImplementedError), match=message):
        call()
