"""The model catalog behind ``dendrite models`` and ``dendrite train MODEL``.

Each entry says which data the model accepts, how it is built for that data's
shape, its default hyper-parameters (chosen to reach a real result on the
built-in data within a minute or two on 2 CPU cores), and which recipe trains it.
"""

from __future__ import annotations

from dendrite.models.feedforward import MLP, LeNet, ResNet
from dendrite.recipes.base import ModelSpec
from dendrite.recipes.classification import run_classifier

__all__ = ["MODELS", "register", "sample_text"]

MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add a model to the catalog (names are unique)."""
    if spec.name in MODELS:
        raise ValueError(f"model {spec.name!r} is already registered")
    MODELS[spec.name] = spec
    return spec


def needs_classification(splits) -> str | None:
    if splits.task != "classification":
        return f"it is a classifier, and {splits.name!r} is a {splits.task} dataset"
    return None


def needs_images(splits) -> str | None:
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


def build_mlp(splits, settings: dict):
    return MLP(
        splits.input_shape,
        splits.num_classes,
        hidden=tuple(settings["hidden"]),
        activation=settings["activation"],
        dropout=settings.get("dropout", 0.0),
    )


def build_cnn(splits, settings: dict):
    return LeNet(splits.input_shape, splits.num_classes, dropout=settings.get("dropout", 0.25))


def build_resnet(splits, settings: dict):
    return ResNet(splits.input_shape, splits.num_classes)


register(
    ModelSpec(
        name="mlp",
        family="feedforward",
        description="multilayer perceptron (Linear + ReLU layers)",
        accepts=needs_classification,
        build=build_mlp,
        defaults=mlp_defaults,
        recipe=run_classifier,
        default_dataset="digits",
    )
)
register(
    ModelSpec(
        name="cnn",
        family="convolutional",
        description="LeNet-style CNN: conv-ReLU-pool stages, MLP head",
        accepts=needs_images,
        build=build_cnn,
        recipe=run_classifier,
        default_dataset="digits",
        defaults=lambda splits: {
            "epochs": 40,
            "batch_size": 32,
            "lr": 1e-3,
            "optimizer": "adam",
            "dropout": 0.25,
            "schedule": "exponential",
            "lr_decay": 0.93,
            "label_smoothing": 0.1,
        },
    )
)
register(
    ModelSpec(
        name="resnet",
        family="convolutional",
        description="small residual network with BatchNorm",
        accepts=needs_images,
        build=build_resnet,
        recipe=run_classifier,
        default_dataset="digits",
        defaults=lambda splits: {
            "epochs": 20,
            "batch_size": 32,
            "lr": 2e-3,
            "optimizer": "adam",
            "weight_decay": 1e-4,
            "schedule": "exponential",
            "lr_decay": 0.87,
        },
    )
)


def sample_text(run_dir, length: int = 400, temperature: float = 0.8, prime: str = "", seed: int = 0) -> str:
    """Generate text from a trained ``charlm`` run folder (see the recurrent recipes)."""
    from dendrite.recipes.language import sample_from_run

    return sample_from_run(run_dir, length=length, temperature=temperature, prime=prime, seed=seed)


# The other families register their models when their recipe modules are imported.
from dendrite.recipes import autoencoding, forecasting, generative, language, sequence  # noqa: E402, F401
