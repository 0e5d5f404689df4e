"""Operations outside the registry and layer tables on the CUDA device: in-place writes (also through
views), indexing assignment, sampling, pooling indices, causal attention masks. Each runs the same
seeded code on the CPU and on the device and compares."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite import nn


def _inplace_through_views(device):
    w = dendrite.tensor(np.arange(12.0).reshape(3, 4), device=device, requires_grad=True)
    y = w * 2
    y[0] += 1
    y[:, 1].mul_(3)
    y.t().add_(1)
    y[dendrite.tensor([0, 2], device=device), 2] = dendrite.tensor([5.0, 6.0], device=device)
    (y * y).sum().backward()
    z = dendrite.zeros(3, device=device)
    z.fill_(2).add_(1)
    z[[1]] = 7.0
    return [y, w.grad, z]


def _sampling(device):
    dendrite.manual_seed(4)
    probabilities = dendrite.tensor([[0.2, 0.8], [0.5, 0.5]], device=device)
    return [dendrite.multinomial(probabilities, 3, replacement=True), dendrite.multinomial(probabilities, 2),
            dendrite.bernoulli(dendrite.full((5,), 0.5, device=device)),
            dendrite.zeros(4, device=device).uniform_(), dendrite.zeros(4, device=device).normal_(),
            nn.functional.dropout(dendrite.ones(6, device=device), 0.5),
            nn.functional.rrelu(dendrite.full((4,), -1.0, device=device), training=True)]


def _indices(device):
    x = dendrite.tensor(np.random.default_rng(0).standard_normal((2, 1, 7, 7)), device=device,
                        requires_grad=True)
    out, index = nn.functional.max_pool2d(x, 3, 2, return_indices=True)
    adaptive, adaptive_index = nn.functional.adaptive_max_pool2d(x, 3, return_indices=True)
    (out.sum() + adaptive.sum()).backward()
    labels = dendrite.tensor([0, 2, 1], device=device)
    return [out, index, adaptive, adaptive_index, x.grad, nn.functional.one_hot(labels, 3),
            dendrite.tensor([0.0, 2.0, 0.0, 1.0], device=device).nonzero(), labels.sort().indices]


def _causal(device):
    dendrite.manual_seed(0)
    q = dendrite.tensor(np.random.default_rng(1).standard_normal((2, 2, 5, 4)), device=device,
                        requires_grad=True)
    attended = nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double().to(device)
    mask = nn.Transformer.generate_square_subsequent_mask(5, device=device, dtype=dendrite.float64)
    x = dendrite.tensor(np.random.default_rng(2).standard_normal((2, 5, 8)), device=device)
    encoded = layer(x, src_mask=mask, is_causal=True)
    (attended.sum() + encoded.sum()).backward()
    return [attended, encoded, q.grad, mask]


@pytest.mark.parametrize("run", [_inplace_through_views, _sampling, _indices, _causal],
                         ids=lambda run: run.__name__.strip("_"))
def test_the_device_matches_the_cpu(run, device):
    for position, (ours, theirs) in enumerate(zip(run(device), run("cpu"))):
        assert ours.is_cuda, f"result {position} is on {ours.device}"
        np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(), rtol=1e-7,
                                   atol=1e-10, err_msg=f"result {position}")


@pytest.mark.parametrize("build", [
    lambda d: nn.Linear(2, 3, device=d), lambda d: nn.Bilinear(2, 3, 4, device=d),
    lambda d: nn.Conv2d(1, 2, 3, device=d), lambda d: nn.ConvTranspose1d(1, 2, 3, device=d),
    lambda d: nn.BatchNorm2d(3, device=d), lambda d: nn.InstanceNorm1d(3, affine=True, device=d),
    lambda d: nn.LayerNorm(4, device=d), lambda d: nn.GroupNorm(2, 4, device=d),
    lambda d: nn.RMSNorm(4, device=d),
    lambda d: nn.LSTM(3, 4, num_layers=2, device=d), lambda d: nn.GRUCell(3, 4, device=d),
    lambda d: nn.Embedding(5, 2, device=d), lambda d: nn.EmbeddingBag(5, 2, device=d),
    lambda d: nn.PReLU(device=d),
], ids=["Linear", "Bilinear", "Conv2d", "ConvTranspose1d", "BatchNorm2d", "InstanceNorm1d", "LayerNorm",
        "GroupNorm", "RMSNorm", "LSTM", "GRUCell", "Embedding", "EmbeddingBag", "PReLU"])
def test_a_device_argument_makes_the_layer_there(build, device):
    dendrite.manual_seed(0)
    layer = build(device)
    dendrite.manual_seed(0)
    host = build("cpu")
    tensors = list(layer.parameters()) + [b for b in layer.buffers() if b is not None]
    assert tensors and all(t.is_cuda for t in tensors)
    for ours, theirs in zip(layer.parameters(), host.parameters()):  # the same initial values
        np.testing.assert_array_equal(ours.detach().cpu().numpy(), theirs.detach().numpy())


def _compiled_training(device, compiled: bool):
    dendrite.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3)).to(device)
    optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def loss_of(x, y):
        return nn.functional.cross_entropy(model(x), y)

    step = dendrite.compile(loss_of) if compiled else loss_of
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(5):
        x = dendrite.tensor(rng.standard_normal((8, 4)).astype(np.float32), device=device)
        y = dendrite.tensor(rng.integers(0, 3, 8), device=device)
        optimizer.zero_grad()
        loss = step(x, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, [p.detach().cpu().numpy() for p in model.parameters()], step


def test_a_compiled_step_replays_on_the_device_as_eager(device):
    eager_losses, eager_params, _ = _compiled_training(device, compiled=False)
    losses, params, step = _compiled_training(device, compiled=True)
    # it really replayed on the device (no eager fallback)
    assert step.stats["replayed"] >= 2 and step.stats["eager"] == 0, step.explain()
    assert losses == eager_losses
    for ours, theirs in zip(params, eager_params):
        assert ours.tobytes() == theirs.tobytes()
