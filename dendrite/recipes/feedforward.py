"""Classifiers ``mlp``, ``cnn`` and ``resnet`` (feedforward, convolutional): data checks, defaults, builders.

All three are trained by the classification recipe (:func:`dendrite.recipes.classification.run_classifier`).
Their defaults reach a real result on the built-in data within a minute or two on 2 CPU cores.
"""

from __future__ import annotations

from dendrite.models.feedforward import MLP, LeNet, ResNet
from dendrite.recipes.classification import needs_classification

__all__ = ["needs_images", "mlp_defaults", "cnn_defaults", "resnet_defaults", "build_mlp", "build_cnn",
           "build_resnet"]


def needs_images(splits) -> str | None:
    """``None`` for classification data with images ``(H, W)`` or ``(C, H, W)``, H, W >= 4; else why not."""
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
    """A deep narrow net for 2-D toy points; a wider, regularised one for images."""
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
    return MLP(
        splits.input_shape,
        splits.num_classes,
        hidden=tuple(settings["hidden"]),
        activation=settings["activation"],
        dropout=settings.get("dropout", 0.0),
    )


def build_cnn(splits, settings: dict) -> LeNet:
    return LeNet(splits.input_shape, splits.num_classes, dropout=settings.get("dropout", 0.25))


def build_resnet(splits, settings: dict) -> ResNet:
    return ResNet(splits.input_shape, splits.num_classes)
