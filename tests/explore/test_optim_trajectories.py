"""The optimisation explorer's walks are the real optimisers' steps: by hand, and against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dendrite
from dendrite.explore.optim import OPTIMIZERS, contour, trajectories, trajectory
from dendrite.explore.optim_surfaces import SURFACES, get_surface

torch = pytest.importorskip("torch")

# Each surface written again, independently, for PyTorch (a typo in one version shows up as a mismatch).
TORCH_FUNCTIONS = {
    "bowl": lambda x, y: 0.5 * (x ** 2 + 25 * y ** 2),
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
    "beale": lambda x, y: ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
                           + (2.625 - x + x * y ** 3) ** 2),
    "saddle": lambda x, y: x ** 2 - y ** 2,
    "wells": lambda x, y: 0.1 * (x ** 2 + y ** 2) - sum(
        depth * torch.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 0.5)
        for cx, cy, depth in ((0, 0, 2), (2, 2, 1), (-2, 2, 1), (2, -2, 1), (-2, -2, 1))),
}


def real_optimizer(lib, name, params, lr):
    """``lib``'s own class for ``name`` (dendrite or torch), written out here (not via make_optimizer)."""
    optim = lib.optim
    return {"sgd": lambda: optim.SGD(params, lr=lr),
            "momentum": lambda: optim.SGD(params, lr=lr, momentum=0.9),
            "nesterov": lambda: optim.SGD(params, lr=lr, momentum=0.9, nesterov=True),
            "rmsprop": lambda: optim.RMSprop(params, lr=lr),
            "adagrad": lambda: optim.Adagrad(params, lr=lr),
            "adam": lambda: optim.Adam(params, lr=lr, betas=(0.9, 0.999), weight_decay=0.0),
            "adamw": lambda: optim.AdamW(params, lr=lr, betas=(0.9, 0.999), weight_decay=0.01)}[name]()


CASES = [(surface, name) for surface in SURFACES for name in OPTIMIZERS]


@pytest.mark.parametrize("surface,name", CASES)
def test_trajectory_is_the_real_optimizer_stepped_by_hand(surface, name):
    spec = get_surface(surface)
    run = trajectory(surface, name, steps=25)
    point = dendrite.nn.Parameter(dendrite.tensor(list(spec.start), dtype=dendrite.float64))
    opt = real_optimizer(dendrite, name, [point], spec.lr)
    expected = [list(spec.start)]
    for _ in range(25):
        opt.zero_grad()
        spec.function(point[0], point[1]).backward()
        opt.step()
        expected.append(point.detach().numpy().tolist())
    assert run.points.shape == (26, 2) and not run.diverged
    assert run.points.tolist() == expected  # exactly: the same class, the same float64 steps


@pytest.mark.parametrize("surface,name", CASES)
def test_trajectory_matches_pytorch_in_float64(surface, name):
    spec = get_surface(surface)
    run = trajectory(surface, name, steps=10)
    point = torch.tensor(list(spec.start), dtype=torch.float64, requires_grad=True)
    opt = real_optimizer(torch, name, [point], spec.lr)
    expected = [list(spec.start)]
    for _ in range(10):
        opt.zero_grad()
        TORCH_FUNCTIONS[surface](point[0], point[1]).backward()
        opt.step()
        expected.append(point.detach().tolist())
    np.testing.assert_allclose(run.points, np.array(expected), rtol=1e-10, atol=1e-12)
    torch_loss = float(TORCH_FUNCTIONS[surface](*map(torch.tensor, run.points[-1])))
    assert run.final_loss == pytest.approx(torch_loss, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("surface", list(SURFACES))
def test_gradients_match_finite_differences_and_minima_are_stationary(surface):
    spec = get_surface(surface)
    rng = np.random.default_rng(1)
    x0, x1, y0, y1 = spec.box
    h = 1e-6
    for x, y in zip(rng.uniform(x0, x1, 5), rng.uniform(y0, y1, 5)):
        gx, gy = spec.gradient(x, y)
        fx = (spec.value(x + h, y) - spec.value(x - h, y)) / (2 * h)
        fy = (spec.value(x, y + h) - spec.value(x, y - h)) / (2 * h)
        assert gx == pytest.approx(fx, rel=1e-6, abs=1e-5) and gy == pytest.approx(fy, rel=1e-6, abs=1e-5)
    assert max(map(abs, spec.gradient(*spec.stationary))) < 1e-12
    if spec.minimum is not None:  # and nothing on a fine grid of the view lies below it
        grid = contour(spec, size=201).values
        assert grid.min() >= spec.value(*spec.minimum) - 1e-9


def test_known_minima_values():
    assert get_surface("bowl").value(0, 0) == 0.0
    assert get_surface("rosenbrock").value(1, 1) == 0.0
    assert get_surface("beale").value(3, 0.5) == 0.0
    assert get_surface("wells").value(0, 0) == pytest.approx(-2.0 - 4 * math.exp(-16.0), abs=1e-15)
    assert get_surface("saddle").minimum is None and get_surface("saddle").value(0, 3) == -9.0


def test_momentum_beats_plain_sgd_on_the_ill_conditioned_bowl():
    # Measured (lr 0.01, 100 steps from (-4.5, 2)): sgd 1.357, momentum 7.0e-5, nesterov 1.1e-5, adam 21.3.
    runs = {run.optimizer: run.final_loss
            for run in trajectories("bowl", ["sgd", "momentum", "nesterov", "adam"], lr=0.01, steps=100)}
    # x shrinks by (1 - lr) a step (y by 1 - 25 lr, negligible after 100 steps)
    assert runs["sgd"] == pytest.approx(0.5 * 4.5 ** 2 * 0.99 ** 200, rel=1e-6)
    assert runs["momentum"] < 1e-3 * runs["sgd"] and runs["nesterov"] < 1e-3 * runs["sgd"]
    # Adam's step is about lr per coordinate whatever the curvature: at the same small lr it lags sgd here.
    assert runs["adam"] > runs["sgd"]


def test_divergence_is_flagged_and_the_walk_stops():
    run = trajectory("beale", "momentum", lr=0.01, steps=200)  # momentum overshoots Beale's walls
    assert run.diverged and run.diverged_step == len(run.points) - 1 < 200
    assert max(abs(run.points[-1])) > get_surface("beale").bound
    escape = trajectory("saddle", "sgd", steps=300)
    assert escape.diverged and abs(escape.points[-1, 1]) > 20 and escape.final_loss < -400
    data = run.to_json()
    assert data["diverged"] is True and len(data["points"]) == len(data["losses"]) == run.diverged_step + 1


def test_local_minimum_traps_plain_sgd_but_not_momentum_in_the_wells():
    sgd, momentum = trajectories("wells", ["sgd", "momentum"], steps=300)
    assert np.allclose(sgd.points[-1], [1.90115155, 1.90115155], atol=1e-6)  # the shallow well at (2, 2)
    assert np.allclose(momentum.points[-1], [0, 0], atol=1e-6) and momentum.final_loss < sgd.final_loss - 1.7


def test_contour_and_bad_input():
    grid = contour("bowl", size=11)
    assert grid.values[5, 5] == 0.0 and grid.values[0, 0] == 0.5 * (25 + 25 * 9)
    assert np.isfinite(grid.log_values).all()
    with pytest.raises(ValueError, match="unknown surface 'moon'"):
        trajectory("moon", "sgd")
    with pytest.raises(ValueError, match="unknown optimizer 'lion'"):
        trajectory("bowl", "lion")
    with pytest.raises(ValueError, match="steps must be"):
        trajectory("bowl", "sgd", steps=-1)
    with pytest.raises(ValueError, match="lr must be"):
        trajectory("bowl", "sgd", lr=0.0)
