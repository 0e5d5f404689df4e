"""Ready architectures: ``dendrite.models.MLP``, ``dendrite.models.create("cnn", (1, 8, 8), 10)``,
``dendrite.models.pretrained("digits-cnn")``.

This file only gathers the public names of the package's modules, one concept each:
:mod:`~dendrite.models.feedforward` (MLP, LeNet, ResNet), :mod:`~dendrite.models.recurrent`,
:mod:`~dendrite.models.gan`, :mod:`~dendrite.models.autoencoder`, the by-name
:mod:`~dendrite.models.registry` and the pretrained :mod:`~dendrite.models.zoo`.

Example:
    >>> import dendrite, dendrite.models
    >>> dendrite.models.create("mlp", (2,), 3, hidden=(8,))(dendrite.zeros(5, 2)).shape
    (5, 3)
"""

from __future__ import annotations

from dendrite.models.autoencoder import VAE, Autoencoder, ConvAutoencoder
from dendrite.models.feedforward import MLP, LeNet, ResidualBlock, ResNet
from dendrite.models.gan import GAN, DCDiscriminator, DCGenerator, MLPDiscriminator, MLPGenerator
from dendrite.models.recurrent import CharLM, Forecaster, SequenceClassifier
from dendrite.models.registry import REGISTRY, create, names
from dendrite.models.zoo import PretrainedChecksumError, list_pretrained, pretrained, pretrained_info

__all__ = ["MLP", "LeNet", "ResNet", "ResidualBlock", "REGISTRY", "create", "names"]
__all__ += ["SequenceClassifier", "CharLM", "Forecaster"]
__all__ += ["pretrained", "list_pretrained", "pretrained_info", "PretrainedChecksumError"]
__all__ += ["Autoencoder", "ConvAutoencoder", "VAE"]
__all__ += ["GAN", "MLPGenerator", "MLPDiscriminator", "DCGenerator", "DCDiscriminator"]
