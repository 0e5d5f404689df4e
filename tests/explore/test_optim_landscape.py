"""The model side of the optimisation explorer: filter normalisation, the slice, projections, effects."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite import nn
from dendrite.explore.optim_landscape import filter_normalized_direction, landscape, lr_batch_effects


@pytest.fixture(scope="module")
def result():
    return landscape(dataset="moons", optimizers=("adam", "sgd", "momentum"), epochs=8, grid=11, seed=0)


def _rows(result):
    """(direction part, θ* part) for each Linear weight of the 2 → 8 → 8 → 1 MLP, and the bias slices."""
    shapes = [(8, 2), (8,), (8, 8), (8,), (1, 8), (1,)]
    offset, weights, biases = 0, [], []
    for shape in shapes:
        size = int(np.prod(shape))
        (weights if len(shape) == 2 else biases).append((slice(offset, offset + size), shape))
        offset += size
    assert offset == result.theta.size  # the model really has these parameters
    return weights, biases


def test_each_direction_row_has_the_norm_of_theta_row(result):
    weights, biases = _rows(result)
    for direction in result.directions:
        for part, shape in weights:
            d_rows = direction[part].reshape(shape)
            t_rows = result.theta[part].reshape(shape)
            np.testing.assert_allclose(np.linalg.norm(d_rows, axis=1), np.linalg.norm(t_rows, axis=1),
                                       rtol=1e-12)
            assert not np.allclose(d_rows, t_rows)  # random, not θ* itself
        for part, _ in biases:
            assert (direction[part] == 0).all()  # biases zeroed
    # two distinct directions
    assert abs(np.dot(*result.directions)) < np.linalg.norm(result.directions[0]) ** 2


def test_grid_centre_is_the_loss_at_theta_star(result):
    centre = result.values[5, 5]
    assert result.coords[5] == 0.0
    assert centre == pytest.approx(result.losses["adam"][-1], abs=1e-7)
    assert result.values.max() > 10 * centre  # the slice really leaves the minimum's neighbourhood


def test_theta_star_projects_to_origin_and_paths_start_together(result):
    np.testing.assert_allclose(result.paths["adam"][-1], [0.0, 0.0], atol=1e-12)
    starts = np.array([path[0] for path in result.paths.values()])
    np.testing.assert_allclose(starts, starts[0:1].repeat(3, axis=0), atol=1e-12)  # one shared init
    assert {name: len(path) for name, path in result.paths.items()} == {"adam": 9, "sgd": 9, "momentum": 9}
    # least squares: the residual of θ* + P·D is orthogonal to both directions
    vector = result.vectors["sgd"][3]
    residual = vector - result.theta - result.paths["sgd"][3] @ result.directions
    np.testing.assert_allclose(result.directions @ residual, [0.0, 0.0], atol=1e-8)


def test_every_optimizer_lowers_the_loss(result):
    for name, losses in result.losses.items():
        assert losses[-1] < 0.5 * losses[0], name


def test_filter_normalisation_by_hand():
    model = nn.Linear(3, 2)
    theta = np.array([3.0, 4.0, 0.0, 0.0, 0.0, 2.0, 1.0, -1.0])
    d = filter_normalized_direction(model, theta, np.random.default_rng(5))
    assert np.linalg.norm(d[0:3]) == pytest.approx(5.0) and np.linalg.norm(d[3:6]) == pytest.approx(2.0)
    assert d[6:].tolist() == [0.0, 0.0]


def test_batch_size_and_lr_effects():
    effects = lr_batch_effects(epochs=10, seed=0)
    final = {(c["kind"], c["batch_size"], c["lr"]): c["losses"][-1] for c in effects.curves}
    # measured after 10 epochs from 0.612: batch 8 → 0.019, 32 → 0.204, 200 → 0.334 (lr 0.3);
    # lr 0.03 → 0.379, 0.3 → 0.204 (batch 32). Smaller batches take more steps per epoch.
    assert final[("batch", 8, 0.3)] < final[("batch", 32, 0.3)] < final[("batch", 200, 0.3)]
    # a tiny learning rate barely moves in 10 epochs
    assert final[("lr", 32, 0.03)] > final[("lr", 32, 0.3)]
    # a huge one overshoots: it jumps above where it began and climbs again and again (measured: 0.612,
    # 0.85, 0.52, 0.26, 1.62, 0.34, 1.61, 0.20, 1.16, 0.50, 0.45), where lr 0.3 never rises above its start.
    # Where such a chaotic curve ends depends on the last bit of BLAS rounding, so that is not asserted.
    curves = {(c["kind"], c["batch_size"], c["lr"]): np.asarray(c["losses"]) for c in effects.curves}
    huge, good = curves[("lr", 32, 3.0)], curves[("lr", 32, 0.3)]
    assert huge[1:].max() > 1.5 * huge[0] and (np.diff(huge) > 0).sum() >= 3
    assert good[1:].max() < good[0]
    starts = {c["losses"][0] for c in effects.curves}
    assert len(starts) == 1  # every curve starts from the same init


def test_bad_input():
    with pytest.raises(ValueError, match="unknown dataset 'plane'"):
        landscape(dataset="plane")
    with pytest.raises(ValueError, match="grid must be an odd"):
        landscape(grid=10)
    with pytest.raises(ValueError, match="optimizers must be"):
        landscape(optimizers=("lbfgs",))
    dendrite.manual_seed(0)


def test_write_pictures_writes_three_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    from dendrite.explore.optim import write_pictures

    paths = write_pictures(tmp_path / "out", seed=0, quick=True)
    names = ["optim_trajectories.png", "optim_landscape.png", "optim_effects.png"]
    assert [path.name for path in paths] == names
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000
