"""Ready architectures, by name: ``dendrite.models.create("cnn", input_shape=(1, 8, 8), num_classes=10)``.

Each constructor adapts to the shape of one input sample and the number of
outputs, so the same name works for 2-D points, 8x8 digits or 28x28 images.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from dendrite.models.autoencoder import VAE, Autoencoder, ConvAutoencoder
from dendrite.models.feedforward import MLP, LeNet, ResidualBlock, ResNet
from dendrite.models.gan import GAN, DCDiscriminator, DCGenerator, MLPDiscriminator, MLPGenerator
from dendrite.models.recurrent import CharLM, Forecaster, SequenceClassifier
from dendrite.models.zoo import PretrainedChecksumError, list_pretrained, pretrained, pretrained_info

__all__ = ["MLP", "LeNet", "ResNet", "ResidualBlock", "REGISTRY", "create", "names"]
__all__ += ["SequenceClassifier", "CharLM", "Forecaster"]
__all__ += ["pretrained", "list_pretrained", "pretrained_info", "PretrainedChecksumError"]
__all__ += ["Autoencoder", "ConvAutoencoder", "VAE"]
__all__ += ["GAN", "MLPGenerator", "MLPDiscriminator", "DCGenerator", "DCDiscriminator"]

REGISTRY: dict[str, Callable] = {
    "mlp": MLP,
    "cnn": LeNet,
    "resnet": ResNet,
}
# Recurrent classifiers: an input sample (T, F) is read as T time steps of F features.
REGISTRY.update({cell: partial(SequenceClassifier, cell=cell) for cell in ("rnn", "lstm", "gru")})


def names() -> list[str]:
    """The registered model names."""
    return sorted(REGISTRY)


def create(name: str, input_shape, num_classes: int, **options):
    """Build the model ``name`` for samples of ``input_shape`` and ``num_classes`` outputs.

    Example:
        >>> import dendrite
        >>> model = dendrite.models.create("mlp", (2,), 2, hidden=(16,))
        >>> model(dendrite.zeros(4, 2)).shape
        (4, 2)
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; expected one of {names()}")
    return REGISTRY[name](input_shape, num_classes, **options)
