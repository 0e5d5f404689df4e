"""``weights=``: torchvision's argument, accepted for the same signature; dendrite never downloads.

torchvision's builders (``resnet18(weights=ResNet18_Weights.DEFAULT)``) fetch pretrained
weights from the internet. dendrite does not go online: a builder takes ``weights=None``
(random initialisation, as torchvision's) and the weights come from a file the user has,
read without torch and without unpickling::

    model = dendrite.models.resnet18()
    model.load_state_dict(dendrite.load("resnet18-f37072fd.pth"))
"""

from __future__ import annotations

__all__ = ["check_no_download"]


def check_no_download(builder: str, weights, pretrained: bool = False) -> None:
    """Raise a clear error unless ``weights`` is ``None`` (and the legacy ``pretrained`` is false).

    Shapes: no arrays; raises ``ValueError`` naming the builder and how to load a file instead.

    Example:
        >>> check_no_download("resnet18", None)
        >>> try:
        ...     check_no_download("resnet18", "IMAGENET1K_V1")
        ... except ValueError as error:
        ...     print(str(error).split(". ")[0])
        resnet18(weights='IMAGENET1K_V1'): dendrite does not download pretrained weights
    """
    if weights is None and not pretrained:
        return
    asked = f"weights={weights!r}" if weights is not None else f"pretrained={pretrained!r}"
    raise ValueError(
        f"{builder}({asked}): dendrite does not download pretrained weights. Build the model with "
        f"weights=None and load a state_dict file you have: model = dendrite.models.{builder}(); "
        f"model.load_state_dict(dendrite.load('{builder}.pth')) (PyTorch .pt/.pth files are read without "
        "torch and without unpickling; safetensors and .npz too)"
    )
