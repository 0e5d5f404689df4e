"""What examine does with the dtypes users' data come in: NumPy floats meet the model as in Trainer.fit."""

from __future__ import annotations

import numpy as np

import dendrite
from dendrite import nn
from dendrite.doctor import examine

# These tests check what the probes find, not how long they take: a budget no machine reaches
# (a 30 s budget skipped a probe once on a loaded 2-core machine). test_tiny_budget_* checks the budget.
UNHURRIED = 3600


def _regression(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, 3))  # NumPy's default float64
    y = (x @ np.array([1.0, -2.0, 0.5]))[:, None] + 0.1 * rng.normal(size=(300, 1))
    return x, y


def _model():
    dendrite.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1))


def test_float64_numpy_data_is_examined_in_the_models_dtype():
    x, y = _regression()
    report = examine(_model(), (x, y), budget_s=UNHURRIED)
    assert report.ok and not report.findings
    assert x.dtype == np.float64 and y.dtype == np.float64  # the user's arrays are untouched


def test_float64_tensors_fail_as_they_would_in_training():
    x, y = _regression()
    report = examine(_model(), (dendrite.tensor(x), dendrite.tensor(y)), budget_s=UNHURRIED)
    assert "forward-error" in report.codes()
    assert "float64" in report.findings[0].title


def test_int32_class_ids_are_named_as_the_loss_refuses_them():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    y = rng.integers(0, 3, 200).astype(np.int32)
    dendrite.manual_seed(0)
    report = examine(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), (x, y), budget_s=UNHURRIED)
    assert report.findings[0].code == "loss-error"
    assert report.findings[0].evidence["target_dtype"] == "int32"
