"""The Playground's ``gaussian`` and ``spiral`` sets with 3 to 6 classes.

* ``gaussian``: ``k`` blobs on a ring of radius 3.5 (the first at 45 degrees, like the Playground's
  (2, 2) blob), variance 0.5 .. 4 with noise as in the two-class set.
* ``spiral``: ``k`` interleaved arms, arm ``j`` turned by ``2 pi j / k``; each arm follows the
  Playground's r = 5 i/n, angle = 1.75 * 2 pi i/n, jittered by ``U(-1, 1) * noise``.

With ``classes=2`` :func:`make_playground_multiclass` returns exactly
:func:`dendrite.data.toy2d.make_playground`'s set (the TensorFlow Playground's own data), so a
two-class playground session trains on the familiar points. ``noise`` is the slider / 100 (0 .. 0.5).
"""

from __future__ import annotations

import numpy as np

from dendrite.data.toy2d import make_playground

__all__ = ["make_blob_ring", "make_spiral_arms", "make_playground_multiclass"]

RING_RADIUS = 3.5


def _counts(n: int, classes: int) -> list[int]:
    return [n // classes + (1 if j < n % classes else 0) for j in range(classes)]


def _check(who: str, n: int, classes: int, noise: float) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < classes:
        raise ValueError(f"{who}: n must be an int >= classes ({classes}), got {n!r}")
    if not isinstance(classes, (int, np.integer)) or isinstance(classes, bool) or classes < 2:
        raise ValueError(f"{who}: classes must be an int >= 2, got {classes!r}")
    if not noise >= 0:
        raise ValueError(f"{who}: noise must be >= 0 (the Playground uses 0 .. 0.5), got {noise}")


def _finish(parts: list, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    points = np.concatenate([p for p, _ in parts])
    labels = np.concatenate([np.full(len(p), j) for j, (p, _) in enumerate(parts)])
    order = rng.permutation(len(points))  # the generators emit one class after the other
    return points[order].astype(np.float32), labels[order].astype(np.int64)


def make_blob_ring(n: int = 500, classes: int = 3, noise: float = 0.0, seed: int = 0) -> tuple:
    """``classes`` Gaussian blobs on a ring: ``(points (n, 2) float32, labels (n,) int64)``, shuffled.

    Example:
        >>> points, labels = make_blob_ring(300, classes=3, seed=0)
        >>> points.shape, np.bincount(labels).tolist()
        ((300, 2), [100, 100, 100])
    """
    _check("make_blob_ring", n, classes, noise)
    rng = np.random.default_rng(seed)
    variance = 0.5 + noise * (4.0 - 0.5) / 0.5  # the Playground's scale [0, .5] -> [0.5, 4]
    parts = []
    for j, count in enumerate(_counts(n, classes)):
        angle = np.pi / 4 + 2 * np.pi * j / classes
        centre = RING_RADIUS * np.array([np.cos(angle), np.sin(angle)])
        parts.append((rng.normal(centre, np.sqrt(variance), (count, 2)), j))
    return _finish(parts, rng)


def make_spiral_arms(n: int = 500, classes: int = 3, noise: float = 0.0, seed: int = 0) -> tuple:
    """``classes`` interleaved spiral arms: ``(points (n, 2) float32, labels (n,) int64)``, shuffled.

    Example:
        >>> points, labels = make_spiral_arms(400, classes=4, noise=0.1, seed=1)
        >>> points.shape, np.bincount(labels).tolist(), bool(np.abs(points).max() < 6)
        ((400, 2), [100, 100, 100, 100], True)
    """
    _check("make_spiral_arms", n, classes, noise)
    rng = np.random.default_rng(seed)
    parts = []
    for j, count in enumerate(_counts(n, classes)):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * np.pi + 2 * np.pi * j / classes
        x = r * np.sin(t) + rng.uniform(-1, 1, count) * noise
        y = r * np.cos(t) + rng.uniform(-1, 1, count) * noise
        parts.append((np.stack([x, y], 1), j))
    return _finish(parts, rng)


def make_playground_multiclass(name: str, n: int = 500, classes: int = 2, noise: float = 0.0,
                               seed: int = 0) -> tuple:
    """A Playground classification set with ``classes`` labels: ``(points (n, 2), labels (n,) int64)``.

    ``classes=2`` gives :func:`~dendrite.data.toy2d.make_playground`'s set unchanged (any of
    ``circle xor gaussian spiral moons``); 3..k classes exist for ``gaussian`` and ``spiral``.

    Example:
        >>> points, labels = make_playground_multiclass("spiral", 300, classes=3, seed=0)
        >>> sorted(set(labels.tolist()))
        [0, 1, 2]
        >>> a, _ = make_playground_multiclass("circle", 100, classes=2, seed=4)
        >>> bool((a == make_playground("circle", 100, 0.0, 4)[0]).all())
        True
    """
    if classes == 2:
        return make_playground(name, n, noise, seed)
    makers = {"gaussian": make_blob_ring, "spiral": make_spiral_arms}
    if name not in makers:
        raise ValueError(f"make_playground_multiclass: {name!r} has 2 classes only; "
                         f"{classes} classes exist for {sorted(makers)}")
    return makers[name](n, classes, noise, seed)
