"""Recurrent networks ready to train: a sequence classifier, a character language model, a forecaster.

All three are a recurrent encoder (``nn.RNN``, ``nn.LSTM`` or ``nn.GRU``, chosen
by ``cell``) with a linear head, batch-first:

* :class:`SequenceClassifier` reads ``(N, T, F)`` and classifies from the last
  time step's output (an 8x8 digit is 8 time steps of 8 pixels);
* :class:`CharLM` embeds character ids ``(N, T)``, runs the recurrent layers and
  predicts the next character at every step; it takes and returns its recurrent
  state so truncated back-propagation through time can carry it across batches;
* :class:`Forecaster` reads a window ``(N, T, F)`` of a series and predicts the
  next value ``(N, F_out)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import dendrite
from dendrite import nn, no_grad
from dendrite.tensor import Tensor

__all__ = ["CELLS", "recurrent_layer", "SequenceClassifier", "CharLM", "Forecaster", "detach_state"]

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def recurrent_layer(cell: str, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
                    bidirectional: bool = False) -> nn.Module:
    """A batch-first ``nn.RNN`` (tanh), ``nn.LSTM`` or ``nn.GRU`` by name.

    Shapes: the layer maps (N, T, input_size) to (output (N, T, D * hidden_size), state).

    Example:
        >>> layer = recurrent_layer("gru", 8, 16)
        >>> type(layer).__name__, layer.batch_first
        ('GRU', True)
    """
    key = str(cell).lower()
    if key not in CELLS:
        raise ValueError(f"unknown recurrent cell {cell!r}; expected one of {sorted(CELLS)}")
    return CELLS[key](input_size, hidden_size, num_layers=num_layers, batch_first=True,
                      dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional)


def detach_state(state):
    """The recurrent state (a tensor, or LSTM's ``(h, c)``) cut from the graph: truncated BPTT.

    Shapes: unchanged (each ``(num_layers, N, hidden_size)``); ``None`` stays ``None``.

    Example:
        >>> import dendrite
        >>> h = dendrite.zeros(1, 2, 4, requires_grad=True) * 2
        >>> detached = detach_state((h, h))
        >>> detached[0].shape, detached[0].requires_grad
        ((1, 2, 4), False)
    """
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(part.detach() for part in state)
    return state.detach()


def _sequence_shape(input_shape: Sequence[int] | int, where: str) -> tuple[int, int]:
    """``(T, F)`` for samples of shape ``(T, F)`` or ``(T,)`` (one feature per step)."""
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    if len(shape) == 1:
        return shape[0], 1
    if len(shape) == 2:
        return shape
    raise ValueError(f"{where}: expected sequences of shape (T, F) or (T,), got samples of shape {shape}")


class SequenceClassifier(nn.Module):
    """Recurrent encoder + linear head on the last time step's output.

    Shapes: input ``(N, T, F)`` (or ``(N, T)``, one feature per step) -> logits ``(N, num_classes)``.
    ``input_shape`` is one sample's ``(T, F)``; only ``F`` fixes a weight shape, so any length works.

    Example:
        >>> import dendrite
        >>> model = SequenceClassifier((8, 8), 10, cell="lstm", hidden_size=32)
        >>> model(dendrite.zeros(4, 8, 8)).shape, model.encode(dendrite.zeros(4, 8, 8)).shape
        ((4, 10), (4, 8, 32))
    """

    def __init__(self, input_shape: Sequence[int] | int, num_classes: int, cell: str = "lstm",
                 hidden_size: int = 128, num_layers: int = 1, dropout: float = 0.0,
                 bidirectional: bool = False) -> None:
        super().__init__()
        _, features = _sequence_shape(input_shape, "SequenceClassifier")
        self.cell = cell
        self.rnn = recurrent_layer(cell, features, hidden_size, num_layers, dropout, bidirectional)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def encode(self, x: Tensor) -> Tensor:
        """The recurrent outputs for every step: ``(N, T, F)`` -> ``(N, T, D*H)``."""
        if x.ndim == 2:
            x = x.unsqueeze(-1)
        if x.ndim != 3:
            raise ValueError(f"SequenceClassifier: expected input (N, T, F) or (N, T), "
                             f"got shape {tuple(x.shape)}")
        output, _ = self.rnn(x)
        return output

    def summary_vector(self, x: Tensor) -> Tensor:
        """What the head reads: the state after the whole sequence, ``(N, T, F)`` -> ``(N, D*H)``.

        The forward direction has read the whole sequence at the last step; a bidirectional layer's
        backward direction reads from the end, so it has read the whole sequence at the *first* step
        (at the last step it has seen only the last input).

        Example:
            >>> import dendrite
            >>> model = SequenceClassifier((10, 1), 2, cell="gru", hidden_size=4, bidirectional=True)
            >>> x = dendrite.randn(1, 10, 1, requires_grad=True)
            >>> model.summary_vector(x)[0, 4:].sum().backward()  # the backward half
            >>> bool((x.grad.numpy() != 0).all())                  # depends on every step
            True
        """
        output = self.encode(x)
        if not self.rnn.bidirectional:
            return output[:, -1]
        hidden = output.shape[-1] // 2
        return dendrite.cat([output[:, -1, :hidden], output[:, 0, hidden:]], dim=-1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.dropout(self.summary_vector(x)))


class CharLM(nn.Module):
    """Character language model: ``Embedding -> RNN/LSTM/GRU layers -> Linear`` over the vocabulary.

    Shapes: ids ``(N, T)`` int64 -> ``(logits (N, T, vocab_size), state)``; ``state`` is the
    recurrent layer's final state (``(h, c)`` for an LSTM, each ``(num_layers, N, hidden_size)``),
    to pass back in for the next chunk of the same rows.

    Example:
        >>> import dendrite
        >>> model = CharLM(20, embedding_dim=8, hidden_size=16)
        >>> logits, state = model(dendrite.zeros(2, 5, dtype=dendrite.int64))
        >>> logits.shape, state[0].shape
        ((2, 5, 20), (1, 2, 16))
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 64, hidden_size: int = 256, num_layers: int = 1,
                 cell: str = "lstm", dropout: float = 0.0) -> None:
        super().__init__()
        self.vocab_size, self.cell = vocab_size, cell
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = recurrent_layer(cell, embedding_dim, hidden_size, num_layers, dropout)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)
        if cell == "lstm":
            # Forget-gate bias 1 (Jozefowicz et al., 2015): remember by default early in training.
            # The two bias vectors are summed, so shift only bias_ih.
            with no_grad():
                for name, parameter in self.rnn.named_parameters():
                    if name.startswith("bias_ih"):
                        parameter[hidden_size:2 * hidden_size] = 1.0

    def forward(self, ids: Tensor, state=None):
        if ids.ndim != 2:
            raise ValueError(f"CharLM: expected character ids of shape (N, T), got shape {tuple(ids.shape)}")
        output, state = self.rnn(self.embedding(ids), state)
        return self.head(self.dropout(output)), state


class Forecaster(nn.Module):
    """One-step-ahead forecaster: recurrent encoder over a window, linear head on the last step.

    With ``residual=True`` the head predicts the *change* from the window's last value
    (the first ``output_size`` features): a network that outputs zero is then the
    repeat-last-value baseline, and training only has to learn the correction.

    Shapes: input ``(N, T, F)`` (or ``(N, T)``) -> prediction ``(N, output_size)``.

    Example:
        >>> import dendrite
        >>> model = Forecaster(1, 1, cell="gru", hidden_size=16)
        >>> model(dendrite.zeros(4, 20, 1)).shape
        (4, 1)
    """

    def __init__(self, input_size: int = 1, output_size: int = 1, cell: str = "gru", hidden_size: int = 64,
                 num_layers: int = 1, residual: bool = True) -> None:
        super().__init__()
        if residual and output_size > input_size:
            raise ValueError(f"Forecaster: residual=True needs output_size <= input_size, "
                             f"got {output_size} > {input_size}")
        self.cell, self.residual, self.output_size = cell, residual, output_size
        self.rnn = recurrent_layer(cell, input_size, hidden_size, num_layers)
        self.head = nn.Linear(hidden_size, output_size)
        if residual:  # start near the baseline: a residual forecaster first (almost) repeats the last value
            with no_grad():
                self.head.weight.mul_(0.1)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 2:
            x = x.unsqueeze(-1)
        if x.ndim != 3:
            raise ValueError(f"Forecaster: expected windows (N, T, F) or (N, T), got shape {tuple(x.shape)}")
        output, _ = self.rnn(x)
        prediction = self.head(output[:, -1])
        if self.residual:
            prediction = prediction + x[:, -1, :self.output_size]
        return prediction

