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
"""

from __future__ import annotations

# Tensor must be loaded before Function: importing autograd.function first is a circular import.
import dendrite.tensor  # noqa: F401
from dendrite import backend, ops
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import composed_gradients
from dendrite.tensor import Tensor, wrap
from dendrite.utils.blas import matmul, serial_threads

__all__ = ["gru_layer", "lstm_layer", "rnn_layer"]


def _half_sigmoid_scale(n_gates: int, hidden: int, dtype):
    """Row multipliers: 0.5 for every sigmoid gate, 1 for the last (tanh) gate.

    ``sigmoid(z) = 0.5 * tanh(z / 2) + 0.5``. Halving the sigmoid gates' weight rows
    and biases (exact in floating point) lets ONE tanh call activate all gates of a
    step; ``tanh(.) * scale + (1 - scale)`` then turns the sigmoid gates' tanh into
    their sigmoid and leaves the tanh gate alone. The tanh form also never overflows.
    """
    scale = xp.full((n_gates, hidden), 0.5, dtype)
    scale[-1 if n_gates == 3 else 2] = 1.0  # GRU: n (last); LSTM: g (third)
    return scale.reshape(-1)


def _time_steps(length: int, reverse: bool):
    """Step order, and where step ``t`` reads / writes the state in a ``(T + 1, ...)`` buffer.

    Step ``t`` reads the previous state at ``t + prev`` and writes its own at
    ``t + out``; the initial state sits at ``prev * T`` and the final one at ``out * T``.
    """
    if reverse:
        return range(length - 1, -1, -1), 1, 0
    return range(length), 0, 1


def _gate_views(rows, n_gates: int):
    """The gates of a ``(T, N, G*H)`` array as ``G`` views of shape ``(T, N, H)`` (PyTorch's gate order)."""
    hidden = rows.shape[-1] // n_gates
    return [rows[..., k * hidden:(k + 1) * hidden] for k in range(n_gates)]


def _flatten_input(x):
    """(T, N, H_in) -> contiguous (T*N, H_in) (a view when ``x`` is already contiguous)."""
    return backend.ascontiguousarray(x).reshape(x.shape[0] * x.shape[1], x.shape[2])


def _sum_over_steps(grad):
    """(T, N, G) -> (G,): the bias gradient.

    Summing the batch first and then time keeps float32 rounding at the level of
    T + N additions instead of the T * N of one long running sum over rows.
    """
    return grad.sum(axis=1).sum(axis=0)


def _initial_state(buffer, index, state) -> None:
    buffer[index] = 0 if state is None else state


def _affine_step(x, weight, bias):
    """``x Wᵀ + b`` with tensors (the composed forms of double backward)."""
    out = x @ weight.t()
    return out if bias is None else out + bias


def _unrolled(x, states, hidden: int, reverse: bool, step):
    """Run ``step(x_t, states) -> states`` over time with tensors; (outputs in time order, last states).

    A ``None`` initial state is zeros. Used by the layers' ``backward_graph`` (their composed form).
    """
    states = tuple(wrap(backend.namespace(x).zeros(
        (x.shape[1], hidden), x.dtype)) if s is None else s for s in states)
    outputs = [None] * x.shape[0]
    for t in (reversed(range(x.shape[0])) if reverse else range(x.shape[0])):
        states = step(x[t], states)
        outputs[t] = states[0]
    return ops.stack(outputs), states


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


class GRULayer(Function):
    """GRU over a sequence (gates ``r, z, n``; ``h_t = (1 - z) n + z h_{t-1}``)."""

    n_outputs = 2

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        length, batch = x.shape[:2]
        hidden = w_hh.shape[1]
        dtype = x.dtype
        module = backend.namespace(x)  # numpy, or cupy for a CUDA tensor
        scale = backend.move_like(x, _half_sigmoid_scale(3, hidden, dtype))
        self.x2, self.x_shape, self.w_ih, self.w_hh = _flatten_input(x), x.shape, w_ih, w_hh
        acts = matmul(self.x2, (w_ih * scale[:, None]).T)  # W_i{r,z,n} x_t for every step at once
        if b_ih is not None:
            acts += b_ih * scale
            acts[:, :2 * hidden] += b_hh[:2 * hidden] * 0.5  # b_hr, b_hz simply add; b_hn is inside r * (.)
        acts = acts.reshape(length, batch, 3 * hidden)  # each step's row becomes its gates r, z, n
        w_hh_t = (w_hh * scale[:, None]).T
        steps, prev, out = _time_steps(length, reverse)
        hs = module.empty((length + 1, batch, hidden), dtype)
        _initial_state(hs, prev * length, h0)
        hidden_ns = module.empty((length, batch, hidden), dtype)  # W_hn h_{t-1} + b_hn, kept for backward
        recurrent = module.empty((batch, 3 * hidden), dtype)  # W_hh h_{t-1}, one step's scratch
        r, z, n = _gate_views(acts, 3)
        with serial_threads(2 * batch * hidden * 3 * hidden):  # the loop's products, decided once
            for t in steps:
                h_prev, a = hs[t + prev], acts[t]
                xp.matmul(h_prev, w_hh_t, out=recurrent)
                rz = a[:, :2 * hidden]
                rz += recurrent[:, :2 * hidden]
                xp.tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5
                hidden_n = hidden_ns[t]
                if b_ih is not None:
                    xp.add(recurrent[:, 2 * hidden:], b_hh[2 * hidden:], out=hidden_n)
                else:
                    hidden_n[...] = recurrent[:, 2 * hidden:]
                n_t = n[t]
                xp.multiply(r[t], hidden_n, out=recurrent[:, 2 * hidden:])
                n_t += recurrent[:, 2 * hidden:]
                xp.tanh(n_t, out=n_t)
                h = hs[t + out]  # n + z (h_prev - n)
                xp.subtract(h_prev, n_t, out=h)
                h *= z[t]
                h += n_t
        self.acts, self.hidden_n, self.hs = acts, hidden_ns, hs
        self.reverse, self.has_bias = reverse, b_ih is not None
        return hs[out:out + length], hs[out * length].copy()

    def backward(self, grads):
        # h_t = (1 - z)⊙n + z⊙h_{t-1}, n = tanh(W_in x + r⊙(W_hn h + b_hn)):  dn = dh⊙(1 - z)⊙(1 - n²);
        # dz = dh⊙(h_{t-1} - n)⊙σ';  dr = dn⊙(W_hn h + b_hn)⊙σ';  dh_{t-1} = dh⊙z + [dr, dz, dn⊙r] · W_hh
        # then dX = d(input side) · W_ih;  dW = dᵀ · X (input) or dᵀ · H_{t-1} (hidden);  db = Σ d
        grad_out, grad_h = grads
        acts, hs, w_hh, w_ih, hidden_ns = self.acts, self.hs, self.w_hh, self.w_ih, self.hidden_n
        length, batch = acts.shape[:2]
        hidden = hs.shape[2]
        dtype = hs.dtype
        module = backend.namespace(hs)  # numpy, or cupy for a CUDA tensor
        steps, prev, out = _time_steps(length, self.reverse)
        h_prev = hs[prev:prev + length]
        r, z, n = _gate_views(acts, 3)
        grad_hidden = xp.empty_like(acts)  # dL/d(W_hh h + b_hh), gates r, z, n
        grad_input_n = module.empty((length, batch, hidden), dtype)  # dL/d(W_in x + b_in)
        grad_r, grad_z, grad_n = _gate_views(grad_hidden, 3)
        dh = module.zeros((batch, hidden), dtype) if grad_h is None else grad_h.copy()
        # (N, ...) scratch only, reused every step (no (T, N, ...) temporaries)
        slope = module.empty((batch, 2 * hidden), dtype)  # σ' of r and z
        from_n, scratch = module.empty((batch, hidden), dtype), module.empty((batch, hidden), dtype)
        one_minus_z = slope[:, hidden:]
        needs = self.needs_input_grad
        last = None if needs[1] else steps[0]  # the last step's product only feeds dL/dh_0
        with serial_threads(2 * batch * 3 * hidden * hidden):
            for t in reversed(steps):
                if grad_out is not None:
                    dh += grad_out[t]
                rz, dn = acts[t, :, :2 * hidden], grad_input_n[t]
                xp.subtract(1, rz, out=slope)  # 1 - r, 1 - z
                xp.multiply(n[t], n[t], out=from_n)
                xp.subtract(1, from_n, out=from_n)
                from_n *= one_minus_z  # (1 - z)(1 - n²)
                slope *= rz  # r(1 - r), z(1 - z)
                xp.multiply(dh, from_n, out=dn)
                xp.multiply(dn, hidden_ns[t], out=grad_r[t])
                xp.subtract(h_prev[t], n[t], out=grad_z[t])
                grad_z[t] *= dh
                grad_hidden[t, :, :2 * hidden] *= slope
                xp.multiply(dn, r[t], out=grad_n[t])
                if t == last:
                    break
                xp.matmul(grad_hidden[t], w_hh, out=scratch)
                dh *= z[t]
                dh += scratch  # dL/dh_{t-1}
        # The input side's r and z gradients equal the hidden side's; only n differs.
        flat_h = grad_hidden.reshape(length * batch, 3 * hidden)
        flat_rz, flat_n = flat_h[:, :2 * hidden], grad_input_n.reshape(length * batch, hidden)
        grad_x = grad_w_ih = grad_w_hh = grad_b_ih = grad_b_hh = None
        if needs[0]:
            grad_x = matmul(flat_rz, w_ih[:2 * hidden]) + matmul(flat_n, w_ih[2 * hidden:])
            grad_x = grad_x.reshape(self.x_shape)
        if needs[2]:
            grad_w_ih = xp.empty_like(w_ih)
            matmul(flat_rz.T, self.x2, out=grad_w_ih[:2 * hidden])
            matmul(flat_n.T, self.x2, out=grad_w_ih[2 * hidden:])
        if needs[3]:
            grad_w_hh = matmul(flat_h.T, h_prev.reshape(length * batch, hidden))
        if self.has_bias:
            grad_b_hh = _sum_over_steps(grad_hidden)
            grad_b_ih = xp.concatenate([grad_b_hh[:2 * hidden], _sum_over_steps(grad_input_n)])
        return grad_x, dh if needs[1] else None, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh

    def backward_graph(self, *grads):
        # Recomputed step by step with differentiable ops: r, z = σ(.), n = tanh(n_x + r n_h)
        reverse = self.reverse

        def composed(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *_):
            def step(x_t, state):
                r_x, z_x, n_x = _affine_step(x_t, w_ih, b_ih).chunk(3, 1)
                r_h, z_h, n_h = _affine_step(state[0], w_hh, b_hh).chunk(3, 1)
                r, z = ops.sigmoid(r_x + r_h), ops.sigmoid(z_x + z_h)
                n = ops.tanh(n_x + r * n_h)
                return ((1 - z) * n + z * state[0],)
            outputs, (h,) = _unrolled(x, (h0,), w_hh.shape[1], reverse, step)
            return outputs, h
        return composed_gradients(self, grads, composed)


# ----------------------------------------------------------------------------- checked entry points
def _check(name: str, n_gates: int, input: Tensor, states, weight_ih, weight_hh, bias_ih, bias_hh) -> None:
    if input.ndim != 3:
        raise ValueError(f"{name}: expected a time-major input (T, N, H_in), got shape {tuple(input.shape)}")
    gate_rows, input_size = weight_ih.shape
    hidden = weight_hh.shape[1]
    if gate_rows != n_gates * hidden or weight_hh.shape != (n_gates * hidden, hidden):
        raise ValueError(
            f"{name}: weight_ih {tuple(weight_ih.shape)} and weight_hh {tuple(weight_hh.shape)} do not fit; "
            f"expected ({n_gates}*H, H_in) and ({n_gates}*H, H)"
        )
    if input.shape[2] != input_size:
        raise ValueError(
            f"{name}: input of shape {tuple(input.shape)} has {input.shape[2]} features; "
            f"weight_ih {tuple(weight_ih.shape)} expects {input_size}"
        )
    if (bias_ih is None) != (bias_hh is None):
        raise ValueError(f"{name}: give both bias_ih and bias_hh or neither")
    for label, bias in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if bias is not None and tuple(bias.shape) != (n_gates * hidden,):
            raise ValueError(f"{name}: {label} has shape {tuple(bias.shape)}; expected ({n_gates * hidden},)")
    expected = (input.shape[1], hidden)
    for state in states:
        if state is not None and tuple(state.shape) != expected:
            raise ValueError(f"{name}: state of shape {tuple(state.shape)}; expected (N, H) = {expected}")
    tensors = [input, weight_ih, weight_hh, bias_ih, bias_hh, *states]
    dtypes = {t.dtype for t in tensors if t is not None}
    if len(dtypes) > 1:
        raise TypeError(
            f"{name}: input, states and weights must share one dtype, got {sorted(map(str, dtypes))}"
        )
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point input, got {input.dtype}")


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


def gru_layer(input: Tensor, hx: Tensor | None, weight_ih: Tensor, weight_hh: Tensor,
              bias_ih: Tensor | None = None, bias_hh: Tensor | None = None,
              reverse: bool = False) -> tuple[Tensor, Tensor]:
    """One GRU layer in one direction over a whole sequence (fused gates, fused backward).

    Shapes: input (T, N, H_in); hx (N, H) or None (zeros); weight_ih (3H, H_in);
    weight_hh (3H, H); biases (3H,), gate rows ``r, z, n``. Returns output (T, N, H) and h_n (N, H).

    Example:
        >>> import dendrite
        >>> x, w_ih, w_hh = dendrite.randn(5, 2, 3), dendrite.randn(12, 3), dendrite.randn(12, 4)
        >>> output, h_n = dendrite.nn.functional.gru_layer(x, None, w_ih, w_hh)
        >>> output.shape
        (5, 2, 4)
    """
    _check("gru_layer", 3, input, (hx,), weight_ih, weight_hh, bias_ih, bias_hh)
    return GRULayer.apply(input, hx, weight_ih, weight_hh, bias_ih, bias_hh, reverse=reverse)
