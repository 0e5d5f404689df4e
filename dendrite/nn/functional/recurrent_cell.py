"""One recurrent step as a function (``rnn_tanh_cell``, ``lstm_cell``, ``gru_cell``...).

Each runs the sequence functions of ``recurrent`` over a sequence of length one, so a cell and a
layer share one forward and one hand-derived backward.
"""

from __future__ import annotations

from dendrite.nn.functional.recurrent import gru_layer, lstm_layer, rnn_layer
from dendrite.tensor import Tensor

__all__ = ["gru_cell", "lstm_cell", "rnn_relu_cell", "rnn_tanh_cell"]


def _one_step(input: Tensor, name: str) -> Tensor:
    if input.ndim != 2:
        raise ValueError(f"{name}: expected a batched input (N, H_in), got shape {tuple(input.shape)}")
    return input.reshape(1, *input.shape)


def rnn_tanh_cell(input: Tensor, hx: Tensor | None, weight_ih: Tensor, weight_hh: Tensor,
                  bias_ih: Tensor | None = None, bias_hh: Tensor | None = None) -> Tensor:
    """One step ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``: input (N, H_in), hx (N, H) -> (N, H).

    Weights: ``weight_ih`` (H, H_in), ``weight_hh`` (H, H); ``hx=None`` starts from zeros.

    Example:
        >>> import dendrite
        >>> rnn_tanh_cell(dendrite.randn(2, 3), None, dendrite.randn(4, 3), dendrite.randn(4, 4)).shape
        (2, 4)
    """
    return rnn_layer(_one_step(input, "rnn_tanh_cell"), hx, weight_ih, weight_hh, bias_ih, bias_hh)[1]


def rnn_relu_cell(input: Tensor, hx: Tensor | None, weight_ih: Tensor, weight_hh: Tensor,
                  bias_ih: Tensor | None = None, bias_hh: Tensor | None = None) -> Tensor:
    """One step ``h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)``: input (N, H_in), hx (N, H) -> (N, H).

    Weights: ``weight_ih`` (H, H_in), ``weight_hh`` (H, H); ``hx=None`` starts from zeros.

    Example:
        >>> import dendrite
        >>> h = rnn_relu_cell(dendrite.randn(2, 3), None, dendrite.randn(4, 3), dendrite.randn(4, 4))
        >>> h.shape, bool((h >= 0).all())
        ((2, 4), True)
    """
    return rnn_layer(_one_step(input, "rnn_relu_cell"), hx, weight_ih, weight_hh, bias_ih, bias_hh,
                     nonlinearity="relu")[1]


def lstm_cell(input: Tensor, hx: Tensor | None, cx: Tensor | None, weight_ih: Tensor, weight_hh: Tensor,
              bias_ih: Tensor | None = None, bias_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step: input (N, H_in), hx and cx (N, H) or None -> (h', c'), each (N, H).

    Weights: ``weight_ih`` (4H, H_in), ``weight_hh`` (4H, H), gates in PyTorch's order i, f, g, o.

    Example:
        >>> import dendrite
        >>> h, c = lstm_cell(dendrite.randn(2, 3), None, None, dendrite.randn(16, 3), dendrite.randn(16, 4))
        >>> h.shape, c.shape
        ((2, 4), (2, 4))
    """
    _, h, c = lstm_layer(_one_step(input, "lstm_cell"), hx, cx, weight_ih, weight_hh, bias_ih, bias_hh)
    return h, c


def gru_cell(input: Tensor, hx: Tensor | None, weight_ih: Tensor, weight_hh: Tensor,
             bias_ih: Tensor | None = None, bias_hh: Tensor | None = None) -> Tensor:
    """One GRU step: input (N, H_in), hx (N, H) or None -> h' (N, H).

    Weights: ``weight_ih`` (3H, H_in), ``weight_hh`` (3H, H), gates in PyTorch's order r, z, n.

    Example:
        >>> import dendrite
        >>> gru_cell(dendrite.randn(2, 3), None, dendrite.randn(12, 3), dendrite.randn(12, 4)).shape
        (2, 4)
    """
    return gru_layer(_one_step(input, "gru_cell"), hx, weight_ih, weight_hh, bias_ih, bias_hh)[1]
