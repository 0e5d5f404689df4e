"""A small causal Transformer trains, and its causal mask really hides the future."""

from __future__ import annotations

import numpy as np

import dendrite
import dendrite.nn.functional as F
from dendrite import nn

VOCAB, LENGTH, WIDTH = 8, 8, 32


class TinyCausalModel(nn.Module):
    """Token + position embedding, one pre-norm encoder layer under the causal mask, a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, WIDTH)
        self.position = nn.Parameter(dendrite.randn(LENGTH, WIDTH) * 0.1)
        layer = nn.TransformerEncoderLayer(WIDTH, 4, 64, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)
        self.head = nn.Linear(WIDTH, VOCAB)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(LENGTH), persistent=False)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens) + self.position, mask=self.mask))


def test_output_at_a_position_does_not_depend_on_later_tokens():
    dendrite.manual_seed(0)
    model = TinyCausalModel().eval()
    tokens = np.random.default_rng(0).integers(0, VOCAB, (2, LENGTH))
    changed = tokens.copy()
    changed[:, 5:] = (changed[:, 5:] + 3) % VOCAB  # only positions 5 and later differ
    before = model(dendrite.tensor(tokens)).detach().numpy()
    after = model(dendrite.tensor(changed)).detach().numpy()
    np.testing.assert_array_equal(before[:, :5], after[:, :5])
    assert not np.allclose(before[:, 5:], after[:, 5:])


def test_learns_to_repeat_the_token_two_positions_back():
    """Only attention to an earlier position can solve it: the current token says nothing of the answer."""
    dendrite.manual_seed(0)
    model = TinyCausalModel()
    optimizer = dendrite.optim.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(200):
        tokens = rng.integers(0, VOCAB, (32, LENGTH))
        logits = model(dendrite.tensor(tokens))[:, 2:]  # position t predicts tokens[t - 2]
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), dendrite.tensor(tokens[:, :-2].reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 1.5  # chance level is log(8) = 2.08
    assert np.mean(losses[-10:]) < 0.1, f"the loss only fell to {np.mean(losses[-10:]):.3f}"
