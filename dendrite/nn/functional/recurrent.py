"""Recurrent layers as functions: a whole sequence of RNN, LSTM or GRU steps in one operation.

Each of ``RNNLayer``, ``LSTMLayer`` and ``GRULayer`` runs one layer in one
direction over a whole time-major sequence ``(T, N, H_in)`` and has a
hand-derived backward (back-propagation through time). That keeps the work in
big matrix products, which is what makes an LSTM fast on NumPy:

* the input projection ``x_t W_ih^T`` of *all* time steps is one matrix product;
* each step makes one product ``h_{t-1} W_hh^T`` for all gates together;
* backward runs one reversed loop (one product per step for ``dL/dh_{t-1}``)
  and then gets ``dW_ih``, ``dW_hh`` and ``dx`` from one product each over all
  time steps at once.

Gate layouts follow PyTorch: LSTM rows are ``i, f, g, o``; GRU rows are
``r, z, n`` with ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``. The one-step
cells (``lstm_cell``...) are in ``recurrent_cell``.

Files: this one holds the Elman RNN (``RNNLayer``, ``rnn_layer``) and re-exports the others;
``recurrent_lstm`` the LSTM, ``recurrent_gru`` the GRU, ``recurrent_steps`` what they share.
"""

from __future__ import annotations

# Tensor must be loaded before Function: importing autograd.function first is a circular import.
import dendrite.tensor  # noqa: F401
from dendrite import backend, ops
from dendrite.autograd.function import Function
from dendrite.backend import xp

# The LSTM and GRU layers live in files of their own; importable from here as before.
from dendrite.nn.functional.recurrent_gru import GRULayer, gru_layer  # noqa: F401
from dendrite.nn.functional.recurrent_lstm import LSTMLayer, lstm_layer  # noqa: F401
from dendrite.nn.functional.recurrent_steps import (
    _affine_step,
    _check,
    _flatten_input,
    _initial_state,
    _sum_over_steps,
    _time_steps,
    _unrolled,
)
from dendrite.ops.graph_operands import composed_gradients
from dendrite.tensor import Tensor
from dendrite.utils.blas import matmul, serial_threads

__all__ = ["gru_layer", "lstm_layer", "rnn_layer"]


class RNNLayer(Function):
    """Elman RNN over a sequence: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``."""

    n_outputs = 2

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, reverse=False, nonlinearity="tanh"):
        length, batch = x.shape[:2]
        hidden = w_hh.shape[1]
        self.x2, self.x_shape, self.w_ih, self.w_hh = _flatten_input(x), x.shape, w_ih, w_hh
        pre = matmul(self.x2, w_ih.T)  # every time step's input projection in one product
        if b_ih is not None:
            pre += b_ih + b_hh
        pre = pre.reshape(length, batch, hidden)
        steps, prev, out = _time_steps(length, reverse)
        hs = backend.namespace(x).empty((length + 1, batch, hidden), x.dtype)
        _initial_state(hs, prev * length, h0)
        w_hh_t = w_hh.T
        with serial_threads(2 * batch * hidden * hidden):  # the loop's products, decided once
            for t in steps:
                h = hs[t + out]
                xp.matmul(hs[t + prev], w_hh_t, out=h)
                h += pre[t]
                if nonlinearity == "tanh":
                    xp.tanh(h, out=h)
                else:
                    xp.maximum(h, 0, out=h)
        self.hs, self.reverse, self.has_bias = hs, reverse, b_ih is not None
        self.relu = nonlinearity == "relu"
        return hs[out:out + length], hs[out * length].copy()

    def backward(self, grads):
        # Backprop through time, t = T..1:  dz_t = (dY_t + dh_t) ⊙ act'(z_t);  dh_{t-1} = dz_t · W_hh
        # then for all steps at once: dX = dZ · W_ih;  dW_ih = dZᵀ · X;  dW_hh = dZᵀ · H_{t-1};  db = Σ dZ
        grad_out, grad_h = grads
        hs, w_hh = self.hs, self.w_hh
        length, batch, hidden = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        dtype = hs.dtype
        steps, prev, out = _time_steps(length, self.reverse)
        outputs = hs[out:out + length]
        module = backend.namespace(hs)  # numpy, or cupy for a CUDA tensor
        grad_pre = xp.empty_like(outputs)
        dh = module.zeros((batch, hidden), dtype) if grad_h is None else grad_h.copy()
        slope = module.empty((batch, hidden), dtype)  # d act / d pre-activation, one step's scratch
        needs = self.needs_input_grad
        last = None if needs[1] else steps[0]  # the last step's product only feeds dL/dh_0
        with serial_threads(2 * batch * hidden * hidden):
            for t in reversed(steps):
                if grad_out is not None:
                    dh += grad_out[t]
                if self.relu:
                    xp.greater(outputs[t], 0, out=slope)  # 0 at 0, as in PyTorch
                else:
                    xp.multiply(outputs[t], outputs[t], out=slope)
                    xp.subtract(1, slope, out=slope)
                xp.multiply(dh, slope, out=grad_pre[t])
                if t == last:
                    break
                xp.matmul(grad_pre[t], w_hh, out=dh)  # dL/dh_{t-1}
        flat = grad_pre.reshape(length * batch, hidden)
        grad_x = matmul(flat, self.w_ih).reshape(self.x_shape) if needs[0] else None
        grad_w_ih = matmul(flat.T, self.x2) if needs[2] else None
        previous_states = hs[prev:prev + length].reshape(length * batch, hidden)
        grad_w_hh = matmul(flat.T, previous_states) if needs[3] else None
        grad_b = _sum_over_steps(grad_pre) if self.has_bias else None
        return (grad_x, dh if needs[1] else None, grad_w_ih, grad_w_hh, grad_b,
                None if grad_b is None else grad_b.copy())

    def backward_graph(self, *grads):
        # Recomputed step by step with differentiable ops and differentiated (create_graph)
        reverse, relu = self.reverse, self.relu

        def composed(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *_):
            def step(x_t, state):
                total = _affine_step(x_t, w_ih, b_ih) + _affine_step(state[0], w_hh, b_hh)
                return (ops.relu(total) if relu else ops.tanh(total),)
            outputs, (h,) = _unrolled(x, (h0,), w_hh.shape[1], reverse, step)
            return outputs, h
        return composed_gradients(self, grads, composed)


def rnn_layer(input: Tensor, hx: Tensor | None, weight_ih: Tensor, weight_hh: Tensor,
              bias_ih: Tensor | None = None, bias_hh: Tensor | None = None, reverse: bool = False,
              nonlinearity: str = "tanh") -> tuple[Tensor, Tensor]:
    """One Elman RNN layer in one direction over a whole sequence.

    Shapes: input (T, N, H_in); hx (N, H) or None (zeros); weight_ih (H, H_in);
    weight_hh (H, H); biases (H,). Returns output (T, N, H) and h_n (N, H).
    ``reverse=True`` runs from the last time step to the first (output stays in time order).

    Example:
        >>> import dendrite
        >>> x, w_ih, w_hh = dendrite.randn(5, 2, 3), dendrite.randn(4, 3), dendrite.randn(4, 4)
        >>> output, h_n = dendrite.nn.functional.rnn_layer(x, None, w_ih, w_hh)
        >>> output.shape, h_n.shape
        ((5, 2, 4), (2, 4))
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_layer: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
    _check("rnn_layer", 1, input, (hx,), weight_ih, weight_hh, bias_ih, bias_hh)
    return RNNLayer.apply(input, hx, weight_ih, weight_hh, bias_ih, bias_hh, reverse=reverse,
                          nonlinearity=nonlinearity)
