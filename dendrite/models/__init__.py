"""Ready architectures: ``dendrite.models.MLP``, ``dendrite.models.create("cnn", (1, 8, 8), 10)``,
``dendrite.models.pretrained("digits-cnn")``.

This file only gathers the public names of the package's modules, one concept each:
:mod:`~dendrite.models.feedforward` (MLP, LeNet, ResNet), :mod:`~dendrite.models.recurrent`,
:mod:`~dendrite.models.gan`, :mod:`~dendrite.models.autoencoder`, the by-name
:mod:`~dendrite.models.registry`, the pretrained :mod:`~dendrite.models.zoo` and the
torchvision-compatible :mod:`~dendrite.models.vision` (``resnet18``, ``mobilenet_v2``, ``vgg11`` ...).

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
from dendrite.models.vision import (
    VGG,
    MobileNetV2,
    get_model,
    list_models,
    mobilenet_v2,
    resnet18,
    resnet34,
    resnet50,
    vgg11,
    vgg11_bn,
)
from dendrite.models.zoo import PretrainedChecksumError, list_pretrained, pretrained, pretrained_info

__all__ = ["MLP", "LeNet", "ResNet", "ResidualBlock", "REGISTRY", "create", "names"]
__all__ += ["SequenceClassifier", "CharLM", "Forecaster"]
__all__ += ["pretrained", "list_pretrained", "pretrained_info", "PretrainedChecksumError"]
__all__ += ["Autoencoder", "ConvAutoencoder", "VAE"]
__all__ += ["GAN", "MLPGenerator", "MLPDiscriminator", "DCGenerator", "DCDiscriminator"]
# torchvision-compatible (dendrite.models.vision): same names, keys and init as torchvision.models.
# Their ResNet class is dendrite.models.vision.ResNet (dendrite.models.ResNet is the small,
# shape-adapting one).
__all__ += ["resnet18", "resnet34", "resnet50", "mobilenet_v2", "vgg11", "vgg11_bn", "MobileNetV2", "VGG",
            "get_model", "list_models"]
