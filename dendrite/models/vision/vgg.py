"""torchvision's VGG (Simonyan & Zisserman, 2015): same module names, ``state_dict`` keys, init, forward.

``features`` is a ``Sequential`` of 3x3 convolutions (padding 1) with ReLU -- and
BatchNorm between them in the ``_bn`` variants -- and 2x2 max pools; ``avgpool`` makes
it 7x7 whatever the image size; ``classifier`` is ``Linear(25088, 4096), ReLU,
Dropout, Linear(4096, 4096), ReLU, Dropout, Linear(4096, num_classes)``. So the keys
are ``features.0.weight`` ... and ``classifier.0/3/6.weight``, as torchvision's. The two
4096-wide layers hold most of the 133 M parameters (about 0.5 GB in float32).
"""

from __future__ import annotations

from collections.abc import Sequence

from dendrite import nn
from dendrite.models.vision.weights import check_no_download
from dendrite.tensor import Tensor

__all__ = ["VGG", "make_layers", "CONFIGS", "vgg11", "vgg11_bn"]

# Channels of each 3x3 convolution; "M" is a 2x2 max pool. torchvision's configuration A (VGG-11);
# make_layers(config) with torchvision's B, D or E gives VGG-13, -16 or -19.
CONFIGS: dict[str, list] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
}


def make_layers(config: Sequence, batch_norm: bool = False) -> nn.Sequential:
    """VGG's ``features`` from a configuration (channels, or ``"M"`` for a 2x2 max pool), on RGB input.

    Shapes: ``(N, 3, H, W)`` -> ``(N, last channels, H / 2**pools, W / 2**pools)``.

    Example:
        >>> import dendrite
        >>> features = make_layers([8, "M", 16], batch_norm=True)
        >>> features(dendrite.zeros(1, 3, 8, 8)).shape, [type(m).__name__ for m in features][:4]
        ((1, 16, 4, 4), ['Conv2d', 'BatchNorm2d', 'ReLU', 'MaxPool2d'])
    """
    layers: list = []
    in_channels = 3
    for value in config:
        if value == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        conv = nn.Conv2d(in_channels, value, kernel_size=3, padding=1)
        layers += [conv, nn.BatchNorm2d(value), nn.ReLU(inplace=True)] if batch_norm else \
            [conv, nn.ReLU(inplace=True)]
        in_channels = value
    return nn.Sequential(*layers)


def _init_weights(model: nn.Module) -> None:
    """torchvision's VGG init: conv Kaiming normal (fan_out, ReLU), BatchNorm 1/0, linear N(0, 0.01)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.constant_(module.bias, 0)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.constant_(module.weight, 1)
            nn.init.constant_(module.bias, 0)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0, 0.01)
            nn.init.constant_(module.bias, 0)


class VGG(nn.Module):
    """torchvision's ``VGG(features, num_classes=1000, init_weights=True, dropout=0.5)``.

    ``init_weights`` as torchvision: convolutions Kaiming normal (``fan_out``, ReLU gain) with
    zero bias, BatchNorm 1 / 0, linear layers ``N(0, 0.01)`` with zero bias.
    Shapes: ``(N, 3, H, W)`` (H, W at least 32) -> logits ``(N, num_classes)``.

    Building one takes seconds (the first linear layer alone is 25088 x 4096):
    ``vgg11(num_classes=10)`` is ``VGG(make_layers(CONFIGS["A"]), num_classes=10)``, with the
    children ``features``, ``avgpool``, ``classifier``. Features that do not end with 512
    channels are refused before anything is allocated.

    Example:
        >>> VGG(make_layers([8, "M"]))
        Traceback (most recent call last):
        ...
        ValueError: VGG: features must end with 512 channels (the classifier reads 512 * 7 * 7 values), got 8
    """

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        channels = [m.out_channels for m in features.modules() if isinstance(m, nn.Conv2d)]
        if channels and channels[-1] != 512:
            raise ValueError("VGG: features must end with 512 channels (the classifier reads 512 * 7 * 7 "
                             f"values), got {channels[-1]}")
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            _init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def _vgg(name: str, config: str, batch_norm: bool, weights, pretrained: bool, kwargs: dict) -> VGG:
    check_no_download(name, weights, pretrained)
    return VGG(make_layers(CONFIGS[config], batch_norm=batch_norm), **kwargs)


def vgg11(*, weights=None, progress: bool = True, pretrained: bool = False, **kwargs) -> VGG:
    """VGG-11 (configuration "A": 8 convolutions, 3 linear layers) as torchvision's ``vgg11``.

    ``weights`` must be ``None`` (dendrite does not download; load a ``state_dict`` file
    instead); ``kwargs`` go to :class:`VGG` (``num_classes``, ``dropout``, ``init_weights``).
    Shapes: ``(N, 3, H, W)`` -> ``(N, num_classes)``.

    Example (the whole model: see :class:`VGG`; its features alone are quick to build):
        >>> import dendrite
        >>> features = make_layers(CONFIGS["A"])        # what vgg11().features holds
        >>> len(features), features(dendrite.zeros(1, 3, 32, 32)).shape
        (21, (1, 512, 1, 1))
    """
    return _vgg("vgg11", "A", False, weights, pretrained, kwargs)


def vgg11_bn(*, weights=None, progress: bool = True, pretrained: bool = False, **kwargs) -> VGG:
    """VGG-11 with BatchNorm after every convolution, as torchvision's ``vgg11_bn``.

    Arguments as :func:`vgg11`. Shapes: ``(N, 3, H, W)`` -> ``(N, num_classes)``.

    Example (``vgg11_bn().features``, without building the 4096-wide classifier):
        >>> features = make_layers(CONFIGS["A"], batch_norm=True)
        >>> len(features), type(features[1]).__name__
        (29, 'BatchNorm2d')
    """
    return _vgg("vgg11_bn", "A", True, weights, pretrained, kwargs)
