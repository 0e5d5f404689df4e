"""The origin of the first NaN/Inf: each kind produced by a real computation and classified."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional as F
from dendrite.autograd import AnomalyError, AnomalyOrigin, Function
from dendrite.autograd.anomaly_origin import KINDS, classify_forward, fix_for, summarize
from dendrite.autograd.engine import add_backward_observer


def origin_of(compute) -> AnomalyOrigin:
    with np.errstate(all="ignore"), dendrite.autograd.detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            compute()
    origin = info.value.origin
    assert isinstance(origin, AnomalyOrigin)
    assert origin.fix and origin.fix in str(info.value)  # the message ends with the fix
    return origin


def test_log_of_softmax_underflow_names_log_softmax():
    logits = dendrite.tensor([[0.0, 200.0]], requires_grad=True)
    origin = origin_of(lambda: F.softmax(logits, dim=1).log())  # the user's line
    assert (origin.op, origin.kind, origin.phase) == ("Log", "log-of-zero", "forward")
    assert "Softmax" in origin.detail and "F.log_softmax" in origin.fix
    assert "test_anomaly_origin.py" in origin.where and "F.softmax(logits, dim=1).log()" in origin.where
    assert origin.inputs[0]["zeros"] == 1 and origin.inputs[0]["size"] == 2


def test_log_of_sigmoid_underflow_names_the_fused_loss():
    logits = dendrite.tensor([-200.0, 0.0], requires_grad=True)
    origin = origin_of(lambda: logits.sigmoid().log())
    assert origin.kind == "log-of-zero" and "binary_cross_entropy_with_logits" in origin.fix


def test_log_of_zero_in_general_suggests_a_clamp():
    origin = origin_of(lambda: dendrite.tensor([0.0, 1.0]).log())
    assert origin.kind == "log-of-zero" and "clamp(min=1e-12)" in origin.fix


def test_log_of_negative():
    origin = origin_of(lambda: dendrite.tensor([-1.0, 2.0]).log())
    assert origin.kind == "log-of-negative" and "1 of 2" in origin.detail


def test_exp_overflow():
    origin = origin_of(lambda: (dendrite.tensor([1.0, 100.0], requires_grad=True) * 1.0).exp())
    assert (origin.op, origin.kind) == ("Exp", "exp-overflow")
    assert "100" in origin.detail and "logsumexp" in origin.fix


@pytest.mark.parametrize("numerator, expected", [([1.0, 2.0], "1 of 2 denominator(s) are 0."),
                                                 ([0.0, 2.0], "1 of them 0/0 = NaN")])
def test_division_by_zero_and_zero_over_zero(numerator, expected):
    origin = origin_of(lambda: dendrite.tensor(numerator) / dendrite.tensor([0.0, 4.0]))
    assert (origin.op, origin.kind) == ("Div", "division-by-zero")
    assert expected in origin.detail and "1e-8" in origin.fix


def test_sqrt_of_negative_and_pow_of_negative():
    assert origin_of(lambda: dendrite.tensor([-1.0, 4.0]).sqrt()).kind == "sqrt-of-negative"
    assert origin_of(lambda: dendrite.tensor([-2.0, 4.0]) ** 0.5).kind == "pow-of-negative"


def test_zero_times_inf_and_inf_minus_inf():
    inf_mask = dendrite.tensor([np.inf, 1.0])
    assert origin_of(lambda: dendrite.tensor([0.0, 1.0]) * inf_mask).kind == "zero-times-inf"
    assert origin_of(lambda: inf_mask - inf_mask).kind == "inf-minus-inf"


def test_nan_in_data_is_blamed_on_the_data():
    weight = dendrite.ones(2, 3, requires_grad=True)
    batch = dendrite.tensor([[np.nan, 1.0], [0.5, 1.0]])
    origin = origin_of(lambda: batch @ weight)
    assert (origin.op, origin.kind) == ("MatMul", "nan-in-data")
    assert "1 NaN" in origin.detail and "your data" in origin.detail


def test_nan_in_a_weight_is_blamed_on_an_earlier_step():
    weight = dendrite.tensor([[np.nan, 1.0]], requires_grad=True)
    origin = origin_of(lambda: dendrite.ones(3, 2) @ weight.T)
    assert origin.kind == "nan-in-weights" and "clip_grad_norm_" in origin.fix


def test_overflow_in_matmul_and_sum_from_finite_inputs():
    big = dendrite.tensor([[1e20, 1e20]])
    assert origin_of(lambda: big @ big.T).kind == "overflow"
    origin = origin_of(lambda: dendrite.tensor([3e38, 3e38]).sum())
    assert (origin.op, origin.kind) == ("Sum", "overflow") and "3e+38" in origin.detail


def test_backward_origin_sqrt_at_zero_has_an_infinite_derivative():
    x = dendrite.tensor([0.0, 4.0], requires_grad=True)
    with dendrite.autograd.detect_anomaly():
        y = x.sqrt().sum()  # created here
        with pytest.raises(AnomalyError) as info:
            y.backward()
    origin = info.value.origin
    assert (origin.op, origin.kind, origin.phase) == ("Sqrt", "infinite-derivative", "backward")
    assert "y = x.sqrt().sum()  # created here" in origin.where
    message = str(info.value)
    assert message.startswith("detect_anomaly: the backward of Sqrt returned Inf")
    assert "Origin: infinite derivative" in message and "Fix: add an epsilon inside" in message


class HugeBackward(Function):
    def forward(self, x):
        return x * 1.0

    def backward(self, grad):
        return grad * np.float32(1e30) * np.float32(1e30)


def test_backward_overflow_from_finite_values():
    x = dendrite.tensor([1.0], requires_grad=True)
    with np.errstate(over="ignore"), dendrite.autograd.detect_anomaly():
        y = HugeBackward.apply(x).sum()
        with pytest.raises(AnomalyError) as info:
            y.backward()
    assert info.value.origin.kind == "gradient-overflow"


def test_forward_message_keeps_its_start_and_adds_origin_and_fix():
    with np.errstate(all="ignore"), dendrite.autograd.detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            dendrite.tensor([0.0]).log()
    lines = str(info.value).splitlines()
    assert lines[0] == "detect_anomaly: Log produced Inf in its forward output."
    assert lines[1].startswith("  It was called from ")
    assert lines[-2].startswith("  Origin: log of 0 (= -inf).") and lines[-1].startswith("  Fix: clamp")


def test_classify_forward_on_plain_arrays_and_summaries():
    with np.errstate(all="ignore"):
        output = np.exp(np.array([1000.0]))
    origin = classify_forward("Exp", [np.array([1000.0])], [output], ["data"])
    assert origin.kind == "exp-overflow" and origin.where == "<unknown>"
    assert origin.to_dict()["inputs"][0]["max"] == 1000.0
    assert summarize(3) == {"shape": (), "size": 1, "min": 3.0, "max": 3.0, "nan": 0, "inf": 0,
                            "zeros": 0, "negative": 0}
    assert all(title and fix for title, fix in KINDS.values())
    with pytest.raises(KeyError, match="unknown anomaly kind"):
        fix_for("nope")


def test_anomaly_error_without_origin_still_works():
    error = AnomalyError("plain")
    assert error.origin is None and str(error) == "plain"


def test_backward_observers_see_each_backward_and_are_removed():
    seen = []
    remove = add_backward_observer(lambda outputs: seen.append(float(outputs[0].item())))
    x = dendrite.tensor([3.0], requires_grad=True)
    try:
        (x * x).sum().backward()
        dendrite.autograd.grad((x * 2).sum(), x)  # fills no .grad: not observed
    finally:
        remove()
    (x * x).sum().backward()
    remove()  # removing twice is harmless
    assert seen == [9.0]
