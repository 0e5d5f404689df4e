"""Regression tests for what the differential fuzzer (tests/fuzz/) found, each checked against PyTorch CPU
on the exact input that showed it (deterministic; the fuzzer draws new cases, these keep the old ones)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite


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

