"""Activations of dendrite.nn.functional against PyTorch (float64 forward and input gradient)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import dendrite
import dendrite.nn.functional as F
from dendrite.nn.functional.activation import erf
from tests.helpers import assert_close, compare_with_torch

# Random values plus every kink the activations below have (0, +-1, +-3, 6, thresholds).
KINKS = [0.0, -0.0, 1.0, -1.0, 3.0, -3.0, 6.0, 0.5, -0.5, 2.0, 10.0, 20.0, -20.0, 25.0, 1e-8, -1e-8]


def _sample(seed: int = 0) -> np.ndarray:
    values = np.random.default_rng(seed).standard_normal(64) * 3
    return np.concatenate([values, KINKS]).reshape(8, 10)


ELEMENTWISE = [
    ("relu", {}), ("relu6", {}), ("elu", {}), ("elu", {"alpha": 0.5}), ("elu", {"alpha": 2.0}),
    ("selu", {}), ("celu", {}), ("celu", {"alpha": 1.7}), ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}), ("softplus", {}), ("softplus", {"beta": 2.0}),
    ("softplus", {"beta": 0.5, "threshold": 5.0}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("silu", {}), ("mish", {}), ("hardtanh", {}), ("hardtanh", {"min_val": -2.0, "max_val": 3.0}),
    ("hardsigmoid", {}), ("hardswish", {}), ("logsigmoid", {}), ("sigmoid", {}), ("tanh", {}),
    ("softsign", {}), ("tanhshrink", {}), ("softshrink", {}), ("softshrink", {"lambd": 1.0}),
    ("hardshrink", {}), ("hardshrink", {"lambd": 1.0}), ("threshold", {"threshold": 0.5, "value": -2.0}),
]


@pytest.mark.parametrize("name, options", ELEMENTWISE, ids=[f"{n}-{o}" for n, o in ELEMENTWISE])
def test_elementwise_matches_torch(name, options):
    ours, theirs = getattr(F, name), getattr(TF, name)
    compare_with_torch(lambda x: ours(x, **options), lambda x: theirs(x, **options), [_sample()])


@pytest.mark.parametrize("name", ["relu", "relu6", "elu", "selu", "celu", "leaky_relu", "silu", "mish",
                                  "hardtanh", "hardsigmoid", "hardswish", "threshold"])
def test_inplace_without_graph_overwrites_input(name):
    options = {"threshold": 0.0, "value": 0.0} if name == "threshold" else {}
    x = dendrite.tensor(_sample(1))
    expected = getattr(F, name)(x, **options).numpy().copy()
    result = getattr(F, name)(x, inplace=True, **options)
    assert result is x
    np.testing.assert_array_equal(x.numpy(), expected)


def test_inplace_on_leaf_requiring_grad_is_refused():
    x = dendrite.tensor(_sample(), requires_grad=True)
    with pytest.raises(RuntimeError, match="relu.*inplace"):
        F.relu(x, inplace=True)


def test_inplace_inside_graph_keeps_gradients_right():
    data = _sample(2)
    x = dendrite.tensor(data, requires_grad=True)
    F.elu(x * 2, inplace=True).sum().backward()
    expected = torch.tensor(data, requires_grad=True)
    TF.elu(expected * 2, inplace=True).sum().backward()
    assert_close(x.grad, expected.grad)


def test_float32_stays_float32():
    x = dendrite.tensor(_sample().astype(np.float32), requires_grad=True)
    for name, options in ELEMENTWISE:
        x.grad = None
        y = getattr(F, name)(x, **options)
        assert y.dtype == dendrite.float32, name
        y.sum().backward()
        assert x.grad.dtype == dendrite.float32, name


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_over_a_wide_range(approximate):
    values = np.linspace(-12, 12, 2401)
    compare_with_torch(lambda x: F.gelu(x, approximate=approximate),
                       lambda x: TF.gelu(x, approximate=approximate), [values])


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(dendrite.zeros(2), approximate="fast")


def test_erf_is_accurate_to_an_ulp():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.uniform(-7, 7, 5000), np.geomspace(1e-300, 7, 500),
                             -np.geomspace(1e-300, 7, 500), [0.0, 0.999, 1.0, 2.0, 3.5, 5.999, 6.0]])
    reference = np.array([math.erf(v) for v in values])
    ours = erf(values)
    ulps = np.abs(ours - reference) / np.spacing(np.abs(reference))
    assert ulps.max() <= 2, f"worst at {values[np.argmax(ulps)]}: {ulps.max()} ulp"
    special = erf(np.array([np.inf, -np.inf, np.nan, -0.0]))
    assert special[0] == 1 and special[1] == -1 and np.isnan(special[2])
    assert special[3] == 0 and np.signbit(special[3])


def test_gradcheck_of_fused_activations():
    x = dendrite.tensor(np.array([-2.5, -0.7, 0.3, 1.9, 4.0]), requires_grad=True)
    for function in (F.gelu, F.silu, F.mish, F.logsigmoid, F.elu, F.selu, F.softplus, F.hardswish):
        assert dendrite.autograd.gradcheck(function, (x,))
    assert dendrite.autograd.gradcheck(lambda t: F.gelu(t, approximate="tanh"), (x,))
    assert dendrite.autograd.gradcheck(lambda t: F.celu(t, alpha=0.6), (x,))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_matches_torch(name, dim):
    data = np.random.default_rng(4).standard_normal((3, 4, 5)) * 4
    compare_with_torch(lambda x: getattr(F, name)(x, dim=dim), lambda x: getattr(TF, name)(x, dim=dim),
                       [data])


def test_softmax_dtype_argument_and_implicit_dim():
    data = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
    result = F.softmax(dendrite.tensor(data), dim=1, dtype=dendrite.float64)
    assert result.dtype == dendrite.float64
    assert_close(result, TF.softmax(torch.tensor(data), dim=1, dtype=torch.float64))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        implicit = F.log_softmax(dendrite.tensor(data))
    assert_close(implicit, TF.log_softmax(torch.tensor(data), dim=1), rtol=1e-6)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, math.inf])
@pytest.mark.parametrize("dim", [1, 0, -1])
def test_normalize_matches_torch(p, dim):
    data = np.random.default_rng(6).standard_normal((4, 5, 3))
    data[1, :, 2] = 0.0  # a zero vector along dim 1
    data[:, 1, 0] = 0.0  # and one along dim 0
    compare_with_torch(lambda x: F.normalize(x, p=p, dim=dim), lambda x: TF.normalize(x, p=p, dim=dim),
                       [data])


def test_normalize_over_several_dims():
    data = np.random.default_rng(8).standard_normal((2, 3, 4))
    compare_with_torch(lambda x: F.normalize(x, dim=(1, 2)), lambda x: TF.normalize(x, dim=(1, 2)), [data])
    compare_with_torch(lambda x: F.normalize(x, p=1, dim=(0, 2)), lambda x: TF.normalize(x, p=1, dim=(0, 2)),
                       [data])


def test_normalize_zero_vector_gradient_and_ties():
    compare_with_torch(lambda x: F.normalize(x, dim=0), lambda x: TF.normalize(x, dim=0), [np.zeros(3)])
    tied = np.array([[1.0, -2.0, 2.0], [3.0, 3.0, -3.0]])
    compare_with_torch(lambda x: F.normalize(x, p=math.inf), lambda x: TF.normalize(x, p=math.inf), [tied])


def test_glu_prelu_rrelu_match_torch():
    data = np.random.default_rng(7).standard_normal((2, 4, 3))
    compare_with_torch(lambda x: F.glu(x, 1), lambda x: TF.glu(x, 1), [data])
    slopes = np.array([0.1, -0.2, 0.3, 0.25])
    compare_with_torch(F.prelu, TF.prelu, [data, slopes])
    compare_with_torch(F.prelu, TF.prelu, [data, np.array([0.3])])
    compare_with_torch(lambda x: F.rrelu(x, training=False), lambda x: TF.rrelu(x, training=False), [data])
    with pytest.raises(RuntimeError, match="glu"):
        F.glu(dendrite.zeros(3))


def test_rrelu_training_slopes_are_random_within_bounds():
    dendrite.manual_seed(0)
    x = dendrite.tensor(-np.ones(2000))
    slopes = -F.rrelu(x, lower=0.1, upper=0.3, training=True).numpy()
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3 and slopes.std() > 0.03
    positive = dendrite.tensor(np.ones(10))
    np.testing.assert_array_equal(F.rrelu(positive, training=True).numpy(), np.ones(10))


def test_hardtanh_rejects_inverted_bounds():
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(dendrite.zeros(2), min_val=1.0, max_val=-1.0)
