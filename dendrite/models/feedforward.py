"""Feedforward and convolutional classifiers that adapt to the data's shape.

``MLP`` flattens whatever it is given; ``LeNet`` is the classic
convolution-pooling stack for small images; ``ResNet`` is a small residual
network with BatchNorm (He et al., 2016) scaled for 8x8 to 32x32 images.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from dendrite import nn

__all__ = ["MLP", "LeNet", "ResidualBlock", "ResNet"]

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "silu": nn.SiLU,
}


def activation_layer(name: str) -> nn.Module:
    """An activation module by name (``relu``, ``tanh``, ``gelu``, ``sigmoid``, ``leaky_relu``, ``elu``, ...).

    Shapes: the module maps any (*) to the same (*), elementwise.

    Example:
        >>> import dendrite
        >>> activation_layer("relu")(dendrite.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    if name not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(_ACTIVATIONS)}")
    return _ACTIVATIONS[name]()


class MLP(nn.Sequential):
    """A multilayer perceptron: Flatten, then Linear + activation (+ dropout) per hidden layer.

    Shapes: input (N, *input_shape) -> logits (N, out_features).

    Example:
        >>> import dendrite
        >>> model = MLP((8, 8), 10, hidden=(64,))
        >>> model(dendrite.zeros(2, 8, 8)).shape
        (2, 10)
    """

    def __init__(
        self,
        input_shape: Sequence[int] | int,
        out_features: int,
        hidden: Sequence[int] = (128, 128),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        in_features = input_shape if isinstance(input_shape, int) else math.prod(input_shape)
        layers: list[nn.Module] = [nn.Flatten()]
        for width in hidden:
            layers += [nn.Linear(in_features, width), activation_layer(activation)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            in_features = width
        layers.append(nn.Linear(in_features, out_features))
        super().__init__(*layers)


class LeNet(nn.Module):
    """LeNet-style CNN: two conv-ReLU-maxpool stages, then a two-layer classifier.

    Shapes: input (N, C, H, W) (or (N, H, W) for one channel) -> logits (N, num_classes).
    Padding keeps the spatial size through each convolution, so any H, W >= 4 work.

    Example:
        >>> import dendrite
        >>> model = LeNet((1, 8, 8), 10)
        >>> model(dendrite.zeros(2, 1, 8, 8)).shape
        (2, 10)
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        channels: Sequence[int] = (32, 64),
        hidden: int = 128,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        in_channels, height, width = image_shape(input_shape)
        first, second = channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, first, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(first, first, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(first, second, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        flat = second * (height // 4) * (width // 4)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(flat, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        if x.ndim == 3:
            x = x.unsqueeze(1)
        return self.classifier(self.features(x))


class ResidualBlock(nn.Module):
    """``relu(x + F(x))`` with F = conv-BN-ReLU-conv-BN; a 1x1 projection when shapes change.

    Shapes: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)).

    Example:
        >>> import dendrite
        >>> ResidualBlock(4, 8, stride=2)(dendrite.zeros(2, 4, 8, 8)).shape
        (2, 8, 4, 4)
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """A small residual network: stem conv, residual stages, global average pool, linear head.

    Shapes: input (N, C, H, W) (or (N, H, W)) -> logits (N, num_classes).

    Example:
        >>> import dendrite
        >>> model = ResNet((1, 8, 8), 10, widths=(16, 32))
        >>> model(dendrite.zeros(2, 1, 8, 8)).shape
        (2, 10)
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        widths: Sequence[int] = (32, 64),
        blocks_per_stage: int = 1,
    ) -> None:
        super().__init__()
        in_channels, _, _ = image_shape(input_shape)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()
        )
        stages: list[nn.Module] = []
        channels = widths[0]
        for stage, width in enumerate(widths):
            for block in range(blocks_per_stage):
                stride = 2 if stage > 0 and block == 0 else 1
                stages.append(ResidualBlock(channels, width, stride))
                channels = width
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(channels, num_classes)

    def forward(self, x):
        if x.ndim == 3:
            x = x.unsqueeze(1)
        features = self.pool(self.stages(self.stem(x)))
        return self.head(features.flatten(1))


def image_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """``(C, H, W)`` for samples of shape ``(H, W)`` (one channel) or ``(C, H, W)``.

    Shapes: a 2- or 3-tuple in, a 3-tuple out; anything else raises ``ValueError``.

    Example:
        >>> image_shape((8, 8)), image_shape((3, 32, 32))
        ((1, 8, 8), (3, 32, 32))
    """
    shape = tuple(input_shape)
    if len(shape) == 2:
        return (1, *shape)
    if len(shape) == 3:
        return shape
    raise ValueError(f"expected image data of shape (H, W) or (C, H, W), got samples of shape {shape}")
