"""Checkers for lesson 2, "Feedforward networks".

Three exercises:

- :func:`parameter_count`: a function counting the parameters (weights and biases) of an MLP from its
  layer sizes, compared with what ``dendrite.models.MLP`` actually holds;
- :func:`two_layer_forward`: a NumPy forward pass ``Linear -> ReLU -> Linear`` with weights stored the
  way ``nn.Linear`` stores them, ``(out_features, in_features)``;
- :func:`output_and_loss`: for four tasks, the size of the last layer and the loss to train it with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from dendrite import nn
from dendrite.lessons.verdict import Verdict, correct, exercise, unanswered, wrong
from dendrite.models import MLP

__all__ = ["TASKS", "parameter_count", "two_layer_forward", "output_and_loss"]

# layer sizes [inputs, hidden..., outputs]; each list catches a different slip
_SIZES: tuple[tuple[int, ...], ...] = ((64, 32, 10), (2, 8, 8, 1), (784, 10), (5, 3, 4, 7, 2))


def _reference_count(sizes: Sequence[int]) -> int:
    """What the MLP really holds: for each layer, a weight per (input, output) pair and a bias per output."""
    model = MLP(sizes[0], sizes[-1], hidden=tuple(sizes[1:-1]))
    return sum(parameter.numel() for parameter in model.parameters())


def _slips(sizes: Sequence[int]) -> list[tuple[int, str]]:
    """(count, what went wrong) for the counting slips a learner is likely to make."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    weights = sum(a * b for a, b in pairs)
    return [
        (weights, "you counted the weights but not the biases: every neuron of a layer also has a bias"),
        (weights + sum(sizes), "the input layer has no bias: it is the data itself, not a layer of neurons"),
        (weights + sum(a for a, _ in pairs), "a layer has one bias per *output* neuron, not per input"),
        (weights + len(pairs), "a layer has one bias per output neuron, not one bias for the whole layer"),
        (int(np.prod(sizes)), "the sizes multiply only within one layer (inputs x outputs); add the layers "
                              "up instead of multiplying all the sizes together"),
        (sum(sizes), "you added up the neurons; parameters are the weights joining two layers, plus biases"),
    ]


@exercise("Lesson 2, exercise 1: counting the parameters of an MLP")
def parameter_count(answer: Callable[[list[int]], int]) -> Verdict:
    """Check ``answer(sizes)``: the number of parameters of an MLP with layer sizes ``sizes``.

    ``sizes`` is ``[inputs, hidden_1, ..., outputs]``; every layer is an ``nn.Linear`` with a bias.

    Example:
        >>> verdict = parameter_count(lambda sizes: sum(sizes))  # neurons are not parameters
        >>> verdict.status, "added up the neurons" in verdict.message
        ('wrong', True)
    """
    if not callable(answer):
        return wrong(f"expected a function count_parameters(sizes); got a {type(answer).__name__}")
    for sizes in _SIZES:
        got = answer(list(sizes))
        expected = _reference_count(sizes)
        value = np.asarray(got)
        if value.size != 1 or not np.issubdtype(value.dtype, np.number):
            return wrong(f"for sizes {list(sizes)} your function returned {got!r}; expected one whole number")
        number = float(value.reshape(()))
        if number == expected:
            continue
        for count, why in _slips(sizes):
            if number == count:
                return wrong(f"for sizes {list(sizes)} you counted {number:g}: {why}")
        return wrong(f"for sizes {list(sizes)} you counted {number:g}, and the MLP holds a different number. "
                     "Go layer by layer: nn.Linear(a, b) holds a weight of shape (b, a) and a bias of shape "
                     "(b,)")
    return correct("right: each layer costs (inputs + 1) x outputs, so the widest layers dominate. "
                   "sum(p.numel() for p in model.parameters()) counts the same for any model")


def _forward_case(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n, d_in, hidden, d_out = 6, 4, 5, 3  # all different, so a transposed weight cannot slip through
    x = rng.normal(size=(n, d_in))
    w1, b1 = rng.normal(size=(hidden, d_in)), rng.normal(size=hidden)
    w2, b2 = rng.normal(size=(d_out, hidden)), rng.normal(size=d_out)
    return x, w1, b1, w2, b2


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@exercise("Lesson 2, exercise 2: the forward pass of a two-layer network")
def two_layer_forward(answer: Callable[..., np.ndarray]) -> Verdict:
    """Check ``answer(x, w1, b1, w2, b2)``: the outputs of ``Linear -> ReLU -> Linear`` for inputs ``x``.

    Weights are stored as ``nn.Linear`` stores them: ``w1`` is ``(hidden, inputs)``, ``w2`` is
    ``(outputs, hidden)``; ``x`` is ``(N, inputs)`` and the result must be ``(N, outputs)``.

    Example:
        >>> verdict = two_layer_forward(lambda x, w1, b1, w2, b2: x[:, :3])  # right shape, wrong numbers
        >>> verdict.status, "numbers are not" in verdict.message
        ('wrong', True)
    """
    if not callable(answer):
        return wrong(f"expected a function forward(x, w1, b1, w2, b2); got a {type(answer).__name__}")
    for seed in (0, 1):
        x, w1, b1, w2, b2 = _forward_case(seed)
        try:
            got = answer(x.copy(), w1.copy(), b1.copy(), w2.copy(), b2.copy())
        except ValueError as error:  # NumPy's shape mismatch: x @ w1 with w1 stored as (out, in)
            return wrong(f"your code raised ValueError: {error}. The weights are stored (out, in), as in "
                         f"nn.Linear: x is {x.shape} and w1 is {w1.shape}, so which way round must w1 go "
                         "to meet x's columns?")
        got = np.asarray(got, dtype=float)
        relu_hidden = _relu(x @ w1.T + b1)
        expected = relu_hidden @ w2.T + b2
        if got.shape != expected.shape:
            flipped = got.shape == expected.shape[::-1]
            hint = " (one row per sample: is the result transposed?)" if flipped else ""
            return wrong(f"for x of shape {x.shape} your function returned shape {got.shape}; expected "
                         f"{expected.shape}, one row of outputs per sample{hint}")
        if np.allclose(got, expected, atol=1e-8):
            continue
        slips = [
            ((x @ w1.T + b1) @ w2.T + b2, "there is no ReLU between the layers: without it the two Linear "
                                          "layers collapse into one, and the network stays a straight line"),
            (_relu(expected), "you applied ReLU to the output too; the last layer's scores stay raw, so they "
                              "can be negative (the loss turns them into probabilities)"),
            (_relu(x @ w1.T) @ w2.T, "the biases are missing: each layer adds its bias after the weighted "
                                     "sum"),
            (_relu(x @ w1.T + b1) @ w2.T, "the second layer's bias b2 is missing"),
            (_relu(x @ w1.T) @ w2.T + b2, "the first layer's bias b1 is missing"),
            (np.tanh(x @ w1.T + b1) @ w2.T + b2, "that is tanh between the layers; this network uses ReLU, "
                                                 "max(z, 0)"),
            (1 / (1 + np.exp(-(x @ w1.T + b1))) @ w2.T + b2, "that is the sigmoid between the layers; this "
                                                             "network uses ReLU, max(z, 0)"),
            (_softmax(expected), "you applied softmax to the outputs; the network returns raw scores "
                                 "(logits), and the loss applies the softmax itself"),
        ]
        for value, why in slips:
            if np.allclose(got, value, atol=1e-8):
                return wrong(why)
        return wrong("the shape is right but the numbers are not. Compute the hidden layer alone first and "
                     "compare it with what nn.Linear gives for the same weights (as the lesson does), then "
                     "add the ReLU and the second layer")
    return correct("right: each layer is x @ W.T + b, exactly what nn.Linear computes, with the ReLU "
                   "bend in between. Everything else a network does is built from this")


TASKS: dict[str, str] = {
    "digits": "which of the ten digits 0-9 an 8x8 image shows",
    "price": "the sale price of a house, in euros, from 12 columns describing it",
    "spam": "whether an email is spam or not",
    "tags": "which of 5 tags (beach, city, night, people, snow) apply to a photo; a photo may have several",
}

_CROSS_ENTROPY = ("CrossEntropyLoss", "cross_entropy")
_BCE_LOGITS = ("BCEWithLogitsLoss", "binary_cross_entropy_with_logits")
_REGRESSION = ("MSELoss", "mse_loss", "L1Loss", "l1_loss", "HuberLoss", "huber_loss", "SmoothL1Loss",
               "smooth_l1_loss")
_ACCEPTED: dict[str, tuple[tuple[int, tuple[str, ...]], ...]] = {
    "digits": ((10, _CROSS_ENTROPY),),
    "price": ((1, _REGRESSION),),
    "spam": ((1, _BCE_LOGITS), (2, _CROSS_ENTROPY)),
    "tags": ((5, _BCE_LOGITS),),
}


def _loss_name(loss: object) -> str:
    """The class or function name of a loss given as a class, an instance or a functional."""
    if isinstance(loss, type):
        return loss.__name__
    if isinstance(loss, nn.Module):
        return type(loss).__name__
    return getattr(loss, "__name__", type(loss).__name__)


def _loss_hint(task: str, outputs: int, name: str) -> str:
    if name in ("BCELoss", "binary_cross_entropy", "NLLLoss", "nll_loss"):
        return (f"{name} expects probabilities (or log-probabilities), but a Linear layer outputs raw scores "
                "(logits); pick the loss that takes logits and applies the squashing itself, more stably")
    if task == "price":
        return ("a price is a number to predict, not a class: the loss should measure how far off the "
                "number is")
    if name in _REGRESSION:
        return (f"{name} measures distances between numbers; '{task}' is a classification, whose loss "
                "should compare scores with the right answer(s) as probabilities")
    if task == "tags" and name in _CROSS_ENTROPY:
        return ("cross-entropy over the 5 scores makes the tags compete for one single answer (a softmax "
                "sums to 1), but a photo can have several tags at once: each tag is its own yes/no question")
    if task == "digits" and name in _BCE_LOGITS:
        return ("a digit is exactly one of ten classes: the loss should make the ten scores compete (a "
                "softmax), not treat each digit as its own yes/no question")
    return f"{name} is not a loss that fits '{task}'"


def _output_hint(task: str, outputs: int) -> str:
    return {
        "digits": "the last layer needs one score per class",
        "price": "how many numbers does the network predict for one house?",
        "spam": "a yes/no question needs one score (its sign says yes or no), or one per answer with a "
                "softmax",
        "tags": "each tag gets its own yes/no score",
    }[task] + f"; you gave {outputs}"


@exercise("Lesson 2, exercise 3: the output layer and the loss")
def output_and_loss(answer: Mapping[str, tuple]) -> Verdict:
    """Check ``answer``: for each task of :data:`TASKS`, ``(out_features, loss)``, where loss is a
    ``dendrite.nn`` loss class or instance (or a ``dendrite.nn.functional`` loss) applied to the raw outputs.

    Example:
        >>> from dendrite import nn
        >>> output_and_loss(dict.fromkeys(TASKS, (1, nn.L1Loss))).status
        'wrong'
        >>> output_and_loss(dict.fromkeys(TASKS, ...)).status
        'unanswered'
    """
    if not isinstance(answer, Mapping):
        return wrong("expected a dict like {'digits': (out_features, loss), ...}; got a "
                     f"{type(answer).__name__}")
    missing = [task for task in TASKS if task not in answer]
    if missing:
        return wrong(f"your dict has no answer for {', '.join(missing)}; expected one for each of "
                     f"{', '.join(TASKS)}")
    pending = [task for task in TASKS if answer[task] is Ellipsis or answer[task] is None
               or (isinstance(answer[task], tuple) and Ellipsis in answer[task])]
    if pending:
        return unanswered(f"replace the ... for {', '.join(pending)} with (out_features, loss)")
    for task in TASKS:
        entry = answer[task]
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
            return wrong(f"for '{task}' you gave {entry!r}; expected a pair (out_features, loss), "
                         "e.g. (3, nn.L1Loss)")
        outputs, loss = entry
        if isinstance(outputs, bool) or not isinstance(outputs, (int, np.integer)):
            return wrong(f"for '{task}' the first item is {outputs!r}; expected the number of outputs, "
                         "an int")
        name = _loss_name(loss)
        accepted = _ACCEPTED[task]
        if any(outputs == n and name in names for n, names in accepted):
            continue
        if any(name in names for _, names in accepted):
            return wrong(f"'{task}': the loss fits, the size does not: {_output_hint(task, int(outputs))}")
        return wrong(f"'{task}': {_loss_hint(task, int(outputs), name)}")
    return correct("right: the task decides the end of the network. One class of many: a score per class "
                   "and cross-entropy; several yes/no answers: a score each and BCE with logits; a number: "
                   "one output and a distance such as MSE. The layers before it can stay the same")
