"""Lesson 2's checkers: the reference answers pass, placeholders wait, typical slips are named."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dendrite import nn
from dendrite.lessons.exercises import feedforward as check
from dendrite.nn import functional as F


def _pairs(sizes):
    return list(zip(sizes[:-1], sizes[1:]))


# ---------------------------------------------------------------- exercise 1: parameter count
def test_count_reference_is_correct():
    verdict = check.parameter_count(lambda sizes: sum(a * b + b for a, b in _pairs(sizes)))
    assert verdict.status == "correct"


@pytest.mark.parametrize("placeholder", [..., None, lambda sizes: ...])
def test_count_placeholder_is_unanswered(placeholder):
    assert check.parameter_count(placeholder).status == "unanswered"


@pytest.mark.parametrize(("answer", "said"), [
    (lambda s: sum(a * b for a, b in _pairs(s)), "not the biases"),
    (lambda s: sum(a * b for a, b in _pairs(s)) + sum(s), "input layer has no bias"),
    (lambda s: sum(a * b + a for a, b in _pairs(s)), "per *output* neuron"),
    (lambda s: sum(a * b + 1 for a, b in _pairs(s)), "not one bias for the whole layer"),
    (lambda s: math.prod(s), "instead of multiplying"),
    (lambda s: sum(s), "added up the neurons"),
    (lambda s: sum(a * b + b for a, b in _pairs(s)) + 1, "nn.Linear(a, b) holds a weight of shape (b, a)"),
    (lambda s: [a * b + b for a, b in _pairs(s)], "one whole number"),
])
def test_count_typical_slips_are_wrong_and_named(answer, said):
    verdict = check.parameter_count(answer)
    assert verdict.status == "wrong"
    assert said in verdict.message


def test_count_answer_right_for_one_hidden_layer_only_is_caught():
    # hard-coded for [inputs, hidden, outputs]: fails the deeper and the shallower networks
    verdict = check.parameter_count(lambda s: s[0] * s[1] + s[1] + s[1] * s[2] + s[2])
    assert verdict.status == "wrong"


def test_count_raising_code_is_wrong_not_a_crash():
    verdict = check.parameter_count(lambda s: s[0] * s[1] * s[5])
    assert verdict.status == "wrong" and "IndexError" in verdict.message


# ---------------------------------------------------------------- exercise 2: forward pass
def _forward(x, w1, b1, w2, b2):
    return np.maximum(x @ w1.T + b1, 0) @ w2.T + b2


def test_forward_reference_is_correct():
    assert check.two_layer_forward(_forward).status == "correct"


def test_forward_written_with_dendrite_is_correct():
    def with_dendrite(x, w1, b1, w2, b2):
        import dendrite

        hidden = F.relu(F.linear(dendrite.tensor(x), dendrite.tensor(w1), dendrite.tensor(b1)))
        return F.linear(hidden, dendrite.tensor(w2), dendrite.tensor(b2)).numpy()

    assert check.two_layer_forward(with_dendrite).status == "correct"


@pytest.mark.parametrize("placeholder", [..., None, lambda x, w1, b1, w2, b2: ...])
def test_forward_placeholder_is_unanswered(placeholder):
    assert check.two_layer_forward(placeholder).status == "unanswered"


@pytest.mark.parametrize(("answer", "said"), [
    (lambda x, w1, b1, w2, b2: (x @ w1.T + b1) @ w2.T + b2, "no ReLU"),
    (lambda x, w1, b1, w2, b2: np.maximum(_forward(x, w1, b1, w2, b2), 0), "ReLU to the output"),
    (lambda x, w1, b1, w2, b2: np.maximum(x @ w1.T, 0) @ w2.T, "biases are missing"),
    (lambda x, w1, b1, w2, b2: np.maximum(x @ w1.T + b1, 0) @ w2.T, "b2 is missing"),
    (lambda x, w1, b1, w2, b2: np.maximum(x @ w1.T, 0) @ w2.T + b2, "b1 is missing"),
    (lambda x, w1, b1, w2, b2: np.tanh(x @ w1.T + b1) @ w2.T + b2, "tanh"),
    (lambda x, w1, b1, w2, b2: 1 / (1 + np.exp(-(x @ w1.T + b1))) @ w2.T + b2, "sigmoid"),
    (lambda x, w1, b1, w2, b2: _softmax(_forward(x, w1, b1, w2, b2)), "softmax"),
    (lambda x, w1, b1, w2, b2: _forward(x, w1, b1, w2, b2).T, "transposed"),
    (lambda x, w1, b1, w2, b2: _forward(x, w1, b1, w2, b2)[0], "one row of outputs per sample"),
    (lambda x, w1, b1, w2, b2: np.maximum(x @ w1.T + b1, 0) @ w2.T - b2, "numbers are not"),
])
def test_forward_typical_slips_are_wrong_and_named(answer, said):
    verdict = check.two_layer_forward(answer)
    assert verdict.status == "wrong"
    assert said in verdict.message


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_forward_weights_used_untransposed_get_the_layout_hint():
    verdict = check.two_layer_forward(lambda x, w1, b1, w2, b2: np.maximum(x @ w1 + b1, 0) @ w2 + b2)
    assert verdict.status == "wrong"
    assert "ValueError" in verdict.message and "(out, in)" in verdict.message


def test_forward_raising_code_is_wrong_not_a_crash():
    verdict = check.two_layer_forward(lambda x, w1, b1, w2, b2: x.relu())
    assert verdict.status == "wrong" and "AttributeError" in verdict.message


# ---------------------------------------------------------------- exercise 3: output layer and loss
RIGHT = {"digits": (10, nn.CrossEntropyLoss), "price": (1, nn.MSELoss), "spam": (1, nn.BCEWithLogitsLoss),
         "tags": (5, nn.BCEWithLogitsLoss)}


def test_heads_reference_is_correct():
    assert check.output_and_loss(RIGHT).status == "correct"


@pytest.mark.parametrize("variant", [
    {"digits": (10, nn.CrossEntropyLoss()), "price": (1, nn.L1Loss()), "spam": (2, nn.CrossEntropyLoss),
     "tags": (5, nn.BCEWithLogitsLoss())},
    {"digits": (10, F.cross_entropy), "price": (1, nn.HuberLoss),
     "spam": (1, F.binary_cross_entropy_with_logits), "tags": [5, nn.BCEWithLogitsLoss]},
])
def test_heads_other_right_answers_are_correct(variant):
    assert check.output_and_loss(variant).status == "correct"


def test_heads_placeholders_are_unanswered():
    assert check.output_and_loss(...).status == "unanswered"
    assert check.output_and_loss(dict.fromkeys(RIGHT, ...)).status == "unanswered"
    partly = check.output_and_loss({**RIGHT, "tags": (..., ...)})
    assert partly.status == "unanswered" and "tags" in partly.message


@pytest.mark.parametrize(("task", "entry", "said"), [
    ("digits", (10, nn.MSELoss), "classification"),
    ("digits", (10, nn.BCEWithLogitsLoss), "exactly one of ten"),
    ("digits", (10, nn.NLLLoss), "expects probabilities"),
    ("digits", (1, nn.CrossEntropyLoss), "one score per class"),
    ("price", (1, nn.CrossEntropyLoss), "number to predict"),
    ("price", (10, nn.MSELoss), "how many numbers"),
    ("spam", (1, nn.BCELoss), "expects probabilities"),
    ("spam", (2, nn.BCEWithLogitsLoss), "yes/no question"),
    ("spam", (1, nn.CrossEntropyLoss), "yes/no question"),
    ("tags", (5, nn.CrossEntropyLoss), "several tags at once"),
    ("tags", (1, nn.BCEWithLogitsLoss), "each tag"),
    ("tags", (5, nn.MSELoss), "classification"),
])
def test_heads_each_typical_slip_is_named(task, entry, said):
    verdict = check.output_and_loss({**RIGHT, task: entry})
    assert verdict.status == "wrong"
    assert f"'{task}'" in verdict.message and said in verdict.message


@pytest.mark.parametrize(("answer", "said"), [
    ([10, 1, 1, 5], "expected a dict"),
    ({"digits": (10, nn.CrossEntropyLoss)}, "no answer for price"),
    ({**RIGHT, "price": nn.MSELoss}, "expected a pair"),
    ({**RIGHT, "price": ("1", nn.MSELoss)}, "the number of outputs"),
    ({**RIGHT, "price": (True, nn.MSELoss)}, "the number of outputs"),
])
def test_heads_malformed_answers_are_named(answer, said):
    verdict = check.output_and_loss(answer)
    assert verdict.status == "wrong" and said in verdict.message
