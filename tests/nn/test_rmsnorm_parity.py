"""RMSNorm against PyTorch's: eps=None (the dtype's machine epsilon), elementwise_affine, keys, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite


@pytest.mark.parametrize("normalized_shape", [6, (4, 6)])
@pytest.mark.parametrize("kwargs", [{}, {"eps": 1e-3}, {"elementwise_affine": False}],
                         ids=["eps-None", "eps", "no-affine"])
def test_rmsnorm_matches_torch(normalized_shape, kwargs):
    reference = torch.nn.RMSNorm(normalized_shape, **kwargs).double()
    module = dendrite.nn.RMSNorm(normalized_shape, **kwargs).double()
    assert list(module.state_dict()) == list(reference.state_dict())
    assert repr(module) == repr(reference)
    rng = np.random.default_rng(0)
    if reference.weight is not None:
        weight = rng.standard_normal(reference.weight.shape)
        reference.weight.data = torch.tensor(weight)
        module.load_state_dict({"weight": dendrite.tensor(weight)})
    # Small inputs, so that eps (machine epsilon when None) matters to the result.
    x = rng.standard_normal((3, 4, 6)) * 1e-7
    t_x, d_x = torch.tensor(x, requires_grad=True), dendrite.tensor(x, requires_grad=True)
    t_out, d_out = reference(t_x), module(d_x)
    np.testing.assert_allclose(d_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-12, atol=0)
    grad = rng.standard_normal(x.shape)
    (t_out * torch.tensor(grad)).sum().backward()
    (d_out * dendrite.tensor(grad)).sum().backward()
    np.testing.assert_allclose(d_x.grad.numpy(), t_x.grad.numpy(), rtol=1e-9, atol=0)
    if reference.weight is not None:
        np.testing.assert_allclose(module.weight.grad.numpy(), reference.weight.grad.numpy(), rtol=1e-10)


def test_rmsnorm_float32_uses_float32_epsilon():
    x = np.random.default_rng(1).standard_normal((2, 6)).astype(np.float32) * 1e-4
    expected = torch.nn.RMSNorm(6)(torch.tensor(x)).detach().numpy()
    actual = dendrite.nn.RMSNorm(6)(dendrite.tensor(x)).detach().numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-5)


def test_rmsnorm_reset_parameters_sets_ones_as_torch():
    module = dendrite.nn.RMSNorm(5)
    dendrite.nn.init.normal_(module.weight)
    module.reset_parameters()
    np.testing.assert_array_equal(module.weight.detach().numpy(), np.ones(5, np.float32))
    dendrite.nn.RMSNorm(5, elementwise_affine=False).reset_parameters()  # nothing to reset: no error
