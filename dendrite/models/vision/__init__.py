"""torchvision-compatible image classifiers: ``dendrite.models.resnet18()``, ``mobilenet_v2()``, ``vgg11()``.

Same builders, constructor arguments, module names, ``state_dict`` keys, initialisation
and forward as ``torchvision.models``, so a torchvision ``state_dict`` file loads as it
is (``model.load_state_dict(dendrite.load("resnet18.pth"))``) and gives the same logits.
``weights=`` must be ``None``: dendrite never downloads (:mod:`.weights`). One file per
family: :mod:`.resnet`, :mod:`.mobilenet`, :mod:`.vgg`; :func:`get_model` and
:func:`list_models` find a builder by name, as torchvision's do.
"""

from __future__ import annotations

from dendrite import nn
from dendrite.models.vision.mobilenet import Conv2dNormActivation, InvertedResidual, MobileNetV2, mobilenet_v2
from dendrite.models.vision.resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
from dendrite.models.vision.vgg import VGG, make_layers, vgg11, vgg11_bn

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "MobileNetV2",
           "InvertedResidual", "Conv2dNormActivation", "mobilenet_v2", "VGG", "make_layers", "vgg11",
           "vgg11_bn", "BUILDERS", "get_model", "list_models"]

BUILDERS = {builder.__name__: builder for builder in (resnet18, resnet34, resnet50, mobilenet_v2, vgg11,
                                                      vgg11_bn)}


def list_models() -> list[str]:
    """The names of the torchvision-compatible builders, sorted (torchvision's ``list_models``).

    Shapes: no arrays; a sorted list of strings.

    Example:
        >>> list_models()
        ['mobilenet_v2', 'resnet18', 'resnet34', 'resnet50', 'vgg11', 'vgg11_bn']
    """
    return sorted(BUILDERS)


def get_model(name: str, **config) -> nn.Module:
    """Build a torchvision-compatible model by name (torchvision's ``get_model``); ``config`` goes to it.

    Shapes: the model maps ``(N, 3, H, W)`` to ``(N, num_classes)``.

    Example:
        >>> get_model("resnet18", num_classes=7).fc.out_features
        7
    """
    key = str(name).lower()
    if key not in BUILDERS:
        raise ValueError(f"unknown model {name!r}; the torchvision-compatible models are {list_models()}")
    return BUILDERS[key](**config)
