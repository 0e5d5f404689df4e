"""Checkers for lesson 6, autoencoders.

1. :func:`compression_ratio` — how many times smaller the code is than the input it stands for.
2. :func:`reparameterize` — the VAE's sample ``z = mu + sigma * eps`` from ``(mu, logvar, eps)``, as
   dendrite tensors, so that the gradient reaches ``mu`` and ``logvar``.
3. :func:`kl_divergence` — the closed-form KL divergence of ``N(mu, diag(exp(logvar)))`` from
   ``N(0, I)``, one value per example.

Every check builds its own inputs from fixed seeds, so verdicts never depend on the notebook's state.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

import dendrite
from dendrite.lessons.checking import own_randomness
from dendrite.lessons.verdict import Verdict, correct, exercise, wrong

__all__ = ["compression_ratio", "reparameterize", "kl_divergence"]


@exercise("Lesson 6, exercise 1: the compression ratio of a bottleneck")
def compression_ratio(answer: Callable) -> Verdict:
    """Check ``answer(input_shape, bottleneck)``: how many input numbers each code number stands for.

    ``input_shape`` is one example's shape, e.g. ``(8, 8)`` or ``(3, 32, 32)``; ``bottleneck`` the code's
    length. The ratio is a float (it need not be a whole number).

    Example:
        >>> import math
        >>> compression_ratio(lambda shape, k: math.prod(shape) / k).status
        'correct'
        >>> compression_ratio(lambda shape, k: k / math.prod(shape)).status
        'wrong'
    """
    for shape, bottleneck in (((8, 8), 2), ((28, 28), 32), ((3, 32, 32), 10), ((8, 8), 3), ((100,), 7)):
        got = answer(shape, bottleneck)
        try:
            value = float(got)
        except (TypeError, ValueError):
            return wrong(f"for input_shape={shape} and bottleneck={bottleneck} you returned {got!r}; "
                         "expected one number")
        inputs = math.prod(shape)
        want = inputs / bottleneck
        if math.isclose(value, want, rel_tol=1e-9):
            continue
        where = f"input_shape={shape}, bottleneck={bottleneck}"
        if math.isclose(value, bottleneck / inputs, rel_tol=1e-9):
            return wrong(f"{where}: you got {value:.4g}, less than 1 — the ratio upside down; the code is "
                         "the smaller side, so the ratio says how many inputs one code number replaces")
        if math.isclose(value, inputs // bottleneck, rel_tol=1e-9):
            return wrong(f"{where}: {value:g} is a whole number, but the ratio here is not: integer "
                         "division (//) dropped the fraction")
        partial = {math.prod(axes) / bottleneck for axes in itertools.combinations(shape, len(shape) - 1)}
        if any(math.isclose(value, ratio, rel_tol=1e-9) for ratio in partial):
            return wrong(f"{where}: you counted only some of the input's axes; the input holds every "
                         "number of its shape (all the pixels, and every channel)")
        if math.isclose(value, sum(shape) / bottleneck, rel_tol=1e-9):
            return wrong(f"{where}: you added the sizes of the axes; the number of values in an array "
                         "of that shape is their product")
        return wrong(f"{where}: {value:g} is not right; count the numbers in one input, then compare "
                     "with the numbers in its code")
    return correct("right: an 8x8 digit squeezed into 2 numbers is a ratio of 32. The decoder has to "
                   "rebuild 32 pixels from each code number, so it can only keep what the digits have in "
                   "common — what is left out shows as blur")


def _vae_inputs(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=(4, 3)).astype(np.float32)
    logvar = rng.normal(0.0, 1.0, size=(4, 3)).astype(np.float32)
    eps = rng.normal(size=(4, 3)).astype(np.float32)
    return mu, logvar, eps


def _as_array(value) -> np.ndarray:
    if isinstance(value, dendrite.Tensor):
        return value.detach().numpy().astype(float)
    return np.asarray(value, dtype=float)


@exercise("Lesson 6, exercise 2: the reparameterisation trick")
def reparameterize(answer: Callable) -> Verdict:
    """Check ``answer(mu, logvar, eps)`` -> ``z``: a sample of ``N(mu, exp(logvar))`` made from ``eps``.

    The arguments are dendrite tensors of shape (N, latent); ``mu`` and ``logvar`` require grad, and the
    checker back-propagates through the result to see that gradients reach them.

    Example:
        >>> reparameterize(lambda mu, logvar, eps: mu + (0.5 * logvar).exp() * eps).status
        'correct'
        >>> reparameterize(lambda mu, logvar, eps: mu + logvar.exp() * eps).status
        'wrong'
    """
    for seed in (0, 1):
        mu_np, logvar_np, eps_np = _vae_inputs(seed)
        mu = dendrite.tensor(mu_np, requires_grad=True)
        logvar = dendrite.tensor(logvar_np, requires_grad=True)
        with own_randomness():  # an answer that draws its own noise must not move the learner's seed
            got = answer(mu, logvar, dendrite.tensor(eps_np))
        z = _as_array(got)
        if z.shape != mu_np.shape:
            return wrong(f"your z has shape {z.shape}; expected {mu_np.shape}, one sample per row of mu")
        sigma = np.exp(0.5 * logvar_np)
        want = mu_np + sigma * eps_np
        if not np.allclose(z, want, atol=1e-5):
            if np.allclose(z, mu_np + np.exp(logvar_np) * eps_np, atol=1e-5):
                return wrong("you scaled eps by exp(logvar), which is the variance sigma^2; the noise is "
                             "scaled by the standard deviation sigma")
            if np.allclose(z, mu_np + logvar_np * eps_np, atol=1e-5):
                return wrong("you scaled eps by logvar itself; logvar is the log of the variance, so "
                             "sigma has to be recovered from it first")
            if np.allclose(z, mu_np + eps_np, atol=1e-5):
                return wrong("z = mu + eps ignores logvar: every latent then has variance 1, whatever the "
                             "encoder said")
            if np.allclose(z, mu_np, atol=1e-5):
                return wrong("z = mu is the mean (what a VAE uses in eval mode); a training sample adds "
                             "noise eps, scaled by sigma")
            if np.allclose(z, sigma * eps_np, atol=1e-5):
                return wrong("the noise is scaled right but the sample is not centred on mu")
            if np.allclose(z, mu_np * sigma + eps_np, atol=1e-5) or np.allclose(
                    z, (mu_np + eps_np) * sigma, atol=1e-5):
                return wrong("sigma multiplies the wrong thing: only the noise eps is scaled, then "
                             "shifted by mu")
            return wrong("not yet: use the eps you are given (no new random numbers), so that "
                         "z - mu divided by sigma gives eps back")
        if not isinstance(got, dendrite.Tensor) or not got.requires_grad:
            return wrong("the values are right but no gradient can reach mu and logvar: compute z with "
                         "dendrite operations on the tensors you are given (not via .numpy())")
        (got * dendrite.tensor(np.ones_like(mu_np))).sum().backward()
        grad_mu, grad_logvar = mu.grad, logvar.grad
        if grad_mu is None or grad_logvar is None:
            missing = "mu" if grad_mu is None else "logvar"
            return wrong(f"no gradient reached {missing}: z must be computed from it with dendrite "
                         "operations (no .detach() or .numpy() on the way)")
        if not (np.allclose(grad_mu.numpy(), 1.0, atol=1e-5)
                and np.allclose(grad_logvar.numpy(), 0.5 * sigma * eps_np, atol=1e-5)):
            return wrong("the values are right but the gradients are not those of mu + sigma * eps; "
                         "compute z in one expression from mu, logvar and eps")
    return correct("right: z = mu + exp(logvar / 2) * eps. The randomness is an input, so dz/dmu = 1 and "
                   "dz/dlogvar = sigma * eps / 2 exist, and the encoder learns through the sample")


def _kl_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [
        (np.zeros((2, 3)), np.zeros((2, 3))),                           # the prior itself: KL 0
        (np.full((2, 3), 1.5), np.zeros((2, 3))),                        # shifted mean, unit variance
        (np.zeros((2, 3)), np.full((2, 3), math.log(4.0))),              # centred, variance 4
        (rng.normal(size=(5, 2)), rng.normal(0.0, 1.0, size=(5, 2))),   # anything
    ]


@exercise("Lesson 6, exercise 3: the KL divergence of a Gaussian from N(0, I)")
def kl_divergence(answer: Callable) -> Verdict:
    """Check ``answer(mu, logvar)`` -> the KL divergence of ``N(mu, diag(exp(logvar)))`` from ``N(0, I)``.

    ``mu`` and ``logvar`` are NumPy arrays of shape (N, latent); the answer has shape (N,): one
    divergence per example, summed over the latent dimensions.

    Example:
        >>> import numpy as np
        >>> kl_divergence(lambda mu, lv: 0.5 * np.sum(mu**2 + np.exp(lv) - 1 - lv, axis=1)).status
        'correct'
        >>> kl_divergence(lambda mu, lv: 0.5 * np.mean(mu**2 + np.exp(lv) - 1 - lv, axis=1)).status
        'wrong'
    """
    for mu, logvar in _kl_cases():
        got = _as_array(answer(mu.copy(), logvar.copy()))
        per_dimension = 0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar)
        want = per_dimension.sum(axis=1)
        if got.shape != want.shape:
            if got.shape in ((), (1,)):
                return wrong(f"you returned one number for the whole batch; expected shape {want.shape}, "
                             "one divergence per example (the VAE's loss averages them later)")
            if got.size == want.size:
                return wrong(f"your KL has shape {got.shape}; the values are per example, but the shape "
                             f"should be {want.shape} (a sum with keepdims=True keeps an extra axis)")
            if got.shape == mu.shape:
                return wrong(f"you returned shape {got.shape}, one value per latent dimension; add them "
                             f"up per example, to shape {want.shape}")
            return wrong(f"your KL has shape {got.shape}; expected {want.shape}, one value per example")
        if np.allclose(got, want, atol=1e-6):
            continue
        constant = np.ptp(mu) == 0 and np.ptp(logvar) == 0
        case = (f"at mu = {mu.flat[0]:g}, logvar = {logvar.flat[0]:.3g}" if constant
                else "for random mu and logvar")
        if np.allclose(got, -want, atol=1e-6):
            return wrong(f"{case} your KL is negative; a KL divergence is never negative — check the sign")
        if np.allclose(got, 2 * want, atol=1e-6):
            return wrong(f"{case} your KL is twice the right value; look at the factor in front")
        if np.allclose(got, per_dimension.mean(axis=1), atol=1e-6):
            return wrong(f"{case} you averaged over the latent dimensions; the dimensions are independent, "
                         "so their divergences add up")
        if np.allclose(got, 0.5 * (mu**2 + logvar**2 - 1.0 - np.log(logvar**2 + 1e-300)).sum(axis=1),
                       atol=1e-6, equal_nan=True) or not np.all(np.isfinite(got)):
            return wrong(f"{case} your formula treats logvar as sigma (or takes a log of it); logvar is "
                         "already log sigma^2, the variance is exp(logvar)")
        return wrong(f"{case} your KL is {np.round(got, 4).tolist()}; check the case the prior itself "
                     "(mu = 0, logvar = 0: the KL must be 0), then a shifted mean, then a wider variance")
    return correct("right: KL = 1/2 sum(mu^2 + sigma^2 - 1 - log sigma^2), zero exactly when q is the prior. "
                   "It pulls every code towards N(0, I), which is why the VAE's latent space has no holes")
