"""nn.utils: gradient clipping and parameter/vector conversion, against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import dendrite
from dendrite import nn
from dendrite.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters

SHAPES = [(3, 4), (4,), (2, 2, 3)]


def _pairs(scale: float = 1.0, seed: int = 0, dtype=np.float64):
    """Parameters with gradients set, in dendrite and torch, holding the same values."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for shape in SHAPES:
        value = rng.standard_normal(shape).astype(dtype)
        grad = (scale * rng.standard_normal(shape)).astype(dtype)
        p = nn.Parameter(dendrite.tensor(value))
        p.grad = dendrite.tensor(grad.copy())
        t = torch.nn.Parameter(torch.tensor(value))
        t.grad = torch.tensor(grad.copy())
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def _assert_grads_equal(ours, theirs, rtol=1e-12):
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=1e-15)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 1e4])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _pairs(scale=2.0)
    total_ours = clip_grad_norm_(ours, max_norm, norm_type)
    total_theirs = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total_ours, dendrite.Tensor) and total_ours.shape == ()
    np.testing.assert_allclose(float(total_ours), float(total_theirs), rtol=1e-12)
    _assert_grads_equal(ours, theirs)


def test_clip_grad_norm_float32_and_result_dtype():
    ours, theirs = _pairs(scale=5.0, dtype=np.float32)
    total = clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert total.dtype == dendrite.float32
    np.testing.assert_allclose(float(total), float(expected), rtol=1e-6)
    _assert_grads_equal(ours, theirs, rtol=1e-6)
    norm_after = math.sqrt(sum(float((p.grad * p.grad).sum()) for p in ours))
    assert norm_after == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_skips_missing_grads_and_accepts_a_tensor():
    lonely = nn.Parameter(dendrite.ones(2))
    assert float(clip_grad_norm_([lonely], 1.0)) == 0.0
    weight = nn.Parameter(dendrite.ones(2))
    weight.grad = dendrite.tensor([3.0, 4.0])
    assert float(clip_grad_norm_(weight, 1.0)) == pytest.approx(5.0)
    np.testing.assert_allclose(weight.grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_clip_grad_norm_nonfinite():
    weight = nn.Parameter(dendrite.ones(2))
    weight.grad = dendrite.tensor([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([weight], 1.0, error_if_nonfinite=True)
    assert weight.grad.tolist()[1] == 1.0  # nothing was scaled before the error


@pytest.mark.parametrize("clip_value", [0.1, 0.5, 10.0])
def test_clip_grad_value_matches_torch(clip_value):
    ours, theirs = _pairs(scale=1.0, seed=3)
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    _assert_grads_equal(ours, theirs)
    assert max(float(p.grad.abs().max()) for p in ours) <= clip_value


def test_parameters_to_vector_matches_torch_and_is_differentiable():
    ours, theirs = _pairs()
    vector = parameters_to_vector(ours)
    expected = torch.nn.utils.parameters_to_vector(theirs).detach().numpy()
    np.testing.assert_array_equal(vector.detach().numpy(), expected)
    weights = np.arange(vector.shape[0], dtype=np.float64)
    for p in ours:
        p.grad = None
    (vector * dendrite.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(np.concatenate([p.grad.numpy().ravel() for p in ours]), weights)


def test_vector_to_parameters_round_trip():
    ours, theirs = _pairs()
    vector = np.linspace(-1, 1, sum(int(np.prod(s)) for s in SHAPES))
    vector_to_parameters(dendrite.tensor(vector), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(vector), theirs)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.detach().numpy(), t.detach().numpy())
    with pytest.raises(ValueError, match=r"expected \(28,\)"):
        vector_to_parameters(dendrite.zeros(5), ours)
    with pytest.raises(TypeError, match="expected dendrite.Tensor"):
        vector_to_parameters(vector, ours)
