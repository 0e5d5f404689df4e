"""Registry entries for the fused recurrent layers and cells of ``dendrite.nn.functional``.

The reference is the composed form: the same recurrence stepped in Python with
dendrite's primitive ops (matmul, sigmoid, tanh...), whose gradient comes from
the generic engine. PyTorch's side steps its own fused cells (``torch.lstm_cell``
and friends) over time. Multi-layer, bidirectional and batch-first stacks are
composed from the single-direction layers, as ``nn.LSTM`` composes them.
"""

from __future__ import annotations

import numpy as np

import dendrite
from tests.ops.registry import OpInfo, Sample, randn

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


# ----------------------------------------------------------------------------- one step, composed
def _step(m, kind, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One time step written with primitive ops; ``m`` is dendrite (the composed form)."""
    gates_x = x @ w_ih.t() + (0 if b_ih is None else b_ih)
    gates_h = h @ w_hh.t() + (0 if b_hh is None else b_hh)
    if kind in ("rnn_tanh", "rnn_relu"):
        total = gates_x + gates_h
        return (m.tanh(total) if kind == "rnn_tanh" else m.relu(total)), None
    if kind == "lstm":
        i, f, g, o = (gates_x + gates_h).chunk(4, 1)
        c = m.sigmoid(f) * c + m.sigmoid(i) * m.tanh(g)
        return m.sigmoid(o) * m.tanh(c), c
    r_x, z_x, n_x = gates_x.chunk(3, 1)
    r_h, z_h, n_h = gates_h.chunk(3, 1)
    r, z = m.sigmoid(r_x + r_h), m.sigmoid(z_x + z_h)
    n = m.tanh(n_x + r * n_h)
    return (1 - z) * n + z * h, None


def _torch_step(torch, kind, x, h, c, w_ih, w_hh, b_ih, b_hh):
    if kind == "lstm":
        return torch.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
    return getattr(torch, f"{kind}_cell")(x, h, w_ih, w_hh, b_ih, b_hh), None


def _stepped(m, step, kind, x, h, c, w_ih, w_hh, b_ih, b_hh, reverse):
    """(output (T, N, H), h_n[, c_n]) of one layer, one ``step`` per time step."""
    zeros = m.zeros(x.shape[1], w_hh.shape[1], dtype=x.dtype)
    h = zeros if h is None else h
    c = zeros if c is None and kind == "lstm" else c
    outputs = [None] * x.shape[0]
    for t in reversed(range(x.shape[0])) if reverse else range(x.shape[0]):
        h, c = step(m, kind, x[t], h, c, w_ih, w_hh, b_ih, b_hh)
        outputs[t] = h
    output = m.stack(outputs, 0)
    return (output, h, c) if kind == "lstm" else (output, h)


def _one_layer(how, m, kind, x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One layer: dendrite's fused function (``how='fused'``), torch's cells, or dendrite's composed step."""
    if how == "composed":
        return _stepped(dendrite, _step, kind, x, h, c, w_ih, w_hh, b_ih, b_hh, reverse)
    if m is not dendrite:
        return _stepped(m, _torch_step, kind, x, h, c, w_ih, w_hh, b_ih, b_hh, reverse)
    functional = m.nn.functional
    if kind == "lstm":
        return functional.lstm_layer(x, h, c, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
    if kind == "gru":
        return functional.gru_layer(x, h, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
    return functional.rnn_layer(x, h, w_ih, w_hh, b_ih, b_hh, reverse=reverse, nonlinearity=kind[4:])


def _layer_entry(kind, how="fused"):
    """``fn(m, x, h, [c,] w_ih, w_hh, b_ih, b_hh, reverse=...)`` with the public layer's argument order."""
    if kind == "lstm":
        return lambda m, x, h, c, *weights, **kw: _one_layer(how, m, kind, x, h, c, *weights, **kw)
    return lambda m, x, h, *weights, **kw: _one_layer(how, m, kind, x, h, None, *weights, **kw)


def _stack_entry(kind, how="fused"):
    """Two bidirectional layers over a batch-first input, composed as nn.LSTM/nn.GRU compose them.

    ``fn(m, x (N, T, H_in), *weights)``: weights (w_ih, w_hh, b_ih, b_hh) per layer and direction.
    Returns the batch-first output (N, T, 2H) and h_n (4, N, H).
    """

    def call(m, x, *weights):
        layer_input = x.transpose(0, 1)  # time-major view of a batch-first input (non-contiguous)
        finals = []
        for layer in range(2):
            outputs = []
            for direction in range(2):
                first = 4 * (2 * layer + direction)
                result = _one_layer(
                    how, m, kind, layer_input, None, None, *weights[first : first + 4], reverse=direction == 1
                )
                outputs.append(result[0])
                finals.append(result[1])
            layer_input = m.cat(outputs, 2)
        return layer_input.transpose(0, 1), m.stack(finals, 0)

    return call


def _composed(entry):
    """A NumPy-facing reference: ``entry`` run on dendrite tensors without recording, arrays out."""

    def reference(*arrays, **kwargs):
        tensors = [dendrite.tensor(np.array(a)) if isinstance(a, np.ndarray) else a for a in arrays]
        with dendrite.no_grad():
            outputs = entry(dendrite, *tensors, **kwargs)
        return [o.numpy() for o in outputs] if isinstance(outputs, tuple) else outputs.numpy()

    return reference


def _cell_entry(name):
    def call(m, x, h, *rest):
        if m is dendrite:
            return getattr(m.nn.functional, name)(x, h, *rest)
        if name == "lstm_cell":  # torch.lstm_cell takes the state as one (h, c) pair
            return m.lstm_cell(x, (h, rest[0]), *rest[1:])
        return getattr(m, name)(x, h, *rest)

    return call


def _cell_reference(kind):
    def cell(m, x, h, *rest):
        c, weights = (rest[0], rest[1:]) if kind == "lstm" else (None, rest)
        result = _one_layer("composed", m, kind, x[None], h, c, *weights)
        return (result[1], result[2]) if kind == "lstm" else result[1]

    return _composed(cell)


def _weights(kind, input_size, hidden, bias=True):
    rows = GATES[kind] * hidden
    weights = [randn(rows, input_size) * 0.6, randn(rows, hidden) * 0.6]
    return weights + ([randn(rows) * 0.3, randn(rows) * 0.3] if bias else [None, None])


def _layer_samples(kind):
    states = 2 if kind == "lstm" else 1
    return [
        Sample((randn(3, 2, 3), *[randn(2, 2)] * states, *_weights(kind, 3, 2))),
        Sample(
            (randn(3, 2, 3), *[None] * states, *_weights(kind, 3, 2, bias=False)), name="no-state-no-bias"
        ),
        Sample(
            (randn(3, 2, 3), *[randn(2, 2)] * states, *_weights(kind, 3, 2)),
            {"reverse": True},
            name="reverse",
        ),
        Sample((randn(3, 2, 3), *[randn(2, 2)] * states, *_weights(kind, 3, 2)), layout="transposed"),
    ]


def _stack_samples(kind):
    weights = [w for layer in range(2) for _ in range(2) for w in _weights(kind, 2 if layer == 0 else 4, 2)]
    return [Sample((randn(2, 3, 2), *weights), name="2-layers-bidirectional-batch-first")]


def _cell_samples(kind):
    states = 2 if kind == "lstm" else 1
    return [
        Sample((randn(2, 3), *[randn(2, 2)] * states, *_weights(kind, 3, 2))),
        Sample((randn(2, 3), *[randn(2, 2)] * states, *_weights(kind, 3, 2, bias=False)), name="no-bias"),
    ]


_KINDS = {"rnn_tanh": "rnn_layer", "rnn_relu": "rnn_layer_relu", "lstm": "lstm_layer", "gru": "gru_layer"}

RECURRENT = [
    *[
        OpInfo(name, _layer_entry(kind), _composed(_layer_entry(kind, "composed")), _layer_samples(kind))
        for kind, name in _KINDS.items()
    ],
    *[
        OpInfo(
            f"{kind}_stack",
            _stack_entry(kind),
            _composed(_stack_entry(kind, "composed")),
            _stack_samples(kind),
        )
        for kind in ("lstm", "gru")
    ],
    *[
        OpInfo(f"{kind}_cell", _cell_entry(f"{kind}_cell"), _cell_reference(kind), _cell_samples(kind))
        for kind in ("rnn_tanh", "rnn_relu", "lstm", "gru")
    ],
]
