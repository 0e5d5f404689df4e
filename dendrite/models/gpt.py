"""A small character-level GPT: a decoder-only Transformer that predicts the next character.

    ids (N, T) -> token embedding + position embedding        (N, T, d_model)
               -> n_layers pre-norm blocks, causal self-attention + GELU feed-forward
               -> final LayerNorm -> Linear head               (N, T, vocab_size) logits

Each block is dendrite's ``nn.TransformerEncoderLayer(..., norm_first=True,
batch_first=True)`` with a GELU activation (:func:`gelu_tanh`): an "encoder" layer becomes a GPT block once
its self-attention gets the causal mask, so position ``t`` attends only to
positions ``0..t`` and the logits at ``t`` are a prediction of character ``t + 1``
made without seeing it. Attention by itself does not know the order of its
inputs; the learned position embedding (one vector per position ``0..block_size-1``)
tells it. The head is *not* tied to the token embedding: with a vocabulary of about
a hundred characters tying would save only ``vocab_size * d_model`` weights.
"""

from __future__ import annotations

import numpy as np

from dendrite import nn, no_grad, tensor
from dendrite.tensor import Tensor

__all__ = ["CharGPT", "alibi_bias", "gelu_tanh"]


def gelu_tanh(x: Tensor) -> Tensor:
    """GELU with GPT-2's tanh approximation: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    The blocks' activation. The exact GELU (``activation="gelu"``) needs ``erf``, which NumPy
    lacks and dendrite evaluates piecewise in float64: on these small models it took about half
    of a training step; the approximation differs from it by less than 1e-3.

    Shapes: any shape, unchanged.

    Example:
        >>> import dendrite
        >>> round(gelu_tanh(dendrite.tensor([1.0])).item(), 4)
        0.8412
    """
    return nn.functional.gelu(x, approximate="tanh")


def alibi_bias(heads: int, length: int, dtype=np.float32) -> np.ndarray:
    """ALiBi's attention biases (Press et al. 2022): ``-slope_h * (t - s)``, query at ``t``, key at ``s``.

    Added to the attention scores, they make every head prefer recent characters, each head by
    its own slope ``2^(-8 h / heads)``, h = 1..heads (1/4, 1/16, 1/64, 1/256 for four heads):
    a locality prior that the model has from step one instead of having to learn it. Keys after
    the query (``s > t``) get ``-inf``, the causal mask.

    Shapes: an array ``(heads, length, length)``.

    Example:
        >>> alibi_bias(heads=2, length=3)[0].tolist()  # the first head's slope: 2^-4
        [[0.0, -inf, -inf], [-0.0625, 0.0, -inf], [-0.125, -0.0625, 0.0]]
    """
    slopes = 2.0 ** (-8.0 * np.arange(1, heads + 1) / heads)
    distance = np.arange(length)[:, None] - np.arange(length)[None, :]  # t - s
    bias = slopes[:, None, None] * -distance
    bias[:, distance < 0] = -np.inf
    return bias.astype(dtype)


class CharGPT(nn.Module):
    """Decoder-only Transformer over characters: embeddings, causal pre-norm blocks, LayerNorm, head.

    Shapes: ids ``(N, T)`` int64 with ``T <= block_size`` -> logits ``(N, T, vocab_size)``;
    the logits at position ``t`` depend only on ``ids[:, :t + 1]``. The feed-forward width is
    ``4 * d_model``; ``d_model`` must be a multiple of ``n_heads``.

    Example:
        >>> import dendrite
        >>> model = CharGPT(vocab_size=20, block_size=8, d_model=16, n_layers=1, n_heads=2)
        >>> model(dendrite.zeros(3, 8, dtype=dendrite.int64)).shape
        (3, 8, 20)
    """

    def __init__(self, vocab_size: int, block_size: int = 64, d_model: int = 64, n_layers: int = 2,
                 n_heads: int = 4, dropout: float = 0.0, ngram: int = 1, alibi: bool = False) -> None:
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("block_size", block_size), ("d_model", d_model),
                            ("n_layers", n_layers), ("n_heads", n_heads), ("ngram", ngram)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"CharGPT: {name} must be a whole number >= 1, got {value!r}")
        if d_model % n_heads:
            raise ValueError(f"CharGPT: d_model ({d_model}) must be a multiple of n_heads ({n_heads}); "
                             "each head gets d_model / n_heads features")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"CharGPT: dropout must be in [0, 1), got {dropout!r}")
        self.vocab_size, self.block_size = int(vocab_size), int(block_size)
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Embedding(block_size, d_model)
        self.ngram, self.alibi, self.n_heads = int(ngram), bool(alibi), int(n_heads)
        # ngram - 1 tables of vocab_size + 1 rows stacked in one: table k (k = 0..ngram-2) embeds the
        # character k + 1 places back; its last row stands for "before the window's start".
        self.previous_embedding = (nn.Embedding((self.ngram - 1) * (vocab_size + 1), d_model)
                                   if self.ngram > 1 else None)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, dim_feedforward=4 * d_model, dropout=dropout,
                                           activation=gelu_tanh, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, num_layers=n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        with no_grad():
            # GPT-2's scale: nn.Embedding's N(0, 1) would drown the attention outputs that the
            # residual stream adds to it; small embeddings let every block contribute from step one.
            for embedding in (self.token_embedding, self.position_embedding, self.previous_embedding):
                if embedding is None:
                    continue
                embedding.weight.normal_(0.0, 0.02)

    def forward(self, ids: Tensor) -> Tensor:
        if ids.ndim != 2:
            raise ValueError(f"CharGPT: expected character ids of shape (N, T), got shape {tuple(ids.shape)}")
        length = int(ids.shape[1])
        if not 1 <= length <= self.block_size:
            raise ValueError(f"CharGPT: a sequence of {length} characters does not fit the block size "
                             f"{self.block_size}; expected 1..{self.block_size} (crop the context)")
        positions = tensor(np.arange(length, dtype=np.int64))
        x = self.token_embedding(ids) + self.position_embedding(positions)
        if self.previous_embedding is not None:
            x = x + self.previous_embedding(tensor(self._previous_ids(ids.numpy()))).sum(dim=2)
        x = self.dropout(x)
        # -inf above the diagonal: position t may attend to 0..t only, never to the future.
        mask = nn.Transformer.generate_square_subsequent_mask(length, dtype=x.dtype)
        if self.alibi:  # the causal mask and the distance biases in one float mask, one per sample and head
            bias = alibi_bias(self.n_heads, length, x.array.dtype)
            mask = tensor(np.broadcast_to(bias, (ids.shape[0],) + bias.shape).reshape(-1, length, length))
        x = self.blocks(x, mask=mask, is_causal=not self.alibi)
        return self.head(self.norm(x))

    def _previous_ids(self, ids: np.ndarray) -> np.ndarray:
        """(N, T, ngram - 1) rows of ``previous_embedding``: [n, t, k] is character t - 1 - k in table k."""
        lags = self.ngram - 1
        padded = np.concatenate([np.full((ids.shape[0], lags), self.vocab_size, np.int64), ids], axis=1)
        length = ids.shape[1]
        # padded[:, lags + t - 1 - k] is character t - 1 - k (the pad row when that is before the window)
        columns = lags + np.arange(length)[:, None] - 1 - np.arange(lags)[None, :]  # (T, lags)
        return padded[:, columns] + (self.vocab_size + 1) * np.arange(lags)

    def generate(self, ids, max_new_tokens: int, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
        """``ids`` followed by ``max_new_tokens`` ids sampled one at a time from the model.

        Each step feeds the last ``block_size`` ids (the context the model was trained on) and
        draws the next id from ``softmax(logits / temperature)``; the same ``seed`` gives the same ids.

        Shapes: ids ``(T0,)`` or ``(1, T0)`` (``T0 >= 1``) -> int64 ``(T0 + max_new_tokens,)``.

        Example:
            >>> model = CharGPT(vocab_size=5, block_size=4, d_model=8, n_layers=1, n_heads=2)
            >>> out = model.generate([1, 2], max_new_tokens=6, seed=0)
            >>> out.shape, out[:2].tolist(), bool(((0 <= out) & (out < 5)).all())
            ((8,), [1, 2], True)
        """
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, (int, np.integer)) \
                or max_new_tokens < 0:
            raise ValueError(f"CharGPT.generate: max_new_tokens must be a whole number >= 0, "
                             f"got {max_new_tokens!r}")
        if not temperature > 0:
            raise ValueError(f"CharGPT.generate: temperature must be > 0, got {temperature!r}")
        context = np.asarray(ids.numpy() if isinstance(ids, Tensor) else ids, dtype=np.int64).reshape(-1)
        if context.size == 0:
            raise ValueError("CharGPT.generate: ids is empty; give at least one id to start from")
        if context.min() < 0 or context.max() >= self.vocab_size:
            raise ValueError(f"CharGPT.generate: ids must be in [0, {self.vocab_size}), "
                             f"got {context.min()}..{context.max()}")
        rng = np.random.default_rng(seed)
        was_training = self.training
        self.eval()
        out = list(context.tolist())
        try:
            with no_grad():
                for _ in range(max_new_tokens):
                    window = np.array(out[-self.block_size:], dtype=np.int64)[None, :]
                    scores = self(tensor(window)).numpy()[0, -1].astype(np.float64) / temperature
                    probabilities = np.exp(scores - scores.max())
                    out.append(int(rng.choice(self.vocab_size, p=probabilities / probabilities.sum())))
        finally:
            self.train(was_training)
        return np.array(out, dtype=np.int64)
