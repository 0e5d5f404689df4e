"""The GAN lab's numbers: collapse and cure on ring8, gradient penalty, clipping, arrows, packing."""

from __future__ import annotations

import json

import numpy as np
import pytest

import dendrite
from dendrite import nn
from dendrite.explore.gan import SHOWN, GanConfig, GanLab
from dendrite.explore.gan_data import mode_centres, mode_coverage, sample_distribution, validate_points
from dendrite.explore.gan_demo import CURE, DEMO_STEPS, mode_collapse_demo
from dendrite.explore.gan_losses import generator_loss, gradient_penalty


@pytest.fixture(scope="module")
def demo():
    return mode_collapse_demo(seed=0, quick=True)


def test_the_cure_is_the_default_setup():
    defaults = GanConfig()
    assert all(getattr(defaults, key) == value for key, value in CURE.items())


def test_the_default_setup_covers_ring8_and_the_collapse_does_not(demo):
    # The cure is the lab's default config: it covers >= 7 of 8 modes after 800 steps (seed 0);
    # the generator that learns 5x faster than D covers <= 3.
    assert demo.cured.step == demo.collapsed.step == DEMO_STEPS
    assert demo.cured.modes["modes_covered"] >= 7, demo.cured.modes
    assert demo.collapsed.modes["modes_covered"] <= 3, demo.collapsed.modes
    assert demo.cured.modes["high_quality_share"] > demo.collapsed.modes["high_quality_share"]


def test_snapshot_json_is_finite_and_shaped(demo):
    data = demo.to_json()
    json.dumps(data, allow_nan=False)
    cured = data["cured"]
    assert len(cured["fake"]) == len(cured["real"]) == len(cured["arrows"]) == SHOWN
    assert len(cured["heatmap"]) == 40 and all(0 <= v <= 1 for row in cured["heatmap"] for v in row)
    assert len(cured["history"]["d_loss"]) == DEMO_STEPS


def test_gradient_penalty_equals_hand_computation_and_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w1, b1 = rng.normal(size=(3, 2)), rng.normal(size=3)
    w2, b2 = rng.normal(size=(1, 3)), rng.normal(size=1)
    critic = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2), nn.Linear(3, 1))
    with dendrite.no_grad():
        for parameter, value in zip(critic.parameters(), (w1, b1, w2, b2)):
            parameter.copy_(dendrite.tensor(value.astype(np.float32)))
    real, fake = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    alpha = rng.random((4, 1))
    mixed = alpha * real + (1 - alpha) * fake
    # by hand: grad D(x) = W1^T (leaky'(W1 x + b1) * w2)
    pre = mixed @ w1.T + b1
    slope = np.where(pre > 0, 1.0, 0.2)
    grads = (slope * w2[0]) @ w1
    expected = np.mean((np.linalg.norm(grads, axis=1) - 1) ** 2)
    tensors = (dendrite.tensor(a.astype(np.float32)) for a in (real, fake, alpha))
    got = gradient_penalty(critic, *tensors).item()
    assert got == pytest.approx(expected, rel=1e-4)
    # PyTorch's autograd in float64 agrees
    t_critic = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LeakyReLU(0.2), torch.nn.Linear(3, 1))
    t_critic = t_critic.double()
    with torch.no_grad():
        for parameter, value in zip(t_critic.parameters(), (w1, b1, w2, b2)):
            parameter.copy_(torch.tensor(value))
    x = torch.tensor(mixed, requires_grad=True)
    (t_grad,) = torch.autograd.grad(t_critic(x).sum(), x, create_graph=True)
    assert got == pytest.approx(((t_grad.norm(dim=1) - 1) ** 2).mean().item(), rel=1e-4)


def test_gradient_penalty_trains_the_critic_towards_unit_slope():
    lab = GanLab({"loss": "wgan_gp", "gp_weight": 10.0, "batch": 48, "hidden": 16, "lr_d": 1e-2})
    lab.step(30)
    points = dendrite.tensor(sample_distribution("ring8", 48, np.random.default_rng(5)))
    before = gradient_penalty(GanLab({"loss": "wgan_gp", "batch": 48, "hidden": 16}).discriminator,
                              points, points * 0, dendrite.full((48, 1), 0.5)).item()
    after = gradient_penalty(lab.discriminator, points, points * 0, dendrite.full((48, 1), 0.5)).item()
    assert after < before


def test_weight_clipping_bounds_every_discriminator_weight():
    lab = GanLab({"loss": "wgan_clip", "clip": 0.02, "batch": 48, "hidden": 16, "lr_d": 5e-2})
    lab.step(5)
    assert lab.config.resolved_optimizer == "rmsprop"
    largest = max(float(p.abs().max().item()) for p in lab.discriminator.parameters())
    assert largest <= 0.02 + 1e-7
    assert largest == pytest.approx(0.02)  # a large lr pushes some weight onto the bound


@pytest.mark.parametrize("loss", ["non_saturating", "minimax", "wgan_gp"])
def test_arrows_are_minus_the_gradient_of_the_generator_loss(loss):
    lab = GanLab({"loss": loss, "batch": 48, "hidden": 16, "packing": 2})
    lab.step(10)
    fake = lab.fake_points(4)
    arrows = lab.generator_arrows(fake)

    def g_loss(points):
        with dendrite.no_grad():
            return float(generator_loss(loss, lab.discriminator(dendrite.tensor(points))).item())

    eps = 1e-2
    numeric = np.zeros_like(fake)
    for i in range(4):
        for j in range(2):
            up, down = fake.astype(np.float64).copy(), fake.astype(np.float64).copy()
            up[i, j] += eps
            down[i, j] -= eps
            numeric[i, j] = (g_loss(up.astype(np.float32)) - g_loss(down.astype(np.float32))) / (2 * eps)
    np.testing.assert_allclose(arrows, -numeric, atol=2e-3 * np.abs(numeric).max() + 1e-5, rtol=0.05)
    assert np.abs(arrows).max() > 0


def test_packing_shapes_and_batch_rule():
    lab = GanLab({"packing": 3, "batch": 48, "hidden": 16})
    assert lab.discriminator(dendrite.zeros(12, 2)).shape == (4, 1)
    assert lab.generator_arrows(lab.fake_points(6)).shape == (6, 2)
    heat, kind = lab.heatmap(grid=7)
    assert heat.shape == (7, 7) and kind == "probability"
    with pytest.raises(ValueError, match="batch: must be a multiple of packing=3"):
        GanConfig(packing=3, batch=50)


def test_wasserstein_heatmap_is_rescaled_critic():
    heat, kind = GanLab({"loss": "wgan_gp", "batch": 48, "hidden": 16}).heatmap(grid=9)
    assert kind == "critic" and heat.min() == 0.0 and heat.max() == 1.0


@pytest.mark.parametrize("points, message", [
    ([[0, 0]], "between 2 and 2000 points, got 1"),
    ([[0, 0]] * 2001, "between 2 and 2000 points, got 2001"),
    ([[0, 0, 0], [1, 1, 1]], "pairs, got an array of shape"),
    ([[0, float("nan")], [1, 1]], "finite"),
    ([[0, 4.5], [1, 1]], r"in \[-3, 3\]"),
    ("abc", "pairs"),
])
def test_drawn_points_are_validated(points, message):
    with pytest.raises(ValueError, match=message):
        validate_points(points)


def test_drawn_distribution_needs_points_and_samples_near_them():
    with pytest.raises(ValueError, match="points: the 'drawn' distribution needs points"):
        GanConfig(distribution="drawn")
    lab = GanLab({"distribution": "drawn", "points": [[1, 1], [-1, -1]], "batch": 48, "hidden": 16})
    assert np.abs(np.abs(lab.fixed_real) - 1).max() < 0.6
    assert lab.snapshot().modes is None


def test_grid_and_moons_distributions():
    grid = sample_distribution("grid", 5000, np.random.default_rng(0))
    coverage = mode_coverage(grid, mode_centres("grid"))
    # within 3 sigma of a 2-D Gaussian's centre: 1 - exp(-9/2) = 98.9 %
    assert coverage["modes_covered"] == 25
    assert coverage["high_quality_share"] == pytest.approx(0.989, abs=0.005)
    moons = sample_distribution("moons", 1000, np.random.default_rng(0))
    assert moons.shape == (1000, 2) and np.abs(moons).max() < 3


@pytest.mark.parametrize("raw, message", [
    ({"loss": "hinge"}, "loss: expected one of"),
    ({"lr_d": 0}, r"lr_d: expected a number in"),
    ({"d_steps": 2.5}, "d_steps: expected a whole number"),
    ({"noise_dim": 9}, "noise_dim"),
    ({"colour": 1}, "unknown field"),
])
def test_config_errors_name_the_field(raw, message):
    with pytest.raises(ValueError, match=message):
        GanConfig.from_dict(raw)


def test_write_pictures(tmp_path):
    pytest.importorskip("matplotlib")
    from dendrite.explore.gan_demo import write_pictures

    paths = write_pictures(tmp_path, quick=True)
    assert [p.name for p in paths] == ["gan_lab.png", "gan_mode_collapse.png"]
    assert all(p.stat().st_size > 5000 for p in paths)
