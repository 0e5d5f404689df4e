"""The playground's configuration: every key, its allowed values, its default, and which keys are live.

:func:`validate_config` turns a raw JSON object (possibly partial) into the full normalised config
the session uses, or raises :class:`ConfigError` naming the key, the value and what is allowed.
Limits are module constants so the server and the page can show them (:data:`LIMITS`).
"""

from __future__ import annotations

import copy
import math
from typing import Any

__all__ = ["ConfigError", "validate_config", "DEFAULT_CONFIG", "LIMITS", "LIVE_KEYS"]

MAX_LAYERS = 6
MAX_NEURONS = 8
MIN_CLASSES, MAX_CLASSES = 2, 6
MIN_POINTS, MAX_POINTS = 100, 2000
MAX_BATCH_SIZE = 64
MAX_SEED = 2**31 - 1
MAX_CUSTOM_POINTS = 2000
MAX_UPLOAD_BYTES = 256 * 1024
MIN_CUSTOM_POINTS = 4
MIN_LEARNING_RATE, MAX_LEARNING_RATE = 1e-5, 10.0
MAX_REGULARIZATION_RATE = 10.0
MAX_DROPOUT = 0.9
EXTENT = 6.0  # points live in [-EXTENT, EXTENT]^2, the Playground's view

DATASETS = ("circle", "xor", "gaussian", "spiral", "plane", "multigauss", "custom")
CLASSIFICATION_SETS = ("circle", "xor", "gaussian", "spiral")
REGRESSION_SETS = ("plane", "multigauss")
TWO_CLASS_SETS = ("circle", "xor")
PROBLEMS = ("classification", "regression")
FEATURES = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
INITS = ("playground", "default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
         "lecun_normal", "orthogonal", "small_normal", "large_normal", "zeros")
REGULARIZATIONS = ("none", "l1", "l2")
SCHEDULES = ("constant", "step", "exponential", "cosine")
LIVE_KEYS = ("learning_rate", "regularization", "regularization_rate", "batch_size", "schedule")
"""Keys that change without a reset; the session records them in its change log."""

_DEFAULT_LAYER = {"neurons": 4, "activation": "tanh", "dropout": 0.0, "batchnorm": False}
DEFAULT_CONFIG: dict[str, Any] = {
    "dataset": "circle", "problem": "classification", "classes": 2, "noise": 0, "train_ratio": 50,
    "points": 500, "batch_size": 10, "data_seed": 0, "seed": 0, "features": ["x1", "x2"],
    "layers": [dict(_DEFAULT_LAYER), dict(_DEFAULT_LAYER, neurons=2)],
    "learning_rate": 0.03, "optimizer": "sgd", "init": "xavier_uniform", "regularization": "none",
    "regularization_rate": 0.0, "schedule": "constant",
}
"""The defaults: the TensorFlow Playground's opening setup (circle, 4-2 tanh, lr 0.03)."""

LIMITS: dict[str, Any] = {
    "max_layers": MAX_LAYERS, "max_neurons": MAX_NEURONS, "classes": [MIN_CLASSES, MAX_CLASSES],
    "points": [MIN_POINTS, MAX_POINTS], "batch_size": [1, MAX_BATCH_SIZE], "noise": [0, 50],
    "train_ratio": [10, 90], "learning_rate": [MIN_LEARNING_RATE, MAX_LEARNING_RATE],
    "regularization_rate": [0.0, MAX_REGULARIZATION_RATE], "dropout": [0.0, MAX_DROPOUT],
    "max_custom_points": MAX_CUSTOM_POINTS, "max_upload_bytes": MAX_UPLOAD_BYTES, "extent": EXTENT,
    "datasets": list(DATASETS), "features": list(FEATURES), "activations": list(ACTIVATIONS),
    "optimizers": list(OPTIMIZERS), "inits": list(INITS), "regularizations": list(REGULARIZATIONS),
    "schedules": list(SCHEDULES),
}
"""Every limit and choice, JSON-ready (the server may hand it to the page)."""


class ConfigError(ValueError):
    """A playground config key has a wrong type or value; the message names the key and what is allowed.

    Example:
        >>> try:
        ...     validate_config({"noise": 80})
        ... except ConfigError as error:
        ...     print(error)
        config 'noise': 80 is out of range; expected an integer in 0..50
    """


def _int(key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not value.is_integer()):
        raise ConfigError(f"config {key!r}: expected an integer in {low}..{high}, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"config {key!r}: {value!r} is out of range; expected an integer in {low}..{high}")
    return int(value)


def _float(key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"config {key!r}: expected a number in [{low:g}, {high:g}], got {value!r}")
    if not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(f"config {key!r}: {value!r} is out of range; "
                          f"expected a number in [{low:g}, {high:g}]")
    return float(value)


def _choice(key: str, value: Any, allowed: tuple) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"config {key!r}: {value!r} is not allowed; expected one of {', '.join(allowed)}")
    return value


def _features(value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(f"config 'features': expected a non-empty list of {', '.join(FEATURES)}, "
                          f"got {value!r}")
    for name in value:
        _choice("features", name, FEATURES)
    if len(set(value)) != len(value):
        raise ConfigError(f"config 'features': duplicates in {list(value)!r}; name each feature once")
    return [name for name in FEATURES if name in value]


def _layers(value: Any) -> list[dict]:
    if not isinstance(value, (list, tuple)) or len(value) > MAX_LAYERS:
        raise ConfigError(f"config 'layers': expected a list of 0..{MAX_LAYERS} layer objects, got {value!r}")
    layers = []
    for i, layer in enumerate(value):
        key = f"layers[{i}]"
        if not isinstance(layer, dict):
            raise ConfigError(f"config {key!r}: expected an object with neurons, activation, dropout, "
                              f"batchnorm, got {layer!r}")
        unknown = sorted(set(layer) - set(_DEFAULT_LAYER))
        if unknown:
            raise ConfigError(f"config {key!r}: unknown keys {unknown}; expected neurons, activation, "
                              "dropout, batchnorm")
        full = {**_DEFAULT_LAYER, **layer}
        batchnorm = full["batchnorm"]
        if not isinstance(batchnorm, bool):
            raise ConfigError(f"config '{key}.batchnorm': expected true or false, got {batchnorm!r}")
        layers.append({
            "neurons": _int(f"{key}.neurons", full["neurons"], 1, MAX_NEURONS),
            "activation": _choice(f"{key}.activation", full["activation"], ACTIVATIONS),
            "dropout": _float(f"{key}.dropout", full["dropout"], 0.0, MAX_DROPOUT),
            "batchnorm": batchnorm,
        })
    return layers


def validate_config(raw: dict | None = None, base: dict | None = None) -> dict:
    """The full normalised config: ``raw``'s keys over ``base`` (default :data:`DEFAULT_CONFIG`), checked.

    Raises :class:`ConfigError` (a ``ValueError``) for an unknown key, a wrong type, a value out of
    range, or a problem type that does not match the dataset. Features come back in canonical order.

    Example:
        >>> config = validate_config({"dataset": "spiral", "features": ["x2", "x1"], "learning_rate": 0.1})
        >>> config["features"], config["layers"][0]["neurons"], config["problem"]
        (['x1', 'x2'], 4, 'classification')
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config: expected a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(DEFAULT_CONFIG))
    if unknown:
        raise ConfigError(f"config: unknown keys {unknown}; expected some of {', '.join(DEFAULT_CONFIG)}")
    merged = {**copy.deepcopy(base if base is not None else DEFAULT_CONFIG), **copy.deepcopy(raw)}
    out: dict[str, Any] = {}
    out["dataset"] = _choice("dataset", merged["dataset"], DATASETS)
    problem = merged["problem"]
    if "dataset" in raw and "problem" not in raw and out["dataset"] != "custom":
        problem = "regression" if out["dataset"] in REGRESSION_SETS else "classification"
    out["problem"] = _choice("problem", problem, PROBLEMS)
    if out["dataset"] in CLASSIFICATION_SETS and out["problem"] != "classification" or \
            out["dataset"] in REGRESSION_SETS and out["problem"] != "regression":
        expected = "regression" if out["dataset"] in REGRESSION_SETS else "classification"
        raise ConfigError(f"config 'problem': {out['problem']!r} does not fit dataset {out['dataset']!r}; "
                          f"expected {expected!r}")
    if "dataset" in raw and "classes" not in raw and out["dataset"] in TWO_CLASS_SETS:
        merged["classes"] = 2  # switching to a two-class set from a 3-class spiral is not an error
    classes = _int("classes", merged["classes"], MIN_CLASSES, MAX_CLASSES)
    if out["dataset"] in TWO_CLASS_SETS and classes != 2:
        raise ConfigError(f"config 'classes': dataset {out['dataset']!r} has 2 classes, got {classes}; "
                          "use gaussian or spiral for 3..6 classes")
    out["classes"] = classes
    out["noise"] = _int("noise", merged["noise"], 0, 50)
    out["train_ratio"] = _int("train_ratio", merged["train_ratio"], 10, 90)
    out["points"] = _int("points", merged["points"], MIN_POINTS, MAX_POINTS)
    out["batch_size"] = _int("batch_size", merged["batch_size"], 1, MAX_BATCH_SIZE)
    out["data_seed"] = _int("data_seed", merged["data_seed"], 0, MAX_SEED)
    out["seed"] = _int("seed", merged["seed"], 0, MAX_SEED)
    out["features"] = _features(merged["features"])
    out["layers"] = _layers(merged["layers"])
    out["learning_rate"] = _float("learning_rate", merged["learning_rate"], MIN_LEARNING_RATE,
                                  MAX_LEARNING_RATE)
    out["optimizer"] = _choice("optimizer", merged["optimizer"], OPTIMIZERS)
    out["init"] = _choice("init", merged["init"], INITS)
    out["regularization"] = _choice("regularization", merged["regularization"], REGULARIZATIONS)
    out["regularization_rate"] = _float("regularization_rate", merged["regularization_rate"], 0.0,
                                        MAX_REGULARIZATION_RATE)
    out["schedule"] = _choice("schedule", merged["schedule"], SCHEDULES)
    if out["batch_size"] < 2 and any(layer["batchnorm"] for layer in out["layers"]):
        raise ConfigError("config 'batch_size': 1 does not work with batch norm (it cannot normalise "
                          "a single point); use batch_size >= 2 or turn batchnorm off")
    return out
