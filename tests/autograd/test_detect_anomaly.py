"""detect_anomaly: the first NaN/Inf names the operation and the line of user code."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite.autograd import AnomalyError, Function


class NanBackward(Function):
    def forward(self, x):
        return x * 2

    def backward(self, grad):
        return grad * np.nan


def test_forward_nan_names_the_operation_and_the_user_line():
    x = dendrite.tensor([-1.0, 1.0], requires_grad=True)
    with dendrite.autograd.detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            x.log() * 2  # the offending line
    message = str(info.value)
    assert "Log produced NaN in its forward output" in message
    assert "test_detect_anomaly.py" in message and "x.log() * 2  # the offending line" in message


def test_forward_inf_is_reported():
    with dendrite.autograd.detect_anomaly():
        with pytest.raises(AnomalyError, match="Div produced Inf"):
            dendrite.tensor([1.0]) / 0.0


def test_backward_nan_names_the_operation_and_where_it_was_created():
    x = dendrite.tensor([1.0, 2.0], requires_grad=True)
    with dendrite.autograd.detect_anomaly():
        y = NanBackward.apply(x).sum()  # created here
        with pytest.raises(AnomalyError) as info:
            y.backward()
    message = str(info.value)
    assert "the backward of NanBackward returned NaN in the gradient of its input 0" in message
    assert "y = NanBackward.apply(x).sum()  # created here" in message


def test_backward_inf_from_sqrt_at_zero():
    x = dendrite.tensor([0.0, 4.0], requires_grad=True)
    with dendrite.autograd.detect_anomaly():
        y = x.sqrt().sum()
        with pytest.raises(AnomalyError, match="the backward of Sqrt returned Inf"):
            y.backward()


def test_no_checks_outside_the_context_and_state_restored():
    assert not dendrite.autograd.is_anomaly_enabled()
    x = dendrite.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.log().item())  # no error without detect_anomaly

    @dendrite.autograd.detect_anomaly()
    def compute():
        assert dendrite.autograd.is_anomaly_enabled()
        return x.log()

    with pytest.raises(AnomalyError):
        with np.errstate(invalid="ignore"):
            compute()
    assert not dendrite.autograd.is_anomaly_enabled()
