"""What the whole-sequence recurrent layers share: time-step order, gate views, state buffers, checks.

:mod:`dendrite.nn.functional.recurrent` (RNN), :mod:`~dendrite.nn.functional.recurrent_lstm`
and :mod:`~dendrite.nn.functional.recurrent_gru` each run one layer over a time-major sequence
``(T, N, H_in)``. They keep their state in one ``(T + 1, N, H)`` buffer (step ``t`` reads slot
``t + prev`` and writes ``t + out``, :func:`_time_steps`), read the gates of a ``(T, N, G*H)``
array as views (:func:`_gate_views`), and fall back on :func:`_unrolled`, a plain loop over
tensor operations, for their double backward. :func:`_check` validates the arguments of the
three public ``*_layer`` functions.
"""

from __future__ import annotations

from dendrite import backend, ops
from dendrite.backend import xp
from dendrite.tensor import Tensor, wrap


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
