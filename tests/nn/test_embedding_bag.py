"""``nn.EmbeddingBag`` and ``F.embedding_bag`` against PyTorch (float64), their errors, and training.

PyTorch is the oracle: every mode (sum, mean, max) on 1-D input with offsets (empty bags included,
``include_last_offset``) and on 2-D input, with ``padding_idx`` and ``per_sample_weights``; outputs
and the gradients of the weight and of ``per_sample_weights`` must agree. One deliberate
difference, asserted below: ``scale_grad_by_freq`` divides each index's gradient by its count in
the batch (as ``F.embedding`` does); PyTorch 2.13's EmbeddingBag divides row k by the count of the
index at *position* k of the input instead.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import dendrite
import dendrite.nn.functional as F

torch = pytest.importorskip("torch")

IDS = np.array([0, 2, 2, 4, 1, 5, 5, 3, 2, 0])
OFFSETS = np.array([0, 2, 2, 5, 9])  # bag 1 is empty, bag 3 holds 4 ids, bag 4 one

CASES = {  # name -> (input, offsets, per_sample_weights shape or None, keyword arguments)
    "offsets": (IDS, OFFSETS, None, {}),
    "2d": (IDS.reshape(2, 5), None, None, {}),
    "include-last-offset": (IDS, np.array([0, 2, 2, 5, 10]), None, {"include_last_offset": True}),
    "include-last-short": (IDS, np.array([0, 2, 5, 8]), IDS.shape, {"include_last_offset": True}),
    "padding": (IDS, OFFSETS, None, {"padding_idx": 2}),
    "negative-padding": (IDS, OFFSETS, None, {"padding_idx": -1}),
    "padding-only-bag": (np.array([2, 2, 1]), np.array([0, 2]), None, {"padding_idx": 2}),
    "2d-padding": (IDS.reshape(5, 2), None, None, {"padding_idx": 0}),
    "all-empty": (np.zeros(0, np.int64), np.array([0, 0, 0]), None, {}),
    "int32": (IDS.astype(np.int32), OFFSETS.astype(np.int32), None, {}),
    "max-norm": (IDS, OFFSETS, None, {"max_norm": 1.0}),
    "weights": (IDS, OFFSETS, IDS.shape, {}),
    "2d-weights": (IDS.reshape(2, 5), None, (2, 5), {}),
    "weights-padding": (IDS, OFFSETS, IDS.shape, {"padding_idx": 5}),
}


def run(lib, name, mode, seed=0):
    """(output, weight gradient, per_sample_weights gradient or None) as float64 arrays."""
    ids, offsets, weight_shape, kwargs = CASES[name]
    rng = np.random.default_rng(seed)
    table = lib.tensor(rng.standard_normal((6, 3)), dtype=lib.float64, requires_grad=True)
    samples = None
    if weight_shape is not None:
        samples = lib.tensor(rng.standard_normal(weight_shape), dtype=lib.float64, requires_grad=True)
    offsets = None if offsets is None else lib.tensor(offsets)
    out = lib.nn.functional.embedding_bag(lib.tensor(ids), table, offsets, mode=mode,
                                          per_sample_weights=samples, **kwargs)
    seed_grad = lib.tensor(rng.standard_normal(tuple(out.shape)), dtype=lib.float64)
    (out * seed_grad).sum().backward()
    return (out.detach().numpy(), table.grad.numpy(), None if samples is None else samples.grad.numpy())


PARAMS = [pytest.param(name, mode, id=f"{name}-{mode}") for name in CASES for mode in ("sum", "mean", "max")
          if mode == "sum" or CASES[name][2] is None]


@pytest.mark.parametrize("name, mode", PARAMS)
def test_output_and_gradients_match_pytorch(name, mode):
    ours, theirs = run(dendrite, name, mode), run(torch, name, mode)
    for what, a, b in zip(("output", "weight grad", "per_sample_weights grad"), ours, theirs):
        if b is None:
            assert a is None, what
            continue
        assert a.shape == b.shape, what
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=what)


def test_empty_bags_are_zero_and_get_no_gradient():
    out, weight_grad, _ = run(dendrite, "all-empty", "mean")
    assert out.shape == (3, 3) and not out.any() and not weight_grad.any()


def test_no_offsets_means_no_bags():  # PyTorch 2.13 gives (0, 3) too, but its backward crashes here
    for mode in ("sum", "mean", "max"):
        table = dendrite.randn(6, 3, dtype=dendrite.float64, requires_grad=True)
        out = F.embedding_bag(dendrite.tensor(IDS), table, dendrite.zeros(0, dtype=dendrite.int64), mode=mode)
        assert out.shape == (0, 3)
        out.sum().backward()
        assert table.grad.shape == (6, 3) and not table.grad.numpy().any()


def test_max_ties_go_to_the_first_position_as_pytorch():
    for lib in (dendrite, torch):
        table = lib.tensor([[1.0, 2.0], [1.0, 0.0], [3.0, 2.0]], dtype=lib.float64, requires_grad=True)
        out = lib.nn.functional.embedding_bag(lib.tensor([1, 0, 2]), table, lib.tensor([0]), mode="max")
        out.sum().backward()
        assert table.grad.tolist() == [[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]], lib.__name__


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_scale_grad_by_freq_divides_by_each_index_count(mode):
    """Ours equals F.embedding(scale_grad_by_freq=True) reduced per bag; PyTorch's differs (see top)."""
    ids, offsets = np.array([3, 1, 1, 0, 3, 3]), np.array([0, 2, 4])
    rng = np.random.default_rng(3)
    weight, seed = rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    table = dendrite.tensor(weight, requires_grad=True)
    out = F.embedding_bag(dendrite.tensor(ids), table, dendrite.tensor(offsets), mode=mode,
                          scale_grad_by_freq=True)
    (out * dendrite.tensor(seed)).sum().backward()
    composed = dendrite.tensor(weight, requires_grad=True)
    rows = F.embedding(dendrite.tensor(ids), composed, scale_grad_by_freq=True)
    bags = [rows[start:end] for start, end in zip(offsets, [2, 4, 6])]
    reduced = dendrite.stack([bag.sum(0) if mode == "sum" else bag.mean(0) for bag in bags])
    np.testing.assert_allclose(out.detach().numpy(), reduced.detach().numpy(), rtol=1e-12)
    (reduced * dendrite.tensor(seed)).sum().backward()
    np.testing.assert_allclose(table.grad.numpy(), composed.grad.numpy(), rtol=1e-12)
    theirs = torch.tensor(weight, requires_grad=True)
    (torch.nn.functional.embedding_bag(torch.tensor(ids), theirs, torch.tensor(offsets), mode=mode,
                                       scale_grad_by_freq=True) * torch.tensor(seed)).sum().backward()
    assert not np.allclose(theirs.grad.numpy(), table.grad.numpy()), "PyTorch changed: drop the difference"


@pytest.mark.parametrize("mode, weighted", [("sum", False), ("mean", False), ("max", False), ("sum", True)])
def test_gradgradcheck(mode, weighted):
    rng = np.random.default_rng(5)
    table = dendrite.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    inputs = [table]
    if weighted:
        inputs.append(dendrite.tensor(rng.standard_normal(IDS.shape), requires_grad=True))

    def bag(weight, samples=None):
        return F.embedding_bag(dendrite.tensor(IDS), weight, dendrite.tensor(OFFSETS), mode=mode,
                               per_sample_weights=samples, padding_idx=4)
    assert dendrite.autograd.gradgradcheck(bag, tuple(inputs))


ERRORS = [  # (input, offsets, keyword arguments, error type, words of the message)
    (IDS.reshape(2, 5), np.array([0]), {}, ValueError, "offsets has to be None"),
    (IDS, None, {}, ValueError, "needs offsets"),
    (IDS, np.array([[0]]), {}, ValueError, "offsets has to be a 1-D"),
    (IDS.reshape(1, 2, 5), None, {}, ValueError, "1-D (with offsets) or 2-D"),
    (IDS, np.array([1, 2]), {}, RuntimeError, "offsets[0] has to be 0"),
    (IDS, np.array([0, 11]), {}, RuntimeError, "greater than input's length 10"),
    (IDS, np.array([0.0, 2.0]), {}, RuntimeError, "integer indices"),
    (IDS.astype(float), np.array([0, 2]), {}, RuntimeError, "integer indices"),
    (IDS, np.array([0, 2]), {"mode": "min"}, ValueError, "mode has to be one of"),
    (IDS, np.array([0, 2]), {"mode": "max", "scale_grad_by_freq": True}, ValueError, "scale_grad_by_freq"),
    (np.array([0, 9]), np.array([0]), {}, RuntimeError, "index 9 is not in the valid range [0, 6)"),
    (IDS, np.array([0, 2]), {"padding_idx": 7}, RuntimeError, "padding_idx must be within"),
]


@pytest.mark.parametrize("ids, offsets, kwargs, error, words", ERRORS, ids=[e[-1] for e in ERRORS])
def test_errors_name_the_problem_as_pytorch_does(ids, offsets, kwargs, error, words):
    weight = dendrite.randn(6, 3)
    with pytest.raises(error) as caught:
        F.embedding_bag(dendrite.tensor(ids), weight, None if offsets is None else dendrite.tensor(offsets),
                        **kwargs)
    assert words in str(caught.value)
    with pytest.raises(error):  # PyTorch rejects it with the same kind of error
        torch.nn.functional.embedding_bag(torch.tensor(ids), torch.randn(6, 3),
                                          None if offsets is None else torch.tensor(offsets), **kwargs)


def test_decreasing_offsets_get_a_clear_error():  # PyTorch: "Expected i < index_size to be true"
    with pytest.raises(RuntimeError, match="non-decreasing"):
        F.embedding_bag(dendrite.tensor(IDS), dendrite.randn(6, 3), dendrite.tensor([0, 3, 2]))


@pytest.mark.parametrize("mode, samples, error, words", [
    ("mean", np.ones(10), NotImplementedError, "only supported for mode='sum'"),
    ("max", np.ones(10), NotImplementedError, "only supported for mode='sum'"),
    ("sum", np.ones(9), ValueError, "must have the input's shape (10,)"),
])
def test_per_sample_weights_errors(mode, samples, error, words):
    for lib in (dendrite, torch):
        with pytest.raises(error, match=None if lib is torch else re.escape(words)):
            lib.nn.functional.embedding_bag(lib.tensor(IDS), lib.randn(6, 3), lib.tensor([0, 4]), mode=mode,
                                            per_sample_weights=lib.tensor(samples, dtype=lib.float32))
    with pytest.raises(RuntimeError, match="dtype"):
        F.embedding_bag(dendrite.tensor(IDS), dendrite.randn(6, 3), dendrite.tensor([0, 4]), mode="sum",
                        per_sample_weights=dendrite.ones(10, dtype=dendrite.float64))


# ----------------------------------------------------------------------------- the module
def test_module_matches_pytorch_with_the_same_weights():
    ours = dendrite.nn.EmbeddingBag(6, 3, mode="sum", padding_idx=2, include_last_offset=True)
    theirs = torch.nn.EmbeddingBag(6, 3, mode="sum", padding_idx=2, include_last_offset=True)
    assert float(ours.weight[2].abs().sum()) == 0.0  # the padding row starts at zero, as PyTorch
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    ours.load_state_dict({"weight": dendrite.tensor(theirs.weight.detach().numpy())})
    offsets = np.array([0, 2, 2, 5, 10])
    out = ours(dendrite.tensor(IDS), dendrite.tensor(offsets), dendrite.ones(10))
    expected = theirs(torch.tensor(IDS), torch.tensor(offsets), torch.ones(10))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6, atol=1e-6)
    assert repr(ours) == repr(theirs)


def test_module_arguments_and_from_pretrained():
    bag = dendrite.nn.EmbeddingBag(10, 4, max_norm=1.0, mode="max", sparse=True, dtype=dendrite.float64)
    assert bag.weight.dtype == dendrite.float64 and bag.sparse and bag.weight.shape == (10, 4)
    bag(dendrite.tensor([[1, 2]])).sum().backward()
    assert bag.weight.grad.shape == (10, 4)  # dense, even with sparse=True
    frozen = dendrite.nn.EmbeddingBag.from_pretrained(dendrite.eye(3), mode="sum")
    assert not frozen.weight.requires_grad
    assert frozen(dendrite.tensor([0, 1, 2]), dendrite.tensor([0, 1])).tolist() == [[1, 0, 0], [0, 1, 1]]
    assert dendrite.nn.EmbeddingBag.from_pretrained(dendrite.eye(3), freeze=False).weight.requires_grad
    with pytest.raises(ValueError, match="mode"):
        dendrite.nn.EmbeddingBag(3, 2, mode="median")
    with pytest.raises(ValueError, match="padding_idx"):
        dendrite.nn.EmbeddingBag(3, 2, padding_idx=3)
    with pytest.raises(ValueError, match="must be 2-D"):
        dendrite.nn.EmbeddingBag.from_pretrained(dendrite.ones(3))


# ----------------------------------------------------------------------------- the tutorial's model
def tutorial_run(torch, data, steps):
    """PyTorch's text-classification tutorial (model, collate_batch, training step) with ``torch`` given."""
    class TextClassificationModel(torch.nn.Module):
        def __init__(self, vocab_size, embed_dim, num_class):
            super(TextClassificationModel, self).__init__()  # noqa: UP008  (the tutorial's line)
            self.embedding = torch.nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
            self.fc = torch.nn.Linear(embed_dim, num_class)
            self.init_weights()

        def init_weights(self):
            initrange = 0.5
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.fc.weight.data.uniform_(-initrange, initrange)
            self.fc.bias.data.zero_()

        def forward(self, text, offsets):
            embedded = self.embedding(text, offsets)
            return self.fc(embedded)

    def collate_batch(batch):
        label_list, text_list, offsets = [], [], [0]
        for _label, _text in batch:
            label_list.append(_label)
            processed_text = torch.tensor(_text, dtype=torch.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = torch.tensor(label_list, dtype=torch.int64)
        offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
        text_list = torch.cat(text_list)
        return label_list, text_list, offsets

    model = TextClassificationModel(50, 64, 2)
    rng = np.random.default_rng(0)  # the same initial weights on both sides
    model.embedding.weight.data.copy_(torch.tensor(rng.uniform(-0.5, 0.5, (50, 64)), dtype=torch.float32))
    model.fc.weight.data.copy_(torch.tensor(rng.uniform(-0.5, 0.5, (2, 64)), dtype=torch.float32))
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
    losses = []
    for step in range(steps):
        label, text, offsets = collate_batch(data[(step % 4) * 16:(step % 4 + 1) * 16])
        optimizer.zero_grad()
        predicted_label = model(text, offsets)
        loss = criterion(predicted_label, label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()
    model.eval()  # the tutorial's evaluate()
    total_acc, total_count = 0, 0
    with torch.no_grad():
        for start in range(0, len(data), 16):
            label, text, offsets = collate_batch(data[start:start + 16])
            predicted_label = model(text, offsets)
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
    return losses, total_acc / total_count


def synthetic_texts(count=64):
    """Label 1 texts use words 25..49 mostly, label 0 texts words 0..24; lengths 3..12."""
    rng = np.random.default_rng(1)
    data = []
    for _ in range(count):
        label = int(rng.integers(2))
        words = rng.integers(0, 25, int(rng.integers(3, 13))) + 25 * label
        data.append((label, words.tolist()))
    return data


def test_text_classification_tutorial_runs_and_matches_pytorch():
    data = synthetic_texts()
    ours, ours_accuracy = tutorial_run(dendrite, data, 40)
    theirs, _ = tutorial_run(torch, data, 40)
    np.testing.assert_allclose(ours[:10], theirs[:10], rtol=1e-4)  # the same steps, the same losses
    assert ours[-1] < 0.5 * ours[0] and ours_accuracy == 1.0  # and it learns the task
