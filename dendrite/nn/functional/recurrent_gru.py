"""The GRU layer over a whole sequence: fused gates, hand-derived backward through time.

Gates ``r, z, n`` (PyTorch's row order): ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,
``h_t = (1 - z) n + z h_{t-1}``. The input projection of every step is one matrix product and
each step makes one product ``h_{t-1} W_hh^T`` for all three gates. The shared machinery is in
:mod:`dendrite.nn.functional.recurrent_steps`; the one-step ``gru_cell`` is in
:mod:`dendrite.nn.functional.recurrent_cell`.
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

__all__ = ["gru_layer"]


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
