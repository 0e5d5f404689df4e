"""Mackey-Glass, sum of sines, windowing without leakage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dendrite.data import load_mackey_glass, load_sine, mackey_glass, make_windows, sine_series, window_splits


def _euler_mackey_glass(n_points, dt=0.001, tau=17.0, beta=0.2, gamma=0.1, exponent=10.0, x0=1.2):
    """An independent reference: explicit Euler with a fine step, sampled every time unit."""
    delay, per_unit = round(tau / dt), round(1.0 / dt)
    history = [x0] * (delay + 1)
    x, samples = x0, []
    for step in range(n_points * per_unit):
        delayed = history[step]
        x += dt * (beta * delayed / (1.0 + delayed**exponent) - gamma * x)
        history.append(x)
        if (step + 1) % per_unit == 0:
            samples.append(x)
    return np.array(samples)


def test_mackey_glass_matches_a_fine_euler_reference():
    ours = mackey_glass(60, discard=0)
    reference = _euler_mackey_glass(60)
    np.testing.assert_allclose(ours, reference, atol=5e-4)  # Euler at dt=0.001 is off by ~1e-4


def test_mackey_glass_shape_range_and_determinism():
    series = mackey_glass(1500)
    assert series.shape == (1500,) and series.dtype == np.float64
    assert 0.3 < series.min() < 0.6 and 1.1 < series.max() < 1.5  # the familiar chaotic attractor
    np.testing.assert_array_equal(series, mackey_glass(1500))
    # discard drops the first samples of the same trajectory
    np.testing.assert_allclose(mackey_glass(100, discard=50), mackey_glass(150, discard=0)[50:])


def test_mackey_glass_argument_errors():
    with pytest.raises(ValueError, match="tau=17.05 must be a positive whole multiple of dt=0.1"):
        mackey_glass(10, tau=17.05)
    with pytest.raises(ValueError, match="sample_every"):
        mackey_glass(10, sample_every=0.25)


def test_sine_series_formula_and_noise():
    t = np.arange(50) * 0.1
    expected = np.sin(0.5 * t) + 0.5 * np.sin(1.3 * t + 1.0) + 0.25 * np.sin(2.9 * t + 2.0)
    np.testing.assert_allclose(sine_series(50), expected, atol=1e-12)
    noisy = sine_series(2000, noise=0.1, seed=0)
    assert abs(float((noisy - sine_series(2000)).std()) - 0.1) < 0.01
    np.testing.assert_array_equal(noisy, sine_series(2000, noise=0.1, seed=0))


def test_make_windows_values_and_shapes():
    x, y = make_windows(np.arange(10), window=4, horizon=2)
    assert x.shape == (5, 4) and y.tolist() == [5, 6, 7, 8, 9]
    assert x[1].tolist() == [1, 2, 3, 4]
    multi = np.stack([np.arange(8), 100 + np.arange(8)], 1)
    xm, ym = make_windows(multi, window=3)
    assert xm.shape == (5, 3, 2) and ym.shape == (5, 2)
    assert xm[2].tolist() == [[2, 102], [3, 103], [4, 104]] and ym[2].tolist() == [5, 105]
    with pytest.raises(ValueError, match="too short for window=5, horizon=1"):
        make_windows(np.arange(5), window=5)


def test_window_splits_time_order_no_leakage_and_train_statistics():
    series = np.cumsum(np.random.default_rng(0).standard_normal(200)) + 50
    x_train, y_train, x_test, y_test, stats = window_splits(series, 10, test_fraction=0.25)
    split = 150
    assert stats["mean"] == pytest.approx(series[:split].mean())
    assert stats["std"] == pytest.approx(series[:split].std())
    raw = lambda values: values * stats["std"] + stats["mean"]
    np.testing.assert_allclose(raw(y_train), series[10:split])  # every training target before the split
    np.testing.assert_allclose(raw(y_test), series[split:])  # every test step is predicted once
    np.testing.assert_allclose(raw(x_test[0]), series[split - 10:split])  # from the known past
    assert np.all(np.abs(raw(x_train)).max() <= np.abs(series[:split]).max() + 1e-9)
    with pytest.raises(ValueError, match="leaves no room for window=50"):
        window_splits(np.arange(60.0), 50, test_fraction=0.5)


def test_loaders_shapes_and_metadata():
    data = load_mackey_glass(n_points=1000, window=16)
    assert data.task == "sequence" and data.input_shape == (16, 1)
    assert data.x_train.shape == (784, 16, 1) and data.y_train.shape == (784, 1)
    assert data.x_test.shape == (200, 16, 1) and data.x_train.dtype == np.float32
    assert abs(float(data.y_train.mean())) < 0.1 and data.info["tau"] == 17.0
    sine = load_sine(n_points=500, window=8)
    assert sine.x_train.shape == (392, 8, 1) and not math.isnan(sine.info["std"])
