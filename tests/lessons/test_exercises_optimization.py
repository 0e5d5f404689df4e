"""Lesson 9's checkers: the reference answers pass, the placeholder is unanswered, the usual mistakes
are wrong with a message that names them, and learner code that raises is a wrong verdict."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite.lessons.exercises import optimization as check


def momentum(param, grad, buf, lr, mu):
    buf = mu * buf + grad
    return param - lr * buf, buf


def adam(param, grad, m, v, t, lr, beta1, beta2, eps, correct_m=True, correct_v=True, t0=0):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1 ** (t - t0)) if correct_m else m
    v_hat = v / (1 - beta2 ** (t - t0)) if correct_v else v
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def test_reference_answers_are_correct():
    assert check.momentum_step(momentum).status == "correct"
    assert check.largest_stable_lr(lambda c: 2 / max(c)).status == "correct"
    assert check.adam_step(adam).status == "correct"


def test_answers_as_dendrite_tensors_are_accepted():
    def step(param, grad, buf, lr, mu):
        buf = dendrite.tensor(mu * buf + grad)
        return dendrite.tensor(param) - lr * buf, buf

    assert check.momentum_step(step).status == "correct"
    assert check.largest_stable_lr(lambda c: dendrite.tensor(2 / max(c))).status == "correct"


@pytest.mark.parametrize("checker", [check.momentum_step, check.largest_stable_lr, check.adam_step])
def test_placeholders_are_unanswered(checker):
    assert checker(...).status == "unanswered"
    assert checker(lambda *args: ...).status == "unanswered"


@pytest.mark.parametrize("checker", [check.momentum_step, check.largest_stable_lr, check.adam_step])
def test_learner_code_that_raises_is_wrong(checker):
    def broken(*args):
        return args[99]

    verdict = checker(broken)
    assert verdict.status == "wrong" and "IndexError" in verdict.message


@pytest.mark.parametrize("answer, words", [
    (lambda p, g, b, lr, mu: (p - lr * g, b), "plain SGD"),
    (lambda p, g, b, lr, mu: (p - lr * (mu * b + (1 - mu) * g), mu * b + (1 - mu) * g), "an average"),
    (lambda p, g, b, lr, mu: (p + (mu * b - lr * g), mu * b - lr * g), "velocity form"),
    (lambda p, g, b, lr, mu: (p - lr * b, mu * b + g), "old buffer"),
    (lambda p, g, b, lr, mu: (p + lr * (mu * b + g), mu * b + g), "up the slope"),
    (lambda p, g, b, lr, mu: (p - 2 * lr * (mu * b + g), mu * b + g), "buffer is right"),
    (lambda p, g, b, lr, mu: (p - lr * (b + g), b + g), "times momentum"),
    (lambda p, g, b, lr, mu: p - lr * g, "tuple of 2"),
    (lambda p, g, b, lr, mu: (p[:2], b), "shape (3,)"),
])
def test_momentum_step_mistakes(answer, words):
    verdict = check.momentum_step(answer)
    assert verdict.status == "wrong" and words in verdict.message, verdict.message


@pytest.mark.parametrize("answer, words", [
    (lambda c: 1 / max(c), "one step"),
    (lambda c: 2 / min(c), "steepest one blows up"),
    (lambda c: 2 / sum(c), "each direction has its own limit"),
    (lambda c: 2 / np.mean(c), "each direction has its own limit"),
    (lambda c: 2 * max(c), "smaller step"),
    (lambda c: 0.08, "(1 - lr * c_i)"),
    (lambda c: None, "unanswered"),
    (lambda c: "0.08", "expected one number"),
])
def test_largest_stable_lr_mistakes(answer, words):
    verdict = check.largest_stable_lr(answer)
    if words == "unanswered":
        assert verdict.status == "unanswered"
        return
    assert verdict.status == "wrong" and words in verdict.message, verdict.message


@pytest.mark.parametrize("options, words", [
    ({"correct_m": False, "correct_v": False}, "no bias correction"),
    ({"correct_v": False}, "only m is corrected"),
    ({"correct_m": False}, "only v is corrected"),
    ({"t0": 1}, "not finite"),
    ({"t0": -1}, "expected another"),
])
def test_adam_step_mistakes(options, words):
    verdict = check.adam_step(lambda *args: adam(*args, **options))
    assert verdict.status == "wrong" and words in verdict.message, verdict.message


def test_a_template_still_returning_ellipsis_is_unanswered():
    assert check.adam_step(lambda p, g, m, v, *rest: (..., m, v)).status == "unanswered"
    assert check.momentum_step(lambda p, g, b, lr, mu: (..., ...)).status == "unanswered"


def test_adam_step_shape_mistakes():
    verdict = check.adam_step(lambda p, g, m, v, t, lr, b1, b2, eps: adam(p, g, m, v, t, lr, b1, b2, eps)[0])
    assert verdict.status == "wrong" and "tuple of 3" in verdict.message


def test_no_hint_gives_the_formula_away():
    for options in ({"correct_m": False, "correct_v": False}, {"correct_v": False}, {"correct_m": False}):
        message = check.adam_step(lambda *args, o=options: adam(*args, **o)).message
        assert "1 - beta1^t" not in message and "1 - beta2^t" not in message
    message = check.largest_stable_lr(lambda c: 1 / max(c)).message
    assert "2 /" not in message
