"""Time series for one-step-ahead prediction: Mackey-Glass, a sum of sines, and windowing.

Mackey-Glass is the delay differential equation

    dx/dt = beta * x(t - tau) / (1 + x(t - tau)^n) - gamma * x(t)

with the classic chaotic setting tau=17, beta=0.2, gamma=0.1, n=10. It is
integrated here with fourth-order Runge-Kutta at step ``dt`` (0.1) from the
constant history x = 1.2 for t <= 0; the delayed value at a half step is the
mean of its neighbours on the grid (tau is a whole number of steps). The
series is sampled every ``sample_every`` time units (1.0) after an initial
transient is discarded.

Windowing (:func:`window_splits`) splits in time order: the first part of the
series trains, the rest tests, no training target lies in the test part, and
the normalisation statistics come from the training part only (no leakage).
"""

from __future__ import annotations

import math

import numpy as np

from dendrite.data.splits import DataSplits


def mackey_glass(n_points: int = 3000, tau: float = 17.0, beta: float = 0.2, gamma: float = 0.1,
                 exponent: float = 10.0, dt: float = 0.1, sample_every: float = 1.0, x0: float = 1.2,
                 discard: int = 500) -> np.ndarray:
    """The Mackey-Glass series, ``n_points`` samples as float64 of shape ``(n_points,)``.

    Args:
        tau, beta, gamma, exponent: the equation's delay and coefficients.
        dt: the RK4 step; ``tau`` and ``sample_every`` must be whole multiples of it.
        x0: the constant history for t <= 0.
        discard: samples thrown away first (the transient from the constant history).

    Example:
        >>> series = mackey_glass(500)
        >>> series.shape, bool(0.2 < series.min() < series.max() < 1.5)
        ((500,), True)
    """
    if n_points < 1 or discard < 0:
        raise ValueError(f"mackey_glass: expected n_points >= 1 and discard >= 0, got {n_points}, {discard}")
    delay_steps = round(tau / dt)
    steps_per_sample = round(sample_every / dt)
    if delay_steps < 1 or not math.isclose(delay_steps * dt, tau, rel_tol=1e-9):
        raise ValueError(f"mackey_glass: tau={tau} must be a positive whole multiple of dt={dt}")
    if steps_per_sample < 1 or not math.isclose(steps_per_sample * dt, sample_every, rel_tol=1e-9):
        raise ValueError(f"mackey_glass: sample_every={sample_every} must be a whole multiple of dt={dt}")

    def slope(x: float, delayed: float) -> float:
        return beta * delayed / (1.0 + delayed**exponent) - gamma * x

    total = (n_points + discard) * steps_per_sample
    # history[k] is x at step k - delay_steps: the first delay_steps + 1 entries are the constant past.
    history = [float(x0)] * (delay_steps + 1)
    x, half = float(x0), 0.5 * dt
    for step in range(total):
        delayed_now = history[step]
        delayed_next = history[step + 1]
        delayed_mid = 0.5 * (delayed_now + delayed_next)
        k1 = slope(x, delayed_now)
        k2 = slope(x + half * k1, delayed_mid)
        k3 = slope(x + half * k2, delayed_mid)
        k4 = slope(x + dt * k3, delayed_next)
        x += dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        history.append(x)
    # history[delay_steps + s] is x at step s; keep every steps_per_sample-th after the transient.
    samples = np.asarray(history[delay_steps:], dtype=np.float64)[steps_per_sample::steps_per_sample]
    return samples[discard:discard + n_points]


def sine_series(n_points: int = 2000, dt: float = 0.1,
                components: tuple = ((1.0, 0.5, 0.0), (0.5, 1.3, 1.0), (0.25, 2.9, 2.0)),
                noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A sum of sines ``sum(a * sin(w * t + phase))`` at ``t = 0, dt, 2 dt, ...``, shape ``(n_points,)``.

    ``components`` holds ``(amplitude, angular frequency, phase)`` triples; ``noise`` adds
    Gaussian noise of that standard deviation (seeded).

    Example:
        >>> sine_series(4, components=((1.0, 1.0, 0.0),), dt=math.pi / 2).round(6).tolist()
        [0.0, 1.0, 0.0, -1.0]
    """
    if n_points < 1:
        raise ValueError(f"sine_series: n_points must be >= 1, got {n_points}")
    t = np.arange(n_points) * dt
    values = np.zeros(n_points)
    for amplitude, frequency, phase in components:
        values += amplitude * np.sin(frequency * t + phase)
    if noise:
        values += np.random.default_rng(seed).normal(0.0, noise, n_points)
    return values


def make_windows(series: np.ndarray, window: int, horizon: int = 1) -> tuple:
    """Input windows and the value ``horizon`` steps after each.

    Shapes: a series ``(T,)`` gives ``x (N, window)`` and ``y (N,)``; a multivariate series
    ``(T, F)`` gives ``x (N, window, F)`` and ``y (N, F)``, with ``N = T - window - horizon + 1``.
    ``x[i] = series[i : i + window]`` and ``y[i] = series[i + window + horizon - 1]``.

    Example:
        >>> x, y = make_windows(np.arange(6), window=3)
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [1, 2, 3], [2, 3, 4]], [3, 4, 5])
    """
    series = np.asarray(series)
    if series.ndim not in (1, 2):
        raise ValueError(f"make_windows: series must have shape (T,) or (T, F), got {series.shape}")
    if window < 1 or horizon < 1:
        raise ValueError(f"make_windows: window and horizon must be >= 1, got {window}, {horizon}")
    count = len(series) - window - horizon + 1
    if count < 1:
        raise ValueError(
            f"make_windows: a series of {len(series)} steps is too short for window={window}, "
            f"horizon={horizon}; expected at least {window + horizon} steps"
        )
    windows = np.lib.stride_tricks.sliding_window_view(series, window, axis=0)[:count]
    if series.ndim == 2:
        windows = windows.transpose(0, 2, 1)  # sliding_window_view puts the window axis last
    return np.ascontiguousarray(windows), series[window + horizon - 1:window + horizon - 1 + count].copy()


def window_splits(series: np.ndarray, window: int, test_fraction: float = 0.2, horizon: int = 1,
                  normalize: bool = True) -> tuple:
    """Time-ordered train/test windows with no leakage: ``(x_train, y_train, x_test, y_test, stats)``.

    The first ``1 - test_fraction`` of the series gives the training windows (inputs and targets
    inside it); test targets are the remaining steps, their input windows may reach back into the
    training part (those values are the known past). With ``normalize``, the series is standardised
    with the training part's mean and std, returned in ``stats = {"mean": .., "std": ..}``.

    Example:
        >>> x_tr, y_tr, x_te, y_te, _ = window_splits(np.arange(10.0), 3, 0.3, normalize=False)
        >>> y_tr.tolist(), y_te.tolist(), x_te[0].tolist()
        ([3.0, 4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [4.0, 5.0, 6.0])
    """
    series = np.asarray(series, dtype=np.float64)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"window_splits: test_fraction must be in (0, 1), got {test_fraction}")
    split = int(round(len(series) * (1.0 - test_fraction)))
    first_test_input = split - window - horizon + 1
    if first_test_input < 0 or split >= len(series):
        raise ValueError(
            f"window_splits: a series of {len(series)} steps split at {split} leaves no room for "
            f"window={window}, horizon={horizon}; use a longer series or a smaller window"
        )
    stats = {"mean": 0.0, "std": 1.0}
    if normalize:
        train_part = series[:split]
        stats = {"mean": float(train_part.mean()), "std": float(train_part.std()) or 1.0}
        series = (series - stats["mean"]) / stats["std"]
    x_train, y_train = make_windows(series[:split], window, horizon)
    x_test, y_test = make_windows(series[first_test_input:], window, horizon)
    return x_train, y_train, x_test, y_test, stats


def _series_splits(name: str, series: np.ndarray, window: int, test_fraction: float, horizon: int,
                   description: str, extra: dict) -> DataSplits:
    x_train, y_train, x_test, y_test, stats = window_splits(series, window, test_fraction, horizon)

    def shaped(x, y):  # add a feature axis: (N, window, 1) inputs for RNNs, (N, 1) targets
        return x[..., None].astype(np.float32), y[:, None].astype(np.float32)

    (x_train, y_train), (x_test, y_test) = shaped(x_train, y_train), shaped(x_test, y_test)
    return DataSplits(
        name, "sequence", x_train, y_train, x_test, y_test, input_shape=(window, 1), num_classes=None,
        info={"description": description, "window": window, "horizon": horizon, **stats, **extra,
              "series": series.astype(np.float32)},
    )


def load_mackey_glass(n_points: int = 3000, window: int = 20, horizon: int = 1, test_fraction: float = 0.2,
                      tau: float = 17.0) -> DataSplits:
    """Mackey-Glass windows: ``x (N, window, 1)`` -> ``y (N, 1)``, standardised with train statistics.

    Example:
        >>> data = load_mackey_glass(n_points=600)
        >>> data.x_train.shape, data.y_train.shape
        ((460, 20, 1), (460, 1))
    """
    series = mackey_glass(n_points, tau=tau)
    return _series_splits(
        "mackey-glass", series, window, test_fraction, horizon,
        f"Mackey-Glass (tau={tau:g}) one-step-ahead windows of {window}", {"tau": tau},
    )


def load_sine(n_points: int = 2000, window: int = 20, horizon: int = 1, test_fraction: float = 0.2,
              noise: float = 0.0, seed: int = 0) -> DataSplits:
    """Sum-of-sines windows: ``x (N, window, 1)`` -> ``y (N, 1)``, standardised with train statistics.

    Example:
        >>> data = load_sine(n_points=200, window=10)
        >>> data.x_train.shape, data.y_train.shape, data.task
        ((150, 10, 1), (150, 1), 'sequence')
    """
    series = sine_series(n_points, noise=noise, seed=seed)
    return _series_splits(
        "sine", series, window, test_fraction, horizon,
        f"sum of three sines, one-step-ahead windows of {window}", {"noise": noise, "seed": seed},
    )
