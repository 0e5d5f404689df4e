"""Single recurrent steps: ``RNNCell``, ``LSTMCell``, ``GRUCell`` (PyTorch's ``torch.nn`` names).

A cell advances the state by one time step; loop over time yourself. Each call
is the fused one-step form of the sequence operations in
:mod:`dendrite.nn.functional.recurrent` (one matrix product per weight for all gates),
through the cell functions of :mod:`dendrite.nn.functional.recurrent_cell`.
For whole sequences prefer ``RNN``/``LSTM``/``GRU``: they run the loop inside one operation.
"""

from __future__ import annotations

import math

from dendrite import backend
from dendrite.backend import xp
from dendrite.devices import resolve_device
from dendrite.nn import functional as F
from dendrite.nn import init
from dendrite.nn.modules.module import Module
from dendrite.nn.parameter import Parameter
from dendrite.tensor import Tensor

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    """Parameters shared by the cells: ``weight_ih`` (G*H, H_in), ``weight_hh`` (G*H, H),
    ``bias_ih`` and ``bias_hh`` (G*H,), all from ``U(-1/sqrt(H), 1/sqrt(H))`` as in PyTorch.

    ``num_chunks`` is the number of gates G (RNN 1, GRU 3, LSTM 4); the subclasses define ``forward``.

    Example:
        >>> import dendrite
        >>> cell = dendrite.nn.RNNCellBase(input_size=3, hidden_size=4, bias=True, num_chunks=3)
        >>> [(name, p.shape) for name, p in cell.named_parameters()]
        [('weight_ih', (12, 3)), ('weight_hh', (12, 4)), ('bias_ih', (12,)), ('bias_hh', (12,))]
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        name = type(self).__name__
        device = resolve_device(device, name)
        for label, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name}: {label} must be a positive int, got {value!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dtype = backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)
        gate_size = num_chunks * hidden_size
        self.weight_ih = Parameter(xp.empty((gate_size, input_size), dtype))
        self.weight_hh = Parameter(xp.empty((gate_size, hidden_size), dtype))
        if bias:
            self.bias_ih = Parameter(xp.empty((gate_size,), dtype))
            self.bias_hh = Parameter(xp.empty((gate_size,), dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        if device.type != "cpu":  # made on the CPU, then moved (PyTorch: made there)
            self.to(device)

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        return text if nonlinearity == "tanh" else text + f", nonlinearity={nonlinearity}"

    def _prepare(self, input: Tensor, states: tuple) -> tuple[Tensor, tuple, bool]:
        """Check shapes and dtypes; make everything batched: (N, H_in) input, (N, H) states."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead "
                             f"(shape {tuple(input.shape)})")
        for k, state in enumerate(states):
            if state is not None and state.ndim not in (1, 2):
                label = f"hx[{k}]" if len(states) == 2 else "hidden"
                raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {state.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}(input_size={self.input_size}): input of shape {tuple(input.shape)} has "
                f"{input.shape[-1]} features; expected {self.input_size}"
            )
        if input.dtype != self.weight_ih.dtype:
            raise ValueError(f"{name}: input dtype ({input.dtype}) does not match weight dtype "
                             f"({self.weight_ih.dtype})")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
            states = tuple(None if s is None else s.unsqueeze(0) for s in states)
        expected = (input.shape[0], self.hidden_size)
        for state in states:
            if state is not None and tuple(state.shape) != expected:
                shape = tuple(state.shape) if batched else tuple(state.shape[1:])
                want = expected if batched else expected[1:]
                raise RuntimeError(f"{name}: hidden state of shape {shape} does not fit input of shape "
                                   f"{tuple(input.shape if batched else input.shape[1:])}; expected {want}")
        return input, states, batched

    def _weights(self) -> tuple:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class RNNCell(RNNCellBase):
    """One Elman step ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``, act ``'tanh'`` or ``'relu'``.

    Shapes: input (N, H_in) or (H_in,); hx (N, H) or (H,), zeros when omitted -> h' like hx.

    Example:
        >>> import dendrite
        >>> cell = dendrite.nn.RNNCell(10, 20)
        >>> h = cell(dendrite.randn(3, 10))
        >>> cell(dendrite.randn(3, 10), h).shape
        (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (hx,), batched = self._prepare(input, (hx,))
        step = F.rnn_tanh_cell if self.nonlinearity == "tanh" else F.rnn_relu_cell
        h = step(input, hx, *self._weights())
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates ``i, f, g, o``): ``c' = f c + i g``, ``h' = o tanh(c')``.

    Shapes: input (N, H_in) or (H_in,); ``hx = (h, c)``, each (N, H) or (H,), zeros when
    omitted. Returns ``(h', c')`` shaped like h.

    Example:
        >>> import dendrite
        >>> cell = dendrite.nn.LSTMCell(10, 20)
        >>> h, c = cell(dendrite.randn(3, 10))
        >>> h.shape, c.shape
        ((3, 20), (3, 20))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if hx is not None and (isinstance(hx, Tensor) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c), got {type(hx).__name__}")
        input, (h, c), batched = self._prepare(input, (None, None) if hx is None else tuple(hx))
        h, c = F.lstm_cell(input, h, c, *self._weights())
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (gates ``r, z, n``): ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``,
    ``h' = (1 - z) n + z h``.

    Shapes: input (N, H_in) or (H_in,); hx (N, H) or (H,), zeros when omitted -> h' like hx.

    Example:
        >>> import dendrite
        >>> cell = dendrite.nn.GRUCell(10, 20)
        >>> cell(dendrite.randn(10)).shape
        (20,)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (hx,), batched = self._prepare(input, (hx,))
        h = F.gru_cell(input, hx, *self._weights())
        return h if batched else h.squeeze(0)
