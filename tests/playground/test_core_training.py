"""PlaygroundSession training: losses fall, multiclass and regression learn, status, live changes, weights."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dendrite.playground import ConfigError, PlaygroundSession
from dendrite.playground.network import lr_factor
from dendrite.playground.snapshot import decode_map


def _train(session: PlaygroundSession, epochs: int) -> dict:
    for _ in range(epochs):
        session.step_epoch()
    return session.snapshot()["metrics"]


def test_circle_default_setup_learns():
    s = PlaygroundSession({"learning_rate": 0.1})
    start = s.history["train_loss"][0]
    metrics = _train(s, 60)
    assert metrics["train_loss"] < 0.5 * start
    assert metrics["test_accuracy"] > 0.9


def test_xor_with_the_product_feature_learns_fast():
    s = PlaygroundSession({"dataset": "xor", "features": ["x1", "x2", "x1x2"], "layers": []})
    metrics = _train(s, 15)
    assert metrics["train_accuracy"] > 0.95 and metrics["train_loss"] < 0.3


def test_spiral_with_sine_features_learns():
    s = PlaygroundSession({"dataset": "spiral", "features": ["x1", "x2", "sinx1", "sinx2"],
                           "layers": [{"neurons": 8}, {"neurons": 8}], "optimizer": "adam",
                           "learning_rate": 0.03})
    start = s.history["train_loss"][0]
    metrics = _train(s, 80)
    assert metrics["train_loss"] < 0.6 * start
    assert metrics["train_accuracy"] > 0.8


@pytest.mark.parametrize(("dataset", "classes", "goal"), [("gaussian", 4, 0.95), ("spiral", 3, 0.6)])
def test_multiclass_learns(dataset, classes, goal):
    s = PlaygroundSession({"dataset": dataset, "classes": classes, "optimizer": "adam", "learning_rate": 0.03,
                           "layers": [{"neurons": 8, "activation": "relu"}] * 2})
    assert s.snapshot()["network"]["layers"][-1] == {"neurons": classes, "activation": "softmax"}
    start = s.history["train_loss"][0]
    metrics = _train(s, 40)
    assert metrics["train_loss"] < 0.7 * start
    assert metrics["train_accuracy"] > goal
    assert s.snapshot()["heatmaps"]["output_class"]


@pytest.mark.parametrize("dataset", ["plane", "multigauss"])
def test_regression_learns(dataset):
    s = PlaygroundSession({"dataset": dataset, "optimizer": "adam", "learning_rate": 0.03,
                           "layers": [{"neurons": 8}, {"neurons": 4}]})
    start = s.history["train_loss"][0]
    metrics = _train(s, 40)
    assert metrics["train_accuracy"] is None and metrics["train_loss"] < 0.5 * start
    if dataset == "plane":
        assert metrics["train_loss"] < 0.01


@pytest.mark.parametrize("optimizer", ["momentum", "rmsprop"])
def test_dropout_batchnorm_and_other_optimizers_train(optimizer):
    s = PlaygroundSession({"optimizer": optimizer, "learning_rate": 0.01, "regularization": "l1",
                           "regularization_rate": 0.001, "layers": [
                               {"neurons": 8, "activation": "relu", "dropout": 0.2, "batchnorm": True},
                               {"neurons": 4, "activation": "sigmoid"}]})
    start = s.history["train_loss"][0]
    metrics = _train(s, 25)
    assert metrics["train_loss"] < start
    assert s.status() == "ok"


def test_status_diverged_and_json_stays_strict():
    s = PlaygroundSession({"learning_rate": 10, "init": "large_normal", "layers": [{"neurons": 8}] * 3,
                           "optimizer": "momentum"})
    _train(s, 5)
    snap = s.snapshot()
    assert snap["status"] == "diverged"
    json.dumps(snap, allow_nan=False)  # NaN weights or losses travel as null


def test_status_stalled_with_zero_init():
    # All-zero weights: every hidden unit stays identical and the output only learns the class balance.
    s = PlaygroundSession({"init": "zeros", "points": 100, "layers": [{"neurons": 4, "activation": "relu"}]})
    _train(s, 99)
    assert s.status() == "ok"  # fewer than 100 epochs: too early to say
    _train(s, 150)
    history = s.history
    assert history["train_accuracy"][-1] < 0.95
    assert min(history["train_loss"][-100:]) > 0.99 * min(history["train_loss"][:-100])
    assert s.status() == "stalled"


def test_live_changes_go_to_the_change_log_without_reset():
    s = PlaygroundSession()
    s.train_for(0.0)
    assert s.steps == 1
    assert s.configure({"learning_rate": 0.3, "schedule": "step"}) is False
    assert s.configure({"learning_rate": 0.3}) is False  # unchanged: nothing logged
    s.step_epoch()
    assert s.configure({"batch_size": 25}) is False
    assert s.change_log == [
        {"step": 1, "kind": "config", "values": {"learning_rate": 0.3, "schedule": "step"}},
        {"step": 25, "kind": "config", "values": {"batch_size": 25}},
    ]
    s.step_epoch()
    assert (s.epoch, s.steps) == (2, 35)  # 250 training points: 25 + 10 steps
    assert s.snapshot()["metrics"]["learning_rate"] == 0.3 * lr_factor("step", 2)
    assert s.configure({"layers": [{"neurons": 3}]}) is True
    assert (s.epoch, s.steps, s.change_log) == (0, 0, [])


def test_bad_configure_changes_nothing():
    s = PlaygroundSession()
    s.step_epoch()
    with pytest.raises(ConfigError, match="learning_rate"):
        s.configure({"learning_rate": 99})
    assert s.epoch == 1 and s.config["learning_rate"] == 0.03


def test_train_for_stops_mid_epoch_and_step_epoch_finishes_it():
    s = PlaygroundSession({"points": 2000, "batch_size": 1, "train_ratio": 90})
    s.train_for(0.0)
    assert (s.epoch, s.steps) == (0, 1)
    s.step_epoch()
    assert (s.epoch, s.steps) == (1, 1800)
    assert len(s.history["epoch"]) == 2


def test_reset_and_regenerate():
    s = PlaygroundSession({"seed": 5})
    first = s.snapshot(include_points=True)
    s.step_epoch()
    s.reset()
    again = s.snapshot(include_points=True)
    assert again["network"] == first["network"] and again["epoch"] == 0
    s.regenerate()
    new = s.snapshot(include_points=True)
    assert new["config"]["data_seed"] == 1 and new["data_version"] == first["data_version"] + 1
    assert new["points"]["train"] != first["points"]["train"]
    assert new["network"] == first["network"]  # same seed: the same initial weights


def test_set_weight_changes_the_output():
    s = PlaygroundSession({"layers": [{"neurons": 2}]})
    before = s.snapshot()
    s.set_weight(1, 0, 0, 5.0)
    after = s.snapshot()
    assert after["network"]["weights"][1][0][0] == 5.0
    old, new = (decode_map(snap["heatmaps"]["output"], 40) for snap in (before, after))
    assert np.abs(old - new).max() > 0.1
    assert s.change_log == [{"step": 0, "kind": "weight", "layer": 1, "source": 0, "target": 0, "value": 5.0}]
    s.set_weight(0, 1, 1, -0.5)
    assert s.snapshot()["network"]["weights"][0][1][1] == -0.5


@pytest.mark.parametrize(("args", "message"), [
    ((2, 0, 0, 1.0), "layer 2 does not exist"), ((0, 2, 0, 1.0), "sources 0..1"),
    ((0, 0, 2, 1.0), "targets 0..1"), ((1, 0, 1, 1.0), "targets 0..0"),
    ((0, 0, 0, float("nan")), "finite number"), ((0.5, 0, 0, 1.0), "integer"),
])
def test_set_weight_errors(args, message):
    s = PlaygroundSession({"layers": [{"neurons": 2}]})
    with pytest.raises(ValueError, match=message):
        s.set_weight(*args)
    assert s.change_log == []


@pytest.mark.parametrize("seconds", [float("nan"), -1, "0.1", 1e9])
def test_train_for_refuses_bad_durations(seconds):
    with pytest.raises(ValueError, match="train_for: seconds"):
        PlaygroundSession().train_for(seconds)
