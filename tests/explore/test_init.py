"""The initialisation explorer's numbers against the variance theory: bands, geometric rates, symmetry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dendrite.explore.init import (
    ACTIVATIONS,
    SCHEMES,
    explanation,
    signal_stats,
    theoretical_std,
    train_run,
    write_pictures,
)


def _per_layer_ratios(stds: list[float]) -> np.ndarray:
    stds = np.asarray(stds)
    return stds[1:] / stds[:-1]


def test_kaiming_relu_keeps_the_std_within_a_band_over_20_layers():
    stats = signal_stats("kaiming_normal", "relu", depth=20, width=256)
    ratio = stats.act_std[-1] / stats.act_std[0]
    assert 0.5 <= ratio <= 2.0, stats.act_std
    # every layer within 25% of the mean-field prediction sqrt(1 - 1/pi) = 0.826
    assert stats.theory_std[0] == pytest.approx(math.sqrt(1 - 1 / math.pi), rel=1e-3)
    assert np.all(np.abs(np.asarray(stats.act_std) / stats.theory_std[0] - 1) < 0.25), stats.act_std
    # and the backward pass keeps the gradient's scale too (fan_in * 2/fan_in * 1/2 = 1 per layer)
    assert 0.5 <= stats.grad_std[0] / stats.grad_std[-1] <= 2.0, stats.grad_std
    assert explanation(stats).startswith("Healthy")


@pytest.mark.parametrize("activation, theory", [("relu", math.sqrt(256 * 0.01**2 / 2)),
                                                 ("linear", math.sqrt(256 * 0.01**2))])
def test_a_too_small_normal_collapses_geometrically_at_the_predicted_rate(activation, theory):
    stats = signal_stats("small_normal", activation, depth=20, width=256)
    ratios = _per_layer_ratios(stats.act_std)
    measured = float(np.exp(np.mean(np.log(ratios))))  # the geometric mean rate per layer
    assert measured == pytest.approx(theory, rel=0.1)
    assert np.all(np.abs(ratios / theory - 1) < 0.2), ratios  # every single layer, not just on average
    assert stats.act_std[-1] < 1e-15
    predicted = theoretical_std("small_normal", activation, 20, 256)
    assert predicted[1] / predicted[0] == pytest.approx(theory, rel=1e-3)
    assert explanation(stats).startswith("Vanished")


def test_a_large_normal_saturates_tanh():
    stats = signal_stats("large_normal", "tanh", depth=10, width=256)
    assert min(stats.saturated[1:]) > 0.8, stats.saturated  # most units at +-1
    assert stats.act_std[-1] > 0.95  # a sign function: values near -1 or +1
    edge_share = (stats.hist_counts[-1][0] + stats.hist_counts[-1][-1]) / (256 * 512)
    assert edge_share > 0.8
    assert explanation(stats).startswith("Saturated")


def test_a_large_normal_explodes_a_linear_net_geometrically():
    stats = signal_stats("large_normal", "linear", depth=20, width=256)
    ratios = _per_layer_ratios(stats.act_std)
    assert float(np.exp(np.mean(np.log(ratios)))) == pytest.approx(16.0, rel=0.1)  # sqrt(256 * 1)
    assert stats.act_std[-1] > 1e20
    assert explanation(stats).startswith("Exploded")


def test_xavier_tanh_is_healthy_and_matches_theory():
    stats = signal_stats("xavier_normal", "tanh", depth=20, width=256)
    assert 0.5 <= stats.act_std[-1] / stats.act_std[0] <= 2.0
    assert np.allclose(stats.act_std, stats.theory_std, rtol=0.05), (stats.act_std, stats.theory_std)
    assert max(stats.saturated[1:]) < 0.05, stats.saturated  # layer 1 sees the gain 5/3 on unit inputs
    assert explanation(stats).startswith("Healthy")


@pytest.mark.parametrize("scheme", ["zeros", "constant"])
def test_zeros_and_constant_make_every_neuron_a_copy(scheme):
    stats = signal_stats(scheme, "tanh", depth=6, width=64)
    assert stats.distinct_neurons == [1] * 6
    assert explanation(stats).startswith("Symmetric")
    random = signal_stats("kaiming_normal", "tanh", depth=6, width=64)
    assert random.distinct_neurons == [64] * 6


def test_zeros_give_hidden_weights_no_gradient():
    stats = signal_stats("zeros", "relu", depth=6, width=32)
    assert stats.weight_grad_std == [0.0] * 6
    assert stats.act_std == [0.0] * 6


def test_orthogonal_linear_preserves_every_samples_norm():
    stats = signal_stats("orthogonal", "linear", depth=20, width=128)
    assert np.allclose(stats.norm_ratio, 1.0, atol=1e-10), stats.norm_ratio
    assert np.allclose(stats.grad_std, stats.grad_std[-1], rtol=1e-2)


def test_constant_theory_follows_the_measured_explosion():
    stats = signal_stats("constant", "relu", depth=8, width=64)
    assert np.allclose(stats.act_std, stats.theory_std, rtol=0.1), (stats.act_std, stats.theory_std)


def test_every_scheme_and_activation_runs_and_is_json_ready():
    for scheme in SCHEMES:
        for activation in ACTIVATIONS:
            data = signal_stats(scheme, activation, depth=3, width=8, samples=16).to_json()
            assert len(data["act_std"]) == 3 and len(data["hist_counts"]) == 3
            assert sum(data["hist_counts"][0]) == 8 * 16
            assert all(v is None or math.isfinite(v) for v in data["act_std"] + data["grad_std"])


def test_bad_arguments_name_what_was_wrong():
    with pytest.raises(ValueError, match="unknown scheme 'he'"):
        signal_stats("he", "relu")
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        signal_stats("zeros", "gelu")
    with pytest.raises(ValueError, match="depth must be a whole number in 1..50"):
        signal_stats("zeros", "relu", depth=51)
    with pytest.raises(ValueError, match="width must be"):
        train_run("zeros", "relu", width=1000)
    with pytest.raises(ValueError, match="unknown dataset"):
        train_run("zeros", "relu", dataset="mnist")


def test_kaiming_trains_the_spiral_while_zeros_stay_at_ln2():
    kaiming = train_run("kaiming_normal", "relu", depth=6, width=32, dataset="spiral", epochs=60)
    zeros = train_run("zeros", "relu", depth=6, width=32, dataset="spiral", epochs=60)
    assert zeros.loss[-1] == pytest.approx(math.log(2), abs=1e-3)
    assert zeros.accuracy == pytest.approx(0.5, abs=0.05)
    assert kaiming.loss[-1] < 0.2 and kaiming.accuracy > 0.9
    assert kaiming.loss[-1] < zeros.loss[-1] - 0.4
    boundary = np.asarray(kaiming.boundary)
    assert boundary.shape == (60, 60) and boundary.min() < 0.1 and boundary.max() > 0.9


def test_write_pictures_writes_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    paths = write_pictures(tmp_path, quick=True)
    assert [path.name for path in paths] == ["init_signals.png", "init_training.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
