"""The character language model: bits/char by hand, state carrying, sampling, run folders, the target."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import dendrite
from dendrite import nn
from dendrite.cli.main import main
from dendrite.data import CharVocab, load_dataset, load_pytext
from dendrite.models import CharLM
from dendrite.recipes.base import RunConfig
from dendrite.recipes.catalog import MODELS
from dendrite.recipes.language import (
    bits_per_char,
    generate,
    load_charlm,
    needs_text,
    sample_from_run,
    unigram_bits_per_char,
)
from dendrite.recipes.runner import train

TINY = {"hidden_size": 16, "embedding_dim": 8, "batch_size": 8, "seq_len": 16}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A charlm run folder trained for one short epoch on 20,000 characters."""
    out = tmp_path_factory.mktemp("charlm")
    splits = load_pytext(max_chars=20_000)
    metrics = train(MODELS["charlm"], splits, RunConfig("charlm", "pytext", epochs=1, quiet=True, out=out,
                                                        options=dict(TINY)))
    return out, metrics, splits


def test_unigram_bits_per_char_by_hand():
    # counts + 1 = (4, 2, 1) over 7; the held-out ids 0 and 2 cost -log2(4/7) and -log2(1/7)
    expected = -(math.log2(4 / 7) + math.log2(1 / 7)) / 2
    assert unigram_bits_per_char([0, 0, 0, 1], [0, 2], vocab_size=3) == pytest.approx(expected, rel=1e-12)


def test_bits_per_char_of_a_uniform_model_is_log2_of_the_vocabulary():
    model = CharLM(7, embedding_dim=4, hidden_size=8)
    with dendrite.no_grad():
        model.head.weight.fill_(0.0)
        model.head.bias.fill_(0.0)
    ids = np.arange(100) % 7
    assert bits_per_char(model, ids, batch_size=3, seq_len=5) == pytest.approx(math.log2(7), rel=1e-6)


def test_bits_per_char_carries_the_state_along_each_row():
    dendrite.manual_seed(0)
    model = CharLM(6, embedding_dim=4, hidden_size=8, cell="gru")
    ids = np.random.default_rng(0).integers(0, 6, size=41)
    # One row read in chunks of 4 must score like the whole stream read in one go.
    with dendrite.no_grad():
        logits, _ = model(dendrite.tensor(ids[None, :-1]))
        loss = nn.functional.cross_entropy(logits.reshape(-1, 6), dendrite.tensor(ids[1:]))
    expected = float(loss.item()) / math.log(2)
    assert bits_per_char(model, ids, batch_size=1, seq_len=4) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_charlm_shapes_and_chunked_state(cell):
    dendrite.manual_seed(0)
    model = CharLM(11, embedding_dim=4, hidden_size=8, num_layers=2, cell=cell)
    ids = dendrite.tensor(np.random.default_rng(1).integers(0, 11, size=(2, 9)))
    with dendrite.no_grad():
        whole, _ = model(ids)
        first, state = model(ids[:, :5])
        second, _ = model(ids[:, 5:], state)
    assert whole.shape == (2, 9, 11)
    np.testing.assert_allclose(np.concatenate([first.numpy(), second.numpy()], axis=1), whole.numpy(),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(N, T\)"):
        model(dendrite.zeros(9, dtype=dendrite.int64))


def test_lstm_forget_gate_bias_starts_at_one():
    model = CharLM(5, embedding_dim=4, hidden_size=3)
    bias = model.rnn.bias_ih_l0.detach().numpy()
    np.testing.assert_array_equal(bias[3:6], np.ones(3))


def test_a_few_steps_reduce_the_loss():
    dendrite.manual_seed(0)
    text = "def add(a, b):\n    return a + b\n\n" * 8
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    model = CharLM(len(vocab), embedding_dim=8, hidden_size=32)
    optimizer = dendrite.optim.Adam(model.parameters(), lr=1e-2)
    x, y = dendrite.tensor(ids[None, :-1]), dendrite.tensor(ids[1:])
    losses = []
    for _ in range(25):
        logits, _ = model(x)
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    assert losses[-1] < 0.5 * losses[0]


def _small_model(seed: int = 0):
    dendrite.manual_seed(seed)
    vocab = CharVocab("abcdefgh \n")
    return CharLM(len(vocab), embedding_dim=4, hidden_size=16), vocab


def test_sampling_repeats_with_a_seed_and_keeps_the_prime():
    model, vocab = _small_model()
    first = generate(model, vocab, length=60, temperature=1.0, prime="abc", seed=3)
    assert first == generate(model, vocab, length=60, temperature=1.0, prime="abc", seed=3)
    assert first != generate(model, vocab, length=60, temperature=1.0, prime="abc", seed=4)
    assert first.startswith("abc") and len(first) == 63 and set(first) <= set(vocab.chars)
    assert len(generate(model, vocab, length=10, seed=0)) == 10  # no prime: starts after a newline


def test_temperature_sharpens_or_flattens_the_choice():
    model, vocab = _small_model()
    bias = np.zeros(len(vocab), np.float32)
    bias[vocab.encode("a")[0]] = 3.0
    with dendrite.no_grad():  # a strong preference for 'a' after anything
        model.head.weight.fill_(0.0)
        model.head.bias.copy_(dendrite.tensor(bias))
    cold = [generate(model, vocab, length=200, temperature=0.05, seed=seed) for seed in range(3)]
    assert all(text == "a" * 200 for text in cold)  # near-greedy: always the likeliest
    hot = generate(model, vocab, length=400, temperature=100.0, seed=0)
    share = hot.count("a") / len(hot)
    assert share < 0.25 and len(set(hot)) == len(vocab)  # near-uniform over the 10 characters


def test_generate_rejects_bad_arguments():
    model, vocab = _small_model()
    with pytest.raises(ValueError, match="never saw"):
        generate(model, vocab, length=5, prime="xyz")
    with pytest.raises(ValueError, match="temperature"):
        generate(model, vocab, length=5, temperature=0.0)


def test_accepts_text_only():
    assert needs_text(load_pytext(max_chars=5000)) is None
    assert "not text" in needs_text(load_dataset("digits"))


def test_run_folder_has_what_sampling_needs(tiny_run):
    out, metrics, splits = tiny_run
    for name in ("metrics.json", "curves.png", "charlm.json"):
        assert (out / name).is_file(), name
    info = json.loads((out / "charlm.json").read_text())
    assert info["vocab"] == splits.info["vocab"].chars
    assert info["model"] == {"cell": "gru", "embedding_dim": 8, "hidden_size": 16, "num_layers": 1}
    final = metrics["final"]
    expected_baseline = unigram_bits_per_char(splits.x_train, splits.x_test, splits.num_classes)
    assert final["unigram_bits_per_char"] == pytest.approx(expected_baseline, rel=1e-9)
    assert 0 < final["val_bits_per_char"] < math.log2(splits.num_classes)
    assert isinstance(metrics["sample"], str) and len(metrics["sample"]) == 200 + len("def ")


def test_sample_from_run_reloads_the_trained_model(tiny_run, capsys):
    out, metrics, splits = tiny_run
    model, vocab = load_charlm(out)
    # The reloaded weights score the validation text exactly as the run reported it.
    reported = metrics["final"]["val_bits_per_char"]
    assert bits_per_char(model, splits.x_test) == pytest.approx(reported, rel=1e-5)
    text = sample_from_run(out, length=80, temperature=0.8, prime="def ", seed=1)
    assert text.startswith("def ") and len(text) == 84
    # `dendrite sample` (what the catalog's sample_text used to wrap) prints the same text.
    argv = ["sample", str(out), "--length", "80", "--temperature", "0.8", "--prime", "def ", "--seed", "1"]
    assert main(argv) == 0
    assert capsys.readouterr().out == text + "\n"
    # The run's own sample was drawn with seed 0 at temperature 0.8 after "def ".
    assert sample_from_run(out, length=200, temperature=0.8, prime="def ", seed=0) == metrics["sample"]


def test_load_charlm_names_what_is_missing(tmp_path, tiny_run):
    with pytest.raises(FileNotFoundError, match="no run folder"):
        load_charlm(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="not a charlm run folder"):
        load_charlm(tmp_path)
    out, _, _ = tiny_run
    (tmp_path / "charlm.json").write_text((out / "charlm.json").read_text())
    with pytest.raises(FileNotFoundError, match="model.safetensors or model.npz"):
        load_charlm(tmp_path)


@pytest.mark.slow
def test_default_run_reaches_the_target(tmp_path):
    config = RunConfig("charlm", "pytext", seed=0, quiet=True, out=tmp_path)
    metrics = train(MODELS["charlm"], load_dataset("pytext"), config)
    final = metrics["final"]
    assert final["val_bits_per_char"] <= 2.6
    assert final["unigram_bits_per_char"] > 4.0
    assert len(sample_from_run(tmp_path, length=50)) == 50
