"""trace_nan and check_optimizer_step: the first NaN/Inf of a real step as a finding with its kind and fix."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional as F
from dendrite import nn
from dendrite.doctor import Report, check_optimizer_step, trace_nan


def classifier(seed: int = 0) -> nn.Module:
    dendrite.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))


def test_log_of_softmax_in_a_hand_written_loss():
    model = classifier()
    x, y = dendrite.tensor(np.full((4, 3), 300.0, dtype="float32")), dendrite.tensor([0, 1, 0, 1])

    def step():
        probabilities = F.softmax(model(x) * 100, dim=1)
        loss = F.nll_loss(probabilities.log(), y)  # the hand-written log(softmax)
        loss.backward()

    finding = trace_nan(step)
    assert finding.code == "nan-loss" and finding.severity == "error"
    evidence = finding.evidence
    assert (evidence["op"], evidence["kind"], evidence["phase"]) == ("Log", "log-of-zero", "forward")
    assert "probabilities.log()" in evidence["where"] and "test_nan_origin.py" in evidence["where"]
    assert evidence["inputs"][0]["zeros"] > 0 and evidence["inputs"][0]["shape"] == (4, 2)
    assert "F.log_softmax" in finding.fix and "F.cross_entropy" in finding.fix


@pytest.mark.parametrize("compute, op, kind, fix", [
    (lambda x: (x * 100).exp().sum(), "Exp", "exp-overflow", "logsumexp"),
    (lambda x: (x / (x - x)).sum(), "Div", "division-by-zero", "1e-8"),
    (lambda x: (x - 5).sqrt().sum(), "Sqrt", "sqrt-of-negative", "clamp(min=0)"),
    (lambda x: (x * 0 * dendrite.tensor([np.inf, 1.0, 1.0])).sum(), "Mul", "zero-times-inf", "-1e9"),
    (lambda x: (x * 1e30) @ (x * 1e30), "MatMul", "overflow", "normalize"),
    (lambda x: x.abs().sqrt().sum() * 0 + (x - x).sqrt().sum(), "Sqrt", "infinite-derivative", "epsilon"),
])
def test_each_kind_from_a_real_step(compute, op, kind, fix):
    x = dendrite.tensor([1.0, 2.0, 3.0], requires_grad=True)
    finding = trace_nan(lambda: compute(x).backward())
    assert (finding.evidence["op"], finding.evidence["kind"]) == (op, kind)
    assert fix in finding.fix
    Report([finding]).to_json()  # evidence stays strict JSON


def test_nan_in_the_data_is_a_nan_in_data_finding():
    model = classifier()
    batch = np.ones((4, 3), dtype="float32")
    batch[2, 1] = np.nan
    finding = trace_nan(lambda: F.cross_entropy(model(dendrite.tensor(batch)), dendrite.tensor([0, 1, 0, 1]))
                        .backward())
    assert finding.code == "nan-in-data"
    assert finding.evidence["kind"] == "nan-in-data" and "1 NaN" in finding.evidence["detail"]


def test_a_healthy_step_gives_none_and_passes_arguments():
    model = classifier()
    seen = []

    def step(x, scale=1.0):
        loss = model(x).sum() * scale
        loss.backward()
        seen.append(scale)
        return loss

    assert trace_nan(step, dendrite.ones(2, 3), scale=2.0) is None
    assert seen == [2.0] and not dendrite.autograd.is_anomaly_enabled()


def test_a_non_finite_value_made_outside_dendrite():
    finding = trace_nan(lambda: float("nan"))
    assert finding.code == "nan-loss" and "no dendrite operation made" in finding.title


def test_other_errors_propagate_and_bad_arguments_are_named():
    with pytest.raises(ZeroDivisionError):
        trace_nan(lambda: 1 / 0)
    with pytest.raises(TypeError, match="trace_nan: step must be a function"):
        trace_nan("loss")


def test_an_optimizer_step_with_a_huge_learning_rate():
    model = classifier()
    inputs = dendrite.randn(8, 3) * 1e10  # large, finite inputs: gradients of about 1e9
    F.cross_entropy(model(inputs), dendrite.tensor([0, 1] * 4)).backward()
    optimizer = dendrite.optim.SGD(model.parameters(), lr=1e30)
    finding = check_optimizer_step(optimizer, model=model, step=7)
    assert finding.code == "nan-loss"
    evidence = finding.evidence
    assert evidence["step"] == 7 and evidence["kind"] == "optimizer-step" and evidence["phase"] == "step"
    assert evidence["op"] == "SGD.step" and "'0.weight'" in evidence["detail"]
    assert "lr=1e+30" in evidence["detail"]
    assert evidence["inputs"][0]["grad_finite"] is True
    assert "learning rate" in finding.fix and "clip_grad_norm_" in finding.fix
    assert not np.isfinite(model[0].weight.array).all()  # the step really happened


def test_an_optimizer_step_after_a_non_finite_gradient_says_so():
    w = dendrite.nn.Parameter(dendrite.ones(2))
    w.grad = dendrite.tensor([np.inf, 1.0])
    finding = check_optimizer_step(dendrite.optim.SGD([w], lr=0.1))
    assert "already held NaN/Inf" in finding.evidence["detail"]


def test_a_finite_optimizer_step_and_bad_arguments():
    model = classifier()
    model(dendrite.randn(2, 3)).sum().backward()
    assert check_optimizer_step(dendrite.optim.Adam(model.parameters(), lr=1e-3), model=model) is None
    with pytest.raises(TypeError, match="expected a dendrite.optim optimizer"):
        check_optimizer_step("adam")
    with pytest.raises(TypeError, match="model must be a dendrite.nn.Module"):
        check_optimizer_step(dendrite.optim.SGD(model.parameters(), lr=0.1), model="net")
