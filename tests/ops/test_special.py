"""``dendrite.erf`` (dendrite/ops/special.py) against ``torch.erf``: forward, gradient, dtypes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dendrite
from dendrite.ops.special import erf_array

torch = pytest.importorskip("torch")

# Every regime of the implementation (Taylor below 1, three Chebyshev pieces up to 6, 1 beyond)
# and its boundaries, tiny and huge magnitudes, signed zeros and infinities.
EDGES = [0.0, -0.0, 1e-300, -1e-300, 1e-8, 0.5, 0.999, 1.0, 1.5, 2.0, 3.5, 5.999, 6.0, 6.5, 10.0, 27.0,
         1e3, 1e300, np.inf]


def _values() -> np.ndarray:
    rng = np.random.default_rng(7)
    edges = np.array(EDGES)
    return np.concatenate([
        edges, -edges,
        rng.uniform(-8, 8, 2000),
        np.geomspace(1e-300, 30, 400), -np.geomspace(1e-300, 30, 400),
    ])


def _torch_erf_and_grad(values: np.ndarray):
    theirs = torch.tensor(values, requires_grad=True)
    out = torch.erf(theirs)
    out.sum().backward()
    return out.detach().numpy(), theirs.grad.numpy()


def test_forward_and_gradient_match_torch_in_float64():
    values = _values()
    ours = dendrite.tensor(values, requires_grad=True)
    out = dendrite.erf(ours)
    out.sum().backward()
    expected, expected_grad = _torch_erf_and_grad(values)
    assert out.dtype == dendrite.float64
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(np.signbit(out.detach().numpy()), np.signbit(expected))  # erf(-0.) is -0.
    np.testing.assert_allclose(ours.grad.numpy(), expected_grad, rtol=1e-12, atol=0)


def test_limits_and_nan():
    out = dendrite.erf(dendrite.tensor([np.inf, -np.inf, 40.0, -40.0, np.nan], dtype=dendrite.float64))
    np.testing.assert_array_equal(out.numpy()[:4], [1.0, -1.0, 1.0, -1.0])
    assert np.isnan(out.numpy()[4])


def test_gradient_is_two_over_sqrt_pi_times_gaussian():
    values = np.array([0.0, 0.3, -1.2, 2.5, -4.0, 9.0, np.inf, -np.inf])
    x = dendrite.tensor(values, requires_grad=True)
    dendrite.erf(x).sum().backward()
    expected = 2 / math.sqrt(math.pi) * np.exp(-values * values)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-15, atol=0)
    assert x.grad.numpy()[-1] == 0 and x.grad.numpy()[-2] == 0


def test_gradcheck():
    rng = np.random.default_rng(11)
    for values in (rng.uniform(-3, 3, (4, 5)), np.array([0.0, 0.999, 1.0, 2.0, 3.5, 5.9, -6.1])):
        x = dendrite.tensor(values, requires_grad=True)
        assert dendrite.autograd.gradcheck(dendrite.erf, (x,))


def test_method_and_public_name():
    assert "erf" in dendrite.ops.__all__
    x = dendrite.tensor([[0.25, -1.75]], dtype=dendrite.float64)
    np.testing.assert_array_equal(x.erf().numpy(), dendrite.erf(x).numpy())
    assert x.erf().shape == (1, 2)


def test_float32_and_integer_inputs_follow_torch_dtypes():
    values = np.random.default_rng(5).uniform(-4, 4, 50).astype(np.float32)
    out = dendrite.erf(dendrite.tensor(values))
    assert out.dtype == dendrite.float32
    expected = torch.erf(torch.tensor(values)).numpy()
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6, atol=1e-7)
    ints = dendrite.erf(dendrite.tensor([0, 1, -2]))
    expected = torch.erf(torch.tensor([0, 1, -2]))
    assert str(ints.dtype) == str(expected.dtype).replace("torch.", "")
    np.testing.assert_allclose(ints.numpy(), expected.numpy(), rtol=1e-6)


def test_no_graph_under_no_grad():
    x = dendrite.tensor([0.5], requires_grad=True)
    with dendrite.no_grad():
        assert not dendrite.erf(x).requires_grad
    assert dendrite.erf(x).requires_grad


def test_array_level_erf_matches_math_erf():
    values = _values()
    finite = values[np.isfinite(values)]
    reference = np.array([math.erf(v) for v in finite])
    np.testing.assert_allclose(erf_array(finite), reference, rtol=1e-15, atol=0)
    assert erf_array(0.5) == pytest.approx(math.erf(0.5), rel=1e-15)
