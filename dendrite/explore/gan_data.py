"""The GAN lab's 2-D distributions (ring of 8, 5x5 grid, two moons, points drawn by the user) and its judge.

Every distribution is sampled with a NumPy generator so a lab run is reproducible from its seed.
The mode-seeking ones (``ring8``, ``grid``) have known centres, and :func:`mode_coverage` counts the
centres the generator reaches: a mode is *covered* when at least ``min_share`` of the samples lie
within ``3 * std`` of it (nearer to it than to any other centre); the *high-quality share* is the
fraction of samples within ``3 * std`` of some centre.
"""

from __future__ import annotations

import math

import numpy as np

from dendrite.data import ring8_centres

__all__ = ["DISTRIBUTIONS", "MODE_STD", "MAX_DRAWN_POINTS", "VIEW", "mode_centres", "validate_points",
           "sample_distribution", "near_mode_counts", "mode_coverage"]

DISTRIBUTIONS = ("ring8", "grid", "moons", "drawn")
MODE_STD = 0.1  # the std of every Gaussian mode (ring8 and grid) and the jitter of drawn points
MAX_DRAWN_POINTS = 2000
VIEW = 3.0  # the lab's plane is the square [-VIEW, VIEW]^2: drawn points must lie inside it


def mode_centres(name: str) -> np.ndarray | None:
    """The ``(K, 2)`` mode centres of ``ring8`` (radius 2) and ``grid`` (-2..2 step 1), else ``None``.

    Example:
        >>> mode_centres("ring8").shape, mode_centres("grid").shape, mode_centres("moons")
        ((8, 2), (25, 2), None)
    """
    if name == "ring8":
        return ring8_centres(2.0, 8).astype(np.float64)
    if name == "grid":
        axis = np.arange(-2.0, 3.0)
        return np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    if name in DISTRIBUTIONS:
        return None
    raise ValueError(f"unknown distribution {name!r}; expected one of {', '.join(DISTRIBUTIONS)}")


def validate_points(points) -> np.ndarray:
    """The user's drawn points as a float64 ``(N, 2)`` array: 2 <= N <= 2000, finite, inside the view.

    Example:
        >>> validate_points([[0, 1], [1, 0.5]]).shape
        (2, 2)
        >>> validate_points([[0, 9], [1, 0]])
        Traceback (most recent call last):
        ...
        ValueError: points: every coordinate must lie in [-3, 3] (the lab's view), got 9
    """
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("points: expected a list of [x, y] pairs of numbers") from None
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"points: expected a list of [x, y] pairs, got an array of shape {array.shape}")
    if not 2 <= len(array) <= MAX_DRAWN_POINTS:
        raise ValueError(f"points: expected between 2 and {MAX_DRAWN_POINTS} points, got {len(array)}")
    if not np.isfinite(array).all():
        raise ValueError("points: every coordinate must be a finite number")
    worst = float(np.abs(array).max())
    if worst > VIEW:
        raise ValueError(f"points: every coordinate must lie in [-{VIEW:g}, {VIEW:g}] (the lab's view), "
                         f"got {worst:g}")
    return array


def _moons(n: int, rng: np.random.Generator) -> np.ndarray:
    # Two interleaved half circles, scaled to fill about [-2, 2]: the playground's moons, sampled at random.
    upper = rng.random(n) < 0.5
    angle = rng.uniform(0.0, math.pi, n)
    outer = np.stack([np.cos(angle), np.sin(angle)], 1)
    inner = np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], 1)
    points = np.where(upper[:, None], outer, inner) + rng.normal(0.0, 0.05, (n, 2))
    return (points - [0.5, 0.25]) * 1.6


def sample_distribution(name: str, n: int, rng: np.random.Generator, drawn: np.ndarray | None = None
                        ) -> np.ndarray:
    """``n`` points ``(n, 2)`` float32 of distribution ``name`` (``drawn``: the user's points, jittered).

    Example:
        >>> points = sample_distribution("ring8", 1000, np.random.default_rng(0))
        >>> points.shape, bool(abs(np.linalg.norm(points, axis=1).mean() - 2) < 0.05)
        ((1000, 2), True)
    """
    if name in ("ring8", "grid"):
        centres = mode_centres(name)
        points = centres[rng.integers(0, len(centres), n)] + rng.normal(0.0, MODE_STD, (n, 2))
    elif name == "moons":
        points = _moons(n, rng)
    elif name == "drawn":
        if drawn is None:
            raise ValueError("the 'drawn' distribution needs points: draw some on the canvas first")
        points = drawn[rng.integers(0, len(drawn), n)] + rng.normal(0.0, MODE_STD, (n, 2))
    else:
        raise ValueError(f"unknown distribution {name!r}; expected one of {', '.join(DISTRIBUTIONS)}")
    return points.astype(np.float32)


def near_mode_counts(samples, centres, std: float = MODE_STD) -> tuple[np.ndarray, float]:
    """Per centre, the samples within ``3 * std`` of it and nearest to it; and the share of such samples.

    Shapes: samples (N, D), centres (K, D) -> counts (K,) int, a float in [0, 1]. The GAN recipe's
    judge (:func:`dendrite.recipes.judges.ring_metrics`) counts with it too.

    Example:
        >>> counts, share = near_mode_counts([[2.0, 0.1], [0.0, 0.0]], [[2.0, 0.0], [-2.0, 0.0]])
        >>> counts.tolist(), share
        ([1, 0], 0.5)
    """
    points = np.asarray(samples, dtype=np.float64)
    points = points.reshape(len(points), -1)
    centres = np.asarray(centres, dtype=np.float64)
    distances = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=2)
    near = distances.min(axis=1) < 3 * std
    return np.bincount(distances.argmin(axis=1)[near], minlength=len(centres)), float(near.mean())


def mode_coverage(samples, centres, std: float = MODE_STD, min_share: float = 0.02) -> dict:
    """How many of ``centres`` (K, 2) the ``samples`` (N, 2) cover, and the share of high-quality samples.

    Returns ``{"modes_covered", "modes", "mode_counts", "high_quality_share"}``.

    Example:
        >>> centres = np.array([[2.0, 0.0], [-2.0, 0.0]])
        >>> mode_coverage(np.repeat(centres[:1], 100, 0), centres)["modes_covered"]
        1
    """
    counts, share = near_mode_counts(samples, centres, std)
    return {"modes_covered": int((counts >= min_share * len(samples)).sum()), "modes": len(counts),
            "mode_counts": counts.tolist(), "high_quality_share": share}
