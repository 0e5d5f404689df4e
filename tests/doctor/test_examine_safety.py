"""examine leaves the user's objects exactly as they were, validates its arguments, keeps to its budget,
and gives the same report for the same seed."""

from __future__ import annotations

import json

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional as F
from dendrite import nn, optim
from dendrite.backend import get_rng_state
from dendrite.data import DataLoader, TensorDataset
from dendrite.doctor import Report, examine
from tests.doctor.setups import BatchNormNet, digits, mlp

# These tests check what the probes find, not how long they take: a budget no machine reaches
# (a 30 s budget skipped a probe once on a loaded 2-core machine). test_tiny_budget_* checks the budget.
UNHURRIED = 3600


def _snapshot(model, optimizer):
    return {
        "params": [p.array.copy() for p in model.parameters()],
        "grads": [None if p.grad is None else p.grad.array.copy() for p in model.parameters()],
        "buffers": [b.array.copy() for b in model.buffers()],
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "optimizer": optimizer.state_dict(),
    }


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or hasattr(a, "array"):
        a = a.array if hasattr(a, "array") else a
        b = b.array if hasattr(b, "array") else b
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    return a == b


def test_user_model_optimizer_data_and_rng_are_untouched():
    dendrite.manual_seed(3)
    np.random.seed(5)
    x, y = digits(300)
    x, y = x.copy(), y.copy()
    model = nn.Sequential(BatchNormNet(), nn.Dropout(0.2))  # buffers (running statistics) and dropout
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    # some history: gradients, momentum buffers, running statistics
    F.cross_entropy(model(dendrite.tensor(x[:32])), dendrite.tensor(y[:32])).backward()
    optimizer.step()
    F.cross_entropy(model(dendrite.tensor(x[32:64])), dendrite.tensor(y[32:64])).backward()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=1)
    before = _snapshot(model, optimizer)
    data_before = (x.copy(), y.copy())
    rng_before, numpy_before = get_rng_state(), np.random.get_state()
    loader_state = loader.generator.bit_generator.state

    report = examine(model, loader, optimizer=optimizer, val_data=(x[:50], y[:50]), budget_s=UNHURRIED)

    assert report.findings is not None
    assert _same(before, _snapshot(model, optimizer))
    assert x.tobytes() == data_before[0].tobytes() and y.tobytes() == data_before[1].tobytes()
    assert get_rng_state() == rng_before
    after = np.random.get_state()
    assert after[0] == numpy_before[0] and np.array_equal(after[1], numpy_before[1])
    assert after[2:] == numpy_before[2:]
    assert loader.generator.bit_generator.state == loader_state


def test_eval_flag_is_kept():
    x, y = digits(200)
    model = mlp(64, 10, dropout=0.2)
    model.eval()
    examine(model, (x, y), budget_s=UNHURRIED)
    assert not model.training and all(not m.training for m in model.modules())


def test_same_seed_gives_the_same_report():
    x, y = digits(300)
    model = mlp(64, 10)
    first = examine(model, (x, y * 0 + 3 * (y > 4)), budget_s=UNHURRIED, seed=7).to_dict()
    second = examine(model, (x, y * 0 + 3 * (y > 4)), budget_s=UNHURRIED, seed=7).to_dict()
    first.pop("elapsed_s"), second.pop("elapsed_s")
    assert first == second


@pytest.mark.parametrize("kwargs, error, words", [
    ({"model": "not a model"}, TypeError, "nn.Module"),
    ({"data": 42}, TypeError, "DataLoader, a Dataset or an (inputs, targets) pair"),
    ({"data": (np.zeros((5, 64), np.float32), np.zeros(4, np.int64))}, ValueError, "one target per input"),
    ({"data": (np.zeros((0, 64), np.float32), np.zeros(0, np.int64))}, ValueError, "empty"),
    ({"data": (1, 2, 3)}, ValueError, "(inputs, targets)"),
    ({"task": "segmentation"}, ValueError, "task must be one of"),
    ({"budget_s": 0}, ValueError, "budget_s"),
    ({"optimizer": "adam"}, TypeError, "optimizer must be"),
    ({"loss_fn": 3}, TypeError, "loss_fn must be callable"),
    ({"val_data": (np.zeros((4, 3), np.float32), np.zeros(4, np.int64))}, ValueError, "val_data inputs"),
    ({"data": (np.zeros((8, 64), np.float32), np.zeros(8, np.float32)), "task": "classification"},
     ValueError, "integer class ids"),
])
def test_bad_arguments_say_what_was_expected(kwargs, error, words):
    x, y = digits(64)
    arguments = {"model": mlp(64, 10), "data": (x, y), **kwargs}
    with pytest.raises(error, match=None) as raised:
        examine(**arguments)
    assert words in str(raised.value)


def test_a_dataset_and_tensors_are_accepted():
    x, y = digits(200)
    for data in (TensorDataset(x, y), (dendrite.tensor(x), dendrite.tensor(y))):
        report = examine(mlp(64, 10), data, budget_s=UNHURRIED)
        assert report.ok, str(report)


def test_tiny_budget_skips_probes_and_says_why():
    x, y = digits(200)
    report = examine(mlp(64, 10), (x, y), budget_s=1e-4)
    assert report.skipped, "every probe that did not fit is listed"
    assert all("budget" in why for why in report.skipped.values())
    assert set(report.skipped) | set(report.passed) | {f.probe for f in report.findings} >= {"learning-rate"}


def test_a_broken_forward_is_a_finding_not_a_traceback():
    x, y = digits(100)
    report = examine(mlp(10, 10), (x, y), budget_s=10)
    assert report.findings[0].code == "forward-error"
    assert "learning-rate" in report.skipped


def test_report_json_round_trip():
    x, y = digits(200)
    x = x.copy()
    x[0, 0, 0] = np.nan
    report = examine(mlp(64, 10), (x, y), budget_s=UNHURRIED)
    data = json.loads(report.to_json())
    assert data["ok"] is False and data["findings"][0]["code"] == "nan-in-data"
    assert isinstance(Report([]).to_json(), str)
    assert sorted(data) == ["elapsed_s", "findings", "ok", "passed", "skipped"]
