"""Checkers for lesson 10, "Common issues: why is my network not training?".

Three exercises, each about reading a broken setup the way the training doctor does:

1. :func:`name_the_bug` — a training script whose loss stays flat: name its bug with the doctor's
   finding code, or hand in the fixed script (it must then train).
2. :func:`doctor_clean` — a model with two planted bugs: build one the doctor (``examine``) has nothing
   to say about, keeping a hidden layer.
3. :func:`first_nan_op` — a forward pass that turns NaN on one odd image: name the operation that
   *made* the first NaN (what ``dendrite.doctor.trace_nan`` reports), not one that merely passed it on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import dendrite
from dendrite import nn, optim
from dendrite.data import load_dataset
from dendrite.doctor import ROOT_CAUSE_ORDER, Finding, examine
from dendrite.lessons.verdict import Verdict, correct, exercise, wrong

__all__ = ["name_the_bug", "doctor_clean", "first_nan_op", "ACCURACY_TO_PASS"]

# The bug planted in the lesson's mystery script (exercise 1): the optimizer holds the weights of a model
# that is thrown away, so the model that is trained never changes.
_MYSTERY_BUG = "params-not-in-optimizer"
# A fixed mystery script trains the lesson's MLP to about 0.93 test accuracy in 80 full-batch steps; a
# still-broken one stays near chance (0.1).
ACCURACY_TO_PASS = 0.85

_SYMPTOMS_NOT_CAUSES = {
    "loss-plateau": "a flat loss is the symptom you saw, not its cause: the doctor names the cause",
    "lr-too-low": "Adam at lr=3e-3 moves a small MLP's weights plenty; a too-small rate is not what "
                  "keeps this loss flat",
    "lr-too-high": "the loss neither rises nor turns NaN, so the steps are not too large",
    "cannot-overfit-batch": "this MLP can memorise a batch when it is trained; ask why it is not trained",
    "no-gradient": "backward() does fill a gradient into every weight of the model; follow what happens "
                   "to those gradients after backward()",
    "missing-zero-grad": "the script calls optimizer.zero_grad() every step",
    "dead-relu": "the same MLP trains fine earlier in the lesson, so its units are alive at the start",
    "labels-unlearnable": "the inputs and labels are the lesson's digits, in matching order",
}


def _digits(count: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    splits = load_dataset("digits")
    end = count if count is not None else len(splits.x_train)
    return splits.x_train[:end], splits.y_train[:end], splits.x_test, splits.y_test


def _accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    was_training = model.training
    model.eval()
    with dendrite.no_grad():
        predicted = np.asarray(model(dendrite.tensor(x)).numpy()).argmax(axis=1)
    model.train(was_training)
    return float((predicted == y).mean())


def _normalise_code(text: str) -> str:
    return text.strip().strip("'\"`").lower().replace("_", "-").replace(" ", "-")


@exercise("Lesson 10, exercise 1: name the bug")
def name_the_bug(answer: Any) -> Verdict:
    """Check the bug named in the mystery script: a doctor finding code, or a fixed script that trains.

    ``answer`` is either a string, the doctor's finding code for the bug (as in
    ``dendrite.doctor.ROOT_CAUSE_ORDER``), or that :class:`~dendrite.doctor.Finding` itself, or a
    function with no arguments that runs the fixed script and returns the trained model; that model must
    then reach ``ACCURACY_TO_PASS`` on the digits test split.

    Example:
        >>> verdict = name_the_bug("lr-too-low")  # the symptom's usual suspect, not this script's bug
        >>> verdict.status, "not what keeps this loss flat" in verdict.message
        ('wrong', True)
        >>> name_the_bug(...).status
        'unanswered'
    """
    if isinstance(answer, Finding):
        answer = answer.code  # the doctor's finding itself: judge its code
    if isinstance(answer, str):
        code = _normalise_code(answer)
        if code == _MYSTERY_BUG:
            return correct("right: the optimizer was built from a model that the script then replaced, so "
                           "optimizer.step() updates weights nobody uses. Build the optimizer after the "
                           "model it trains, from model.parameters().")
        if code in _SYMPTOMS_NOT_CAUSES:
            return wrong(f"not this one: {_SYMPTOMS_NOT_CAUSES[code]}. Run dendrite.doctor.examine on the "
                         "script's model and optimizer and read its first finding.")
        if code in ROOT_CAUSE_ORDER:
            return wrong(f"'{code}' is a real finding code, but the doctor does not report it on this "
                         "script. Run dendrite.doctor.examine(model, (x, y), optimizer=optimizer) on the "
                         "script's own objects.")
        return wrong(f"'{answer}' is not one of the doctor's finding codes; they look like 'dead-relu' "
                     "(dendrite.doctor.ROOT_CAUSE_ORDER lists them all)")
    if not callable(answer):
        return wrong(f"expected a finding code (a string such as 'dead-relu') or a function that runs the "
                     f"fixed script and returns the model; got {type(answer).__name__}")
    model = answer()
    if not isinstance(model, nn.Module):
        return wrong(f"your fixed script returned {type(model).__name__}; expected the trained model "
                     "(a dendrite.nn.Module): end it with `return model`")
    _, _, x_test, y_test = _digits()
    accuracy = _accuracy(model, x_test, y_test)
    if accuracy < ACCURACY_TO_PASS:
        return wrong(f"the model your script returns scores {accuracy:.0%} on the test digits; a working "
                     f"script reaches over {ACCURACY_TO_PASS:.0%}. The bug is still there: compare which "
                     "model is trained with which model the optimizer updates")
    return correct(f"your fixed script trains: {accuracy:.0%} on the test digits. The doctor's code for "
                   f"this bug is '{_MYSTERY_BUG}'.")


def _examine_digits(model: nn.Module):
    x, y, _, _ = _digits(600)
    return examine(model, (x, y), optimizer=lambda params: optim.Adam(params, lr=1e-3), seed=0, budget_s=20.0)


@exercise("Lesson 10, exercise 2: a model the doctor is happy with")
def doctor_clean(answer: Callable[[], nn.Module]) -> Verdict:
    """Check a function returning a digits classifier on which ``examine`` finds no error and no warning.

    The model must take images of shape ``(N, 8, 8)``, return ``(N, 10)`` logits, keep at least one
    hidden layer (two or more ``nn.Linear``), and pass ``examine`` on 600 digits with Adam(lr=1e-3).

    Example:
        >>> from dendrite import nn
        >>> verdict = doctor_clean(lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 10)))
        >>> verdict.status, "keep a hidden layer" in verdict.message
        ('wrong', True)
    """
    if not callable(answer):
        return wrong(f"expected a function that builds the model, got {type(answer).__name__}")
    saved = dendrite.get_rng_state()
    try:
        dendrite.manual_seed(0)
        model = answer()
    finally:
        dendrite.set_rng_state(saved)
    if not isinstance(model, nn.Module):
        return wrong(f"your function returned {type(model).__name__}; expected a dendrite.nn.Module "
                     "(end it with `return model`)")
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if len(linears) < 2:
        return wrong(f"your model has {len(linears)} nn.Linear layer(s); keep a hidden layer (at least two "
                     "Linear layers): the exercise is to repair the network, not to replace it by a "
                     "linear classifier")
    x, _, _, _ = _digits(4)
    with dendrite.no_grad():
        output = model(dendrite.tensor(x))
    if tuple(output.shape) != (4, 10):
        return wrong(f"for 4 images of shape (8, 8) your model returns shape {tuple(output.shape)}; "
                     "expected (4, 10), one score per digit")
    report = _examine_digits(model)
    serious = [f for f in report.findings if f.severity in ("error", "warning")]
    if serious:
        listed = "; ".join(f"[{f.severity}] {f.code}: {f.title}" for f in serious)
        return wrong(f"the doctor still finds {len(serious)} problem(s): {listed}. Fix the first one and "
                     "run examine again: one bug can hide another")
    return correct("the doctor finds nothing to complain about: a final Softmax squashes the gradients of "
                   "cross_entropy, and ReLUs that start below zero never pass a gradient. Both are quiet "
                   "bugs: no error, just a loss that barely moves.")


_NAN_ALIASES = {"div", "divide", "division", "true-divide", "truediv", "/", "div-backward"}
_NAN_HINTS = {
    "std": "Std of a blank image is 0: a finite number. Which operation then used that 0?",
    "var": "the variance of a blank image is 0: a finite number. Which operation then used that 0?",
    "sqrt": "the square root of 0 is 0, finite in the forward pass. Which operation then used that 0?",
    "sub": "subtracting the mean of a blank image gives zeros, which are finite",
    "mean": "the mean of a blank image is 0, which is finite",
    "log": "this model has no log: the NaN appears before the loss is computed",
    "logsoftmax": "cross_entropy only received the NaN; it did not make it",
    "cross-entropy": "cross_entropy only received the NaN; it did not make it",
    "linear": "the Linear layer only received the NaN from the layer before it",
    "addmm": "the Linear layer's matrix product only received the NaN from the layer before it",
    "matmul": "the matrix product only received the NaN from the layer before it",
    "relu": "ReLU only passed on a NaN it was given",
}


@exercise("Lesson 10, exercise 3: the operation that made the first NaN")
def first_nan_op(answer: Any) -> Verdict:
    """Check the name of the operation that produced the first NaN in the exercise's model.

    ``answer`` is the operation's name as ``trace_nan`` reports it (``finding.evidence["op"]``, e.g.
    ``"Exp"``), or the :class:`~dendrite.doctor.Finding` that ``trace_nan`` returned.

    Example:
        >>> verdict = first_nan_op("Std")  # it made a 0, which is finite
        >>> verdict.status, "finite" in verdict.message
        ('wrong', True)
        >>> first_nan_op(...).status
        'unanswered'
    """
    if isinstance(answer, Finding):
        op = answer.evidence.get("op")
        if op is None:
            return wrong(f"this finding ({answer.code}) names no operation; pass the finding that "
                         "dendrite.doctor.trace_nan returned for the exercise's step")
        answer = str(op)
    if not isinstance(answer, str):
        return wrong(f"expected the operation's name as a string (e.g. 'Exp') or trace_nan's Finding; "
                     f"got {type(answer).__name__}")
    name = _normalise_code(answer).replace("-backward", "")
    if name in _NAN_ALIASES:
        return correct("right: the division by the per-image standard deviation, which is 0 for a blank "
                       "image: 0/0 = NaN. Every later operation only passes the NaN on. Guard the "
                       "denominator: x / (std + 1e-5).")
    if name in _NAN_HINTS:
        return wrong(f"not '{answer}': {_NAN_HINTS[name]}")
    if name in ("nan", "nan-loss", "nan-in-data"):
        return wrong(f"'{answer}' is the finding's code; the operation is in finding.evidence['op']")
    return wrong(f"'{answer}' is not the operation that made the first NaN. Run the step under "
                 "dendrite.doctor.trace_nan and read finding.evidence['op']")
