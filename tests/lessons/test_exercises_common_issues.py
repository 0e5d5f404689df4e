"""The checkers of lesson 10 (common issues): reference answers pass, typical wrong answers fail with a
message that says what is wrong, placeholders are unanswered, learner code that raises is wrong."""

from __future__ import annotations

import numpy as np

import dendrite
import dendrite.nn.functional as F
from dendrite import nn, optim
from dendrite.data import load_dataset
from dendrite.doctor import trace_nan
from dendrite.lessons.exercises import common_issues as check


def _mlp(hidden: int = 32) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def _trained(fix: bool, steps: int = 80) -> nn.Module:
    """The lesson's mystery script, fixed or not."""
    splits = load_dataset("digits")
    inputs, targets = dendrite.tensor(splits.x_train[:600]), dendrite.tensor(splits.y_train[:600])
    dendrite.manual_seed(1)
    model = _mlp()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    if not fix:
        dendrite.manual_seed(0)
        model = _mlp()
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(inputs), targets).backward()
        optimizer.step()
    return model


# exercise 1: name the bug

def test_name_the_bug_accepts_the_code_in_any_spelling():
    for spelling in ("params-not-in-optimizer", "  Params_Not_In_Optimizer ", "'params-not-in-optimizer'"):
        assert check.name_the_bug(spelling).status == "correct"


def test_name_the_bug_accepts_the_doctors_finding_itself():
    from dendrite.doctor import Finding

    assert check.name_the_bug(Finding("params-not-in-optimizer", "error", "t")).status == "correct"
    assert check.name_the_bug(Finding("dead-relu", "error", "t")).status == "wrong"


def test_name_the_bug_accepts_a_fixed_script_that_trains():
    verdict = check.name_the_bug(lambda: _trained(fix=True))
    assert verdict.status == "correct", verdict.message


def test_name_the_bug_rejects_the_symptom_and_other_codes_with_a_reason():
    verdict = check.name_the_bug("lr-too-low")
    assert verdict.status == "wrong" and "too-small rate is not" in verdict.message
    verdict = check.name_the_bug("loss-plateau")
    assert verdict.status == "wrong" and "symptom" in verdict.message
    verdict = check.name_the_bug("no-gradient")
    assert verdict.status == "wrong" and "after backward()" in verdict.message
    verdict = check.name_the_bug("class-imbalance")  # a real code, not reported here
    assert verdict.status == "wrong" and "does not report it" in verdict.message
    for message in (check.name_the_bug(code).message for code in ("lr-too-low", "no-gradient")):
        assert "params-not-in-optimizer" not in message  # the answer is not given away


def test_name_the_bug_rejects_unknown_codes_and_wrong_types():
    verdict = check.name_the_bug("the optimizer")
    assert verdict.status == "wrong" and "not one of the doctor's finding codes" in verdict.message
    verdict = check.name_the_bug(42)
    assert verdict.status == "wrong" and "got int" in verdict.message


def test_name_the_bug_rejects_a_script_that_still_has_the_bug_or_returns_no_model():
    verdict = check.name_the_bug(lambda: _trained(fix=False, steps=5))
    assert verdict.status == "wrong" and "still there" in verdict.message
    verdict = check.name_the_bug(lambda: [1, 2])
    assert verdict.status == "wrong" and "returned list" in verdict.message


def test_name_the_bug_placeholder_and_raising_code():
    assert check.name_the_bug(...).status == "unanswered"
    assert check.name_the_bug(lambda: ...).status == "unanswered"

    def crashes():
        raise RuntimeError("boom")

    verdict = check.name_the_bug(crashes)
    assert verdict.status == "wrong" and "RuntimeError" in verdict.message


# exercise 2: a model the doctor is happy with

def _repaired():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def _with_bugs(softmax: bool, dead: bool):
    def build():
        model = _repaired()
        if dead:
            for layer in model:
                if isinstance(layer, nn.Linear):
                    nn.init.constant_(layer.bias, -3.0)
        return nn.Sequential(model, nn.Softmax(dim=1)) if softmax else model
    return build


def test_doctor_clean_accepts_the_repaired_model():
    verdict = check.doctor_clean(_repaired)
    assert verdict.status == "correct", verdict.message


def test_doctor_clean_names_the_remaining_bug_after_half_a_fix():
    verdict = check.doctor_clean(_with_bugs(softmax=True, dead=False))  # biases fixed, softmax kept
    assert verdict.status == "wrong" and "softmax-before-loss" in verdict.message
    verdict = check.doctor_clean(_with_bugs(softmax=False, dead=True))  # softmax removed, biases kept
    assert verdict.status == "wrong" and "dead-relu" in verdict.message


def test_doctor_clean_rejects_a_linear_model_wrong_outputs_and_non_models():
    verdict = check.doctor_clean(lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 10)))
    assert verdict.status == "wrong" and "keep a hidden layer" in verdict.message
    verdict = check.doctor_clean(lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(),
                                                       nn.Linear(32, 9)))
    assert verdict.status == "wrong" and "(4, 9)" in verdict.message and "(4, 10)" in verdict.message
    verdict = check.doctor_clean(lambda: "a model")
    assert verdict.status == "wrong" and "returned str" in verdict.message


def test_doctor_clean_placeholder_raising_code_and_global_rng_kept():
    assert check.doctor_clean(...).status == "unanswered"
    assert check.doctor_clean(lambda: ...).status == "unanswered"
    verdict = check.doctor_clean(lambda: nn.Linear(64))  # a missing argument: the learner's TypeError
    assert verdict.status == "wrong" and "TypeError" in verdict.message
    dendrite.manual_seed(123)
    expected = dendrite.rand(3).numpy()
    dendrite.manual_seed(123)
    check.doctor_clean(_repaired)
    assert np.array_equal(dendrite.rand(3).numpy(), expected)


# exercise 3: the operation that made the first NaN

def _standardise_step():
    class Standardise(nn.Module):
        def forward(self, images):
            flat = images.flatten(1)
            return (flat - flat.mean(dim=1, keepdim=True)) / flat.std(dim=1, keepdim=True)

    splits = load_dataset("digits")
    batch = splits.x_train[:32].copy()
    batch[5] = 0.0
    dendrite.manual_seed(0)
    model = nn.Sequential(Standardise(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    inputs, targets = dendrite.tensor(batch), dendrite.tensor(splits.y_train[:32])
    return lambda: F.cross_entropy(model(inputs), targets).backward()


def test_first_nan_op_accepts_the_name_and_the_finding():
    assert check.first_nan_op("Div").status == "correct"
    assert check.first_nan_op("division").status == "correct"
    finding = trace_nan(_standardise_step())
    assert finding is not None and finding.evidence["op"] == "Div"  # the lesson's step: the answer holds
    assert check.first_nan_op(finding).status == "correct"


def test_first_nan_op_rejects_the_operations_that_only_passed_the_nan_on():
    for name, says in (("Std", "finite"), ("Sqrt", "finite"), ("Linear", "received"), ("ReLU", "passed on"),
                       ("cross_entropy", "received"), ("Log", "no log")):
        verdict = check.first_nan_op(name)
        assert verdict.status == "wrong" and says in verdict.message, (name, verdict.message)
    verdict = check.first_nan_op("nan-loss")
    assert verdict.status == "wrong" and "evidence['op']" in verdict.message
    verdict = check.first_nan_op("Exp")
    assert verdict.status == "wrong" and "trace_nan" in verdict.message
    verdict = check.first_nan_op(3)
    assert verdict.status == "wrong" and "got int" in verdict.message


def test_first_nan_op_placeholder():
    assert check.first_nan_op(...).status == "unanswered"
