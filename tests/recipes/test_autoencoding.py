"""Autoencoders: models, the VAE's loss against PyTorch, the PCA baseline, the recipes and their targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite
from dendrite.data import load_dataset
from dendrite.models.autoencoder import VAE, Autoencoder, ConvAutoencoder, gaussian_corrupt, vae_loss
from dendrite.recipes.autoencoding import pca_reconstruction_mse
from dendrite.recipes.base import RunConfig
from dendrite.recipes.catalog import MODELS
from dendrite.recipes.runner import train


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


# ---------------------------------------------------------------------------- models
@pytest.mark.parametrize("make", [
    lambda: Autoencoder((8, 8), bottleneck=3, hidden=(16,)),
    lambda: ConvAutoencoder((8, 8), bottleneck=3, channels=(4, 8)),
    lambda: ConvAutoencoder((1, 8, 8), bottleneck=3, channels=(4, 8)),
])
def test_autoencoders_reconstruct_in_unit_range_through_a_small_code(make):
    model = make()
    shape = (5, *model.image_shape) if hasattr(model, "image_shape") else (5, 8, 8)
    x = dendrite.rand(*shape)
    assert model.encode(x).shape == (5, 3)
    out = model(x)
    assert out.shape == shape
    assert 0.0 <= float(out.min().item()) and float(out.max().item()) <= 1.0


def test_conv_autoencoder_rejects_sizes_its_strides_cannot_halve():
    with pytest.raises(ValueError, match="divisible by 4"):
        ConvAutoencoder((6, 6))


def test_vae_samples_in_training_and_uses_the_mean_in_eval():
    dendrite.manual_seed(0)
    vae = VAE((8, 8), latent_dim=2, hidden=(16,))
    x = dendrite.rand(4, 8, 8)
    vae.eval()
    first, second = vae(x)[0].detach().numpy(), vae(x)[0].detach().numpy()
    assert np.array_equal(first, second)
    vae.train()
    assert not np.array_equal(vae(x)[0].detach().numpy(), vae(x)[0].detach().numpy())


def test_reparameterisation_passes_gradients_to_mean_and_log_variance():
    dendrite.manual_seed(0)
    mu = dendrite.zeros(3, 2, requires_grad=True)
    logvar = dendrite.zeros(3, 2, requires_grad=True)
    z = VAE((4,), latent_dim=2, hidden=(4,)).reparameterize(mu, logvar)
    (z * z).sum().backward()
    assert np.abs(mu.grad.numpy()).sum() > 0 and np.abs(logvar.grad.numpy()).sum() > 0


def test_vae_loss_matches_pytorch():
    rng = np.random.default_rng(0)
    logits, x = rng.normal(size=(6, 64)), rng.random((6, 64))
    mu, logvar = rng.normal(size=(6, 2)), rng.normal(size=(6, 2)) * 0.5
    inputs = (dendrite.tensor(a, dtype=dendrite.float64) for a in (logits, x, mu, logvar))
    reconstruction, kl = vae_loss(*inputs)
    expected_rec = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(logits), torch.tensor(x), reduction="sum") / 6
    posterior = torch.distributions.Normal(torch.tensor(mu), torch.tensor(np.exp(0.5 * logvar)))
    standard = torch.zeros(6, 2, dtype=torch.float64)
    prior = torch.distributions.Normal(standard, standard + 1.0)
    expected_kl = torch.distributions.kl_divergence(posterior, prior).sum() / 6
    assert reconstruction.item() == pytest.approx(expected_rec.item(), rel=1e-10)
    assert kl.item() == pytest.approx(expected_kl.item(), rel=1e-10)


def test_gaussian_corrupt_adds_clipped_noise_of_the_given_std():
    dendrite.manual_seed(0)
    noisy = gaussian_corrupt(dendrite.full((200, 50), 0.5), 0.1).numpy()
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    assert noisy.std() == pytest.approx(0.1, rel=0.05)
    edges = gaussian_corrupt(dendrite.zeros(100, 100), 0.2).numpy()
    assert edges.min() == 0.0 and (edges == 0.0).mean() == pytest.approx(0.5, abs=0.03)


# ---------------------------------------------------------------------------- PCA baseline
def test_pca_baseline_is_exact_on_low_rank_data_and_matches_the_known_digits_value(digits):
    rng = np.random.default_rng(0)
    low_rank = rng.normal(size=(300, 3)) @ rng.normal(size=(3, 10)) + 5.0
    assert pca_reconstruction_mse(low_rank[:200], low_rank[200:], 3) < 1e-20
    assert pca_reconstruction_mse(low_rank[:200], low_rank[200:], 2) > 1e-3
    assert pca_reconstruction_mse(digits.x_train, digits.x_test, 8) == pytest.approx(0.0245, abs=5e-4)


# ---------------------------------------------------------------------------- recipes (tiny runs)
def _run(model, out, epochs, **options):
    config = RunConfig(model, "digits", epochs=epochs, seed=0, out=out, quiet=True, options=options)
    return train(MODELS[model], load_dataset("digits"), config)


def test_models_are_registered_and_need_images_in_unit_range():
    assert {"ae", "dae", "vae", "convae"} <= set(MODELS)
    ring = load_dataset("ring8")
    for name in ("ae", "dae", "vae", "convae"):
        assert MODELS[name].accepts(load_dataset("digits")) is None
        assert MODELS[name].accepts(ring) is not None


def test_ae_recipe_learns_and_writes_recomputable_reconstructions(tmp_path, digits):
    metrics = _run("ae", tmp_path, epochs=3)
    losses = [row["loss"] for row in metrics["history"]]
    assert losses[-1] < losses[0]
    saved = np.load(tmp_path / "reconstructions.npz")
    assert set(saved.files) == {"inputs", "outputs"}
    assert saved["inputs"].shape == saved["outputs"].shape == (360, 8, 8)
    np.testing.assert_array_equal(saved["inputs"], digits.x_test)
    assert 0.0 <= saved["outputs"].min() and saved["outputs"].max() <= 1.0
    recomputed = float(((saved["outputs"] - saved["inputs"]) ** 2).mean())
    assert metrics["final"]["test_mse"] == pytest.approx(recomputed, rel=1e-5)
    assert metrics["history"][-1]["val_loss"] == pytest.approx(recomputed, rel=1e-5)
    for name in ("reconstructions.png", "curves.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_dae_recipe_reports_noisy_and_denoised_errors(tmp_path):
    metrics = _run("dae", tmp_path, epochs=2)
    saved = np.load(tmp_path / "reconstructions.npz")
    assert set(saved.files) == {"inputs", "outputs", "noisy"}
    assert 0.0 <= saved["noisy"].min() and saved["noisy"].max() <= 1.0
    noisy = float(((saved["noisy"] - saved["inputs"]) ** 2).mean())
    denoised = float(((saved["outputs"] - saved["inputs"]) ** 2).mean())
    assert metrics["final"]["noisy_mse"] == pytest.approx(noisy, rel=1e-5)
    assert metrics["final"]["denoised_mse"] == pytest.approx(denoised, rel=1e-5)
    assert 0.02 < noisy < 0.03  # std 0.2, halved where clipping at 0 and 1 bites


def test_vae_recipe_reports_the_elbo_terms_and_draws_its_latent_space(tmp_path):
    metrics = _run("vae", tmp_path, epochs=2)
    final = metrics["final"]
    assert final["test_neg_elbo"] == pytest.approx(final["test_reconstruction"] + final["test_kl"], rel=1e-9)
    assert final["test_kl"] > 0
    assert {"loss", "reconstruction", "kl", "val_loss"} <= set(metrics["history"][0])
    for name in ("latent.png", "manifold.png", "samples.png", "reconstructions.png", "curves.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_convae_recipe_learns(tmp_path):
    metrics = _run("convae", tmp_path, epochs=3, channels=(8, 16))
    losses = [row["val_loss"] for row in metrics["history"]]
    assert losses[-1] < losses[0]
    saved = np.load(tmp_path / "reconstructions.npz")
    recomputed = float(((saved["outputs"] - saved["inputs"]) ** 2).mean())
    assert metrics["final"]["test_mse"] == pytest.approx(recomputed, rel=1e-5)


# ---------------------------------------------------------------------------- targets (slow)
@pytest.mark.slow
def test_ae_beats_pca_with_default_settings(tmp_path):
    metrics = _run("ae", tmp_path, epochs=None)
    saved = np.load(tmp_path / "reconstructions.npz")
    assert float(((saved["outputs"] - saved["inputs"]) ** 2).mean()) <= 0.02
    assert metrics["final"]["test_mse"] < metrics["final"]["pca_test_mse"]


@pytest.mark.slow
def test_dae_denoises_with_default_settings(tmp_path):
    metrics = _run("dae", tmp_path, epochs=None)
    assert metrics["final"]["denoised_mse"] <= 0.02
    assert metrics["final"]["denoised_mse"] < metrics["final"]["noisy_mse"]


@pytest.mark.slow
def test_vae_elbo_with_default_settings(tmp_path):
    metrics = _run("vae", tmp_path, epochs=None)
    assert metrics["final"]["test_neg_elbo"] <= 26.0


@pytest.mark.slow
def test_convae_with_default_settings(tmp_path):
    metrics = _run("convae", tmp_path, epochs=None)
    assert metrics["final"]["test_mse"] <= 0.02
