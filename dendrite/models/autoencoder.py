"""Autoencoders: a bottleneck MLP, a convolutional one, and the variational autoencoder.

An autoencoder learns ``decode(encode(x)) ≈ x`` through a code much smaller than
``x``, so it must keep what matters and drop the rest. The denoising variant
trains on corrupted inputs (:func:`gaussian_corrupt`) against clean targets. The
VAE (Kingma & Welling, 2014) makes the code a distribution ``q(z|x) = N(mu,
diag(exp(logvar)))`` and maximises the evidence lower bound

    ELBO = E_q[log p(x|z)] - KL(q(z|x) || N(0, I)),

with ``p(x|z)`` Bernoulli per pixel (pixels in [0, 1]); :func:`vae_loss` returns
its two terms separately, in nats per image. Decoders end in logits; ``forward``
applies the sigmoid, so reconstructions are in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import dendrite
from dendrite import nn
from dendrite.nn import functional as F

__all__ = ["Autoencoder", "ConvAutoencoder", "VAE", "vae_loss", "gaussian_corrupt"]


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for index, (width_in, width_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(width_in, width_out))
        if index < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """A fully connected autoencoder: ``in -> hidden... -> bottleneck -> ...hidden reversed -> in``.

    Shapes: x (N, *input_shape) -> reconstruction (N, *input_shape) in [0, 1];
    ``encode``: (N, *input_shape) -> (N, bottleneck); ``decode``: (N, bottleneck) -> (N, *input_shape).

    Example:
        >>> import dendrite
        >>> model = Autoencoder((8, 8), bottleneck=4, hidden=(16,))
        >>> code = model.encode(dendrite.rand(3, 8, 8))
        >>> model(dendrite.rand(3, 8, 8)).shape, code.shape
        ((3, 8, 8), (3, 4))
        >>> model.decode_logits(code).shape, bool((model.decode(code) <= 1).all())
        ((3, 8, 8), True)
    """

    def __init__(self, input_shape: Sequence[int], bottleneck: int = 8,
                 hidden: Sequence[int] = (256, 128)) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        features = math.prod(self.input_shape)
        self.encoder = _mlp((features, *hidden, bottleneck))
        self.decoder = _mlp((bottleneck, *reversed(tuple(hidden)), features))

    def encode(self, x):
        """The code: (N, *input_shape) -> (N, bottleneck)."""
        return self.encoder(x.reshape(x.shape[0], -1))

    def decode_logits(self, z):
        """Reconstruction logits: (N, bottleneck) -> (N, *input_shape)."""
        return self.decoder(z).reshape(z.shape[0], *self.input_shape)

    def decode(self, z):
        """The reconstruction in [0, 1]: (N, bottleneck) -> (N, *input_shape)."""
        return self.decode_logits(z).sigmoid()

    def forward(self, x):
        return self.decode(self.encode(x))


class ConvAutoencoder(nn.Module):
    """A convolutional autoencoder for small images, with a dense bottleneck.

    Encoder: 3x3 conv, then two stride-2 4x4 convs (each halves H and W), flatten,
    Linear to ``bottleneck``. Decoder: the mirror image with ``ConvTranspose2d``.
    Shapes: (N, H, W) or (N, C, H, W) -> the same shape in [0, 1]; H, W divisible by 4.

    Example:
        >>> import dendrite
        >>> model = ConvAutoencoder((8, 8), bottleneck=4, channels=(4, 8))
        >>> model(dendrite.rand(2, 8, 8)).shape
        (2, 8, 8)
        >>> code = model.encode(dendrite.rand(2, 8, 8))
        >>> code.shape, model.decode_logits(code).shape, model.decode(code).shape
        ((2, 4), (2, 8, 8), (2, 8, 8))
    """

    def __init__(self, image_shape: Sequence[int], bottleneck: int = 8,
                 channels: Sequence[int] = (32, 64)) -> None:
        super().__init__()
        self.image_shape = tuple(image_shape)
        if len(self.image_shape) not in (2, 3):
            raise ValueError(f"ConvAutoencoder: expected image_shape (H, W) or (C, H, W), got {image_shape}")
        in_channels = 1 if len(self.image_shape) == 2 else self.image_shape[0]
        height, width = self.image_shape[-2:]
        if height % 4 or width % 4:
            raise ValueError(f"ConvAutoencoder: height and width must be divisible by 4, got {image_shape}")
        first, second = channels
        self.code_map = (second, height // 4, width // 4)
        flat = math.prod(self.code_map)
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, first, 3, padding=1), nn.ReLU(),
            nn.Conv2d(first, second, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(second, second, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(flat, bottleneck),
        )
        self.decoder = nn.Sequential(
            nn.Linear(bottleneck, flat), nn.ReLU(), nn.Unflatten(1, self.code_map),
            nn.ConvTranspose2d(second, second, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(second, first, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(first, in_channels, 3, padding=1),
        )

    def encode(self, x):
        """The code: (N, *image_shape) -> (N, bottleneck)."""
        in_channels = 1 if len(self.image_shape) == 2 else self.image_shape[0]
        return self.encoder(x.reshape(x.shape[0], in_channels, *self.image_shape[-2:]))

    def decode_logits(self, z):
        """Reconstruction logits: (N, bottleneck) -> (N, *image_shape)."""
        return self.decoder(z).reshape(z.shape[0], *self.image_shape)

    def decode(self, z):
        """The reconstruction in [0, 1]: (N, bottleneck) -> (N, *image_shape)."""
        return self.decode_logits(z).sigmoid()

    def forward(self, x):
        return self.decode(self.encode(x))


class VAE(nn.Module):
    """A variational autoencoder with MLP encoder/decoder and a Gaussian latent of ``latent_dim``.

    ``encode``: x (N, *input_shape) -> (mu, logvar), each (N, latent_dim).
    ``decode_logits``: z (N, latent_dim) -> Bernoulli logits (N, *input_shape).
    ``forward``: x -> (logits, mu, logvar), with ``z = mu + exp(logvar / 2) * eps`` —
    the reparameterisation trick: the randomness ``eps ~ N(0, I)`` is an input, so
    gradients flow through ``mu`` and ``logvar``. In eval mode ``z = mu``.

    Example:
        >>> import dendrite
        >>> vae = VAE((8, 8), latent_dim=2, hidden=(16,))
        >>> logits, mu, logvar = vae(dendrite.rand(5, 8, 8))
        >>> logits.shape, mu.shape
        ((5, 8, 8), (5, 2))
        >>> mu, logvar = vae.encode(dendrite.rand(5, 8, 8))
        >>> z = vae.reparameterize(mu, logvar)
        >>> z.shape, vae.decode_logits(z).shape, vae.decode(dendrite.zeros(1, 2)).shape
        ((5, 2), (5, 8, 8), (1, 8, 8))
    """

    def __init__(self, input_shape: Sequence[int], latent_dim: int = 2,
                 hidden: Sequence[int] = (256, 128)) -> None:
        super().__init__()
        self.input_shape, self.latent_dim = tuple(input_shape), latent_dim
        features = math.prod(self.input_shape)
        self.encoder = _mlp((features, *hidden, 2 * latent_dim))
        self.decoder = _mlp((latent_dim, *reversed(tuple(hidden)), features))

    def encode(self, x):
        """The posterior's ``(mu, logvar)``: (N, *input_shape) -> two (N, latent_dim)."""
        statistics = self.encoder(x.reshape(x.shape[0], -1))
        return statistics[:, :self.latent_dim], statistics[:, self.latent_dim:]

    def reparameterize(self, mu, logvar):
        """A sample ``mu + sigma * eps`` that is differentiable in ``mu`` and ``logvar``; (N, latent_dim)."""
        return mu + (0.5 * logvar).exp() * dendrite.randn(*mu.shape)

    def decode_logits(self, z):
        """Bernoulli logits: (N, latent_dim) -> (N, *input_shape)."""
        return self.decoder(z).reshape(z.shape[0], *self.input_shape)

    def decode(self, z):
        """Mean images ``p(x = 1 | z)`` in [0, 1]: (N, latent_dim) -> (N, *input_shape)."""
        return self.decode_logits(z).sigmoid()

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar) if self.training else mu
        return self.decode_logits(z), mu, logvar


def vae_loss(logits, x, mu, logvar):
    """``(reconstruction, kl)``: the negative ELBO's two terms, each averaged over images (nats per image).

    reconstruction = -log p(x|z) = sum over pixels of BCE(logits, x);
    kl = KL(N(mu, exp(logvar)) || N(0, I)) = -1/2 sum(1 + logvar - mu^2 - exp(logvar)).

    Shapes: logits, x (N, *input_shape); mu, logvar (N, latent_dim) -> two scalars (shape ``()``).

    Example:
        >>> import dendrite
        >>> zeros = dendrite.zeros(2, 2)
        >>> rec, kl = vae_loss(dendrite.zeros(2, 4), dendrite.ones(2, 4), zeros, zeros)
        >>> round(rec.item(), 4), kl.item()   # 4 pixels * log 2; the prior itself has KL 0
        (2.7726, 0.0)
    """
    count = x.shape[0]
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / count
    kl = (-0.5 * (1 + logvar - mu * mu - logvar.exp())).sum() / count
    return reconstruction, kl


def gaussian_corrupt(x, std: float):
    """``clip(x + N(0, std^2), 0, 1)``: the denoising autoencoder's corruption (same shape as x).

    Example:
        >>> import dendrite
        >>> noisy = gaussian_corrupt(dendrite.full((2, 3), 0.5), 0.2)
        >>> noisy.shape, bool(((noisy >= 0) & (noisy <= 1)).all())
        ((2, 3), True)
    """
    return (x + std * dendrite.randn(*x.shape)).clamp(0.0, 1.0)
