"""A NaN/Inf reaches exactly the outputs (and gradients) whose window holds it, as in PyTorch: the fast
matrix formulations (an averaging matrix, im2col products) would multiply it by a zero elsewhere."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F


def _with_specials(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    for value in (np.nan, np.inf, -np.inf)[:1 + seed % 3]:
        flat[rng.integers(flat.size)] = value
    return x


def _check(fn, torch_fn, arrays, rtol):
    ours = [dendrite.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(*ours), torch_fn(*theirs)
    np.testing.assert_array_equal(np.isnan(out.array), np.isnan(expected.detach().numpy()))
    np.testing.assert_allclose(out.array, expected.detach().numpy(), rtol=rtol, atol=rtol)
    out.sum().backward()
    expected.sum().backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_array_equal(np.isnan(mine.grad.array), np.isnan(reference.grad.numpy()))
        np.testing.assert_allclose(mine.grad.array, reference.grad.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-4), (np.float64, 1e-10)])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("name, shape, size", [("adaptive_avg_pool2d", (2, 3, 7, 5), (3, 2)),
                                               ("adaptive_avg_pool2d", (3, 6, 6), 4),
                                               ("adaptive_avg_pool1d", (2, 2, 9), 4)])
def test_adaptive_avg_pool(name, shape, size, dtype, rtol, seed):
    _check(lambda t: getattr(F, name)(t, size), lambda t: getattr(TF, name)(t, size),
           [_with_specials(shape, dtype, seed)], rtol)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-4), (np.float64, 1e-10)])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shape, kwargs", [((2, 2, 5), {"scale_factor": 3.0, "mode": "linear"}),
                                           ((1, 2, 4), {"size": 7, "mode": "linear", "align_corners": True}),
                                           ((2, 1, 4, 5), {"scale_factor": 2.0, "mode": "bilinear"}),
                                           ((1, 2, 3, 4), {"size": (5, 3), "mode": "bilinear"}),
                                           ((1, 1, 6, 6), {"size": (4, 3), "mode": "area"})])
def test_interpolate(shape, kwargs, dtype, rtol, seed):
    _check(lambda t: F.interpolate(t, **kwargs), lambda t: TF.interpolate(t, **kwargs),
           [_with_specials(shape, dtype, seed)], rtol)


def test_interpolate_nonfinite_gradient_reaches_only_its_neighbours():
    x = dendrite.tensor(np.arange(4.0).reshape(1, 1, 4), requires_grad=True)
    reference = torch.tensor(np.arange(4.0).reshape(1, 1, 4), requires_grad=True)
    upstream = np.ones((1, 1, 8))
    upstream[0, 0, 0] = np.nan
    F.interpolate(x, scale_factor=2.0, mode="linear").backward(dendrite.tensor(upstream))
    TF.interpolate(reference, scale_factor=2.0, mode="linear").backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.array, reference.grad.numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-4), (np.float64, 1e-10)])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name, x_shape, w_shape, kwargs", [
    ("conv2d", (2, 2, 5, 4), (3, 2, 3, 2), {"padding": 1}),
    ("conv2d", (1, 2, 5, 5), (4, 1, 2, 3), {"padding": 1, "stride": 2, "groups": 2}),
    ("conv1d", (2, 2, 7), (2, 2, 3), {"padding": 1, "dilation": 2})])
def test_conv_nonfinite_input(name, x_shape, w_shape, kwargs, dtype, rtol, seed):
    # NaN/Inf in the input reach only the outputs whose window holds them (a non-finite weight is left
    # alone: PyTorch's kernels disagree among themselves on whether it meets the zero padding)
    w = np.random.default_rng(seed + 100).standard_normal(w_shape).astype(dtype)
    _check(lambda t, k: getattr(F, name)(t, k, **kwargs), lambda t, k: getattr(TF, name)(t, k, **kwargs),
           [_with_specials(x_shape, dtype, seed), w], rtol)
