"""Regression tests for what the differential fuzzer (tests/fuzz/) found, each checked against PyTorch CPU
on the exact input that showed it (deterministic; the fuzzer draws new cases, these keep the old ones)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import dendrite
import dendrite.nn.functional


def _both(fn, *arrays, grad=True):
    """``fn`` on dendrite and torch tensors made from ``arrays``: (ours, theirs, our inputs, their inputs)."""
    ours_in = [dendrite.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    return fn(dendrite, *ours_in), fn(torch, *theirs_in), ours_in, theirs_in


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dim", [None, 0])
def test_float32_moments_accumulate_in_float64_as_pytorch(name, dim):
    # PyTorch's CPU var/std of float32 accumulate in float64: std of values near 1e30 is finite (8e29)
    # even though the squares overflow float32; var itself is beyond float32 and is inf in both
    x = np.array([1e30, -1e30, 0.5, 2.0], np.float32)
    ours, theirs, ours_in, theirs_in = _both(lambda m, t: getattr(m, name)(t, dim=dim), x)
    assert ours.dtype == dendrite.float32
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(ours_in[0].grad.numpy(), theirs_in[0].grad.numpy(), rtol=1e-5)



def test_einsum_contracts_left_to_right_as_pytorch():
    # ((a, b), c) as PyTorch: a @ b is finite, then the -inf of c gives -inf or inf; NumPy's optimized
    # path contracted (b, c) first, where the -inf meets terms of both signs: NaN
    a = np.array([0.25648564, -0.09482834, -0.25884807], np.float32)
    b = np.array([[1.0557429, -2.2508543, -0.13865532, 0.0330001],
                  [-1.425349, 0.33281362, -0.651281, 0.8624448],
                  [-0.12559208, 0.6691532, 1.2188436, 0.3829296]], np.float32)
    c = np.array([-0.87572116, -1.5143186, 1.7533841, -np.inf], np.float32)
    ours, theirs, _, _ = _both(lambda m, *t: m.einsum("i,ij,j->", *t), a, b, c, grad=False)
    assert np.isinf(theirs.numpy())
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("value", [-1.0, 0.0, 0.5, float("inf"), float("nan")])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_kl_div_target_gradient_over_an_empty_broadcast_is_pytorchs_xlogy(value, reduction):
    # PyTorch differentiates xlogy(t, t) with xlogy(g, t): 0 where the summed gradient g is 0 (an empty
    # input) even where log t is NaN (t < 0) or inf; NaN at t = 0 (from t / t) and at t = NaN
    grads = []
    for lib, fn in ((dendrite, dendrite.nn.functional.kl_div), (torch, torch.nn.functional.kl_div)):
        x = lib.zeros(0, dtype=lib.float32, requires_grad=True)
        t = lib.tensor(value, dtype=lib.float32, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kl_div's 'mean' warning
            fn(x, t, reduction=reduction).backward()
        grads.append(float(t.grad.item()))
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("name", ["kl_div", "mse_loss", "l1_loss", "huber_loss"])
def test_loss_broadcast_errors_name_the_input_and_the_target(name):
    fn = getattr(dendrite.nn.functional, name)
    message = rf"{name}: input of shape \(2,\) and target of shape \(3,\) cannot be broadcast together"
    with pytest.raises(RuntimeError, match=message), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the size-mismatch warning PyTorch gives too
        fn(dendrite.zeros(2), dendrite.zeros(3), reduction="sum")
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, name)(torch.zeros(2), torch.zeros(3), reduction="sum")
