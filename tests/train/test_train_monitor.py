"""The Monitor helper: which direction improves a logged quantity, and by how much."""

from __future__ import annotations

import math

import pytest

from dendrite.train import monitor
from dendrite.train.monitor import Monitor
from dendrite.train.running_metrics import MeanMetric


def test_metric_mode_and_is_better():
    assert monitor.metric_mode("val_loss") == "min" and monitor.metric_mode("accuracy") == "max"
    assert monitor.metric_mode("val_perplexity") == "min"
    assert monitor.is_better(0.5, 0.6, "min") and not monitor.is_better(0.59, 0.6, "min", min_delta=0.05)
    assert not monitor.is_better(float("nan"), 1.0, "min")


def test_monitor_resolves_auto_mode_from_the_trainers_metrics():
    class FakeTrainer:
        metrics = [MeanMetric(lambda y_true, y_pred: 0.0, name="hinge", higher_is_better=False)]

    watch = Monitor("val_hinge")
    assert watch.mode == "max" and watch.worst == -math.inf  # the name alone says nothing
    assert watch.resolve(FakeTrainer()) == "min" and watch.worst == math.inf
    assert watch.is_better(0.5, 0.6) and not watch.is_better(float("nan"), 0.6)
    with pytest.raises(ValueError, match="'min', 'max' or 'auto'"):
        Monitor("val_loss", mode="lowest")


def test_monitor_warns_once_per_run_when_the_value_is_missing():
    watch = Monitor("val_loss", min_delta=-0.1)
    assert watch.min_delta == 0.1
    with pytest.warns(UserWarning, match="Owner is monitoring 'val_loss'.*'loss'.*; hint"):
        assert watch.value({"loss": 1.0}, "Owner", hint="; hint") is None
    assert watch.warned and watch.value({"val_loss": 2}, "Owner") == 2.0
