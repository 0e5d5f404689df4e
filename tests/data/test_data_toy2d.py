"""TensorFlow Playground sets, moons and the ring of Gaussians."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dendrite.data import load_playground, load_ring8, make_playground, make_ring8, ring8_centres

CLASSIFIERS = ["circle", "xor", "gaussian", "spiral", "moons"]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classification_sets_shapes_labels_balance(name):
    points, labels = make_playground(name, n=400, noise=0.1, seed=0)
    assert points.shape == (400, 2) and points.dtype == np.float32
    assert labels.shape == (400,) and labels.dtype == np.int64
    assert set(labels.tolist()) == {0, 1}
    if name != "xor":  # xor's labels follow the quadrant, the others emit n/2 of each class
        assert abs(int(labels.sum()) - 200) <= 40


@pytest.mark.parametrize("name", CLASSIFIERS + ["plane", "multigauss"])
def test_sets_are_reproducible_and_seed_dependent(name):
    a = make_playground(name, n=100, noise=0.2, seed=3)
    b = make_playground(name, n=100, noise=0.2, seed=3)
    c = make_playground(name, n=100, noise=0.2, seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_circle_geometry_without_noise():
    points, labels = make_playground("circle", n=1000, noise=0.0, seed=0)
    radius = np.hypot(points[:, 0], points[:, 1])
    assert np.all(radius[labels == 1] <= 2.5)
    assert np.all((radius[labels == 0] >= 3.5) & (radius[labels == 0] <= 5.0))
    # With noise the label is decided on a jittered point, so some labels disagree with the radius.
    noisy_points, noisy_labels = make_playground("circle", n=1000, noise=0.3, seed=0)
    assert np.any((np.hypot(*noisy_points.T) < 2.5) != (noisy_labels == 1))


def test_xor_geometry_without_noise():
    points, labels = make_playground("xor", n=1000, noise=0.0, seed=0)
    assert np.array_equal(labels, (points[:, 0] * points[:, 1] >= 0).astype(np.int64))
    assert np.all(np.abs(points) >= 0.3 - 1e-6) and np.all(np.abs(points) <= 5.3 + 1e-6)


def test_gaussian_blobs():
    points, labels = make_playground("gaussian", n=4000, noise=0.0, seed=0)
    np.testing.assert_allclose(points[labels == 1].mean(0), [2, 2], atol=0.1)
    np.testing.assert_allclose(points[labels == 0].mean(0), [-2, -2], atol=0.1)
    np.testing.assert_allclose(points[labels == 1].std(0), math.sqrt(0.5), rtol=0.1)
    wide, _ = make_playground("gaussian", n=4000, noise=0.5, seed=0)
    assert wide[:, 0].std() > points[:, 0].std() * 1.3  # variance grows to 4 at noise 0.5


def test_spiral_points_lie_on_their_arm():
    points, labels = make_playground("spiral", n=1000, noise=0.0, seed=0)
    radius = np.hypot(points[:, 0], points[:, 1])
    for label, delta in ((1, 0.0), (0, math.pi)):
        r = radius[labels == label]
        angle = 1.75 * 2 * math.pi * r / 5 + delta  # r = 5 i/n, t = 1.75 * 2 pi i/n + delta
        expected = np.stack([r * np.sin(angle), r * np.cos(angle)], 1)
        np.testing.assert_allclose(points[labels == label], expected, atol=1e-4)


def test_plane_target_without_noise():
    points, targets = make_playground("plane", n=500, noise=0.0, seed=0)
    assert targets.shape == (500, 1) and targets.dtype == np.float32
    np.testing.assert_allclose(targets[:, 0], points.sum(1) / 10, rtol=1e-5, atol=1e-6)


def _playground_multigauss_label(x, y):
    """A line-by-line transliteration of the Playground's regressGaussian getLabel."""
    label = 0.0
    gaussians = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]
    for cx, cy, sign in gaussians:
        distance = math.hypot(x - cx, y - cy)
        scaled = min(max(1 - distance / 2, 0.0), 1.0)
        new_label = sign * scaled
        if abs(new_label) > abs(label):
            label = new_label
    return label


def test_multigauss_matches_the_playground_formula():
    points, targets = make_playground("multigauss", n=300, noise=0.0, seed=0)
    expected = [_playground_multigauss_label(float(x), float(y)) for x, y in points]
    np.testing.assert_allclose(targets[:, 0], expected, atol=1e-5)
    assert np.any(targets > 0.5) and np.any(targets < -0.5)


def test_load_playground_split():
    data = load_playground("moons", n=500, noise=0.1, seed=2, test_fraction=0.3)
    assert data.x_train.shape == (350, 2) and data.x_test.shape == (150, 2)
    assert data.task == "classification" and data.num_classes == 2 and data.input_shape == (2,)
    train_rows = {tuple(row) for row in data.x_train.tolist()}
    assert not any(tuple(row) in train_rows for row in data.x_test.tolist())
    again = load_playground("moons", n=500, noise=0.1, seed=2, test_fraction=0.3)
    assert np.array_equal(again.x_test, data.x_test)
    regression = load_playground("plane")
    assert regression.task == "regression" and regression.y_train.shape == (800, 1)


def test_playground_errors():
    with pytest.raises(ValueError, match="unknown set 'donut'"):
        make_playground("donut")
    with pytest.raises(ValueError, match="n must be an int >= 2"):
        make_playground("xor", n=1)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        make_playground("xor", noise=-0.1)


def test_ring8():
    centres = ring8_centres()
    assert centres.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 2.0, rtol=1e-6)
    np.testing.assert_allclose(centres[0], [2.0, 0.0], atol=1e-6)
    points, mode = make_ring8(4000, seed=0)
    assert points.shape == (4000, 2) and set(mode.tolist()) == set(range(8))
    offsets = points - centres[mode]
    np.testing.assert_allclose(offsets.std(0), 0.02, rtol=0.1)
    assert np.abs(offsets).max() < 0.02 * 6
    data = load_ring8()
    assert data.task == "generative" and data.x_train.shape == (1600, 2)
    np.testing.assert_allclose(data.info["centres"], centres)
