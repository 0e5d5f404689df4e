"""Lesson 5's checkers: the reference answers pass, placeholders wait, typical mistakes are named."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite.lessons.exercises import recurrent as check

# ---------------------------------------------------------------- exercise 1: one RNN step


def _step(x, h, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


def test_rnn_step_reference_is_correct():
    assert check.rnn_step(_step).status == "correct"


def test_rnn_step_agrees_with_the_library():
    # the checker's formula is nn.RNNCell's: the reference answer reproduces it
    dendrite.manual_seed(0)
    cell = dendrite.nn.RNNCell(3, 4)
    x, h = dendrite.randn(2, 3), dendrite.randn(2, 4)
    weights = [p.detach().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    with dendrite.no_grad():
        expected = cell(x, h).numpy()
    assert np.allclose(_step(x.numpy(), h.numpy(), *weights), expected, atol=1e-6)


def test_rnn_step_placeholders_are_unanswered():
    assert check.rnn_step(...).status == "unanswered"
    assert check.rnn_step(lambda x, h, W_ih, W_hh, b_ih, b_hh: ...).status == "unanswered"


@pytest.mark.parametrize("step, says", [
    (lambda x, h, W_ih, W_hh, b_ih, b_hh: x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, "pre-activation"),
    (lambda x, h, W_ih, W_hh, b_ih, b_hh: 1 / (1 + np.exp(-(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh))),
     "nonlinearity"),
    (lambda x, h, W_ih, W_hh, b_ih, b_hh: np.maximum(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, 0),
     "nonlinearity"),
    (lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + b_ih + b_hh),
     "does not depend on the old state"),
    (lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(h @ W_hh.T + b_ih + b_hh), "does not depend on the input"),
    (lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + h @ W_hh.T + b_hh), "bias is missing"),
    (lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + h @ W_hh.T), "bias is missing"),
    (lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + b_ih + h @ W_hh + b_hh), "untransposed"),
    (lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)[0], "shape (4,)"),
    (lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(W_ih @ x.T + W_hh @ h.T + (b_ih + b_hh)[:, None]),
     "one column per example"),
    (lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + 2 * b_ih + h @ W_hh.T + b_hh), "not yet"),
])
def test_rnn_step_wrong_answers_say_what_is_wrong(step, says):
    verdict = check.rnn_step(step)
    assert verdict.status == "wrong"
    assert says in verdict.message


def test_rnn_step_code_that_raises_is_wrong():
    # multiplying by W_ih instead of its transpose: (2, 3) @ (4, 3) raises in NumPy
    def untransposed(x, h, W_ih, W_hh, b_ih, b_hh):
        return np.tanh(x @ W_ih + h @ W_hh.T + b_ih + b_hh)
    verdict = check.rnn_step(untransposed)
    assert verdict.status == "wrong" and "ValueError" in verdict.message


# ---------------------------------------------------------------- exercise 2: weight shapes

GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def _shapes(cell, input_size, hidden_size):
    return (GATES[cell] * hidden_size, input_size), (GATES[cell] * hidden_size, hidden_size)


def test_weight_shapes_reference_is_correct():
    assert check.weight_shapes(_shapes).status == "correct"
    # lists and numpy ints are shapes too
    as_lists = lambda c, i, h: [list(np.array(s)) for s in _shapes(c, i, h)]  # noqa: E731
    assert check.weight_shapes(as_lists).status == "correct"


def test_weight_shapes_placeholders_are_unanswered():
    assert check.weight_shapes(...).status == "unanswered"
    assert check.weight_shapes(lambda cell, i, h: ...).status == "unanswered"


@pytest.mark.parametrize("shapes, says", [
    (lambda c, i, h: ((i, GATES[c] * h), (h, GATES[c] * h)), "swapped"),
    (lambda c, i, h: ((h, i), (h, h)), "one gate's worth"),
    (lambda c, i, h: ((4 * h, i), (4 * h, h)), "does not have 4"),            # every cell as an LSTM
    (lambda c, i, h: ((3 * h, i) if c != "rnn" else (h, i), (3 * h, h) if c != "rnn" else (h, h)),
     "LSTM does not have 3"),
    (lambda c, i, h: ((GATES[c] * h, i), (GATES[c] * h, i)), "column per hidden unit"),
    (lambda c, i, h: ((GATES[c] * h, h), (GATES[c] * h, h)), "column per input feature"),
    (lambda c, i, h: (GATES[c] * h, i), "expected two shapes"),
    (lambda c, i, h: "4h by i", "expected two shapes"),
])
def test_weight_shapes_wrong_answers_say_what_is_wrong(shapes, says):
    verdict = check.weight_shapes(shapes)
    assert verdict.status == "wrong"
    assert says in verdict.message


def test_weight_shapes_code_that_raises_is_wrong():
    verdict = check.weight_shapes(lambda cell, i, h: {"rnn": 1}[cell])
    assert verdict.status == "wrong" and "KeyError" in verdict.message


# ---------------------------------------------------------------- exercise 3: the forget-gate bias


def _setter(value, rows=lambda h: slice(h, 2 * h), layers=None, zero_hh=True):
    def set_forget_bias(lstm):
        h = lstm.hidden_size
        with dendrite.no_grad():
            for k in range(lstm.num_layers if layers is None else layers):
                lstm.get_parameter(f"bias_ih_l{k}")[rows(h)] = value
                if zero_hh:
                    lstm.get_parameter(f"bias_hh_l{k}")[rows(h)] = 0.0
        return lstm
    return set_forget_bias


def test_forget_gate_bias_reference_is_correct():
    assert check.forget_gate_bias(_setter(5.0)).status == "correct"
    # leaving b_hh alone is fine when the value has room for its random part
    assert check.forget_gate_bias(_setter(6.0, zero_hh=False)).status == "correct"


def test_forget_gate_bias_placeholders_are_unanswered():
    assert check.forget_gate_bias(...).status == "unanswered"
    assert check.forget_gate_bias(lambda lstm: ...).status == "unanswered"


@pytest.mark.parametrize("answer, says", [
    (lambda lstm: lstm, "did not change"),
    (_setter(1.0), "of the cell is left"),          # the usual default of 1 is too small here
    (_setter(4.0), "of the cell is left"),
    (_setter(4.5, zero_hh=False), "b_hh counts too"),   # close, but the random b_hh pulls some below
    (_setter(50.0), "saturates"),
    (_setter(5.0, rows=lambda h: slice(0, h)), "gate i (input gate) changed"),
    (_setter(5.0, rows=lambda h: slice(3 * h, 4 * h)), "gate o (output gate) changed"),
    (_setter(5.0, rows=lambda h: slice(None)), "gate i (input gate) changed"),
    (_setter(5.0, layers=1), "layer 1: the forget gate's bias did not change"),
])
def test_forget_gate_bias_wrong_answers_say_what_is_wrong(answer, says):
    verdict = check.forget_gate_bias(answer)
    assert verdict.status == "wrong"
    assert says in verdict.message


def test_forget_gate_bias_must_return_the_lstm_and_leave_weights_alone():
    def no_return(lstm):
        _setter(5.0)(lstm)
        return 5.0
    assert "return that same LSTM" in check.forget_gate_bias(no_return).message

    def touches_weights(lstm):
        _setter(5.0)(lstm)
        with dendrite.no_grad():
            lstm.weight_hh_l0[:] = 0.0
        return lstm
    assert "weight_hh_l0 changed" in check.forget_gate_bias(touches_weights).message


def test_forget_gate_bias_code_that_raises_is_wrong():
    def outside_no_grad(lstm):
        lstm.bias_ih_l0[8:16] = 5.0   # in place on a parameter, outside no_grad: dendrite refuses
        return lstm
    verdict = check.forget_gate_bias(outside_no_grad)
    assert verdict.status == "wrong" and "RuntimeError" in verdict.message and "no_grad" in verdict.message


def test_checkers_leave_the_learners_random_state_alone():
    state = dendrite.get_rng_state()
    check.weight_shapes(_shapes)
    check.forget_gate_bias(_setter(5.0))
    assert dendrite.get_rng_state() == state
