"""Lesson 1's checkers: the reference answers pass, placeholders wait, typical slips are named."""

from __future__ import annotations

import numpy as np
import pytest

from dendrite.lessons.exercises import first_look as check


def _majority(y_train, y_test):
    classes, counts = np.unique(y_train, return_counts=True)
    return float(np.mean(y_test == classes[np.argmax(counts)]))


# ---------------------------------------------------------------- exercise 1: majority baseline
def test_majority_reference_is_correct():
    assert check.majority_baseline(_majority).status == "correct"


def test_majority_bincount_answer_returning_numpy_float_is_correct():
    assert check.majority_baseline(lambda a, b: np.mean(b == np.bincount(a).argmax())).status == "correct"


@pytest.mark.parametrize("placeholder", [..., None, lambda y_train, y_test: ...])
def test_majority_placeholder_is_unanswered(placeholder):
    assert check.majority_baseline(placeholder).status == "unanswered"


@pytest.mark.parametrize(("answer", "said"), [
    (lambda a, b: np.mean(b == np.bincount(b).argmax()), "from the test labels"),
    (lambda a, b: 100 * _majority(a, b), "percentage"),
    (lambda a, b: np.sum(b == np.bincount(a).argmax()), "count"),
    (lambda a, b: b == np.bincount(a).argmax(), "one number"),
    (lambda a, b: np.mean(a == np.bincount(a).argmax()), "most often in y_train"),
    (lambda a, b: 0.5, "most often in y_train"),
])
def test_majority_typical_slips_are_wrong_and_named(answer, said):
    verdict = check.majority_baseline(answer)
    assert verdict.status == "wrong"
    assert said in verdict.message


def test_majority_binary_only_answer_is_named():
    # uses the mean of y_test as if labels were 0/1: right on none of the multi-class cases
    verdict = check.majority_baseline(lambda a, b: np.mean(b == round(np.mean(a))))
    assert verdict.status == "wrong" and "ten classes" in verdict.message


def test_majority_raising_code_is_wrong_not_a_crash():
    verdict = check.majority_baseline(lambda a, b: a.nonexistent())
    assert verdict.status == "wrong" and "AttributeError" in verdict.message


def test_majority_non_function_is_wrong():
    verdict = check.majority_baseline(0.6)
    assert verdict.status == "wrong" and "function" in verdict.message


# ---------------------------------------------------------------- exercise 2: circle features
@pytest.mark.parametrize("answer", [
    lambda x: np.column_stack([x, x[:, 0] ** 2 + x[:, 1] ** 2]),
    lambda x: x[:, 0] ** 2 + x[:, 1] ** 2,  # one column, as a 1-D array
    lambda x: x ** 2,
    lambda x: np.column_stack([x, np.hypot(x[:, 0], x[:, 1])]),
])
def test_circle_radius_like_features_are_correct(answer):
    verdict = check.circle_features(answer)
    assert verdict.status == "correct", verdict.message


@pytest.mark.parametrize("placeholder", [..., None, lambda x: ...])
def test_circle_placeholder_is_unanswered(placeholder):
    assert check.circle_features(placeholder).status == "unanswered"


@pytest.mark.parametrize("answer", [
    lambda x: x,  # unchanged: a line cannot do it
    lambda x: x[:, 0] ** 2,  # one coordinate only
    lambda x: np.column_stack([x, x[:, 0] * x[:, 1]]),  # the xor feature, not the circle's
    lambda x: np.column_stack([x, x[:, 0] + x[:, 1]]),  # still linear
])
def test_circle_features_that_stay_linear_are_wrong_with_the_score(answer):
    verdict = check.circle_features(answer)
    assert verdict.status == "wrong"
    assert "needs 95%" in verdict.message and "centre" in verdict.message


def test_circle_transposed_table_is_named():
    verdict = check.circle_features(lambda x: np.vstack([x[:, 0], x[:, 1], (x ** 2).sum(1)]))
    assert verdict.status == "wrong" and "one row per point" in verdict.message


def test_circle_too_many_columns_is_named():
    verdict = check.circle_features(lambda x: np.tile(x, 15))
    assert verdict.status == "wrong" and "30 columns" in verdict.message


def test_circle_nan_features_are_named():
    verdict = check.circle_features(lambda x: np.column_stack([x, np.full(len(x), np.nan)]))
    assert verdict.status == "wrong" and "NaN or infinite" in verdict.message


def test_circle_ragged_result_is_named():
    verdict = check.circle_features(lambda x: [x[:, 0], x[:3, 1]])
    assert verdict.status == "wrong" and "not a table of numbers" in verdict.message


def test_circle_raising_code_is_wrong_not_a_crash():
    verdict = check.circle_features(lambda x: x[:, 5])
    assert verdict.status == "wrong" and "IndexError" in verdict.message


# ---------------------------------------------------------------- exercise 3: which model to ship
RIGHT = {"loans": "linear", "sensor": "mlp", "clinic": "linear", "shop": "stumps"}


def test_ship_reference_is_correct_and_aliases_are_accepted():
    assert check.which_to_ship(RIGHT).status == "correct"
    aliases = {"loans": "Logistic regression", "sensor": "neural network", "clinic": " LINEAR ",
               "shop": "boosting"}
    assert check.which_to_ship(aliases).status == "correct"


def test_ship_placeholders_are_unanswered():
    assert check.which_to_ship(...).status == "unanswered"
    assert check.which_to_ship({name: ... for name in RIGHT}).status == "unanswered"
    partly = check.which_to_ship({**RIGHT, "shop": ...})
    assert partly.status == "unanswered" and "shop" in partly.message


@pytest.mark.parametrize(("scenario", "choice", "said"), [
    ("loans", "mlp", "tie"),
    ("clinic", "mlp", "one patient"),
    ("shop", "mlp", "gaps are real"),
    ("sensor", "stumps", "ten times"),
    ("sensor", "linear", "ten times"),
])
def test_ship_each_wrong_choice_points_at_its_scenario(scenario, choice, said):
    verdict = check.which_to_ship({**RIGHT, scenario: choice})
    assert verdict.status == "wrong"
    assert f"'{scenario}'" in verdict.message and said in verdict.message
    assert "3 of 4" in verdict.message


def test_ship_always_the_network_is_wrong():
    verdict = check.which_to_ship(dict.fromkeys(RIGHT, "mlp"))
    assert verdict.status == "wrong" and "1 of 4" in verdict.message


@pytest.mark.parametrize(("answer", "said"), [
    ("mlp", "expected a dict"),
    ({"loans": "linear"}, "no answer for sensor"),
    ({**RIGHT, "bank": "linear"}, "unknown scenario"),
    ({**RIGHT, "loans": "random forest"}, "write one of"),
    ({**RIGHT, "loans": 1}, "write one of"),
])
def test_ship_malformed_answers_are_named(answer, said):
    verdict = check.which_to_ship(answer)
    assert verdict.status == "wrong" and said in verdict.message
