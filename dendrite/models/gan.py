"""Generative adversarial networks: MLP and DCGAN-style generators and discriminators, and their losses.

A generator maps noise ``z ~ N(0, I)`` to a sample; a discriminator maps a
sample to one logit, "real" when positive. Training alternates two steps
(Goodfellow et al., 2014, with the *non-saturating* generator loss):

* discriminator: ``BCE(D(x), 1) + BCE(D(G(z)), 0)``
* generator:     ``BCE(D(G(z)), 1)  = -log D(G(z))`` — strong gradients even when
  ``D`` confidently rejects the fakes, unlike the original ``log(1 - D(G(z)))``.

Two defences against *mode collapse* (the generator producing only a few of the
data's modes) are built into the discriminators here:

* **packing** (PacGAN, Lin et al., 2018): the discriminator judges ``pack``
  samples at once, concatenated. A collapsed generator's pack is made of near
  copies, which real packs almost never are, so collapse becomes visible to ``D``
  and the generator is pushed to spread out.
* **minibatch standard deviation** (Karras et al., 2018): one extra feature, the
  average over features of the batch's standard deviation, tells ``D`` how varied
  the whole batch is — again something a collapsed generator cannot fake.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import dendrite
from dendrite import nn
from dendrite.models.feedforward import image_shape as channels_height_width
from dendrite.nn import functional as F

__all__ = [
    "MinibatchStd", "pack_samples", "MLPGenerator", "MLPDiscriminator", "DCGenerator", "DCDiscriminator",
    "GAN", "discriminator_loss", "generator_loss",
]


class MinibatchStd(nn.Module):
    """Append the batch's average standard deviation as one more feature (or channel).

    Shapes: (N, F) -> (N, F + 1); (N, C, H, W) -> (N, C + 1, H, W).

    Example:
        >>> import dendrite
        >>> MinibatchStd()(dendrite.randn(4, 3)).shape
        (4, 4)
    """

    def forward(self, x):
        if x.shape[0] < 2:
            raise ValueError(f"MinibatchStd needs a batch of at least 2 samples, got input of shape "
                             f"{x.shape}")
        centred = x - x.mean(0, keepdim=True)
        # The 1e-8 keeps the square root's gradient finite when the batch is fully collapsed.
        spread = ((centred * centred).mean(0) + 1e-8).sqrt().mean()
        shape = (x.shape[0], 1, *x.shape[2:])
        return dendrite.cat([x, spread.reshape(*([1] * x.ndim)).expand(*shape)], 1)


def pack_samples(x, pack: int):
    """Concatenate groups of ``pack`` consecutive samples along the feature (channel) axis.

    Shapes: (N, F) -> (N / pack, pack * F); (N, C, H, W) -> (N / pack, pack * C, H, W).

    Example:
        >>> import dendrite
        >>> pack_samples(dendrite.zeros(6, 2), 3).shape
        (2, 6)
    """
    if pack == 1:
        return x
    if x.shape[0] % pack:
        raise ValueError(f"pack_samples: batch of {x.shape[0]} samples is not divisible by pack={pack}")
    return x.reshape(x.shape[0] // pack, pack * x.shape[1], *x.shape[2:])


def _leaky() -> nn.Module:
    return nn.LeakyReLU(0.2)


class MLPGenerator(nn.Module):
    """Noise to samples through Linear + ReLU layers.

    ``output``: ``'linear'`` (points anywhere, e.g. the 2-D ring) or ``'sigmoid'``
    (pixels in [0, 1]). Shapes: z (N, latent_dim) -> (N, *sample_shape).

    Example:
        >>> import dendrite
        >>> MLPGenerator(8, (2,), hidden=(16,))(dendrite.randn(5, 8)).shape
        (5, 2)
    """

    def __init__(self, latent_dim: int, sample_shape: Sequence[int], hidden: Sequence[int] = (128, 128),
                 output: str = "linear") -> None:
        super().__init__()
        if output not in ("linear", "sigmoid"):
            raise ValueError(f"MLPGenerator: output must be 'linear' or 'sigmoid', got {output!r}")
        self.latent_dim, self.sample_shape, self.output = latent_dim, tuple(sample_shape), output
        layers: list[nn.Module] = []
        width = latent_dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, math.prod(self.sample_shape)))
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        out = self.net(z)
        if self.output == "sigmoid":
            out = out.sigmoid()
        return out.reshape(z.shape[0], *self.sample_shape)


class MLPDiscriminator(nn.Module):
    """Samples to one "real" logit per pack, through Linear + LeakyReLU(0.2) layers.

    Shapes: (N, *sample_shape) -> (N / pack, 1). With ``minibatch_std`` the last
    hidden layer also sees the batch's spread (see :class:`MinibatchStd`).

    Example:
        >>> import dendrite
        >>> MLPDiscriminator((2,), hidden=(16,), pack=2)(dendrite.randn(6, 2)).shape
        (3, 1)
    """

    def __init__(self, sample_shape: Sequence[int], hidden: Sequence[int] = (128, 128), pack: int = 1,
                 minibatch_std: bool = False) -> None:
        super().__init__()
        if pack < 1:
            raise ValueError(f"MLPDiscriminator: pack must be >= 1, got {pack}")
        self.sample_shape, self.pack = tuple(sample_shape), pack
        layers: list[nn.Module] = []
        width = math.prod(self.sample_shape) * pack
        for index, size in enumerate(hidden):
            if minibatch_std and index == len(hidden) - 1:
                layers.append(MinibatchStd())
                width += 1
            layers += [nn.Linear(width, size), _leaky()]
            width = size
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(pack_samples(x.reshape(x.shape[0], -1), self.pack))


class DCGenerator(nn.Module):
    """DCGAN-style generator for small images: Linear to a 4x smaller map, then transposed convolutions.

    Each ``ConvTranspose2d(kernel 4, stride 2, padding 1)`` doubles the height and
    width; BatchNorm + ReLU between them (Radford et al., 2016); a sigmoid gives
    pixels in [0, 1]. Shapes: z (N, latent_dim) -> (N, H, W) for ``image_shape=(H, W)``
    or (N, C, H, W) for ``(C, H, W)``; H and W must be divisible by 4.

    Example:
        >>> import dendrite
        >>> DCGenerator(16, (8, 8), channels=(16, 8))(dendrite.randn(3, 16)).shape
        (3, 8, 8)
    """

    def __init__(self, latent_dim: int, image_shape: Sequence[int],
                 channels: Sequence[int] = (128, 64)) -> None:
        super().__init__()
        self.latent_dim, self.image_shape = latent_dim, tuple(image_shape)
        in_channels, height, width = channels_height_width(image_shape)
        if height % 4 or width % 4:
            raise ValueError(f"DCGenerator: image height and width must be divisible by 4, got {image_shape}")
        first, second = channels
        self.start = (first, height // 4, width // 4)
        start_features = math.prod(self.start)
        self.project = nn.Sequential(nn.Linear(latent_dim, start_features), nn.BatchNorm1d(start_features),
                                     nn.ReLU())
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(first, second, 4, stride=2, padding=1), nn.BatchNorm2d(second), nn.ReLU(),
            nn.ConvTranspose2d(second, in_channels, 4, stride=2, padding=1),
        )

    def forward(self, z):
        images = self.deconv(self.project(z).reshape(z.shape[0], *self.start)).sigmoid()
        return images.reshape(z.shape[0], *self.image_shape)


class DCDiscriminator(nn.Module):
    """DCGAN-style discriminator: strided convolutions with LeakyReLU(0.2), then one logit per pack.

    No BatchNorm: it would mix the samples of a batch, which packing and the
    minibatch-std feature already do on purpose. Shapes: (N, H, W) or (N, C, H, W)
    -> (N / pack, 1).

    Example:
        >>> import dendrite
        >>> DCDiscriminator((8, 8), channels=(8, 16), pack=2)(dendrite.rand(4, 8, 8)).shape
        (2, 1)
    """

    def __init__(self, image_shape: Sequence[int], channels: Sequence[int] = (64, 128), pack: int = 1,
                 minibatch_std: bool = True) -> None:
        super().__init__()
        self.image_shape, self.pack = tuple(image_shape), pack
        in_channels, height, width = channels_height_width(image_shape)
        first, second = channels
        layers: list[nn.Module] = [nn.Conv2d(in_channels * pack, first, 4, stride=2, padding=1), _leaky()]
        if minibatch_std:
            layers.append(MinibatchStd())
        layers += [nn.Conv2d(first + int(minibatch_std), second, 4, stride=2, padding=1), _leaky(),
                   nn.Flatten(), nn.Linear(second * (height // 4) * (width // 4), 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        in_channels, height, width = channels_height_width(self.image_shape)
        return self.net(pack_samples(x.reshape(x.shape[0], in_channels, height, width), self.pack))


class GAN(nn.Module):
    """A generator and its discriminator in one module (one state_dict), plus :meth:`sample`.

    Shapes: ``forward`` is the generator's: z (N, latent_dim) -> samples (N, *sample_shape).

    Example:
        >>> gan = GAN(MLPGenerator(4, (2,), hidden=(8,)), MLPDiscriminator((2,), hidden=(8,)))
        >>> gan.sample(10).shape, gan.noise(3).shape
        ((10, 2), (3, 4))
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module) -> None:
        super().__init__()
        self.generator, self.discriminator = generator, discriminator

    @property
    def latent_dim(self) -> int:
        """The size of one latent vector (the generator's ``latent_dim``)."""
        return self.generator.latent_dim

    def noise(self, n: int):
        """``n`` latent vectors ``z ~ N(0, I)`` from dendrite's seeded generator: (n, latent_dim)."""
        return dendrite.randn(n, self.latent_dim)

    def forward(self, z):
        return self.generator(z)

    def sample(self, n: int, batch_size: int = 1000):
        """``n`` generated samples as a Tensor (n, *sample_shape), in eval mode, without a graph."""
        was_training = self.training
        self.eval()
        try:
            with dendrite.no_grad():
                parts = [self.generator(self.noise(min(batch_size, n - start)))
                         for start in range(0, n, batch_size)]
        finally:
            self.train(was_training)
        return dendrite.cat(parts, 0)


def discriminator_loss(real_logits, fake_logits, real_label: float = 1.0):
    """``BCE(D(x), real_label) + BCE(D(G(z)), 0)``, averaged over each batch (a scalar Tensor).

    ``real_label < 1`` is one-sided label smoothing (Salimans et al., 2016).
    Shapes: real_logits (N, 1), fake_logits (M, 1) -> a scalar (shape ``()``).

    Example:
        >>> import dendrite
        >>> round(discriminator_loss(dendrite.zeros(4, 1), dendrite.zeros(4, 1)).item(), 4)  # 2 log 2
        1.3863
    """
    target = dendrite.full(tuple(real_logits.shape), real_label)
    real = F.binary_cross_entropy_with_logits(real_logits, target)
    fake = F.binary_cross_entropy_with_logits(fake_logits, dendrite.zeros(*fake_logits.shape))
    return real + fake


def generator_loss(fake_logits):
    """The non-saturating generator loss ``-log D(G(z)) = BCE(D(G(z)), 1)`` (a scalar Tensor).

    Shapes: fake_logits (N, 1) -> a scalar (shape ``()``).

    Example:
        >>> import dendrite
        >>> round(generator_loss(dendrite.zeros(4, 1)).item(), 4)  # D(G(z)) = 1/2: log 2
        0.6931
    """
    return F.binary_cross_entropy_with_logits(fake_logits, dendrite.ones(*fake_logits.shape))
