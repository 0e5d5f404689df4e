"""``relu`` takes faster NumPy loops (ops/piecewise.py): the bits of max(x, 0) and of g * (x > 0)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite
from dendrite.ops.piecewise import ReLU, _maximum_zero


@pytest.mark.parametrize("shape", [(128, 512), (4, 3, 17, 29), (2049,), (3, 5)])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_same_bits_as_maximum_with_zero(shape, dtype):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    x.reshape(-1)[:7] = [np.nan, -np.inf, np.inf, -0.0, 0.0, -np.nan, 1e-45]
    ours, reference = _maximum_zero(x), np.maximum(x, 0)
    assert ours.dtype == reference.dtype and ours.shape == reference.shape
    assert ours.tobytes() == reference.tobytes()


def test_non_contiguous_and_integer_inputs():
    x = np.random.default_rng(1).standard_normal((300, 40)).astype(np.float32).T
    assert _maximum_zero(x).tobytes() == np.maximum(x, 0).tobytes()
    ints = np.arange(-5000, 5000)
    assert np.array_equal(_maximum_zero(ints), np.maximum(ints, 0))


def test_large_relu_matches_torch_forward_and_backward():
    data = np.random.default_rng(2).standard_normal((64, 3000)).astype(np.float32)
    ours = dendrite.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    dendrite.relu(ours).sum().backward()
    torch.relu(theirs).sum().backward()
    np.testing.assert_array_equal(dendrite.relu(ours).detach().numpy(), torch.relu(theirs).detach().numpy())
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("shape", [(32, 16), (2049,), ()])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_backward_has_the_bits_of_grad_times_the_mask(shape, dtype):
    rng = np.random.default_rng(3)
    x = np.asarray(rng.standard_normal(shape)).astype(dtype)
    grad = np.asarray(rng.standard_normal(shape) * 1e3).astype(dtype)
    if x.ndim:
        x.reshape(-1)[:7] = [np.nan, -np.inf, np.inf, -0.0, 0.0, 1e-45, -1e-45]
        grad.reshape(-1)[:7] = [-1.0, np.nan, -np.inf, -2.0, np.inf, -3.0, 4.0]
    node = ReLU()
    result = node.forward(x)
    with np.errstate(invalid="ignore"):
        ours, reference = node.backward(grad), grad * (np.maximum(x, 0) > 0)
    assert ours.dtype == reference.dtype and np.shape(ours) == np.shape(reference)
    assert np.asarray(ours).tobytes() == np.asarray(reference).tobytes()
    assert result.tobytes() == np.maximum(x, 0).tobytes()
