"""Two-dimensional toy datasets: TensorFlow Playground's sets, moons, and a ring of Gaussians.

The Playground generators follow ``dataset.ts`` of
https://github.com/tensorflow/playground (Apache-2.0), vectorised with NumPy:

* ``circle``: positives uniform in a disc of radius 2.5, negatives in the ring
  3.5..5; with noise, the label is decided on the jittered point.
* ``xor``: points uniform in [-5, 5]^2 pushed 0.3 away from the axes; label =
  sign of x*y.
* ``gaussian``: two blobs at (2, 2) and (-2, -2), variance 0.5 .. 4 with noise.
* ``spiral``: two interleaved arms, r = 5 i/n, angle = 1.75 * 2 pi i/n (+ pi for
  the second arm).
* ``plane`` (regression): target (x + y) / 10 in [-1, 1] from jittered points.
* ``multigauss`` (regression): six signed bumps at (+-4 or 0, +-2.5).

``noise`` is the Playground's slider divided by 100 (0 .. 0.5). The Playground's
labels +1/-1 become 1/0 here. ``moons`` (not in the Playground) are scikit-learn's
two half circles, centred and scaled by 3 to share the Playground's [-6, 6] view.
``ring8`` is the classic GAN benchmark: 8 Gaussians of std 0.02 on a circle of
radius 2; the label is the component each point came from.
"""

from __future__ import annotations

import numpy as np

from dendrite.data.splits import DataSplits, train_test_split

PLAYGROUND_CLASSIFICATION = ("circle", "xor", "gaussian", "spiral", "moons")
PLAYGROUND_REGRESSION = ("plane", "multigauss")
_PLAYGROUND_URL = "https://github.com/tensorflow/playground (src/dataset.ts)"


def _uniform(rng, low, high, n):
    return rng.uniform(low, high, n)


def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def _circle(n, noise, rng):
    radius = 5.0
    counts = _halves(n)
    parts = []
    for count, (low, high) in zip(counts, ((0.0, radius * 0.5), (radius * 0.7, radius))):
        r = _uniform(rng, low, high, count)
        angle = _uniform(rng, 0.0, 2 * np.pi, count)
        x, y = r * np.sin(angle), r * np.cos(angle)
        jitter = _uniform(rng, -radius, radius, (2, count)) * noise
        label = np.hypot(x + jitter[0], y + jitter[1]) < radius * 0.5
        parts.append((np.stack([x, y], 1), label))
    return parts


def _xor(n, noise, rng):
    points = _uniform(rng, -5.0, 5.0, (n, 2))
    points += np.where(points > 0, 0.3, -0.3)  # padding keeps points off the axes
    jitter = _uniform(rng, -5.0, 5.0, (n, 2)) * noise
    jittered = points + jitter
    return [(points, jittered[:, 0] * jittered[:, 1] >= 0)]


def _gaussian(n, noise, rng):
    variance = 0.5 + noise * (4.0 - 0.5) / 0.5  # d3 linear scale [0, .5] -> [0.5, 4]
    parts = []
    for count, centre, label in zip(_halves(n), (2.0, -2.0), (True, False)):
        points = rng.normal(centre, np.sqrt(variance), (count, 2))
        parts.append((points, np.full(count, label)))
    return parts


def _spiral(n, noise, rng):
    parts = []
    for count, delta, label in zip(_halves(n), (0.0, np.pi), (True, False)):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * np.pi + delta
        x = r * np.sin(t) + _uniform(rng, -1, 1, count) * noise
        y = r * np.cos(t) + _uniform(rng, -1, 1, count) * noise
        parts.append((np.stack([x, y], 1), np.full(count, label)))
    return parts


def _moons(n, noise, rng):
    upper, lower = _halves(n)
    a = np.linspace(0, np.pi, upper)
    b = np.linspace(0, np.pi, lower)
    outer = np.stack([np.cos(a), np.sin(a)], 1)
    inner = np.stack([1 - np.cos(b), 1 - np.sin(b) - 0.5], 1)
    points = np.concatenate([outer, inner]) + rng.normal(0.0, noise, (n, 2))
    points = (points - [0.5, 0.25]) * 3.0
    labels = np.concatenate([np.zeros(upper, bool), np.ones(lower, bool)])
    return [(points, labels)]


def _plane(n, noise, rng):
    points = _uniform(rng, -6.0, 6.0, (n, 2))
    jitter = _uniform(rng, -6.0, 6.0, (n, 2)) * noise
    return points, (points + jitter).sum(1) / 10.0


_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])


def _multigauss(n, noise, rng):
    points = _uniform(rng, -6.0, 6.0, (n, 2))
    jittered = points + _uniform(rng, -6.0, 6.0, (n, 2)) * noise
    distance = np.linalg.norm(jittered[:, None, :] - _BUMPS[None, :, :2], axis=2)
    values = _BUMPS[:, 2] * np.clip(1 - distance / 2, 0, 1)  # d3 scale [0, 2] -> [1, 0], clamped
    # The Playground keeps the bump largest in absolute value (the first one on ties).
    return points, values[np.arange(n), np.abs(values).argmax(1)]


_CLASSIFIERS = {"circle": _circle, "xor": _xor, "gaussian": _gaussian, "spiral": _spiral, "moons": _moons}
_REGRESSORS = {"plane": _plane, "multigauss": _multigauss}


def _check(name: str, n: int, noise: float) -> None:
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"{name}: n must be an int >= 2, got {n!r}")
    if not 0.0 <= noise:
        raise ValueError(f"{name}: noise must be >= 0 (the Playground uses 0 .. 0.5), got {noise}")


def make_playground(name: str, n: int = 1000, noise: float = 0.0, seed: int = 0) -> tuple:
    """Generate one Playground set as ``(points, targets)``, shuffled.

    Shapes: points ``(n, 2)`` float32; targets ``(n,)`` int64 labels 0/1 for
    ``circle``/``xor``/``gaussian``/``spiral``/``moons``, ``(n, 1)`` float32 in [-1, 1] for
    ``plane``/``multigauss``.

    Example:
        >>> points, labels = make_playground("spiral", n=200, noise=0.1, seed=0)
        >>> points.shape, sorted(set(labels.tolist()))
        ((200, 2), [0, 1])
    """
    if name not in _CLASSIFIERS and name not in _REGRESSORS:
        raise ValueError(
            f"make_playground: unknown set {name!r}; expected one of "
            f"{sorted(_CLASSIFIERS) + sorted(_REGRESSORS)}"
        )
    _check(name, n, noise)
    rng = np.random.default_rng(seed)
    if name in _CLASSIFIERS:
        parts = _CLASSIFIERS[name](n, noise, rng)
        points = np.concatenate([p for p, _ in parts])
        targets = np.concatenate([label for _, label in parts]).astype(np.int64)
    else:
        points, values = _REGRESSORS[name](n, noise, rng)
        targets = values.reshape(-1, 1)
    order = rng.permutation(n)  # the generators emit one class after the other
    return points[order].astype(np.float32), targets[order].astype(
        np.int64 if name in _CLASSIFIERS else np.float32
    )


def load_playground(name: str, n: int = 1000, noise: float = 0.0, seed: int = 0,
                    test_fraction: float = 0.2) -> DataSplits:
    """A Playground set split into train/test (the last ``test_fraction`` of a seeded shuffle).

    Shapes: ``x (N, 2)`` float32 points; ``y (N,)`` int64 classes, or ``(N, 1)`` float32 targets
    for the regression sets.

    Example:
        >>> data = load_playground("xor", n=500)
        >>> data.x_train.shape, data.x_test.shape, data.num_classes
        ((400, 2), (100, 2), 2)
    """
    points, targets = make_playground(name, n, noise, seed)
    x_train, y_train, x_test, y_test = train_test_split(points, targets, test_fraction, seed=seed)
    classify = name in _CLASSIFIERS
    return DataSplits(
        name, "classification" if classify else "regression", x_train, y_train, x_test, y_test,
        input_shape=(2,), num_classes=2 if classify else None,
        info={
            "description": f"TensorFlow Playground '{name}' set, n={n}, noise={noise}",
            "source": _PLAYGROUND_URL if name != "moons" else "two half circles (as sklearn make_moons)",
            "noise": noise,
            "seed": seed,
        },
    )


def ring8_centres(radius: float = 2.0, modes: int = 8) -> np.ndarray:
    """The ``(modes, 2)`` centres of the ring, evenly spaced from angle 0 counter-clockwise.

    Example:
        >>> ring8_centres()[2].round(6).tolist()
        [0.0, 2.0]
    """
    angles = 2 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], 1)).astype(np.float32)


RING8_CENTRES = ring8_centres()
"""The 8 centres of the default ring (radius 2)."""


def make_ring8(n: int = 2000, radius: float = 2.0, std: float = 0.02, modes: int = 8,
               seed: int = 0) -> tuple:
    """``n`` points from a ring of ``modes`` Gaussians: ``(points (n, 2) float32, mode (n,) int64)``.

    Example:
        >>> points, mode = make_ring8(100, seed=0)
        >>> bool(np.abs(np.linalg.norm(points, axis=1) - 2).max() < 0.2)
        True
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"make_ring8: n must be a positive int, got {n!r}")
    if std < 0 or radius <= 0:
        raise ValueError(f"make_ring8: expected radius > 0 and std >= 0, got radius={radius}, std={std}")
    rng = np.random.default_rng(seed)
    mode = rng.integers(0, modes, n)
    points = ring8_centres(radius, modes)[mode] + rng.normal(0.0, std, (n, 2))
    return points.astype(np.float32), mode.astype(np.int64)


def load_ring8(n: int = 2000, radius: float = 2.0, std: float = 0.02, modes: int = 8, seed: int = 0,
               test_fraction: float = 0.2) -> DataSplits:
    """The ring of Gaussians as a generative dataset; ``info['centres']`` holds the modes.

    Shapes: ``x (N, 2)`` float32 points, ``y (N,)`` int64 mode ids; ``centres (modes, 2)``.

    Example:
        >>> data = load_ring8(n=100)
        >>> data.x_train.shape, data.x_test.shape, data.info["centres"].shape
        ((80, 2), (20, 2), (8, 2))
    """
    points, mode = make_ring8(n, radius, std, modes, seed)
    x_train, y_train, x_test, y_test = train_test_split(points, mode, test_fraction, seed=seed)
    return DataSplits(
        "ring8", "generative", x_train, y_train, x_test, y_test, input_shape=(2,), num_classes=None,
        info={
            "description": f"{modes} Gaussians (std {std}) on a circle of radius {radius}; y = mode id",
            "centres": ring8_centres(radius, modes),
            "std": std,
            "seed": seed,
        },
    )
