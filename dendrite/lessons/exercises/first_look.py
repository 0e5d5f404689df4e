"""Checkers for lesson 1, "What deep learning is, and when not to use it".

Three exercises:

- :func:`majority_baseline`: a function giving the held-out accuracy of always predicting the most
  common *training* class (the first number any model has to beat);
- :func:`circle_features`: a function adding columns to 2-D points so that a straight-line model
  separates the ``circle`` set (feature engineering instead of a deeper model);
- :func:`which_to_ship`: for four reported comparisons, the model to put into use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from dendrite.data import load_playground
from dendrite.lessons.verdict import Verdict, correct, exercise, unanswered, wrong

__all__ = ["SCENARIOS", "majority_baseline", "circle_features", "which_to_ship"]


def _reference_majority(y_train: np.ndarray, y_test: np.ndarray) -> float:
    classes, counts = np.unique(y_train, return_counts=True)
    return float(np.mean(y_test == classes[np.argmax(counts)]))


def _as_number(value: object) -> float | None:
    array = np.asarray(value)
    if array.size != 1 or not np.issubdtype(array.dtype, np.number):
        return None
    return float(array.reshape(()))


# (name, y_train, y_test): each case catches a different slip
_MAJORITY_CASES: tuple[tuple[str, np.ndarray, np.ndarray], ...] = (
    ("two classes", np.array([1, 1, 1, 0, 1, 0, 1, 1]), np.array([1, 0, 1, 1, 0])),
    # the training majority (0) is not the test majority (1)
    ("train and test disagree", np.array([0, 0, 0, 1, 1, 0, 0]), np.array([1, 1, 1, 0, 1, 0])),
    ("ten classes", np.array([3, 3, 7, 1, 3, 9, 0, 3, 7, 2, 5]), np.array([3, 7, 3, 1, 8, 3, 4, 0])),
    ("labels 2 and 5", np.array([5, 2, 5, 5, 2, 5]), np.array([2, 5, 5, 2, 2, 5, 5])),
)


@exercise("Lesson 1, exercise 1: the majority-class baseline")
def majority_baseline(answer: Callable[[np.ndarray, np.ndarray], float]) -> Verdict:
    """Check ``answer(y_train, y_test)``: the test accuracy of always answering the commonest training class.

    Example:
        >>> majority_baseline(lambda y_train, y_test: 0.5).status
        'wrong'
        >>> majority_baseline(lambda y_train, y_test: ...).status  # the body not written yet
        'unanswered'
    """
    if not callable(answer):
        return wrong(f"expected a function majority_accuracy(y_train, y_test); got a {type(answer).__name__}")
    for name, y_train, y_test in _MAJORITY_CASES:
        got = _as_number(answer(y_train.copy(), y_test.copy()))
        expected = _reference_majority(y_train, y_test)
        if got is None:
            return wrong("your function should return one number, the accuracy (a fraction between 0 and 1); "
                         f"on the case '{name}' it returned {answer(y_train, y_test)!r}")
        if np.isclose(got, expected):
            continue
        if np.isclose(got, 100 * expected) and expected > 0:
            return wrong(f"on the case '{name}' you returned {got:g}, a percentage; return a fraction "
                         "between 0 and 1, as the other accuracies in the lesson are")
        if np.isclose(got, expected * len(y_test)):
            return wrong(f"on the case '{name}' you returned {got:g}, a count of right answers; divide by "
                         "the number of test labels to get an accuracy")
        if np.isclose(got, _reference_majority(y_test, y_test)):
            return wrong(f"on the case '{name}' you picked the class from the test labels. The baseline must "
                         "choose its one class from the training labels only: the test labels are the exam, "
                         "and no model may look at them before answering")
        if np.isclose(got, np.mean(y_test)) or np.isclose(got, max(np.mean(y_test), 1 - np.mean(y_test))):
            return wrong(f"on the case '{name}' your function treats the labels as 0/1 (it uses the mean of "
                         "y_test); count each class instead, so that it works for any labels and any number "
                         "of classes")
        return wrong(f"on the case '{name}' (y_train={y_train.tolist()}, y_test={y_test.tolist()}) you "
                     f"returned {got:.4g}. Find the class that occurs most often in y_train, then the "
                     "fraction of y_test equal to it")
    return correct("right: this is the number every model must beat. A classifier scoring 0.55 on a set "
                   "whose majority class is 60% has learned less than nothing")


def _circle_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    data = load_playground("circle", n=600, noise=0.05, seed=1, test_fraction=0.5)
    return data.x_train, data.y_train, data.x_test, data.y_test


def _least_squares_accuracy(train: np.ndarray, y_train: np.ndarray, test: np.ndarray,
                            y_test: np.ndarray) -> float:
    """Fit a straight-line model by least squares on targets -1/+1; test accuracy of its sign."""

    def design(features: np.ndarray) -> np.ndarray:
        return np.hstack([features, np.ones((len(features), 1))])

    weights, *_ = np.linalg.lstsq(design(train), np.where(y_train == 1, 1.0, -1.0), rcond=None)
    return float(np.mean((design(test) @ weights > 0) == (y_test == 1)))


def _feature_matrix(answer: Callable, points: np.ndarray) -> tuple[np.ndarray | None, str]:
    """The learner's columns for ``points`` as a float (N, k) array, or None and what is wrong."""
    try:
        features = np.asarray(answer(points.copy()), dtype=np.float64)
    except (TypeError, ValueError) as error:  # e.g. a list of arrays of different lengths
        return None, f"your function's result is not a table of numbers ({error})"
    n = len(points)
    if features.ndim == 1 and features.shape == (n,):
        features = features[:, None]
    if features.ndim != 2 or features.shape[0] != n:
        return None, (f"for {n} points your function returned shape {features.shape}; expected ({n}, k): one "
                      "row per point, one column per feature (np.column_stack builds that)")
    if features.shape[1] > 20:
        return None, (f"your function returned {features.shape[1]} columns; a handful is enough here, and "
                      "with hundreds a linear model can memorise points instead of finding the circle")
    if not np.all(np.isfinite(features)):
        return None, "some of your features are NaN or infinite; check for divisions by zero or logs of zeros"
    return features, ""


@exercise("Lesson 1, exercise 2: a feature that makes the circle linear")
def circle_features(answer: Callable[[np.ndarray], np.ndarray]) -> Verdict:
    """Check ``answer(x)``: from points ``x`` of shape (N, 2), a feature table (N, k) on which a
    straight-line model separates the ``circle`` set (held-out accuracy >= 0.95).

    The checker fits the linear model itself, by least squares in closed form, on 300 training
    points and scores it on 300 others.

    Example:
        >>> verdict = circle_features(lambda x: x)  # the raw coordinates: no line separates them
        >>> verdict.status, "needs 95%" in verdict.message
        ('wrong', True)
    """
    if not callable(answer):
        return wrong(f"expected a function add_features(x); got a {type(answer).__name__}")
    x_train, y_train, x_test, y_test = _circle_data()
    train, problem = _feature_matrix(answer, x_train)
    if train is None:
        return wrong(problem)
    test, problem = _feature_matrix(answer, x_test)
    if test is None:
        return wrong(problem)
    if test.shape[1] != train.shape[1]:
        return wrong(f"your function gave {train.shape[1]} columns for one set of points and {test.shape[1]} "
                     "for another; a feature table must have the same columns whatever the points")
    score = _least_squares_accuracy(train, y_train, test, y_test)
    if score >= 0.95:
        return correct(f"right: on your {train.shape[1]} column(s) a straight-line model scores {score:.1%} "
                       "on held-out points. One well-chosen column did what a hidden layer does: it bent the "
                       "space so that a line suffices. Knowing the shape of the problem beats a bigger model")
    return wrong(f"a straight-line model on your {train.shape[1]} column(s) scores {score:.1%} on held-out "
                 "points (it needs 95%). Inside and outside of a circle differ in one thing only: how far a "
                 "point is from the centre, in any direction. Which formula in x[:, 0] and x[:, 1] "
                 "measures that?")


SCENARIOS: dict[str, dict[str, object]] = {
    "loans": {"rows": 2000, "validation": 500, "linear": 0.861, "stumps": 0.852, "mlp": 0.866,
              "note": "12 numeric columns; the bank must explain each refusal"},
    "sensor": {"rows": 5000, "validation": 1000, "linear": 0.62, "stumps": 0.81, "mlp": 0.97,
               "note": "readings of 2 sensors; the classes wind around each other"},
    "clinic": {"rows": 150, "validation": 40, "linear": 0.800, "stumps": 0.775, "mlp": 0.825,
               "note": "8 columns; the MLP scores 1.00 on its training rows"},
    "shop": {"rows": 20000, "validation": 4000, "linear": 0.842, "stumps": 0.913, "mlp": 0.884,
             "note": "30 columns of counts and categories; predictions are not shown to anyone"},
}
_EXPECTED = {"loans": "linear", "sensor": "mlp", "clinic": "linear", "shop": "stumps"}
_ALIASES = {
    "linear": "linear", "logistic": "linear", "logistic regression": "linear", "linear model": "linear",
    "stumps": "stumps", "boosted stumps": "stumps", "boosting": "stumps", "stump": "stumps",
    "mlp": "mlp", "network": "mlp", "neural network": "mlp", "deep": "mlp",
}
_HINTS = {
    "loans": ("the three models are within 1.5 points of each other on 500 validation rows, and one standard "
              "error there is about 1.5 points: that is a tie. When accuracy cannot tell them apart, what "
              "else in the note matters?"),
    "sensor": ("on 1,000 validation rows one standard error is at most 1.6 points, and the gaps here are "
               "more than ten times that; the note says why the simpler models fail"),
    "clinic": ("40 validation patients: one patient more or less moves the accuracy by 2.5 points, so the "
               "gap is one patient. A perfect training score on 150 rows is a warning, not a strength"),
    "shop": ("on 4,000 validation rows one standard error is about half a point, so these gaps are real; "
             "tables of counts and categories are where trees are at their best"),
}


@exercise("Lesson 1, exercise 3: which model to ship")
def which_to_ship(answer: Mapping[str, str]) -> Verdict:
    """Check ``answer``: for each scenario in :data:`SCENARIOS`, ``'linear'``, ``'stumps'`` or ``'mlp'``.

    Example:
        >>> which_to_ship({"loans": "mlp", "sensor": "mlp", "clinic": "mlp", "shop": "mlp"}).status
        'wrong'
        >>> which_to_ship({"loans": ..., "sensor": ..., "clinic": ..., "shop": ...}).status
        'unanswered'
    """
    if not isinstance(answer, Mapping):
        return wrong(f"expected a dict like {{'loans': 'linear', ...}}; got a {type(answer).__name__}")
    missing = [name for name in SCENARIOS if name not in answer]
    if missing:
        return wrong(f"your dict has no answer for {', '.join(missing)}; expected one for each of "
                     f"{', '.join(SCENARIOS)}")
    unknown = [name for name in answer if name not in SCENARIOS]
    if unknown:
        return wrong(f"unknown scenario(s) {', '.join(map(repr, unknown))}; the scenarios are "
                     f"{', '.join(SCENARIOS)}")
    pending = [name for name, value in answer.items() if value is Ellipsis or value is None]
    if pending:
        return unanswered(f"replace the ... for {', '.join(pending)} with 'linear', 'stumps' or 'mlp'")
    choices = {}
    for name, value in answer.items():
        key = str(value).strip().lower() if isinstance(value, str) else None
        if key not in _ALIASES:
            return wrong(f"for '{name}' you wrote {value!r}; write one of 'linear', 'stumps' or 'mlp'")
        choices[name] = _ALIASES[key]
    wrong_ones = [name for name in SCENARIOS if choices[name] != _EXPECTED[name]]
    if wrong_ones:
        first = wrong_ones[0]
        right = len(SCENARIOS) - len(wrong_ones)
        return wrong(f"{right} of {len(SCENARIOS)} right; look again at '{first}' (you chose "
                     f"'{choices[first]}'): {_HINTS[first]}")
    return correct("right: ship the simplest model the held-out numbers cannot tell apart from the best one, "
                   "and a more complex one only when it wins by more than the noise of the validation set")
