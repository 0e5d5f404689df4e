"""The LSTM layer over a whole sequence: fused gates, hand-derived backward through time.

Gates ``i, f, g, o`` (PyTorch's row order): ``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``.
All four gates of a step come from one product ``h_{t-1} W_hh^T`` plus the input projection of
every step made at once; one tanh call activates them (the sigmoid gates' rows are halved,
``sigmoid(z) = 0.5 tanh(z / 2) + 0.5``, see ``recurrent_steps._half_sigmoid_scale``).
The shared machinery is in :mod:`dendrite.nn.functional.recurrent_steps`; the one-step
``lstm_cell`` is in :mod:`dendrite.nn.functional.recurrent_cell`.
"""

from __future__ import annotations

# Tensor must be loaded before Function: importing autograd.function first is a circular import.
import dendrite.tensor  # noqa: F401
from dendrite import backend, ops
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.recurrent_steps import (
    _affine_step,
    _check,
    _flatten_input,
    _gate_views,
    _half_sigmoid_scale,
    _initial_state,
    _sum_over_steps,
    _time_steps,
    _unrolled,
)
from dendrite.ops.graph_operands import composed_gradients
from dendrite.tensor import Tensor
from dendrite.utils.blas import matmul, serial_threads

__all__ = ["lstm_layer"]


class LSTMLayer(Function):
    """LSTM over a sequence (gates ``i, f, g, o``; ``c_t = f c_{t-1} + i g``; ``h_t = o tanh(c_t)``)."""

    n_outputs = 3

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        length, batch = x.shape[:2]
        hidden = w_hh.shape[1]
        dtype = x.dtype
        module = backend.namespace(x)  # numpy, or cupy for a CUDA tensor
        scale = backend.move_like(x, _half_sigmoid_scale(4, hidden, dtype))
        offset = 1 - scale
        self.x2, self.x_shape, self.w_ih, self.w_hh = _flatten_input(x), x.shape, w_ih, w_hh
        gates = matmul(self.x2, (w_ih * scale[:, None]).T)  # every time step's input projection at once
        if b_ih is not None:
            gates += (b_ih + b_hh) * scale
        gates = gates.reshape(length, batch, 4 * hidden)
        w_hh_t = (w_hh * scale[:, None]).T
        steps, prev, out = _time_steps(length, reverse)
        hs = module.empty((length + 1, batch, hidden), dtype)
        cs = xp.empty_like(hs)
        _initial_state(hs, prev * length, h0)
        _initial_state(cs, prev * length, c0)
        # Per-step scratch only: every (T, N, ...) array costs fresh memory (page faults) on each call,
        # so tanh(c_t) is not kept but recomputed by backward (one small tanh per step).
        recurrent = module.empty((batch, 4 * hidden), dtype)
        product = module.empty((batch, hidden), dtype)
        tanh_c = module.empty((batch, hidden), dtype)
        i, f, g, o = _gate_views(gates, 4)  # each (T, N, H): indexing one per step is cheap
        with serial_threads(2 * batch * hidden * 4 * hidden):  # the loop's products, decided once
            for t in steps:
                step = gates[t]  # becomes the activated gates, kept for backward
                xp.matmul(hs[t + prev], w_hh_t, out=recurrent)
                step += recurrent
                xp.tanh(step, out=step)
                step *= scale
                step += offset
                c = cs[t + out]
                xp.multiply(f[t], cs[t + prev], out=c)
                xp.multiply(i[t], g[t], out=product)
                c += product
                xp.tanh(c, out=tanh_c)
                xp.multiply(o[t], tanh_c, out=hs[t + out])
        self.gates, self.hs, self.cs = gates, hs, cs
        self.reverse, self.has_bias = reverse, b_ih is not None
        return hs[out:out + length], hs[out * length].copy(), cs[out * length].copy()

    def backward(self, grads):
        # c_t = f⊙c_{t-1} + i⊙g, h_t = o⊙tanh(c_t):  dc += dh⊙o⊙(1 - tanh²c);  do = dh⊙tanh(c)
        # di, df, dg = dc⊙g, dc⊙c_{t-1}, dc⊙i (times σ'/tanh');  dh_{t-1} = dgates · W_hh;  dc_{t-1} = dc⊙f
        # then dX = dgates · W_ih;  dW_ih = dgatesᵀ · X;  dW_hh = dgatesᵀ · H_{t-1};  db = Σ dgates
        grad_out, grad_h, grad_c = grads
        gates, hs, cs, w_hh = self.gates, self.hs, self.cs, self.w_hh
        length, batch, hidden = gates.shape[0], hs.shape[1], hs.shape[2]
        dtype = hs.dtype
        module = backend.namespace(hs)  # numpy, or cupy for a CUDA tensor
        steps, prev, out = _time_steps(length, self.reverse)
        # The gates' slopes as (a - low)(1 - a): σ' = a(1 - a) for i, f, o (low 0), tanh' = (1 + g)(1 - g)
        low = module.zeros(3 * hidden, dtype)
        low[2 * hidden:] = -1
        # Only (N, ...) scratch in the loop, reused every step: the step's rows stay in cache and no
        # (T, N, ...) temporaries are made.
        grad_gates = xp.empty_like(gates)
        dh = module.zeros((batch, hidden), dtype) if grad_h is None else grad_h.copy()
        dc = module.zeros((batch, hidden), dtype) if grad_c is None else grad_c.copy()
        tanh_c, scratch = module.empty((batch, hidden), dtype), module.empty((batch, hidden), dtype)
        slope = module.empty((batch, 4 * hidden), dtype)
        i, f, g, o = _gate_views(gates, 4)
        grad_i, grad_f, grad_g, grad_o = _gate_views(grad_gates, 4)
        first, slope_first = slice(0, 3 * hidden), slope[:, :3 * hidden]
        needs = self.needs_input_grad
        # The loop's last step feeds only dL/dh_0 and dL/dc_0: its product is skipped when neither is asked
        last = steps[0] if not (needs[1] or needs[2]) else None
        with serial_threads(2 * batch * 4 * hidden * hidden):
            for t in reversed(steps):
                grad = grad_gates[t]
                if grad_out is not None:
                    dh += grad_out[t]
                xp.tanh(cs[t + out], out=tanh_c)
                xp.multiply(dh, o[t], out=scratch)  # dh⊙o
                xp.multiply(scratch, tanh_c, out=grad_o[t])  # dL/do ⊙ o (the rest of σ' below)
                dc += scratch  # dc += dh⊙o⊙(1 - tanh²c), as dh⊙o - (dh⊙o⊙tanh c)⊙tanh c
                xp.multiply(grad_o[t], tanh_c, out=scratch)
                dc -= scratch
                xp.multiply(dc, g[t], out=grad_i[t])
                xp.multiply(dc, cs[t + prev], out=grad_f[t])
                xp.multiply(dc, i[t], out=grad_g[t])
                xp.subtract(gates[t, :, first], low, out=slope_first)  # i, f, 1 + g
                grad[:, first] *= slope_first
                xp.subtract(1, gates[t], out=slope)  # 1 - i, 1 - f, 1 - g, 1 - o
                grad *= slope
                if t == last:
                    break
                xp.matmul(grad, w_hh, out=dh)  # dL/dh_{t-1}: one product for all four gates
                dc *= f[t]  # dL/dc_{t-1}
        flat = grad_gates.reshape(length * batch, 4 * hidden)
        grad_x = matmul(flat, self.w_ih).reshape(self.x_shape) if needs[0] else None
        grad_w_ih = matmul(flat.T, self.x2) if needs[3] else None
        previous_states = hs[prev:prev + length].reshape(length * batch, hidden)
        grad_w_hh = matmul(flat.T, previous_states) if needs[4] else None
        grad_b = _sum_over_steps(grad_gates) if self.has_bias else None
        return (grad_x, dh if needs[1] else None, dc if needs[2] else None, grad_w_ih, grad_w_hh,
                grad_b, None if grad_b is None else grad_b.copy())

    def backward_graph(self, *grads):
        # Recomputed step by step with differentiable ops: gates i, f, g, o; c = σ(f) c + σ(i) tanh(g)
        reverse = self.reverse

        def composed(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *_):
            def step(x_t, state):
                i, f, g, o = (_affine_step(x_t, w_ih, b_ih) + _affine_step(state[0], w_hh, b_hh)).chunk(4, 1)
                c = ops.sigmoid(f) * state[1] + ops.sigmoid(i) * ops.tanh(g)
                return ops.sigmoid(o) * ops.tanh(c), c
            outputs, (h, c) = _unrolled(x, (h0, c0), w_hh.shape[1], reverse, step)
            return outputs, h, c
        return composed_gradients(self, grads, composed)


def lstm_layer(input: Tensor, hx: Tensor | None, cx: Tensor | None, weight_ih: Tensor, weight_hh: Tensor,
               bias_ih: Tensor | None = None, bias_hh: Tensor | None = None,
               reverse: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM layer in one direction over a whole sequence (fused gates, fused backward).

    Shapes: input (T, N, H_in); hx, cx (N, H) or None (zeros); weight_ih (4H, H_in);
    weight_hh (4H, H); biases (4H,), gate rows ``i, f, g, o``. Returns output (T, N, H),
    h_n (N, H) and c_n (N, H).

    Example:
        >>> import dendrite
        >>> x, w_ih, w_hh = dendrite.randn(5, 2, 3), dendrite.randn(16, 3), dendrite.randn(16, 4)
        >>> output, h_n, c_n = dendrite.nn.functional.lstm_layer(x, None, None, w_ih, w_hh)
        >>> output.shape, c_n.shape
        ((5, 2, 4), (2, 4))
    """
    _check("lstm_layer", 4, input, (hx, cx), weight_ih, weight_hh, bias_ih, bias_hh)
    return LSTMLayer.apply(input, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh, reverse=reverse)
