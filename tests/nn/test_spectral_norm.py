"""parametrizations.spectral_norm against PyTorch in float64: state_dict keys, the normalised weight and its
gradient once both start from the same u and v, power iteration in train mode only, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrizations as torch_parametrizations

import dendrite
from dendrite.nn.utils.parametrizations import spectral_norm

RNG = np.random.default_rng(0)


def _pair(make_ours, make_theirs, **kwargs):
    ours, theirs = make_ours(), make_theirs()
    with torch.no_grad():
        for (_, mine), (_, other) in zip(ours.named_parameters(), theirs.named_parameters()):
            values = RNG.standard_normal(tuple(other.shape))
            other.copy_(torch.tensor(values))
            with dendrite.no_grad():
                mine.copy_(dendrite.tensor(values))
    spectral_norm(ours, **kwargs)
    torch_parametrizations.spectral_norm(theirs, **kwargs)
    # u and v start at random (each library's generator): start both from PyTorch's.
    ours_norm, theirs_norm = ours.parametrizations.weight[0], theirs.parametrizations.weight[0]
    ours_norm._u = dendrite.tensor(theirs_norm._u.numpy())
    ours_norm._v = dendrite.tensor(theirs_norm._v.numpy())
    return ours, theirs


@pytest.mark.parametrize("layer, kwargs", [
    ("linear", {}), ("linear", {"n_power_iterations": 3}), ("conv", {}), ("conv", {"dim": 1}),
    ("convtranspose", {}),
])
def test_spectral_norm_matches_pytorch(layer, kwargs):
    makers = {
        "linear": (lambda: dendrite.nn.Linear(5, 4, dtype=dendrite.float64),
                   lambda: torch.nn.Linear(5, 4, dtype=torch.float64)),
        "conv": (lambda: dendrite.nn.Conv2d(3, 4, 3, dtype=dendrite.float64),
                 lambda: torch.nn.Conv2d(3, 4, 3, dtype=torch.float64)),
        "convtranspose": (lambda: dendrite.nn.ConvTranspose2d(3, 4, 3, dtype=dendrite.float64),
                          lambda: torch.nn.ConvTranspose2d(3, 4, 3, dtype=torch.float64)),
    }
    ours, theirs = _pair(*makers[layer], **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    shape = (2, 5) if layer == "linear" else (2, 3, 6, 6)
    x = RNG.standard_normal(shape)
    for _ in range(3):  # train mode: a power iteration per call, gradients through W and sigma
        out, expected = ours(dendrite.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        out.pow(2).sum().backward()
        expected.pow(2).sum().backward()
        np.testing.assert_allclose(ours.parametrizations.weight.original.grad.numpy(),
                                   theirs.parametrizations.weight.original.grad.numpy(), rtol=1e-9,
                                   atol=1e-12)
    ours.eval()
    theirs.eval()
    u_before = ours.parametrizations.weight[0]._u.numpy().copy()
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-10)
    np.testing.assert_array_equal(ours.parametrizations.weight[0]._u.numpy(), u_before)  # eval: no iteration


def test_the_normalised_weight_has_spectral_norm_one():
    layer = spectral_norm(dendrite.nn.Linear(8, 6, dtype=dendrite.float64))
    for _ in range(20):
        layer(dendrite.ones(1, 8, dtype=dendrite.float64))
    assert abs(np.linalg.norm(layer.weight.detach().numpy(), 2) - 1.0) < 1e-6


def test_a_vector_is_normalised_and_errors_name_the_problem():
    holder = dendrite.nn.Module()
    holder.weight = dendrite.nn.Parameter(dendrite.tensor([3.0, 4.0]))
    assert spectral_norm(holder).weight.tolist() == pytest.approx([0.6, 0.8])
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive"):
        spectral_norm(dendrite.nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        spectral_norm(dendrite.nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'kernel'"):
        spectral_norm(dendrite.nn.Linear(2, 2), name="kernel")


# ------------------------------------------------------------------ the hook-based nn.utils.spectral_norm
@pytest.mark.parametrize("layer", ["linear", "convtranspose"])
def test_hook_spectral_norm_matches_pytorch(layer):
    if layer == "linear":
        ours = dendrite.nn.Linear(5, 4, dtype=dendrite.float64)
        theirs = torch.nn.Linear(5, 4, dtype=torch.float64)
        x = RNG.standard_normal((2, 5))
    else:
        ours = dendrite.nn.ConvTranspose2d(3, 4, 3, dtype=dendrite.float64)
        theirs = torch.nn.ConvTranspose2d(3, 4, 3, dtype=torch.float64)
        x = RNG.standard_normal((2, 3, 5, 5))
    with torch.no_grad():
        for (_, mine), (_, other) in zip(ours.named_parameters(), theirs.named_parameters()):
            values = RNG.standard_normal(tuple(other.shape))
            other.copy_(torch.tensor(values))
            with dendrite.no_grad():
                mine.copy_(dendrite.tensor(values))
    dendrite.nn.utils.spectral_norm(ours)
    torch.nn.utils.spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.weight_u = dendrite.tensor(theirs.weight_u.numpy())  # start both from PyTorch's random u, v
    ours.weight_v = dendrite.tensor(theirs.weight_v.numpy())
    for _ in range(3):
        out, expected = ours(dendrite.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        out.pow(2).sum().backward()
        expected.pow(2).sum().backward()
        np.testing.assert_allclose(ours.weight_orig.grad.numpy(), theirs.weight_orig.grad.numpy(), rtol=1e-9,
                                   atol=1e-12)
    np.testing.assert_allclose(ours.weight_u.numpy(), theirs.weight_u.numpy(), rtol=1e-10)
    dendrite.nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in"):
        dendrite.nn.utils.remove_spectral_norm(ours)


def test_hook_spectral_norm_refuses_a_second_hook():
    layer = dendrite.nn.utils.spectral_norm(dendrite.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        dendrite.nn.utils.spectral_norm(layer)
