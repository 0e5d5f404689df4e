"""Lesson 8's checkers: the reference answers pass, the placeholder is unanswered, the usual mistakes
are wrong with a message that names them, and learner code that raises is a wrong verdict."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dendrite.lessons.exercises import initialization as check


def test_reference_answers_are_correct():
    assert check.kaiming_std(lambda fan_in: math.sqrt(2 / fan_in)).status == "correct"
    assert check.kaiming_std(lambda fan_in: np.sqrt(2.0) / np.sqrt(fan_in)).status == "correct"
    assert check.deep_relu_scheme("kaiming").status == "correct"
    assert check.deep_relu_scheme(" Kaiming ").status == "correct"
    assert check.constant_init_units(1).status == "correct"
    assert check.constant_init_units(np.int64(1)).status == "correct"


def test_placeholders_are_unanswered():
    for checker in (check.kaiming_std, check.deep_relu_scheme, check.constant_init_units):
        assert checker(...).status == "unanswered"
    assert check.kaiming_std(lambda fan_in: ...).status == "unanswered"


def test_learner_code_that_raises_is_wrong():
    verdict = check.kaiming_std(lambda fan_in: math.sqrt(-fan_in))
    assert verdict.status == "wrong" and "ValueError" in verdict.message


@pytest.mark.parametrize("answer, words", [
    (lambda n: 2 / n, "variance"),
    (lambda n: math.sqrt(1 / n), "ReLU sets half"),
    (lambda n: 1 / n, "1/sqrt(fan_in)"),
    (lambda n: math.sqrt(2) / n, "1/sqrt(fan_in)"),
    (lambda n: -math.sqrt(2 / n), "never negative"),
    (lambda n: math.sqrt(2 / (n + n)), "ReLU sets half"),  # Xavier, gain 1
    (lambda n: 1.5 / math.sqrt(n), "fan_in * Var[W] * 1/2 = 1"),
    (lambda n: [math.sqrt(2 / n)], "one finite number"),
    (lambda n: float("nan"), "one finite number"),
])
def test_kaiming_std_mistakes(answer, words):
    verdict = check.kaiming_std(answer)
    assert verdict.status == "wrong" and words in verdict.message, verdict.message


@pytest.mark.parametrize("answer, words", [
    ("xavier", "1/sqrt(2) per layer"),
    ("Glorot", "1/sqrt(2) per layer"),
    ("small normal", "0.11 at every layer"),
    ("large normal", "overflows"),
    ("zeros", "never learns"),
    ("orthogonal", "not one of the choices"),
    (3, "one of the names"),
])
def test_deep_relu_scheme_mistakes(answer, words):
    verdict = check.deep_relu_scheme(answer)
    assert verdict.status == "wrong" and words in verdict.message, verdict.message


@pytest.mark.parametrize("answer, words", [
    (16, "not 16"),
    (0, "not dead"),
    (8, "not 8"),
    (17, "between 1 and 16"),
    (1.5, "whole number"),
    ("one", "whole number"),
])
def test_constant_init_units_mistakes(answer, words):
    verdict = check.constant_init_units(answer)
    assert verdict.status == "wrong" and words in verdict.message, verdict.message
    assert "1 " not in verdict.message.split("(")[0] or answer == 17
