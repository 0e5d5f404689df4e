"""pixel_shuffle/pixel_unshuffle, affine_grid and grid_sample (and their modules) against PyTorch in float64:
values, gradients to the input and to theta/grid, every mode/padding/align_corners, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F
from dendrite.autograd import gradcheck

RNG = np.random.default_rng(0)


def _close(ours, theirs, tol=1e-12):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("shape, r", [((2, 8, 3, 5), 2), ((18, 2, 2), 3), ((2, 1, 4, 1, 1), 2)])
def test_pixel_shuffle_and_unshuffle_match_pytorch(shape, r):
    x = RNG.standard_normal(shape)
    ours, theirs = dendrite.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = F.pixel_shuffle(ours, r), TF.pixel_shuffle(theirs, r)
    _close(out, expected)
    _close(dendrite.nn.PixelUnshuffle(r)(out), TF.pixel_unshuffle(expected, r))
    weights = RNG.standard_normal(expected.shape)
    (out * dendrite.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    _close(ours.grad, theirs.grad)
    assert repr(dendrite.nn.PixelShuffle(r)) == repr(torch.nn.PixelShuffle(r))


def test_pixel_shuffle_errors_name_the_problem():
    with pytest.raises(RuntimeError, match=r"input.size\(-3\)=5 is not divisible by 4"):
        F.pixel_shuffle(dendrite.zeros(1, 5, 2, 2), 2)
    with pytest.raises(RuntimeError, match="at least 3 dimensions"):
        F.pixel_shuffle(dendrite.zeros(4, 4), 2)
    with pytest.raises(RuntimeError, match="divisible by downscale_factor"):
        F.pixel_unshuffle(dendrite.zeros(1, 1, 3, 4), 2)


@pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid behavior has changed")
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 7), (2, 1, 1, 5), (2, 2, 3, 4, 5)])
def test_affine_grid_matches_pytorch_with_gradient(size, align_corners):
    theta = RNG.standard_normal((2, len(size) - 2, len(size) - 1))
    ours, theirs = dendrite.tensor(theta, requires_grad=True), torch.tensor(theta, requires_grad=True)
    out = F.affine_grid(ours, size, align_corners=align_corners)
    expected = TF.affine_grid(theirs, size, align_corners=align_corners)
    _close(out, expected)
    weights = RNG.standard_normal(expected.shape)
    (out * dendrite.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    _close(ours.grad, theirs.grad)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_matches_pytorch_in_value_and_gradients(mode, padding_mode, align_corners):
    x = RNG.standard_normal((2, 3, 5, 6))
    grid = RNG.uniform(-1.6, 1.6, (2, 4, 7, 2))  # reaches outside the image: padding matters
    ours_x, theirs_x = dendrite.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours_g, theirs_g = dendrite.tensor(grid, requires_grad=True), torch.tensor(grid, requires_grad=True)
    out = F.grid_sample(ours_x, ours_g, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    expected = TF.grid_sample(theirs_x, theirs_g, mode=mode, padding_mode=padding_mode,
                              align_corners=align_corners)
    _close(out, expected)
    weights = RNG.standard_normal(expected.shape)
    (out * dendrite.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    _close(ours_x.grad, theirs_x.grad)
    _close(ours_g.grad, theirs_g.grad, tol=1e-10)


def test_grid_sample_bilinear_passes_gradcheck():
    x = dendrite.tensor(RNG.standard_normal((1, 2, 4, 4)), requires_grad=True)
    grid = dendrite.tensor(RNG.uniform(-0.9, 0.9, (1, 3, 3, 2)), requires_grad=True)
    assert gradcheck(lambda a, g: F.grid_sample(a, g, align_corners=False), (x, grid))


def test_a_spatial_transformer_step_matches_pytorch():
    """theta from a linear layer, affine_grid, grid_sample, a loss: the STN tutorial's path."""
    x = RNG.standard_normal((3, 1, 8, 8))
    weight, bias = RNG.standard_normal((6, 64)) * 0.01, np.array([1.0, 0, 0, 0, 1.0, 0])
    results = []
    for lib, fn in ((dendrite, F), (torch, TF)):
        w, b = lib.tensor(weight, requires_grad=True), lib.tensor(bias, requires_grad=True)
        theta = (lib.tensor(x).reshape(3, 64) @ w.T + b).view(-1, 2, 3)
        grid = fn.affine_grid(theta, (3, 1, 8, 8), align_corners=False)
        out = fn.grid_sample(lib.tensor(x), grid, align_corners=False)
        out.pow(2).mean().backward()
        results.append((out.detach().numpy(), w.grad.numpy(), b.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_grid_sample_and_affine_grid_errors_name_the_problem():
    with pytest.raises(ValueError, match="expected mode to be 'bilinear' or 'nearest'"):
        F.grid_sample(dendrite.zeros(1, 1, 2, 2), dendrite.zeros(1, 1, 1, 2), mode="bicubic")
    with pytest.raises(ValueError, match="expected padding_mode"):
        F.grid_sample(dendrite.zeros(1, 1, 2, 2), dendrite.zeros(1, 1, 1, 2), padding_mode="wrap")
    with pytest.raises(RuntimeError, match=r"expected grid of shape \(N, H_out, W_out, 2\)"):
        F.grid_sample(dendrite.zeros(1, 1, 2, 2), dendrite.zeros(1, 1, 2))
    with pytest.raises(NotImplementedError, match="4-D input"):
        F.grid_sample(dendrite.zeros(1, 1, 2, 2, 2), dendrite.zeros(1, 1, 1, 1, 3))
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape Nx2x3"):
        F.affine_grid(dendrite.zeros(1, 3, 3), (1, 1, 4, 4))
    with pytest.raises(NotImplementedError, match="only supports 4D and 5D sizes"):
        F.affine_grid(dendrite.zeros(1, 2, 3), (1, 4, 4))


@pytest.mark.parametrize("shape, kernel, dilation, padding, stride", [
    ((2, 3, 7, 6), 3, 1, 0, 1), ((2, 3, 7, 6), (2, 3), 1, 1, 2), ((1, 2, 9, 8), 3, 2, 1, (2, 1)),
    ((2, 1, 5, 5), (5, 5), 1, 0, 1), ((1, 2, 8, 8), 3, 1, 2, 3)])
def test_unfold_and_fold_match_pytorch_with_gradients(shape, kernel, dilation, padding, stride):
    x = RNG.standard_normal(shape)
    ours, theirs = dendrite.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = dendrite.nn.Unfold(kernel, dilation, padding, stride)(ours)
    expected = torch.nn.Unfold(kernel, dilation, padding, stride)(theirs)
    _close(out, expected)
    weights = RNG.standard_normal(expected.shape)
    (out * dendrite.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    _close(ours.grad, theirs.grad)
    columns = RNG.standard_normal(tuple(expected.shape))
    ours, theirs = dendrite.tensor(columns, requires_grad=True), torch.tensor(columns, requires_grad=True)
    out = dendrite.nn.Fold(shape[2:], kernel, dilation, padding, stride)(ours)
    expected = torch.nn.Fold(shape[2:], kernel, dilation, padding, stride)(theirs)
    _close(out, expected)
    weights = RNG.standard_normal(expected.shape)
    (out * dendrite.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    _close(ours.grad, theirs.grad)


def test_fold_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        F.fold(dendrite.zeros(1, 5, 4), output_size=3, kernel_size=2)
    with pytest.raises(RuntimeError, match="calculated number of sliding blocks 2 \\* 2 = 4"):
        F.fold(dendrite.zeros(1, 4, 5), output_size=3, kernel_size=2)
    with pytest.raises(NotImplementedError, match="Only 4D input"):
        F.unfold(dendrite.zeros(3, 4, 4), 2)
