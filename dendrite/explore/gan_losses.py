"""The GAN lab's four games: the losses of discriminator and generator, the gradient penalty, clipping.

``D`` outputs one logit (or, for the Wasserstein games, one critic value) per pack of samples.

* ``non_saturating`` (Goodfellow et al., 2014): D minimises ``BCE(D(x), 1) + BCE(D(G(z)), 0)``;
  G minimises ``-log sigmoid(D(G(z)))`` — steep where D rejects the fakes confidently.
* ``minimax``: the same D; G minimises ``log(1 - sigmoid(D(G(z))))`` — the original game, whose
  gradient vanishes exactly when D wins, so G learns slowly from a strong D.
* ``wgan_gp`` (Gulrajani et al., 2017): a critic minimising ``mean D(G(z)) - mean D(x)`` plus
  ``lambda * (||grad D(x_hat)|| - 1)^2`` on random interpolates ``x_hat``; G minimises ``-mean D(G(z))``.
* ``wgan_clip`` (Arjovsky et al., 2017): the same critic loss, with every critic weight clipped to
  ``[-c, c]`` after each step to keep D roughly Lipschitz.
"""

from __future__ import annotations

import dendrite
from dendrite import nn
from dendrite.nn import functional as F

__all__ = ["LOSSES", "discriminator_loss", "generator_loss", "gradient_penalty", "clip_weights"]

LOSSES = ("non_saturating", "minimax", "wgan_gp", "wgan_clip")


def _check(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"unknown GAN loss {loss!r}; expected one of {', '.join(LOSSES)}")


def discriminator_loss(loss: str, real_out, fake_out):
    """The discriminator's (critic's) loss for the game ``loss``; outputs (N, 1) -> a scalar Tensor.

    Example:
        >>> import dendrite
        >>> round(discriminator_loss("minimax", dendrite.zeros(4, 1), dendrite.zeros(4, 1)).item(), 4)
        1.3863
        >>> discriminator_loss("wgan_gp", dendrite.ones(4, 1), dendrite.zeros(4, 1)).item()
        -1.0
    """
    _check(loss)
    if loss.startswith("wgan"):
        return fake_out.mean() - real_out.mean()
    # BCE(r, 1) = softplus(-r); BCE(f, 0) = softplus(f)
    return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()


def generator_loss(loss: str, fake_out):
    """The generator's loss for the game ``loss``; D's outputs on fakes (N, 1) -> a scalar Tensor.

    Example:
        >>> import dendrite
        >>> round(generator_loss("non_saturating", dendrite.zeros(4, 1)).item(), 4)  # -log 1/2
        0.6931
        >>> round(generator_loss("minimax", dendrite.zeros(4, 1)).item(), 4)  # log(1 - 1/2)
        -0.6931
    """
    _check(loss)
    if loss.startswith("wgan"):
        return -fake_out.mean()
    if loss == "minimax":
        return -F.softplus(fake_out).mean()  # log(1 - sigmoid(f)) = -softplus(f)
    return F.softplus(-fake_out).mean()  # -log sigmoid(f) = softplus(-f)


def gradient_penalty(critic: nn.Module, real, fake, alpha):
    """``mean (||grad critic(x_hat)|| - 1)^2`` at ``x_hat = alpha * real + (1 - alpha) * fake``.

    ``real``, ``fake``: (N, 2); ``alpha``: (N, 1) in [0, 1] (one per sample; with packing the
    gradient norm is taken over each pack's concatenated coordinates). The graph is kept
    (``create_graph=True``) so the penalty itself can be back-propagated into the critic.

    Example:
        >>> import dendrite
        >>> critic = nn.Linear(2, 1, bias=False)
        >>> with dendrite.no_grad():
        ...     _ = critic.weight.copy_(dendrite.tensor([[3.0, 4.0]]))  # ||grad|| = 5 everywhere
        >>> x = dendrite.zeros(4, 2)
        >>> gradient_penalty(critic, x, x, dendrite.full((4, 1), 0.5)).item()  # (5 - 1)^2
        16.0
    """
    mixed = (alpha * real + (1 - alpha) * fake).detach().requires_grad_(True)
    out = critic(mixed)
    (grad,) = dendrite.autograd.grad(out.sum(), mixed, create_graph=True)
    pack = out.shape[0]
    norms = ((grad.reshape(pack, -1) ** 2).sum(1) + 1e-12).sqrt()  # finite gradient at a zero norm
    return ((norms - 1) ** 2).mean()


def clip_weights(module: nn.Module, bound: float) -> None:
    """Clip every parameter of ``module`` to ``[-bound, bound]`` in place (WGAN with weight clipping).

    Example:
        >>> import dendrite
        >>> layer = nn.Linear(3, 2)
        >>> clip_weights(layer, 0.01)
        >>> max(float(p.abs().max().item()) for p in layer.parameters()) <= 0.01
        True
    """
    with dendrite.no_grad():
        for parameter in module.parameters():
            parameter.clamp_(-bound, bound)
