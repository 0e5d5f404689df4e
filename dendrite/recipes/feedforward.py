"""Classifiers ``mlp``, ``cnn`` and ``resnet`` (feedforward, convolutional): data checks, defaults, builders.

All three are trained by the classification recipe (:func:`dendrite.recipes.classification.run_classifier`).
Their defaults reach a real result on the built-in data within a minute or two on 2 CPU cores.
"""

from __future__ import annotations

import numpy as np

from dendrite.models.feedforward import MLP, LeNet, ResNet
from dendrite.recipes.classification import needs_classification

__all__ = ["needs_images", "mlp_defaults", "cnn_defaults", "resnet_defaults", "build_mlp", "build_cnn",
           "build_resnet"]


def needs_images(splits) -> str | None:
    """``None`` for classification data with images ``(H, W)`` or ``(C, H, W)``, H, W >= 4; else why not.

    Shapes: ``splits.input_shape`` must be (H, W) or (C, H, W) with H, W >= 4.

    Example:
        >>> from dendrite.data import load_dataset
        >>> needs_images(load_dataset("digits")) is None
        True
        >>> needs_images(load_dataset("spiral"))
        'it needs images of shape (H, W) or (C, H, W) with H, W >= 4, got inputs of shape (2,)'
    """
    reason = needs_classification(splits)
    if reason:
        return reason
    if len(splits.input_shape) not in (2, 3) or min(splits.input_shape[-2:]) < 4:
        shape = splits.input_shape
        return f"it needs images of shape (H, W) or (C, H, W) with H, W >= 4, got inputs of shape {shape}"
    return None


def _is_toy(splits) -> bool:
    return tuple(splits.input_shape) == (2,)


def mlp_defaults(splits) -> dict:
    """A deep narrow net for 2-D toy points; a small one for tables; a wider, regularised one for images.

    Shapes: splits in (only ``input_shape`` is read), a settings dict out.

    Example:
        >>> from dendrite.data import load_dataset
        >>> mlp_defaults(load_dataset("spiral"))["hidden"], mlp_defaults(load_dataset("digits"))["hidden"]
        ((64, 64, 64), (256, 256))
    """
    if len(splits.input_shape) == 1 and not _is_toy(splits):  # a table: rows of features (a CSV)
        return {
            "epochs": 30,
            "batch_size": 64,
            "lr": 1e-3,
            "optimizer": "adam",
            "hidden": (128, 64),
            "activation": "relu",
            "dropout": 0.1,
            "weight_decay": 1e-4,
            "schedule": "exponential",
            "lr_decay": 0.95,
        }
    if _is_toy(splits):
        return {
            "epochs": 200,
            "batch_size": 32,
            "lr": 0.01,
            "optimizer": "adam",
            "hidden": (64, 64, 64),
            "activation": "relu",
            "schedule": "exponential",
            "lr_decay": 0.985,
        }
    return {
        "epochs": 40,
        "batch_size": 32,
        "lr": 1e-3,
        "optimizer": "adam",
        "hidden": (256, 256),
        "activation": "relu",
        "dropout": 0.1,
        "schedule": "exponential",
        "lr_decay": 0.93,
        "label_smoothing": 0.1,
    }


def cnn_defaults(splits) -> dict:
    """The ``cnn`` defaults (the same for every image size).

    Shapes: splits in (unused), a settings dict out.

    Example:
        >>> cnn_defaults(None)["epochs"]
        40
    """
    return {
        "epochs": 40,
        "batch_size": 32,
        "lr": 1e-3,
        "optimizer": "adam",
        "dropout": 0.25,
        "schedule": "exponential",
        "lr_decay": 0.93,
        "label_smoothing": 0.1,
    }


def resnet_defaults(splits) -> dict:
    """The ``resnet`` defaults (the same for every image size).

    Shapes: splits in (unused), a settings dict out.

    Example:
        >>> resnet_defaults(None)["lr"]
        0.002
    """
    return {
        "epochs": 20,
        "batch_size": 32,
        "lr": 2e-3,
        "optimizer": "adam",
        "weight_decay": 1e-4,
        "schedule": "exponential",
        "lr_decay": 0.87,
    }


def build_mlp(splits, settings: dict) -> MLP:
    """An :class:`~dendrite.models.MLP` for ``splits`` with the hidden sizes in ``settings``.

    Shapes: the model maps (N, *splits.input_shape) to logits (N, splits.num_classes), or for
    regression data to predictions (N, k) shaped like one target ``(k,)``.

    Example:
        >>> import dendrite
        >>> from dendrite.data import load_dataset
        >>> splits = load_dataset("spiral")
        >>> model = build_mlp(splits, {**mlp_defaults(splits), "hidden": (8,)})
        >>> model(dendrite.zeros(4, 2)).shape  # 2-D points, 2 classes
        (4, 2)
    """
    regression = splits.task == "regression"
    outputs = int(np.prod(splits.target_shape or (1,))) if regression else splits.num_classes
    return MLP(
        splits.input_shape,
        outputs,
        hidden=tuple(settings["hidden"]),
        activation=settings["activation"],
        dropout=settings.get("dropout", 0.0),
    )


def build_cnn(splits, settings: dict) -> LeNet:
    """A :class:`~dendrite.models.LeNet` for ``splits``' images.

    Shapes: the model maps (N, H, W) or (N, C, H, W) to logits (N, splits.num_classes).

    Example:
        >>> import dendrite
        >>> from dendrite.data import load_dataset
        >>> build_cnn(load_dataset("digits"), {})(dendrite.zeros(2, 8, 8)).shape
        (2, 10)
    """
    return LeNet(splits.input_shape, splits.num_classes, dropout=settings.get("dropout", 0.25))


def build_resnet(splits, settings: dict) -> ResNet:
    """A :class:`~dendrite.models.ResNet` for ``splits``' images.

    Shapes: the model maps (N, H, W) or (N, C, H, W) to logits (N, splits.num_classes).

    Example:
        >>> import dendrite
        >>> from dendrite.data import load_dataset
        >>> build_resnet(load_dataset("digits"), {})(dendrite.zeros(2, 8, 8)).shape
        (2, 10)
    """
    return ResNet(splits.input_shape, splits.num_classes)
