"""Ready architectures by name: ``create("cnn", input_shape=(1, 8, 8), num_classes=10)``.

Each constructor adapts to the shape of one input sample and the number of
outputs, so the same name works for 2-D points, 8x8 digits or 28x28 images.
The pretrained zoo (:mod:`dendrite.models.zoo`) rebuilds its networks through
:func:`create`, by the ``architecture`` name its manifest records.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from dendrite import nn
from dendrite.models.feedforward import MLP, LeNet, ResNet
from dendrite.models.recurrent import SequenceClassifier

__all__ = ["REGISTRY", "create", "names"]

REGISTRY: dict[str, Callable[..., nn.Module]] = {
    "mlp": MLP,
    "cnn": LeNet,
    "resnet": ResNet,
}
# Recurrent classifiers: an input sample (T, F) is read as T time steps of F features.
REGISTRY.update({cell: partial(SequenceClassifier, cell=cell) for cell in ("rnn", "lstm", "gru")})


def names() -> list[str]:
    """The registered model names, sorted.

    Shapes: no arrays; a sorted list of strings.

    Example:
        >>> names()
        ['cnn', 'gru', 'lstm', 'mlp', 'resnet', 'rnn']
    """
    return sorted(REGISTRY)


def create(name: str, input_shape, num_classes: int, **options) -> nn.Module:
    """Build the model ``name`` for samples of ``input_shape`` and ``num_classes`` outputs.

    Shapes: the model maps ``(N, *input_shape)`` to logits ``(N, num_classes)``;
    ``options`` go to the architecture's constructor (e.g. ``hidden`` for ``mlp``).

    Example:
        >>> import dendrite
        >>> model = create("mlp", (2,), 2, hidden=(16,))
        >>> model(dendrite.zeros(4, 2)).shape
        (4, 2)
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; expected one of {names()}")
    return REGISTRY[name](input_shape, num_classes, **options)
