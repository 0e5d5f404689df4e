"""Recurrent layers over whole sequences: ``RNN``, ``LSTM``, ``GRU`` (PyTorch's ``torch.nn`` names).

Each layer and direction runs as one fused operation from
:mod:`dendrite.nn.functional.recurrent` (the whole sequence forward, then
back-propagation through time in one reversed loop). This file stacks those
into ``num_layers`` layers, runs the reverse direction of a bidirectional
layer, applies dropout between layers and handles PyTorch's input layouts:
time-major ``(L, N, H_in)``, ``batch_first`` ``(N, L, H_in)`` and unbatched ``(L, H_in)``.

Single steps (``RNNCell``, ``LSTMCell``, ``GRUCell``) live in ``rnn_cell.py``.
"""

from __future__ import annotations

import math
import numbers
import warnings

from dendrite import backend
from dendrite.backend import xp
from dendrite.devices import resolve_device
from dendrite.nn import functional as F
from dendrite.nn import init
from dendrite.nn.functional.packing import PackedSequence
from dendrite.nn.modules.module import Module
from dendrite.nn.modules.rnn_packed import packed_forward
from dendrite.nn.parameter import Parameter
from dendrite.ops.joining import cat, stack
from dendrite.tensor import Tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_int(layer: str, name: str, value, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{layer}: {name} should be of type int, got: {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{layer}: {name} must be greater than zero, got {value}")


class RNNBase(Module):
    """Shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU`.

    Parameters per layer ``k`` (and ``..._reverse`` for the backward direction), named and
    ordered as in PyTorch: ``weight_ih_lk`` (G*H, H_in or D*H), ``weight_hh_lk`` (G*H, H),
    ``bias_ih_lk`` and ``bias_hh_lk`` (G*H,), with G gates (RNN 1, GRU 3, LSTM 4) and D = 2 when
    bidirectional. All start from ``U(-1/sqrt(H), 1/sqrt(H))``.

    Shapes of ``forward(input, hx=None)``: input ``(L, N, H_in)`` (``(N, L, H_in)`` with
    ``batch_first``, or unbatched ``(L, H_in)``); ``hx`` (and LSTM's ``cx``) ``(D*num_layers, N, H)``;
    returns ``output`` ``(L, N, D*H)`` (batch first with ``batch_first``) and the final state(s).

    Example:
        >>> import dendrite
        >>> lstm = dendrite.nn.RNNBase("LSTM", input_size=3, hidden_size=4, bidirectional=True)
        >>> lstm.flatten_parameters()   # a no-op, as on the CPU in PyTorch
        >>> output, (h, c) = lstm(dendrite.zeros(5, 2, 3))
        >>> output.shape, h.shape, [p.shape for p in lstm.all_weights[0]]
        ((5, 2, 8), (2, 2, 4), [(16, 3), (16, 4), (16,), (16,)])
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__()
        layer = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode!r}; expected one of {sorted(_GATES)}")
        device = resolve_device(device, layer)
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                f"{layer}: dropout should be a number in range [0, 1] representing the probability of an "
                f"element being zeroed, got {dropout!r}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=3,
            )
        for name, value in (("bias", bias), ("batch_first", batch_first), ("bidirectional", bidirectional)):
            if not isinstance(value, bool):
                raise TypeError(f"{layer}: {name} should be of type bool, got: {type(value).__name__}")
        _check_int(layer, "input_size", input_size, 1)
        _check_int(layer, "hidden_size", hidden_size, 1)
        _check_int(layer, "num_layers", num_layers, 1)
        if proj_size != 0:
            raise NotImplementedError(f"{layer}: proj_size={proj_size} is not supported (only 0)")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        self.dropout = float(dropout)
        self.proj_size = 0
        dtype = backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for index in range(num_layers):
            layer_input_size = input_size if index == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input_size)),
                          ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                names = []
                for stem, shape in shapes:
                    name = f"{stem}_l{index}{suffix}"
                    setattr(self, name, Parameter(xp.empty(shape, dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()
        if device.type != "cpu":  # made on the CPU, then moved (PyTorch: made there)
            self.to(device)

    def reset_parameters(self) -> None:
        """Every weight and bias from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``, as in PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch compatibility (cuDNN weight packing does not apply here)."""

    @property
    def _flat_weights(self) -> list:
        return [self._parameters.get(name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction: ``[[w_ih, w_hh, b_ih, b_hh], ...]``."""
        return [[self._parameters[name] for name in names] for names in self._all_weights]

    def _layer_weights(self, index: int, direction: int) -> tuple:
        params = self._parameters
        suffix = "_reverse" if direction == 1 else ""
        return (params[f"weight_ih_l{index}{suffix}"], params[f"weight_hh_l{index}{suffix}"],
                params.get(f"bias_ih_l{index}{suffix}"), params.get(f"bias_hh_l{index}{suffix}"))

    def _run_layer(self, x: Tensor, states: list, weights: tuple, reverse: bool) -> tuple:
        """One layer, one direction: (output (T, N, H), final state(s) (N, H) ...)."""
        if self.mode == "LSTM":
            return F.lstm_layer(x, states[0], states[1], *weights, reverse=reverse)
        if self.mode == "GRU":
            return F.gru_layer(x, states[0], *weights, reverse=reverse)
        nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
        return F.rnn_layer(x, states[0], *weights, reverse=reverse, nonlinearity=nonlinearity)

    def _check_states(self, input: Tensor, states: tuple, batched: bool) -> None:
        name = self._get_name()
        dims = tuple(state.ndim for state in states)
        wanted = 3 if batched else 2
        if any(d != wanted for d in dims):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            what = "hx and cx" if len(states) == 2 else "hx"
            got = ", ".join(f"{d}-D" for d in dims)
            raise RuntimeError(f"{name}: for {kind} input of shape {tuple(input.shape)}, {what} should "
                               f"also be {wanted}-D but got ({got}) tensors")

    def _states_of(self, hx) -> tuple | None:
        """``hx`` as a tuple of state tensors (``(h_0, c_0)`` for an LSTM, ``(h_0,)`` otherwise), or None."""
        if hx is None:
            return None
        if self.mode == "LSTM" and (isinstance(hx, Tensor) or len(hx) != 2):
            raise TypeError(f"{self._get_name()}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
        return tuple(hx) if self.mode == "LSTM" else (hx,)

    def forward(self, input: Tensor | PackedSequence, hx=None):
        name = self._get_name()
        n_states = 2 if self.mode == "LSTM" else 1
        if isinstance(input, PackedSequence):  # each sequence stops at its own length (rnn_packed.py)
            return packed_forward(self, input, hx)
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead "
                             f"(shape {tuple(input.shape)})")
        batched = input.ndim == 3
        states = self._states_of(hx)
        if states is not None:
            self._check_states(input, states, batched)
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"{name}: input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}(input_size={self.input_size}): input.size(-1) must be equal to input_size. "
                f"Expected {self.input_size}, got {input.shape[-1]} (input shape {tuple(input.shape)})"
            )
        if not batched:
            input = input.unsqueeze(1)
            states = None if states is None else tuple(state.unsqueeze(1) for state in states)
        elif self.batch_first:
            input = input.transpose(0, 1)
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, input.shape[1], self.hidden_size)
        per_layer = [[None] * n_states for _ in range(expected[0])]
        if states is not None:
            for k, state in enumerate(states):
                if tuple(state.shape) != expected:
                    which = f"hidden[{k}] " if n_states == 2 else "hidden "
                    raise RuntimeError(
                        f"{name}: Expected {which}size {expected}, got {list(state.shape)} "
                        "(num_layers * num_directions, batch, hidden_size)"
                    )
                for index, piece in enumerate(state.unbind(0)):
                    per_layer[index][k] = piece
        finals = [[] for _ in range(n_states)]
        layer_input = input
        for index in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                position = index * directions + direction
                weights = self._layer_weights(index, direction)
                output, *last = self._run_layer(layer_input, per_layer[position], weights, direction == 1)
                outputs.append(output)
                for k, state in enumerate(last):
                    finals[k].append(state)
            layer_input = outputs[0] if directions == 1 else cat(outputs, dim=2)
            if self.dropout > 0 and self.training and index < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        output = layer_input
        hidden = [stack(states, 0) for states in finals]
        if not batched:
            output = output.squeeze(1)
            hidden = [state.squeeze(1) for state in hidden]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (tuple(hidden) if n_states == 2 else hidden[0])

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act ``'tanh'`` or ``'relu'``.

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``. Shapes (D = 2 if bidirectional else 1):
    input (L, N, H_in), (N, L, H_in) with ``batch_first`` or unbatched (L, H_in);
    h_0 (D*num_layers, N, H) or (D*num_layers, H), zeros when omitted.
    Returns ``(output, h_n)``: output (L, N, D*H) (batch_first: (N, L, D*H)), h_n like h_0.

    Example:
        >>> import dendrite
        >>> rnn = dendrite.nn.RNN(10, 20, 2)
        >>> output, h_n = rnn(dendrite.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("RNN: proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:  # PyTorch's positional order puts nonlinearity fourth
            nonlinearity, args = args[3], args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)
        self.nonlinearity = nonlinearity  # (PyTorch's repr does not show it either)


class LSTM(RNNBase):
    """Long short-term memory: gates ``i, f, g, o``; ``c_t = f c_{t-1} + i g``; ``h_t = o tanh(c_t)``.

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``. Shapes (D = 2 if bidirectional else 1): input (L, N, H_in),
    (N, L, H_in) with ``batch_first`` or unbatched (L, H_in); ``hx = (h_0, c_0)``, each
    (D*num_layers, N, H) or (D*num_layers, H), zeros when omitted.
    Returns ``(output, (h_n, c_n))``: output (L, N, D*H) (batch_first: (N, L, D*H)).

    Example:
        >>> import dendrite
        >>> lstm = dendrite.nn.LSTM(64, 256, batch_first=True)
        >>> output, (h_n, c_n) = lstm(dendrite.randn(32, 50, 64))
        >>> output.shape, h_n.shape
        ((32, 50, 256), (1, 32, 256))
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit: gates ``r, z, n``; ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``;
    ``h_t = (1 - z) n + z h_{t-1}``.

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``. Shapes as for :class:`RNN`; returns ``(output, h_n)``.

    Example:
        >>> import dendrite
        >>> gru = dendrite.nn.GRU(10, 20, bidirectional=True)
        >>> output, h_n = gru(dendrite.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        ((5, 3, 40), (2, 3, 20))
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("GRU: proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)
