"""Checkers for lesson 8, initialization.

1. :func:`kaiming_std`: the standard deviation of Kaiming (He) normal weights for a ReLU layer with a
   given fan-in, ``sqrt(2 / fan_in)``.
2. :func:`deep_relu_scheme`: which start keeps the signal alive through a 20-layer ReLU network
   (one of ``"zeros"``, ``"small normal"``, ``"large normal"``, ``"xavier"``, ``"kaiming"``).
3. :func:`constant_init_units`: a prediction: how many different hidden units a network started with all
   weights equal still has after training (symmetry is never broken: 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from dendrite.lessons.checking import as_number
from dendrite.lessons.verdict import Verdict, correct, exercise, wrong

__all__ = ["kaiming_std", "deep_relu_scheme", "constant_init_units", "SCHEMES"]

SCHEMES = ("zeros", "small normal", "large normal", "xavier", "kaiming")
"""The choices of :func:`deep_relu_scheme`: N(0, 0.01^2), N(0, 1), Glorot (gain 1) and He (gain sqrt 2)."""

_FAN_INS = (64, 256, 784, 2, 1)  # the telling ones first: at 1, sqrt(1/n) = 1/n


@exercise("Lesson 8, exercise 1: the Kaiming standard deviation")
def kaiming_std(answer: Callable) -> Verdict:
    """Check ``answer(fan_in)``: the std of Kaiming normal weights in front of a ReLU.

    Example:
        >>> import math
        >>> kaiming_std(lambda fan_in: math.sqrt(2 / fan_in)).status
        'correct'
        >>> kaiming_std(lambda fan_in: 2 / fan_in).status
        'wrong'
    """
    for fan_in in _FAN_INS:
        raw = answer(fan_in)
        got = as_number(raw, finite=True)
        if got is None:
            return wrong(f"for fan_in={fan_in} your function returned {raw!r}; expected one finite number")
        expected = math.sqrt(2 / fan_in)
        if math.isclose(got, expected, rel_tol=1e-6):
            continue
        at = f"for fan_in={fan_in} you return {got:.4g}"
        if math.isclose(got, 2 / fan_in, rel_tol=1e-6):
            return wrong(f"{at}: that is the variance Var[W]. The std is its square root")
        if math.isclose(got, math.sqrt(1 / fan_in), rel_tol=1e-6):
            return wrong(f"{at}: that keeps the signal for a linear layer (LeCun), but ReLU sets half of "
                         "its inputs to 0 and so halves the second moment: the variance needs a factor to "
                         "make up for it")
        if any(math.isclose(got, top / fan_in, rel_tol=1e-6) for top in (1, math.sqrt(2), 2)):
            return wrong(f"{at}: the std should fall as 1/sqrt(fan_in), not 1/fan_in. A sum of fan_in "
                         "independent terms has fan_in times their variance")
        if got < 0:
            return wrong(f"{at}: a standard deviation is never negative")
        return wrong(f"{at}, expected a different value. Choose Var[W] so that fan_in * Var[W] * 1/2 = 1 "
                     "(1/2: ReLU keeps half of the second moment), then return sqrt(Var[W])")
    return correct("right: std = sqrt(2 / fan_in), what nn.init.kaiming_normal_(w, nonlinearity='relu') "
                   "draws. Each layer then passes on the signal's second moment unchanged.")


_HINTS = {
    "zeros": "with every weight 0 the first layer outputs 0 for every input, every unit is a copy of the "
             "others and gets no gradient: the network never learns (see the zeros curve stuck at ln 2)",
    "small normal": "N(0, 0.01^2) multiplies the std by about sqrt(256 * 0.01^2 / 2) = 0.11 at every layer: "
                    "after 20 layers the signal is about 1e-19 of what it was (the falling line)",
    "large normal": "N(0, 1) multiplies the std by about sqrt(256 / 2) = 11 at every layer: after 20 layers "
                    "the activations are around 1e20 and the loss overflows",
    "xavier": "Glorot's Var[W] = 2 / (fan_in + fan_out) = 1 / 256 here keeps the signal of a linear layer, "
              "but ReLU throws away half of the second moment: the std shrinks by 1/sqrt(2) per "
              "layer, 1/1000 after 20 layers",
}


@exercise("Lesson 8, exercise 2: a start for a deep ReLU network")
def deep_relu_scheme(answer: str) -> Verdict:
    """Check ``answer``, one of :data:`SCHEMES`: the start that keeps 20 ReLU layers of 256 trainable.

    Example:
        >>> deep_relu_scheme("kaiming").status, deep_relu_scheme("xavier").status
        ('correct', 'wrong')
    """
    if not isinstance(answer, str):
        return wrong(f"answer with one of the names {', '.join(map(repr, SCHEMES))}; got {answer!r}")
    name = answer.strip().lower().replace("_", " ").replace("-", " ")
    name = {"he": "kaiming", "glorot": "xavier", "kaiming normal": "kaiming", "xavier normal": "xavier"}.get(
        name, name)
    if name == "kaiming":
        return correct("right: Var[W] = 2 / fan_in makes fan_in * Var[W] * 1/2 = 1, so every ReLU layer "
                       "passes on the signal's scale, forwards and backwards, however deep the net.")
    if name in _HINTS:
        return wrong(f"not {answer!r}: {_HINTS[name]}")
    return wrong(f"{answer!r} is not one of the choices: answer with one of {', '.join(map(repr, SCHEMES))}")


@exercise("Lesson 8, exercise 3: what equal weights do to hidden units")
def constant_init_units(answer: int) -> Verdict:
    """Check ``answer``: how many different hidden units a 2-16-1 tanh net started at all weights 0.1 has
    after 100 steps of Adam.

    Example:
        >>> constant_init_units(1).status, constant_init_units(16).status
        ('correct', 'wrong')
    """
    got = as_number(answer, finite=True)
    if got is None or got != int(got):
        return wrong(f"answer with a whole number of hidden units (1 to 16); got {answer!r}")
    got = int(got)
    if got == 1:
        return correct("right: the 16 units start equal, so they compute the same value, receive the same "
                       "gradient and take the same step, forever. Training moves them, but together: the "
                       "layer is as good as one unit wide. Random weights break the symmetry.")
    if got == 16:
        return wrong("not 16: training cannot make them differ. Ask what the gradient of unit 1's weights is "
                     "compared with unit 2's when both units compute exactly the same thing")
    if got == 0:
        return wrong("not 0: the units are not dead (tanh of a non-zero input is not 0) and their weights do "
                     "move; the question is how many *different* units there are")
    if not 1 <= got <= 16:
        return wrong(f"the layer has 16 units, so the answer lies between 1 and 16; got {got}")
    return wrong(f"not {got}: nothing in the network treats one unit differently from another. What does "
                 "that mean for their gradients?")
