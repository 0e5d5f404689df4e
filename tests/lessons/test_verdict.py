"""The checkers' plumbing: placeholders are unanswered, the learner's exceptions are wrong verdicts, the
checker's own bugs still raise, and a verdict shows as text, HTML and the JSON the lesson tests read."""

from __future__ import annotations

import pytest

from dendrite.lessons.verdict import MIME_TYPE, RECORD, Verdict, correct, exercise, summary, wrong


@exercise("Ex: a counter class")
def counter_class(answer) -> Verdict:
    counter = answer()
    counter.add(2)
    counter.add(3)
    return correct("5") if counter.total == 5 else wrong(f"total is {counter.total}; expected 2 + 3")


@exercise("Ex: buggy checker")
def buggy_checker(answer) -> Verdict:
    return {}["missing"]  # a bug of ours, not the learner's


@exercise("Ex: in place", none_is_answer=True)
def fills_in_place(answer) -> Verdict:
    values = [0, 0]
    answer(values)
    return correct("filled") if values == [1, 1] else wrong(f"values are {values}; expected every item 1")


class GoodCounter:
    def __init__(self):
        self.total = 0

    def add(self, value):
        self.total += value


class BrokenCounter(GoodCounter):
    def add(self, value):
        self.total += valu  # noqa: F821 - the learner's typo


def test_placeholders_are_unanswered():
    assert counter_class(...).status == "unanswered"
    assert counter_class(None).status == "unanswered"
    assert counter_class().status == "unanswered"


def test_a_class_answer_is_checked_and_its_exceptions_are_the_learners():
    assert counter_class(GoodCounter).status == "correct"
    verdict = counter_class(BrokenCounter)
    assert verdict.status == "wrong"
    assert "NameError" in verdict.message and "valu" in verdict.message and "in add, line" in verdict.message


def test_a_checker_bug_raises_instead_of_blaming_the_learner():
    with pytest.raises(KeyError):
        buggy_checker(lambda: 1)


def test_none_can_be_an_answer_where_the_exercise_says_so():
    def fill(values):
        values[:] = [1, 1]

    assert fills_in_place(fill).status == "correct"
    assert fills_in_place(lambda values: ...).status == "unanswered"
    assert fills_in_place(lambda values: None).status == "wrong"


def test_a_function_still_returning_the_placeholder_is_unanswered():
    def answer(x):
        ...

    verdict = exercise("Ex: f")(lambda f: correct("ok") if f(1) == 2 else wrong("no"))(answer)
    assert verdict.status == "unanswered" and "still returns" in verdict.message


def test_a_checker_must_return_a_verdict():
    with pytest.raises(TypeError, match="returned bool; expected a Verdict"):
        exercise("Ex: sloppy")(lambda answer: True)(1)


def test_display_and_record():
    before = summary()
    verdict = counter_class(GoodCounter)
    bundle = verdict._repr_mimebundle_()
    assert bundle[MIME_TYPE] == {"status": "correct", "exercise": "Ex: a counter class", "message": "5"}
    assert bundle["text/plain"].startswith("✓ Correct — Ex: a counter class")
    assert "<div" in bundle["text/html"]
    assert RECORD[-1] is verdict and summary()["correct"] == before["correct"] + 1
    with pytest.raises(ValueError, match="expected one of correct, wrong, unanswered"):
        Verdict("maybe", "")
