"""Dropout functions: statistics, scaling, channel masks, gradients, determinism, argument checks."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional as F


def _ones(*shape, requires_grad=False):
    return dendrite.tensor(np.ones(shape), requires_grad=requires_grad)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_the_expected_fraction_and_scales(p):
    dendrite.manual_seed(0)
    out = F.dropout(_ones(200, 500), p=p).numpy()
    kept = out != 0
    # 100,000 Bernoulli draws: the kept fraction is within 5 standard deviations of 1 - p.
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / out.size)
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-12)
    assert abs(out.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_dropout_gradient_is_the_same_scaled_mask():
    dendrite.manual_seed(1)
    x = _ones(50, 40, requires_grad=True)
    out = F.dropout(x, p=0.3)
    weights = np.random.default_rng(0).standard_normal(out.shape)
    (out * dendrite.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), weights * out.detach().numpy())


def test_dropout_is_deterministic_under_manual_seed():
    dendrite.manual_seed(7)
    first = F.dropout(_ones(30, 30)).numpy()
    dendrite.manual_seed(7)
    second = F.dropout(_ones(30, 30)).numpy()
    third = F.dropout(_ones(30, 30)).numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(second, third)


def test_eval_mode_and_p_zero_return_the_input():
    x = _ones(3, 4)
    assert F.dropout(x, p=0.5, training=False) is x
    assert F.dropout(x, p=0.0) is x
    assert F.dropout2d(_ones(2, 3, 4, 4), training=False).shape == (2, 3, 4, 4)


def test_p_one_zeroes_everything_with_zero_gradient():
    x = _ones(4, 5, requires_grad=True)
    out = F.dropout(x, p=1.0)
    assert not out.detach().numpy().any()
    out.sum().backward()
    assert not x.grad.numpy().any()


@pytest.mark.parametrize("p", [-0.1, 1.5])
@pytest.mark.parametrize("name", ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"])
def test_probability_out_of_range_is_refused(name, p):
    shape = {"dropout1d": (2, 3, 4), "dropout2d": (2, 3, 4, 4), "dropout3d": (2, 3, 2, 2, 2)}.get(name, (4,))
    with pytest.raises(ValueError, match="between 0 and 1"):
        getattr(F, name)(_ones(*shape), p=p, training=True)


@pytest.mark.parametrize("name, shape", [("dropout1d", (6, 20, 7)), ("dropout1d", (20, 7)),
                                         ("dropout2d", (6, 20, 3, 3)), ("dropout3d", (6, 20, 2, 2, 2)),
                                         ("dropout3d", (20, 2, 2, 2))])
def test_channel_dropout_zeroes_whole_channels(name, shape):
    dendrite.manual_seed(2)
    out = getattr(F, name)(_ones(*shape), p=0.5).numpy()
    batched = len(shape) == {"dropout1d": 3, "dropout2d": 4, "dropout3d": 5}[name]
    channels = out.reshape(shape[0] * shape[1], -1) if batched else out.reshape(shape[0], -1)
    for channel in channels:  # every channel is all zeros or all 2.0
        assert np.all(channel == 0) or np.allclose(channel, 2.0)
    dropped = np.mean([np.all(c == 0) for c in channels])
    assert 0.2 < dropped < 0.8


def test_dropout1d_rejects_wrong_rank():
    with pytest.raises(RuntimeError, match="dropout1d"):
        F.dropout1d(_ones(2, 3, 4, 5))


def test_dropout2d_warns_for_3d_input():
    with pytest.warns(UserWarning, match="3-D"):
        F.dropout2d(_ones(2, 3, 4))


def test_alpha_dropout_keeps_mean_and_variance_of_standard_normal_input():
    dendrite.manual_seed(3)
    data = np.random.default_rng(4).standard_normal(400_000)
    out = F.alpha_dropout(dendrite.tensor(data), p=0.3, training=True).numpy()
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1) < 0.01
    # Dropped units all take one value: a * alpha' * (p - 1), with alpha' = SELU's scale * alpha.
    alpha_prime, p = 1.7580993408473766, 0.3
    a = ((alpha_prime ** 2 * p + 1) * (1 - p)) ** -0.5
    dropped = np.isclose(out, a * alpha_prime * (p - 1), rtol=1e-12, atol=0)
    assert abs(dropped.mean() - p) < 0.005
    np.testing.assert_allclose(out[~dropped], a * data[~dropped] + a * alpha_prime * p, rtol=1e-12)
    # training defaults to False: the input comes back unchanged
    np.testing.assert_array_equal(F.alpha_dropout(dendrite.tensor(data)).numpy(), data)


def test_feature_alpha_dropout_drops_whole_channels():
    dendrite.manual_seed(5)
    out = F.feature_alpha_dropout(_ones(4, 10, 6), p=0.5, training=True).numpy()
    for channel in out.reshape(40, 6):
        assert np.allclose(channel, channel[0])


def test_inplace_dropout_without_graph_overwrites_input():
    dendrite.manual_seed(6)
    x = _ones(10, 10)
    result = F.dropout(x, p=0.5, inplace=True)
    assert result is x
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}


def test_dropout_keeps_float32():
    x = dendrite.ones(5, 5, requires_grad=True)
    out = F.dropout(x, 0.2)
    assert out.dtype == dendrite.float32
    out.sum().backward()
    assert x.grad.dtype == dendrite.float32
