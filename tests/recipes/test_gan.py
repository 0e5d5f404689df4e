"""GANs: the judges (ring modes, Fréchet distance, digit classifier), the models and losses, the recipe."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import dendrite
from dendrite.data import DataSplits, load_dataset, make_ring8, ring8_centres
from dendrite.models.gan import (
    GAN,
    DCDiscriminator,
    DCGenerator,
    MinibatchStd,
    MLPDiscriminator,
    MLPGenerator,
    discriminator_loss,
    generator_loss,
    pack_samples,
)
from dendrite.recipes.base import RunConfig
from dendrite.recipes.catalog import MODELS
from dendrite.recipes.judges import DigitJudge, frechet_distance, ring_metrics
from dendrite.recipes.pictures import tile_images
from dendrite.recipes.runner import train

CENTRES = ring8_centres()


# ---------------------------------------------------------------------------- ring metrics
def test_a_perfect_sampler_covers_all_eight_modes():
    points, _ = make_ring8(2500, seed=1)
    result = ring_metrics(points, CENTRES)
    assert result["modes_covered"] == 8
    assert result["high_quality_fraction"] > 0.98  # 3 std holds ~98.9% of a 2-D Gaussian's mass


def test_a_collapsed_sampler_covers_one_mode():
    points = CENTRES[3] + np.random.default_rng(0).normal(0, 0.02, (2500, 2))
    result = ring_metrics(points, CENTRES)
    assert result["modes_covered"] == 1
    assert result["mode_counts"][3] > 2400


def test_noise_is_low_quality():
    points = np.random.default_rng(0).uniform(-3, 3, (2500, 2))
    result = ring_metrics(points, CENTRES)
    assert result["high_quality_fraction"] < 0.01
    assert result["modes_covered"] == 0


def test_a_mode_needs_twenty_of_2500_samples():
    # 19 samples at centre 0 do not cover it; 20 do. The rest sit exactly on centre 1.
    for at_zero, expected in ((19, 1), (20, 2)):
        points = np.concatenate([np.repeat(CENTRES[:1], at_zero, 0),
                                 np.repeat(CENTRES[1:2], 2500 - at_zero, 0)])
        assert ring_metrics(points, CENTRES)["modes_covered"] == expected


def test_quality_radius_is_three_std():
    inside = CENTRES[0] + np.array([[0.059, 0.0]])
    outside = CENTRES[0] + np.array([[0.061, 0.0]])
    assert ring_metrics(inside, CENTRES)["high_quality_fraction"] == 1.0
    assert ring_metrics(outside, CENTRES)["high_quality_fraction"] == 0.0


# ---------------------------------------------------------------------------- Fréchet distance
def test_frechet_distance_of_a_set_with_itself_is_zero():
    features = np.random.default_rng(0).normal(size=(500, 6))
    assert abs(frechet_distance(features, features)) < 1e-8


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    # Diagonal covariances: d = |mu_a - mu_b|^2 + sum (s_a - s_b)^2, with the sample statistics.
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4000, 3)) * np.array([1.0, 2.0, 0.5])
    b = rng.normal(size=(4000, 3)) * np.array([3.0, 1.0, 0.5]) + np.array([1.0, -2.0, 0.0])
    # Decorrelate exactly so the closed form holds for the sample covariances too.
    a = _whiten_keep_scale(a)
    b = _whiten_keep_scale(b)
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum() + ((a.std(0, ddof=1) - b.std(0, ddof=1)) ** 2).sum()
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)


def _whiten_keep_scale(x):
    centred = x - x.mean(0)
    values, vectors = np.linalg.eigh(np.cov(centred, rowvar=False))
    white = centred @ vectors / np.sqrt(values)
    return white * x.std(0, ddof=1) + x.mean(0)


def test_frechet_distance_grows_with_a_shift():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(1000, 4)), rng.normal(size=(1000, 4))
    near, far = frechet_distance(a, b), frechet_distance(a, b + 2.0)
    gap = b.mean(0) - a.mean(0)
    # a shift moves only the mean term: |gap + 2|^2 replaces |gap|^2, covariances are unchanged
    assert far == pytest.approx(near - (gap ** 2).sum() + ((gap + 2.0) ** 2).sum(), rel=1e-9)
    assert far > near + 10


# ---------------------------------------------------------------------------- digit judge
@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def judge(digits):
    return DigitJudge(digits)


def test_judge_rates_real_digits_sharp_varied_and_close(judge, digits):
    real = judge.evaluate(digits.x_train[:1000])
    assert real["classes_covered"] == 10
    assert real["mean_top_probability"] > 0.95
    assert real["frechet_distance"] < 5.0
    assert judge.real_distance == pytest.approx(real["frechet_distance"])


def test_judge_rejects_noise_and_a_collapsed_generator(judge, digits):
    rng = np.random.default_rng(0)
    noise = judge.evaluate(rng.random((1000, 8, 8)))
    collapsed = judge.evaluate(np.repeat(digits.x_train[:1], 1000, 0))
    real = judge.evaluate(digits.x_train[:1000])
    assert collapsed["classes_covered"] == 1
    for bad in (noise, collapsed):
        assert bad["frechet_distance"] > 20 * real["frechet_distance"]


def test_judge_does_not_disturb_the_global_random_stream(digits):
    dendrite.manual_seed(5)
    expected = dendrite.rand(3).numpy()
    dendrite.manual_seed(5)
    DigitJudge(digits, epochs=1)
    assert np.array_equal(dendrite.rand(3).numpy(), expected)


# ---------------------------------------------------------------------------- models and losses
def test_minibatch_std_appends_the_mean_population_std():
    x = np.random.default_rng(0).normal(size=(6, 3, 2, 2)).astype(np.float64)
    out = MinibatchStd()(dendrite.tensor(x)).numpy()
    assert out.shape == (6, 4, 2, 2)
    np.testing.assert_allclose(out[:, :3], x)
    np.testing.assert_allclose(out[:, 3], np.sqrt(x.var(axis=0) + 1e-8).mean(), rtol=1e-10)
    with pytest.raises(ValueError, match="at least 2"):
        MinibatchStd()(dendrite.zeros(1, 3))


def test_minibatch_std_is_differentiable():
    values = np.random.default_rng(1).normal(size=(5, 3))
    x = dendrite.tensor(values, dtype=dendrite.float64, requires_grad=True)
    assert dendrite.autograd.gradcheck(lambda t: MinibatchStd()(t), (x,))


def test_pack_samples_groups_consecutive_samples():
    x = dendrite.tensor(np.arange(12.0).reshape(6, 2))
    assert pack_samples(x, 3).numpy().tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
    assert pack_samples(dendrite.zeros(4, 1, 8, 8), 2).shape == (2, 2, 8, 8)
    with pytest.raises(ValueError, match="divisible"):
        pack_samples(dendrite.zeros(5, 2), 2)


def test_model_shapes():
    z = dendrite.randn(6, 4)
    assert MLPGenerator(4, (2,), hidden=(8,))(z).shape == (6, 2)
    images = MLPGenerator(4, (8, 8), hidden=(8,), output="sigmoid")(z)
    assert images.shape == (6, 8, 8)
    assert 0.0 <= float(images.min().item()) <= float(images.max().item()) <= 1.0
    critic = MLPDiscriminator((2,), hidden=(8, 8), pack=2, minibatch_std=True)
    assert critic(dendrite.randn(6, 2)).shape == (3, 1)
    generated = DCGenerator(4, (8, 8), channels=(8, 4))(z)
    assert generated.shape == (6, 8, 8)
    assert DCDiscriminator((8, 8), channels=(4, 8))(generated).shape == (6, 1)
    assert DCDiscriminator((1, 8, 8), channels=(4, 8), pack=3)(dendrite.rand(6, 1, 8, 8)).shape == (2, 1)


def test_gan_sample_is_detached_and_keeps_training_mode():
    gan = GAN(MLPGenerator(4, (2,), hidden=(8,)), MLPDiscriminator((2,), hidden=(8,)))
    gan.train()
    samples = gan.sample(2500, batch_size=1000)
    assert samples.shape == (2500, 2) and not samples.requires_grad
    assert gan.training


def test_losses_match_pytorch():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(8, 1)), rng.normal(size=(8, 1))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    real_t, fake_t = torch.tensor(real), torch.tensor(fake)
    expected_d = bce(real_t, torch.full_like(real_t, 0.9)) + bce(fake_t, torch.zeros_like(fake_t))
    got_d = discriminator_loss(dendrite.tensor(real), dendrite.tensor(fake), real_label=0.9).item()
    assert got_d == pytest.approx(expected_d.item(), rel=1e-6)
    # non-saturating: -log sigmoid(logit), not log(1 - sigmoid(logit))
    expected_g = -torch.nn.functional.logsigmoid(fake_t).mean()
    assert generator_loss(dendrite.tensor(fake)).item() == pytest.approx(expected_g.item(), rel=1e-6)


def test_each_player_improves_against_a_fixed_opponent():
    dendrite.manual_seed(0)
    points = dendrite.tensor(make_ring8(256, seed=0)[0])
    gan = GAN(MLPGenerator(4, (2,), hidden=(32,)), MLPDiscriminator((2,), hidden=(32,), minibatch_std=True))
    d_optimizer = dendrite.optim.Adam(gan.discriminator.parameters(), lr=1e-2)
    g_optimizer = dendrite.optim.Adam(gan.generator.parameters(), lr=1e-2)
    fixed_z = gan.noise(256)
    d_losses = []
    for _ in range(30):
        fake = gan.generator(fixed_z).detach()
        loss = discriminator_loss(gan.discriminator(points), gan.discriminator(fake))
        d_optimizer.zero_grad()
        loss.backward()
        d_optimizer.step()
        d_losses.append(loss.item())
    assert d_losses[-1] < 0.5 * d_losses[0]
    g_losses = []
    for _ in range(30):
        loss = generator_loss(gan.discriminator(gan.generator(fixed_z)))
        g_optimizer.zero_grad()
        loss.backward()
        g_optimizer.step()
        g_losses.append(loss.item())
    assert g_losses[-1] < 0.5 * g_losses[0]


def test_tile_images_layout():
    images = np.stack([np.full((2, 3), value) for value in (0.1, 0.2, 0.3)])
    canvas = tile_images(images, columns=2, pad=1)
    assert canvas.shape == (2 * 3 + 1, 2 * 4 + 1)
    assert canvas[1, 1] == pytest.approx(0.1) and canvas[1, 5] == pytest.approx(0.2)
    assert canvas[4, 1] == pytest.approx(0.3) and canvas[4, 5] == 1.0  # the empty slot stays white


# ---------------------------------------------------------------------------- the recipe
def test_models_are_registered_and_check_their_data():
    assert {"gan", "dcgan"} <= set(MODELS)
    ring, digits = load_dataset("ring8"), load_dataset("digits")
    assert MODELS["gan"].accepts(ring) is None and MODELS["gan"].accepts(digits) is None
    assert MODELS["dcgan"].accepts(digits) is None
    assert "divisible by 4" in MODELS["dcgan"].accepts(ring)
    series = DataSplits("s", "regression", np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32),
                        np.zeros((2, 2), np.float32), np.zeros((2, 1), np.float32), (2,))
    assert "regression" in MODELS["gan"].accepts(series)


def _tiny(model, dataset, out, seed=0, epochs=2, **options):
    config = RunConfig(model, dataset, epochs=epochs, seed=seed, out=out, quiet=True,
                       options={"steps_per_epoch": 5, **options})
    return train(MODELS[model], load_dataset(dataset), config)


def test_gan_on_ring8_writes_samples_pictures_and_recomputable_metrics(tmp_path):
    metrics = _tiny("gan", "ring8", tmp_path)
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (2500, 2) and samples.dtype == np.float32
    recomputed = ring_metrics(samples, CENTRES)
    assert metrics["final"]["modes_covered"] == recomputed["modes_covered"]
    assert metrics["final"]["high_quality_fraction"] == pytest.approx(recomputed["high_quality_fraction"])
    assert len(metrics["history"]) == 2
    assert {"loss_d", "loss_g", "modes_covered"} <= set(metrics["history"][0])
    for name in ("samples.png", "samples_over_training.png", "losses.png", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "metrics.json").read_text())["settings"]["pack"] == 2


def test_gan_runs_repeat_exactly_with_the_same_seed(tmp_path):
    _tiny("gan", "ring8", tmp_path / "a", epochs=1)
    _tiny("gan", "ring8", tmp_path / "b", epochs=1)
    _tiny("gan", "ring8", tmp_path / "c", epochs=1, seed=1)
    first, again = np.load(tmp_path / "a" / "samples.npy"), np.load(tmp_path / "b" / "samples.npy")
    assert np.array_equal(first, again)
    assert not np.array_equal(first, np.load(tmp_path / "c" / "samples.npy"))


def test_dcgan_on_digits_writes_images_in_unit_range(tmp_path):
    metrics = _tiny("dcgan", "digits", tmp_path, epochs=1, steps_per_epoch=3)
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (1000, 8, 8) and samples.dtype == np.float32
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    final = metrics["final"]
    assert {"classes_covered", "mean_top_probability", "frechet_distance"} <= set(final)
    # after 3 steps the generator is still near noise: far from the real-data floor
    assert final["frechet_distance"] > 5 * final["frechet_distance_real"]
    assert len(metrics["class_counts"]) == 10 and sum(metrics["class_counts"]) == 1000


# ---------------------------------------------------------------------------- targets (slow)
@pytest.mark.slow
def test_gan_covers_the_ring_with_default_settings(tmp_path):
    config = RunConfig("gan", "ring8", seed=0, out=tmp_path, quiet=True)
    metrics = train(MODELS["gan"], load_dataset("ring8"), config)
    result = ring_metrics(np.load(tmp_path / "samples.npy"), CENTRES)
    assert result["modes_covered"] >= 7 and metrics["final"]["modes_covered"] == result["modes_covered"]
    assert result["high_quality_fraction"] >= 0.80


@pytest.mark.slow
def test_dcgan_draws_every_digit_sharply_with_default_settings(tmp_path, judge):
    config = RunConfig("dcgan", "digits", seed=0, out=tmp_path, quiet=True)
    train(MODELS["dcgan"], load_dataset("digits"), config)
    result = judge.evaluate(np.load(tmp_path / "samples.npy"))
    assert result["classes_covered"] >= 9
    assert result["mean_top_probability"] >= 0.85
    # close to the real-data floor; noise and a collapsed generator are > 20x it (test above)
    assert result["frechet_distance"] < 5 * judge.real_distance
