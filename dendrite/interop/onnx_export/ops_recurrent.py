"""ONNX forms of the recurrent layers: one dendrite layer-direction -> one ONNX RNN / LSTM / GRU node.

dendrite (like PyTorch) stacks the gate rows of an LSTM as ``i, f, g, o`` and of a
GRU as ``r, z, n``; ONNX wants ``i, o, f, c`` and ``z, r, h``. The rows are
reordered inside the graph (a Gather on the weight), so the initializers keep
their ``state_dict`` names and values. ONNX's GRU with ``linear_before_reset=1``
is PyTorch's GRU (``r * (W_hn h + b_hn)``). Each ONNX node has one direction
(``forward`` or ``reverse``); its outputs gain a direction axis that is squeezed
away again: Y (T, 1, N, H) -> (T, N, H), Y_h (1, N, H) -> (N, H).
"""

from __future__ import annotations

import numpy as np

from dendrite.interop.onnx_export.builder import handles
from dendrite.nn.functional.recurrent import GRULayer, LSTMLayer, RNNLayer

# ONNX gate block k takes dendrite's gate block _ORDER[k].
_ORDER = {LSTMLayer: (0, 3, 1, 2), GRULayer: (1, 0, 2), RNNLayer: (0,)}


def _rows(b, value: str, order: tuple, hidden: int) -> str:
    """The gate blocks of a (G*H, ...) weight or (G*H,) bias in ONNX's order."""
    if order == tuple(range(len(order))):
        return value
    index = np.concatenate([np.arange(k * hidden, (k + 1) * hidden) for k in order]).astype(np.int64)
    return b.add("Gather", [value, b.const(index, base="gate_order")], axis=0)


def _export_layer(b, node, op_type: str, states: int, **attributes) -> None:
    """``states`` initial-state inputs follow x: (x, h0[, c0], w_ih, w_hh, b_ih, b_hh)."""
    order = _ORDER[type(node)]
    x = b.input(node, 0)
    hidden = node.inputs[2 + states].shape[1]
    w = b.unsqueeze(_rows(b, b.input(node, 1 + states), order, hidden), [0])
    r = b.unsqueeze(_rows(b, b.input(node, 2 + states), order, hidden), [0])
    inputs = [x, w, r]
    if node.inputs[3 + states] is not None:
        biases = [_rows(b, b.input(node, k), order, hidden) for k in (3 + states, 4 + states)]
        inputs.append(b.unsqueeze(b.add("Concat", biases, axis=0), [0]))
    else:
        inputs.append("")
    inputs.append("")  # sequence_lens: every sequence is full length
    for k in range(states):
        inputs.append("" if node.inputs[1 + k] is None else b.unsqueeze(b.input(node, 1 + k), [0]))
    while inputs and inputs[-1] == "":
        inputs.pop()
    direction = "reverse" if node.trace_options.get("reverse") else "forward"
    outputs = b.add(op_type, inputs, 1 + states, hidden_size=int(hidden), direction=direction, **attributes)
    b.squeeze(outputs[0], [1], [b.output(node, 0)])
    for k in range(states):
        b.squeeze(outputs[1 + k], [0], [b.output(node, 1 + k)])


@handles(LSTMLayer)
def _lstm(b, node):
    _export_layer(b, node, "LSTM", 2)


@handles(GRULayer)
def _gru(b, node):
    _export_layer(b, node, "GRU", 1, linear_before_reset=1)


@handles(RNNLayer)
def _rnn(b, node):
    activation = "Relu" if node.trace_options.get("nonlinearity") == "relu" else "Tanh"
    _export_layer(b, node, "RNN", 1, activations=[activation])
