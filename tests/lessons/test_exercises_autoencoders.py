"""Lesson 6's checkers: the reference answers pass, placeholders wait, typical mistakes are named."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dendrite
from dendrite.lessons.exercises import autoencoders as check
from dendrite.models import VAE
from dendrite.models.autoencoder import vae_loss

# ---------------------------------------------------------------- exercise 1: compression ratio


def test_compression_ratio_reference_is_correct():
    assert check.compression_ratio(lambda shape, k: math.prod(shape) / k).status == "correct"
    assert check.compression_ratio(lambda shape, k: np.prod(shape) / k).status == "correct"   # numpy float


def test_compression_ratio_placeholders_are_unanswered():
    assert check.compression_ratio(...).status == "unanswered"
    assert check.compression_ratio(lambda shape, k: ...).status == "unanswered"


@pytest.mark.parametrize("ratio, says", [
    (lambda shape, k: k / math.prod(shape), "upside down"),
    (lambda shape, k: math.prod(shape) // k, "integer division"),
    (lambda shape, k: shape[0] / k, "only some of the input's axes"),
    (lambda shape, k: shape[-1] * shape[-2] / k, "only some of the input's axes"),   # channels left out
    (lambda shape, k: sum(shape) / k, "product"),
    (lambda shape, k: math.prod(shape) - k, "is not right"),
    (lambda shape, k: (math.prod(shape), k), "expected one number"),
])
def test_compression_ratio_wrong_answers_say_what_is_wrong(ratio, says):
    verdict = check.compression_ratio(ratio)
    assert verdict.status == "wrong"
    assert says in verdict.message


def test_compression_ratio_code_that_raises_is_wrong():
    verdict = check.compression_ratio(lambda shape, k: math.prod(shape) / k if len(shape) < 3 else shape.size)
    assert verdict.status == "wrong" and "AttributeError" in verdict.message


# ---------------------------------------------------------------- exercise 2: reparameterisation


def _sample(mu, logvar, eps):
    return mu + (0.5 * logvar).exp() * eps


def test_reparameterize_reference_is_correct():
    assert check.reparameterize(_sample).status == "correct"
    assert check.reparameterize(lambda mu, logvar, eps: mu + logvar.mul(0.5).exp() * eps).status == "correct"


def test_reparameterize_reference_matches_the_library_vae():
    # dendrite.models.VAE.reparameterize draws its own eps; with the same seed the two agree
    vae = VAE((2, 2), latent_dim=3, hidden=(4,))
    mu, logvar = dendrite.randn(4, 3), dendrite.randn(4, 3)
    dendrite.manual_seed(7)
    library = vae.reparameterize(mu, logvar)
    dendrite.manual_seed(7)
    eps = dendrite.randn(4, 3)
    assert np.allclose(_sample(mu, logvar, eps).numpy(), library.numpy(), atol=1e-6)


def test_reparameterize_placeholders_are_unanswered():
    assert check.reparameterize(...).status == "unanswered"
    assert check.reparameterize(lambda mu, logvar, eps: ...).status == "unanswered"


def _through_numpy(mu, logvar, eps):
    return dendrite.tensor(mu.detach().numpy() + np.exp(0.5 * logvar.detach().numpy()) * eps.numpy())


@pytest.mark.parametrize("sample, says", [
    (lambda mu, logvar, eps: mu + logvar.exp() * eps, "variance"),
    (lambda mu, logvar, eps: mu + logvar * eps, "log of the variance"),
    (lambda mu, logvar, eps: mu + eps, "ignores logvar"),
    (lambda mu, logvar, eps: mu * 1.0, "the mean"),
    (lambda mu, logvar, eps: (0.5 * logvar).exp() * eps, "not centred on mu"),
    (lambda mu, logvar, eps: mu * (0.5 * logvar).exp() + eps, "sigma multiplies the wrong thing"),
    (lambda mu, logvar, eps: mu + (0.5 * logvar).exp() * dendrite.randn(*mu.shape), "use the eps"),
    (lambda mu, logvar, eps: (mu + (0.5 * logvar).exp() * eps)[0], "shape"),
    (_through_numpy, "no gradient can reach"),
    (lambda mu, logvar, eps: mu + (0.5 * logvar.detach()).exp() * eps, "no gradient reached logvar"),
    (lambda mu, logvar, eps: mu.detach() + (0.5 * logvar).exp() * eps, "no gradient reached mu"),
])
def test_reparameterize_wrong_answers_say_what_is_wrong(sample, says):
    verdict = check.reparameterize(sample)
    assert verdict.status == "wrong"
    assert says in verdict.message


def test_reparameterize_with_numpy_functions_is_wrong_not_a_crash():
    # np.exp on a dendrite tensor raises inside the learner's code
    verdict = check.reparameterize(lambda mu, logvar, eps: mu + np.exp(0.5 * logvar) * eps)
    assert verdict.status == "wrong" and "TypeError" in verdict.message


def test_reparameterize_code_that_raises_is_wrong():
    verdict = check.reparameterize(lambda mu, logvar, eps: mu + logvar.sqrt_of_variance() * eps)
    assert verdict.status == "wrong" and "AttributeError" in verdict.message


# ---------------------------------------------------------------- exercise 3: the KL term


def _kl(mu, logvar):
    return 0.5 * np.sum(mu**2 + np.exp(logvar) - 1 - logvar, axis=1)


def test_kl_reference_is_correct():
    assert check.kl_divergence(_kl).status == "correct"


def test_kl_reference_matches_the_library_vae_loss():
    # dendrite.models.autoencoder.vae_loss returns the batch mean of the same divergence
    rng = np.random.default_rng(3)
    mu, logvar = rng.normal(size=(6, 2)).astype(np.float32), rng.normal(size=(6, 2)).astype(np.float32)
    x = dendrite.zeros(6, 4)
    _, kl = vae_loss(dendrite.zeros(6, 4), x, dendrite.tensor(mu), dendrite.tensor(logvar))
    assert np.isclose(kl.item(), _kl(mu, logvar).mean(), atol=1e-5)


def test_kl_placeholders_are_unanswered():
    assert check.kl_divergence(...).status == "unanswered"
    assert check.kl_divergence(lambda mu, logvar: ...).status == "unanswered"


@pytest.mark.parametrize("kl, says", [
    (lambda mu, lv: -_kl(mu, lv), "sign"),
    (lambda mu, lv: 2 * _kl(mu, lv), "twice"),
    (lambda mu, lv: 0.5 * np.mean(mu**2 + np.exp(lv) - 1 - lv, axis=1), "averaged over the latent"),
    (lambda mu, lv: 0.5 * np.sum(mu**2 + lv**2 - 1 - np.log(lv**2), axis=1), "logvar as sigma"),
    (lambda mu, lv: _kl(mu, lv).sum(), "one number for the whole batch"),
    (lambda mu, lv: _kl(mu, lv).mean(), "one number for the whole batch"),
    (lambda mu, lv: 0.5 * (mu**2 + np.exp(lv) - 1 - lv), "one value per latent dimension"),
    (lambda mu, lv: 0.5 * np.sum(mu**2 + np.exp(lv) - 1 - lv, axis=1, keepdims=True), "keepdims"),
    (lambda mu, lv: 0.5 * np.sum(mu**2 + np.exp(lv) - lv, axis=1), "mu = 0, logvar = 0"),
    (lambda mu, lv: 0.5 * np.sum(np.exp(lv) - 1 - lv, axis=1), "at mu = 1.5"),
])
def test_kl_wrong_answers_say_what_is_wrong(kl, says):
    with np.errstate(divide="ignore", invalid="ignore"):
        verdict = check.kl_divergence(kl)
    assert verdict.status == "wrong"
    assert says in verdict.message


def test_kl_code_that_raises_is_wrong():
    verdict = check.kl_divergence(lambda mu, logvar: (mu + logvar).exp_all())
    assert verdict.status == "wrong" and "AttributeError" in verdict.message


def test_checkers_leave_the_learners_random_state_alone():
    state = dendrite.get_rng_state()
    check.reparameterize(lambda mu, logvar, eps: mu + (0.5 * logvar).exp() * dendrite.randn(*mu.shape))
    assert dendrite.get_rng_state() == state
