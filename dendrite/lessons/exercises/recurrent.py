"""Checkers for lesson 5, recurrent networks.

1. :func:`rnn_step` — one step of a plain (Elman) tanh RNN computed by hand with NumPy.
2. :func:`weight_shapes` — the shapes of ``weight_ih_l0`` and ``weight_hh_l0`` of ``nn.RNN``,
   ``nn.GRU`` and ``nn.LSTM``: one block of rows per gate, rows = outputs.
3. :func:`forget_gate_bias` — give an LSTM a forget-gate bias that keeps its cell state over
   60 steps: the right rows (gates are stacked ``i, f, g, o``), every layer, a big enough value
   and not a saturated one.

Every check builds its own inputs from fixed seeds, so verdicts never depend on the notebook's state.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from dendrite import nn
from dendrite.lessons.checking import own_randomness
from dendrite.lessons.verdict import Verdict, correct, exercise, wrong

__all__ = ["rnn_step", "weight_shapes", "forget_gate_bias", "MEMORY_STEPS"]

# Exercise 3: how long the cell state must survive, and the largest bias that still lets the gate learn.
MEMORY_STEPS = 60
_SATURATED_BIAS = 10.0
_GATES = {"rnn": 1, "gru": 3, "lstm": 4}
_LSTM_GATE_NAMES = ("i (input gate)", "f (forget gate)", "g (cell candidate)", "o (output gate)")


def _step_inputs(seed: int) -> dict[str, np.ndarray]:
    """A batch of 2 inputs with 3 features, hidden size 4: every shape differs, so a wrong transpose shows."""
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=(2, 3)), "h": rng.normal(size=(2, 4)),
            "W_ih": rng.normal(size=(4, 3)) * 0.5, "W_hh": rng.normal(size=(4, 4)) * 0.5,
            "b_ih": rng.normal(size=4), "b_hh": rng.normal(size=4)}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@exercise("Lesson 5, exercise 1: one RNN step by hand")
def rnn_step(answer: Callable) -> Verdict:
    """Check ``answer(x, h, W_ih, W_hh, b_ih, b_hh)``: the next hidden state of a tanh RNN.

    Arrays as in ``nn.RNN``: ``x`` (N, input_size), ``h`` (N, hidden), ``W_ih`` (hidden, input_size),
    ``W_hh`` (hidden, hidden), ``b_ih`` and ``b_hh`` (hidden,); the result is (N, hidden).

    Example:
        >>> import numpy as np
        >>> step = lambda x, h, W_ih, W_hh, b_ih, b_hh: np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        >>> rnn_step(step).status
        'correct'
        >>> rnn_step(lambda x, h, W_ih, W_hh, b_ih, b_hh: x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).status
        'wrong'
    """
    for seed in (0, 1):
        a = _step_inputs(seed)
        got = np.asarray(answer(a["x"].copy(), a["h"].copy(), a["W_ih"].copy(), a["W_hh"].copy(),
                                a["b_ih"].copy(), a["b_hh"].copy()), dtype=float)
        if got.shape == (4, 2):
            return wrong("your step returned shape (4, 2), one column per example; nn.RNN's states are rows, "
                         "(N, hidden) = (2, 4): multiply the row vectors x and h by the transposed weights")
        if got.shape != (2, 4):
            return wrong(f"your step returned shape {got.shape}; expected (2, 4): one hidden vector of "
                         "size 4 per example (x was (2, 3), h was (2, 4), W_ih was (4, 3))")
        x, h, W_ih, W_hh, b_ih, b_hh = (a[k] for k in ("x", "h", "W_ih", "W_hh", "b_ih", "b_hh"))
        z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        if np.allclose(got, np.tanh(z), atol=1e-6):
            continue
        if np.allclose(got, z, atol=1e-6):
            return wrong("that is the pre-activation: the sum of both products and biases is right, "
                         "but the new state goes through the RNN's nonlinearity (nn.RNN's default)")
        if np.allclose(got, _sigmoid(z), atol=1e-6) or np.allclose(got, np.maximum(z, 0), atol=1e-6):
            return wrong("the sum inside is right but the nonlinearity is not the one nn.RNN uses by "
                         "default; its outputs lie in (-1, 1)")
        if np.allclose(got, np.tanh(x @ W_ih.T + b_ih + b_hh), atol=1e-6):
            return wrong("your new state does not depend on the old state h: the recurrent product "
                         "with W_hh is missing, and without it there is no memory")
        if np.allclose(got, np.tanh(h @ W_hh.T + b_ih + b_hh), atol=1e-6):
            return wrong("your new state does not depend on the input x: the product with W_ih is missing")
        if (np.allclose(got, np.tanh(z - b_ih), atol=1e-6) or np.allclose(got, np.tanh(z - b_hh), atol=1e-6)
                or np.allclose(got, np.tanh(z - b_ih - b_hh), atol=1e-6)):
            return wrong("a bias is missing: nn.RNN adds two bias vectors, b_ih and b_hh")
        if np.allclose(got, np.tanh(x @ W_ih.T + b_ih + h @ W_hh + b_hh), atol=1e-6):
            return wrong("h is multiplied by W_hh untransposed: weights are stored (out, in), so "
                         "multiply row vectors by the transpose, as for W_ih")
        return wrong("not yet: compare your formula with the docstring of nn.RNN "
                     "(print(dendrite.nn.RNN.__doc__)); every array is used exactly once")
    return correct("right: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh). nn.RNN runs exactly this step "
                   "once per time step, with the same weights every time")


@exercise("Lesson 5, exercise 2: the shapes of a recurrent layer's weights")
def weight_shapes(answer: Callable) -> Verdict:
    """Check ``answer(cell, input_size, hidden_size)`` -> ``(shape of weight_ih_l0, shape of weight_hh_l0)``.

    ``cell`` is ``"rnn"``, ``"gru"`` or ``"lstm"``; each shape a tuple of two ints.

    Example:
        >>> gates = {"rnn": 1, "gru": 3, "lstm": 4}
        >>> weight_shapes(lambda cell, i, h: ((gates[cell] * h, i), (gates[cell] * h, h))).status
        'correct'
        >>> weight_shapes(lambda cell, i, h: ((h, i), (h, h))).status
        'wrong'
    """
    for cell, input_size, hidden_size in (("lstm", 3, 5), ("gru", 7, 2), ("rnn", 6, 4), ("lstm", 2, 9)):
        got = answer(cell, input_size, hidden_size)
        try:
            ih, hh = (tuple(int(n) for n in shape) for shape in got)
        except (TypeError, ValueError):
            return wrong(f"for {cell!r} you returned {got!r}; expected two shapes, "
                         "like ((rows, columns), (rows, columns))")
        with own_randomness():
            layer = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell](input_size, hidden_size)
        want_ih, want_hh = tuple(layer.weight_ih_l0.shape), tuple(layer.weight_hh_l0.shape)
        if (ih, hh) == (want_ih, want_hh):
            continue
        where = f"{cell.upper()}(input_size={input_size}, hidden_size={hidden_size})"
        if ih[::-1] == want_ih or hh[::-1] == want_hh:
            return wrong(f"{where}: rows and columns are swapped; a weight is stored (outputs, inputs), "
                         "as in nn.Linear")
        if ih[1] != input_size:
            return wrong(f"{where}: weight_ih multiplies the input x_t, so it has one column per input "
                         f"feature; you gave {ih[1]} columns")
        if hh[1] != hidden_size:
            return wrong(f"{where}: weight_hh multiplies the previous hidden state, so it has one column "
                         f"per hidden unit; you gave {hh[1]} columns")
        if ih[0] == hidden_size and _GATES[cell] > 1:
            return wrong(f"{where}: hidden_size rows is one gate's worth; all the gates' weights are "
                         "stacked in one matrix (list the gates in the cell's docstring and count them)")
        return wrong(f"{where}: {ih[0]} rows is not right; the rows are hidden_size times the number of "
                     f"gates, and a {cell.upper()} does not have {ih[0] / hidden_size:g} of them")
    return correct("right: one block of hidden_size rows per gate (RNN 1, GRU 3: r, z, n; "
                   "LSTM 4: i, f, g, o), and the same number of rows in weight_hh. An LSTM has four "
                   "times a plain RNN's weights")


def _lstm_biases(lstm: nn.LSTM) -> list[np.ndarray]:
    """Per layer, the effective bias ``b_ih + b_hh`` (the cell only ever uses their sum)."""
    return [(lstm.get_parameter(f"bias_ih_l{k}").detach().numpy()
             + lstm.get_parameter(f"bias_hh_l{k}").detach().numpy()).astype(float)
            for k in range(lstm.num_layers)]


@exercise("Lesson 5, exercise 3: a forget-gate bias that keeps memory")
def forget_gate_bias(answer: Callable) -> Verdict:
    """Check ``answer(lstm)``: it sets the forget-gate bias of every layer, in place, and returns ``lstm``.

    Correct when, in every layer and for every unit, ``sigmoid(b_ih + b_hh)`` on the forget rows keeps at
    least half the cell state over ``MEMORY_STEPS`` steps (``f ** 60 >= 0.5``), the bias is not so large
    that the gate is saturated (above 10), and the other gates' biases and all weights are untouched.

    Example:
        >>> import dendrite
        >>> def set_forget_bias(lstm):
        ...     h = lstm.hidden_size
        ...     with dendrite.no_grad():
        ...         for k in range(lstm.num_layers):
        ...             lstm.get_parameter(f"bias_ih_l{k}")[h:2 * h] = 5.0
        ...             lstm.get_parameter(f"bias_hh_l{k}")[h:2 * h] = 0.0
        ...     return lstm
        >>> forget_gate_bias(set_forget_bias).status
        'correct'
        >>> forget_gate_bias(lambda lstm: lstm).status
        'wrong'
    """
    hidden = 8
    with own_randomness():
        lstm = nn.LSTM(3, hidden, num_layers=2, batch_first=True)
    before = {name: p.detach().numpy().copy() for name, p in lstm.named_parameters()}
    returned = answer(lstm)
    if returned is not lstm:
        return wrong(f"your function returned {type(returned).__name__}; change the LSTM in place and "
                     "return that same LSTM")
    after = {name: p.detach().numpy() for name, p in lstm.named_parameters()}
    for name in before:
        if name.startswith("weight") and not np.array_equal(before[name], after[name]):
            return wrong(f"{name} changed: only the forget gate's bias should change, no weight")
    gates = slice(hidden, 2 * hidden)
    old, new = _lstm_biases_from(before, lstm.num_layers), _lstm_biases(lstm)
    for k, (was, now) in enumerate(zip(old, new)):
        for gate, label in enumerate(_LSTM_GATE_NAMES):
            rows = slice(gate * hidden, (gate + 1) * hidden)
            if gate != 1 and not np.allclose(was[rows], now[rows]):
                return wrong(f"layer {k}: the bias of gate {label} changed (rows {rows.start}:{rows.stop}); "
                             "the gates' rows are stacked in the order i, f, g, o, so find the forget "
                             "gate's block and change only that")
        if np.allclose(was[gates], now[gates]):
            other = "; an LSTM with num_layers=2 has bias_ih_l0 and bias_ih_l1" if k > 0 else ""
            return wrong(f"layer {k}: the forget gate's bias did not change{other}")
    lowest = min(float(now[gates].min()) for now in new)
    highest = max(float(now[gates].max()) for now in new)
    forget, steps = float(_sigmoid(np.array(lowest))), MEMORY_STEPS
    if forget**steps < 0.5:
        return wrong(f"the smallest forget bias is b_ih + b_hh = {lowest:.3g}, so f = sigmoid(b) = "
                     f"{forget:.4f} and after {steps} steps f^{steps} = {forget**steps:.2g} of the cell "
                     "is left; at least half should be. (The cell adds b_ih and b_hh, so the random b_hh "
                     "counts too.)")
    if highest > _SATURATED_BIAS:
        slope = float(_sigmoid(np.array(highest)) * (1 - _sigmoid(np.array(highest))))
        return wrong(f"a forget bias of {highest:.3g} saturates the gate: its slope sigmoid'(b) = "
                     f"{slope:.1e}, so it could hardly learn to forget when the task needs it; a smaller "
                     f"value keeps half the cell over {steps} steps")
    loss = math.log(2) / steps
    return correct(f"right: with f = sigmoid({lowest:.3g}) at least half the cell survives {steps} steps "
                   f"(each step loses about 1 - f, which must stay below ~{loss:.3f}); the gradient "
                   "through the cell is multiplied by the same f each step, so it survives too")


def _lstm_biases_from(parameters: dict[str, np.ndarray], num_layers: int) -> list[np.ndarray]:
    """:func:`_lstm_biases` for a saved copy of the parameters."""
    return [(parameters[f"bias_ih_l{k}"] + parameters[f"bias_hh_l{k}"]).astype(float)
            for k in range(num_layers)]
