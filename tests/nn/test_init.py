"""nn.init: sample statistics against theory, PyTorch's gains and fans, determinism, layer defaults."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import dendrite
from dendrite import nn
from dendrite.nn import init

SHAPE = (400, 500)  # 200k draws: the sample std is within ~0.3% of the true one


def _std(tensor) -> float:
    return float(np.std(tensor.detach().numpy()))


def _empty(*shape):
    return dendrite.empty(*shape)


# ---------------------------------------------------------------------------- gains and fans
@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
    ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("leaky_relu", 0),
    ("selu", None),
])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="Unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5), (16, 4, 3, 3), (2, 6, 2, 3, 4)])
def test_fans_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(_empty(*shape)) == expected


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(_empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(_empty(3, 3), mode="fan_avg")


# ---------------------------------------------------------------------------- distributions vs theory
FAN_IN, FAN_OUT = SHAPE[1], SHAPE[0]
XAVIER_STD = math.sqrt(2 / (FAN_IN + FAN_OUT))
CASES = [
    ("uniform", lambda t: init.uniform_(t, -0.3, 0.7), 1.0 / math.sqrt(12), 0.2),
    ("normal", lambda t: init.normal_(t, 0.5, 2.0), 2.0, 0.5),
    ("xavier_uniform", lambda t: init.xavier_uniform_(t, gain=2.0), 2.0 * XAVIER_STD, 0),
    ("xavier_normal", lambda t: init.xavier_normal_(t), XAVIER_STD, 0),
    ("kaiming_uniform_relu", lambda t: init.kaiming_uniform_(t, nonlinearity="relu"),
     math.sqrt(2 / FAN_IN), 0),
    ("kaiming_normal_fan_out", lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     math.sqrt(2 / FAN_OUT), 0),
    ("kaiming_normal_leaky", lambda t: init.kaiming_normal_(t, a=0.2),
     math.sqrt(2 / (1 + 0.04)) / math.sqrt(FAN_IN), 0),
    ("kaiming_uniform_sqrt5", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)),
     1 / math.sqrt(3 * FAN_IN), 0),
    ("lecun_uniform", lambda t: init.lecun_uniform_(t), 1 / math.sqrt(FAN_IN), 0),
    ("lecun_normal", lambda t: init.lecun_normal_(t), 1 / math.sqrt(FAN_IN), 0),
    ("orthogonal", lambda t: init.orthogonal_(t, gain=3.0), 3.0 / math.sqrt(SHAPE[1]), 0),
]


@pytest.mark.parametrize("name, fill, std, mean", CASES, ids=[c[0] for c in CASES])
def test_distribution_statistics(name, fill, std, mean):
    tensor = _empty(*SHAPE)
    assert fill(tensor) is tensor
    values = tensor.numpy()
    assert values.dtype == np.float32
    assert np.std(values) == pytest.approx(std, rel=0.02), name
    assert np.mean(values) == pytest.approx(mean, abs=0.02 * std + 1e-12), name


@pytest.mark.parametrize("fill, bound", [
    (lambda t: init.xavier_uniform_(t), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(FAN_IN)),
    (lambda t: init.lecun_uniform_(t), math.sqrt(3 / FAN_IN)),
])
def test_uniform_bounds(fill, bound):
    values = fill(_empty(*SHAPE)).numpy()
    assert values.max() <= bound and values.min() >= -bound
    assert values.max() > 0.99 * bound and values.min() < -0.99 * bound


def _truncated_normal_std(mean, std, a, b):
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))
    z = cdf(beta) - cdf(alpha)
    variance = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - ((pdf(alpha) - pdf(beta)) / z) ** 2
    return std * math.sqrt(variance)


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04),
                                             (1.0, 2.0, 0.0, 5.0)])
def test_trunc_normal(mean, std, a, b):
    values = init.trunc_normal_(_empty(*SHAPE), mean, std, a, b).numpy()
    assert values.min() >= a and values.max() <= b
    assert np.std(values) == pytest.approx(_truncated_normal_std(mean, std, a, b), rel=0.02)


def test_orthogonal_rows_and_columns():
    wide = init.orthogonal_(dendrite.empty(3, 7, dtype=dendrite.float64)).numpy()
    np.testing.assert_allclose(wide @ wide.T, np.eye(3), atol=1e-12)
    tall = init.orthogonal_(dendrite.empty(6, 2, 2, dtype=dendrite.float64)).numpy().reshape(6, 4)
    np.testing.assert_allclose(tall.T @ tall, np.eye(4), atol=1e-12)


# ---------------------------------------------------------------------------- deterministic fills
def test_constant_fills():
    assert init.constant_(_empty(2, 2), 0.5).tolist() == [[0.5, 0.5], [0.5, 0.5]]
    assert init.ones_(_empty(3)).tolist() == [1.0, 1.0, 1.0]
    assert init.zeros_(_empty(3)).tolist() == [0.0, 0.0, 0.0]
    assert init.eye_(_empty(2, 3)).tolist() == torch.nn.init.eye_(torch.empty(2, 3)).tolist()
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(_empty(2, 2, 2))


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 1), ((4, 2, 3, 3), 2),
                                           ((5, 2, 1, 3, 3), 1)])
def test_dirac_matches_torch(shape, groups):
    expected = torch.nn.init.dirac_(torch.empty(shape), groups).numpy()
    np.testing.assert_array_equal(init.dirac_(_empty(*shape), groups).numpy(), expected)


def test_sparse_zeroes_a_fraction_of_each_column():
    values = init.sparse_(_empty(10, 50), sparsity=0.3).numpy()
    assert ((values == 0).sum(axis=0) == 3).all()


# ---------------------------------------------------------------------------- contract
def test_init_on_parameter_is_not_recorded():
    weight = nn.Parameter(dendrite.empty(3, 4))
    init.kaiming_normal_(weight)
    assert weight.is_leaf and weight.requires_grad and weight.grad_fn is None


def test_manual_seed_repeats():
    dendrite.manual_seed(123)
    first = init.xavier_normal_(_empty(5, 6)).numpy().copy()
    dendrite.manual_seed(123)
    second = init.xavier_normal_(_empty(5, 6)).numpy()
    np.testing.assert_array_equal(first, second)
    dendrite.manual_seed(123)
    layer_a = nn.Linear(5, 6).weight.detach().numpy().copy()
    dendrite.manual_seed(123)
    np.testing.assert_array_equal(nn.Linear(5, 6).weight.detach().numpy(), layer_a)


def test_float64_tensor_keeps_dtype():
    tensor = init.normal_(dendrite.empty(4, dtype=dendrite.float64))
    assert tensor.dtype == dendrite.float64


def test_zero_element_kaiming_is_a_noop():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(_empty(0, 3))


# ---------------------------------------------------------------------------- layer defaults
@pytest.mark.parametrize("build, fan_in", [
    (lambda: nn.Linear(300, 400), 300),
    (lambda: nn.Conv2d(16, 64, 5), 16 * 25),
    (lambda: nn.Conv1d(32, 128, 7, groups=4), 8 * 7),
    (lambda: nn.ConvTranspose2d(64, 32, 4), 32 * 16),  # PyTorch's fan_in of a transposed weight is dim 1
    (lambda: nn.Bilinear(20, 30, 40), 20),
])
def test_layer_default_init_matches_theory(build, fan_in):
    layer = build()
    bound = 1 / math.sqrt(fan_in)
    weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.std(weight) == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound


def test_embedding_init_and_padding_row():
    embedding = nn.Embedding(500, 64, padding_idx=-1)
    weight = embedding.weight.detach().numpy()
    assert embedding.padding_idx == 499
    assert (weight[499] == 0).all()
    assert np.std(weight[:499]) == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("build", [lambda lib: lib.BatchNorm2d(5), lambda lib: lib.LayerNorm((2, 3)),
                                   lambda lib: lib.GroupNorm(2, 4), lambda lib: lib.PReLU(3, init=0.1)])
def test_deterministic_layer_init_equals_torch(build):
    theirs, ours = build(torch.nn), build(nn)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy(), err_msg=key)
