"""Every code the doctor knows is found, as the top finding, on a setup with that one mistake."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite import nn
from dendrite.doctor import examine
from dendrite.nn import functional as F
from tests.doctor.setups import BUGGY, data, digits

# These tests check what the probes find, not how long they take: a budget no machine reaches
# (a 30 s budget skipped a probe once on a loaded 2-core machine). test_tiny_budget_* checks the budget.
UNHURRIED = 3600


@pytest.mark.parametrize("code", sorted(BUGGY))
def test_each_mistake_is_the_top_finding(code):
    setup = BUGGY[code](0)
    report = examine(**setup, budget_s=UNHURRIED, seed=0)
    assert code in report.codes(), str(report)
    assert report.findings[0].code == code, str(report)
    finding = next(f for f in report.findings if f.code == code)
    assert finding.evidence, "every finding carries measured evidence"
    assert finding.fix


@pytest.mark.parametrize("code", ["lr-too-high", "lr-too-low", "dead-relu", "softmax-before-loss",
                                  "no-gradient", "train-val-overlap"])
def test_detection_holds_across_seeds(code):
    for seed in (1, 2):
        report = examine(**BUGGY[code](seed), budget_s=UNHURRIED, seed=seed)
        assert code in report.codes(), f"seed {seed}: {report}"


def test_lr_findings_name_the_suggested_rate():
    report = examine(**BUGGY["lr-too-low"](0), budget_s=UNHURRIED)
    finding = next(f for f in report.findings if f.code == "lr-too-low")
    assert finding.evidence["suggested_lr"] > 1e-4
    assert "lr=" in finding.fix


def test_nan_loss_names_the_step():
    report = examine(**BUGGY["nan-loss"](0), budget_s=UNHURRIED)
    finding = next(f for f in report.findings if f.code == "nan-loss")
    assert finding.evidence["step"] == 0


def test_frozen_whole_layer_is_information_not_an_error():
    setup = BUGGY["no-gradient"](0)  # reuse its data
    from tests.doctor.setups import mlp
    model = mlp(64, 10, (32,))
    model[1].requires_grad_(False)  # a frozen first layer: fine-tuning the head
    report = examine(model, setup["data"], budget_s=UNHURRIED)
    assert "frozen-parameters" in report.codes()
    assert report.ok, str(report)


def _xor():
    splits = data("xor")
    return splits.x_train, splits.y_train.astype(np.float32)[:, None], splits.y_train


@pytest.mark.parametrize("loss", ["bce_logits", "cross_entropy"])
def test_constant_output_of_zero_weights_is_no_softmax(loss):
    # All-zero weights give logits of exactly 0 (or a constant one-hot row with a bias) for every example:
    # in [0, 1], and a row summing to 1, yet no sigmoid/softmax is there to remove.
    x, y_binary, y_class = _xor()
    model = nn.Linear(2, 1 if loss == "bce_logits" else 3)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    if loss == "cross_entropy":
        model.bias.data = model.bias.array + np.array([1.0, 0.0, 0.0], np.float32)
    setup = ((x, y_binary), F.binary_cross_entropy_with_logits) if loss == "bce_logits" else \
        ((x, y_class), F.cross_entropy)
    report = examine(model, setup[0], setup[1], budget_s=UNHURRIED)
    assert "softmax-before-loss" not in report.codes(), str(report)


def test_sigmoid_into_bce_with_logits_is_found():
    # The same Linear with varying outputs squashed by a sigmoid: the probe still sees it.
    x, y_binary, _ = _xor()
    report = examine(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid()), (x, y_binary),
                     F.binary_cross_entropy_with_logits, budget_s=UNHURRIED)
    assert "softmax-before-loss" in report.codes(), str(report)


def test_an_optimizer_of_another_model_is_named_and_its_skips_say_why():
    x, y = digits(300)
    model, other = (nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
                    for _ in range(2))
    report = examine(model, (x, y), optimizer=dendrite.optim.Adam(other.parameters(), lr=1e-3),
                     budget_s=UNHURRIED)
    assert report.findings[0].code == "params-not-in-optimizer"
    assert report.skipped, "the probes that train cannot run"
    assert all("holds none of this model's parameters" in why for why in report.skipped.values())
