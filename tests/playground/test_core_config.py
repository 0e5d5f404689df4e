"""The playground config: defaults, normalisation, and a clear ConfigError for every bad value."""

from __future__ import annotations

import json

import pytest

from dendrite.playground import ConfigError, validate_config
from dendrite.playground.config import DEFAULT_CONFIG, LIMITS, LIVE_KEYS


def test_defaults_are_the_playground_opening_setup():
    config = validate_config({})
    assert config == validate_config(None) == DEFAULT_CONFIG
    assert config["dataset"] == "circle" and config["learning_rate"] == 0.03
    assert [layer["neurons"] for layer in config["layers"]] == [4, 2]
    json.dumps(LIMITS)  # the server may send the limits to the page
    assert set(LIVE_KEYS) == {"learning_rate", "regularization", "regularization_rate", "batch_size",
                              "schedule"}


def test_normalisation():
    config = validate_config({"features": ["sinx2", "x1", "x1sq"], "layers": [{"neurons": 3}],
                              "learning_rate": 1, "batch_size": 5.0})
    assert config["features"] == ["x1", "x1sq", "sinx2"]
    assert config["layers"] == [{"neurons": 3, "activation": "tanh", "dropout": 0.0, "batchnorm": False}]
    assert isinstance(config["learning_rate"], float) and config["batch_size"] == 5
    assert isinstance(config["batch_size"], int)


def test_dataset_switch_picks_the_problem_and_two_classes():
    assert validate_config({"dataset": "plane"})["problem"] == "regression"
    spiral = validate_config({"dataset": "spiral", "classes": 4})
    assert validate_config({"dataset": "xor"}, base=spiral)["classes"] == 2
    assert validate_config({"dataset": "gaussian"}, base=spiral)["classes"] == 4


def test_partial_update_over_a_base():
    base = validate_config({"dataset": "xor", "learning_rate": 0.1})
    config = validate_config({"noise": 20}, base=base)
    assert (config["dataset"], config["learning_rate"], config["noise"]) == ("xor", 0.1, 20)


BAD = [
    ("dataset", "moons"), ("dataset", 3), ("problem", "clustering"), ("classes", 1), ("classes", 7),
    ("classes", 2.5), ("classes", "3"), ("noise", -1), ("noise", 51), ("noise", True), ("train_ratio", 9),
    ("train_ratio", 91), ("points", 99), ("points", 2001), ("batch_size", 0), ("batch_size", 65),
    ("data_seed", -1), ("data_seed", 2**31), ("seed", None), ("seed", 1.5), ("features", []),
    ("features", "x1"), ("features", ["x1", "x3"]), ("features", ["x1", "x1"]), ("layers", "4,2"),
    ("layers", [{"neurons": 2}] * 7), ("layers", [{"neurons": 0}]), ("layers", [{"neurons": 9}]),
    ("layers", [{"activation": "gelu"}]), ("layers", [{"dropout": 0.95}]), ("layers", [{"dropout": -0.1}]),
    ("layers", [{"batchnorm": 1}]), ("layers", [{"width": 3}]), ("layers", [3]), ("learning_rate", 0),
    ("learning_rate", 11), ("learning_rate", float("nan")), ("learning_rate", "0.1"), ("optimizer", "lbfgs"),
    ("init", "he"), ("regularization", "l3"), ("regularization_rate", -0.1), ("regularization_rate", 10.5),
    ("regularization_rate", float("inf")), ("schedule", "linear"),
]


@pytest.mark.parametrize(("key", "value"), BAD)
def test_every_bad_value_names_the_key(key, value):
    with pytest.raises(ConfigError) as caught:
        validate_config({key: value})
    assert key in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_range_errors_state_the_allowed_range():
    with pytest.raises(ConfigError, match=r"'noise'.*80.*0\.\.50"):
        validate_config({"noise": 80})
    with pytest.raises(ConfigError, match=r"'layers\[0\]\.neurons'.*1\.\.8"):
        validate_config({"layers": [{"neurons": 12}]})
    with pytest.raises(ConfigError, match=r"expected one of sgd, momentum, adam, rmsprop"):
        validate_config({"optimizer": "adagrad"})


def test_unknown_keys_are_named():
    with pytest.raises(ConfigError, match=r"unknown keys \['colour', 'speed'\]"):
        validate_config({"speed": 1, "colour": "red"})
    with pytest.raises(ConfigError, match="config: expected a JSON object"):
        validate_config([1, 2])


def test_problem_must_fit_the_dataset():
    with pytest.raises(ConfigError, match="does not fit dataset 'circle'"):
        validate_config({"dataset": "circle", "problem": "regression"})
    with pytest.raises(ConfigError, match="does not fit dataset 'plane'"):
        validate_config({"dataset": "plane", "problem": "classification"})
    with pytest.raises(ConfigError, match="'classes'.*'xor' has 2 classes"):
        validate_config({"dataset": "xor", "classes": 3})
    assert validate_config({"dataset": "custom", "problem": "regression"})["problem"] == "regression"


def test_batch_norm_needs_batches_of_two():
    with pytest.raises(ConfigError, match="'batch_size'.*batch norm"):
        validate_config({"batch_size": 1, "layers": [{"batchnorm": True}]})
    assert validate_config({"batch_size": 1, "layers": [{"batchnorm": False}]})["batch_size"] == 1
