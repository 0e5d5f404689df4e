"""The character GPT: shapes, causal masking, scoring by hand, a short run, run folders, the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import dendrite
from dendrite import nn
from dendrite.cli.main import main
from dendrite.data import load_pytext
from dendrite.models.gpt import CharGPT
from dendrite.recipes.base import RunConfig
from dendrite.recipes.catalog import MODELS
from dendrite.recipes.gpt import (
    RandomWindows,
    gpt_bits_per_char,
    gpt_defaults,
    gpt_optimizer,
    load_gpt,
    sample_from_run,
    warmup_cosine,
)
from dendrite.recipes.runner import train

TINY = {"d_model": 32, "n_layers": 1, "n_heads": 2, "block_size": 32, "batch_size": 16, "lr": 1e-2}


@pytest.fixture(scope="module")
def corpus():
    return load_pytext(max_chars=60_000)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, corpus):
    """A gpt run folder: one epoch of random windows over 54,000 characters (about 100 steps)."""
    out = tmp_path_factory.mktemp("gpt")
    metrics = train(MODELS["gpt"], corpus, RunConfig("gpt", "pytext", epochs=1, quiet=True, out=out,
                                                      options=dict(TINY)))
    return out, metrics


def _model(seed: int = 0, **sizes) -> CharGPT:
    dendrite.manual_seed(seed)
    model = CharGPT(**{"vocab_size": 11, "block_size": 12, "d_model": 16, "n_layers": 2, "n_heads": 2,
                       **sizes})
    return model.eval()


def _logits(model, ids) -> np.ndarray:
    with dendrite.no_grad():
        return model(dendrite.tensor(np.asarray(ids))).numpy()


def test_shapes_and_shorter_sequences():
    model = _model()
    ids = np.random.default_rng(0).integers(0, 11, size=(3, 12))
    assert _logits(model, ids).shape == (3, 12, 11)
    assert _logits(model, ids[:, :5]).shape == (3, 5, 11)
    assert len(model.state_dict()["blocks.layers.0.self_attn.in_proj_weight"]) == 3 * 16


@pytest.mark.parametrize("ngram, alibi", [(1, False), (3, False), (1, True), (4, True)])
def test_changing_a_future_character_leaves_earlier_logits_unchanged(ngram, alibi):
    model = _model(ngram=ngram, alibi=alibi)
    ids = np.random.default_rng(1).integers(0, 11, size=(2, 12))
    changed = ids.copy()
    changed[:, 7] = (changed[:, 7] + 3) % 11
    before, after = _logits(model, ids), _logits(model, changed)
    np.testing.assert_array_equal(before[:, :7], after[:, :7])  # positions 0..6 never see position 7
    assert np.abs(before[:, 7:] - after[:, 7:]).max() > 1e-3  # the change is seen from position 7 on
    # A prefix scores like the same positions of the whole sequence.
    np.testing.assert_allclose(_logits(model, ids[:, :4]), before[:, :4], rtol=1e-5, atol=1e-6)


def test_the_previous_character_embeddings_see_the_right_characters():
    # ngram 3: position t adds row ids[t - 1] of table 0 and row ids[t - 2] of table 1 (the pad row,
    # index vocab_size, before the window's start).
    model = _model(ngram=3)
    ids = np.array([[4, 7, 2, 9]])
    rows = model._previous_ids(ids)
    pad, table = 11, 12
    assert rows.tolist() == [[[pad, table + pad], [4, table + pad], [7, table + 4], [2, table + 7]]]
    assert tuple(model.previous_embedding.weight.shape) == (2 * table, 16)
    # Changing the character two back from the last position changes that position's logits directly.
    changed = ids.copy()
    changed[0, 1] = 5
    assert np.abs(_logits(model, ids)[:, 3] - _logits(model, changed)[:, 3]).max() > 1e-4


def test_alibi_biases_fall_linearly_with_distance_and_block_the_future():
    from dendrite.models.gpt import alibi_bias

    bias = alibi_bias(heads=4, length=5)
    assert bias.shape == (4, 5, 5)
    slopes = 2.0 ** -(2.0 * np.arange(1, 5))  # 1/4, 1/16, 1/64, 1/256
    np.testing.assert_allclose(bias[:, 4, :], -slopes[:, None] * np.arange(4, -1, -1), rtol=1e-6)
    assert np.isneginf(bias[:, 1, 2:]).all() and np.isfinite(bias[:, 2, :3]).all()


def test_the_original_architecture_keeps_its_parameter_names():
    # ngram 1 without ALiBi is the model of the first gpt runs: their weights must still load.
    names = list(_model().state_dict())
    assert names[:2] == ["token_embedding.weight", "position_embedding.weight"]
    assert not any("previous" in name for name in names)


def test_bits_per_char_of_a_uniform_model_is_log2_of_the_vocabulary():
    model = _model()
    with dendrite.no_grad():
        model.head.weight.fill_(0.0)
        model.head.bias.fill_(0.0)
    assert gpt_bits_per_char(model, np.arange(100) % 11) == pytest.approx(math.log2(11), rel=1e-6)


@pytest.mark.parametrize("length", [2, 9, 13, 50, 61])
def test_bits_per_char_scores_every_character_once_with_half_a_block_of_context(length):
    model = _model(block_size=8)
    ids = np.random.default_rng(length).integers(0, 11, size=length)
    # By hand: windows of 8 inputs start every 4 characters (0, 4, 8, ... below length - 8), plus
    # one last window ending at the stream's end. Character j <= 8 is predicted from ids[0:j]; a
    # later one by the window whose second half holds it, s = 4 * ceil((j - 8) / 4) (or the last one).
    regular = list(range(0, max(1, length - 8), 4))
    total = 0.0
    for j in range(1, length):
        start = 0 if j <= 8 else 4 * math.ceil((j - 8) / 4)
        if start > regular[-1]:
            start = max(0, length - 9)
        assert 1 <= j - start <= 8 and (j <= 8 or j - start > 4 or start == length - 9)
        logits = _logits(model, ids[None, start:j])[0, -1].astype(np.float64)
        top = logits.max()
        total -= logits[ids[j]] - top - np.log(np.exp(logits - top).sum())
    assert gpt_bits_per_char(model, ids) == pytest.approx(total / (length - 1) / math.log(2), rel=1e-5)


def test_warmup_then_cosine_decay():
    factor = warmup_cosine(total_steps=100, warmup_steps=10)
    assert [factor(step) for step in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    assert factor(55) == pytest.approx(0.55)  # half-way through the decay: (1 + 0.1) / 2
    assert factor(100) == pytest.approx(0.1) and factor(150) == pytest.approx(0.1)


def test_random_windows_repeat_with_the_seed_and_shift_the_targets():
    stream = np.arange(1000)
    first = [(x.numpy(), y.numpy()) for x, y in RandomWindows(stream, 4, 8, steps=3, seed=7)]
    again = [(x.numpy(), y.numpy()) for x, y in RandomWindows(stream, 4, 8, steps=3, seed=7)]
    other = [x.numpy() for x, _ in RandomWindows(stream, 4, 8, steps=3, seed=8)]
    assert len(first) == 3 and first[0][0].shape == (4, 8)
    assert all((a[0] == b[0]).all() for a, b in zip(first, again))
    assert not all((a[0] == b).all() for a, b in zip(first, other))
    for inputs, targets in first:  # consecutive characters of the stream, targets one ahead
        np.testing.assert_array_equal(targets, inputs + 1)
    with pytest.raises(ValueError, match="shorter than one window"):
        RandomWindows(np.arange(5), 2, block_size=8, steps=1)


def test_a_short_run_beats_the_unigram_baseline_clearly(tiny_run):
    _, metrics = tiny_run
    final = metrics["final"]
    assert not metrics["diverged"]
    assert final["val_bits_per_char"] < final["unigram_bits_per_char"] - 0.75, final
    assert final["val_perplexity"] == pytest.approx(2 ** final["val_bits_per_char"])


def test_the_run_folder_holds_curves_weights_description_and_a_sample(tiny_run):
    out, metrics = tiny_run
    names = {path.name for path in out.iterdir()}
    assert {"curves.png", "metrics.json", "gpt.json"} <= names
    assert names & {"model.safetensors", "model.npz"}
    info = json.loads((out / "gpt.json").read_text())
    assert info["format"] == "dendrite-gpt" and info["model"] == {
        "vocab_size": len(info["vocab"]), "block_size": 32, "d_model": 32, "n_layers": 1, "n_heads": 2,
        "ngram": gpt_defaults(None)["ngram"], "alibi": gpt_defaults(None)["alibi"]}
    assert metrics["sample"].startswith("def ") and len(metrics["sample"]) == 204
    assert metrics["settings"]["optimizer"] == "adamw"


def test_a_saved_run_loads_scores_the_same_and_samples(tiny_run, corpus):
    out, metrics = tiny_run
    model, vocab = load_gpt(out)
    assert vocab.chars == corpus.info["vocab"].chars
    assert gpt_bits_per_char(model, corpus.x_test) == pytest.approx(metrics["final"]["val_bits_per_char"],
                                                                    rel=1e-5)
    text = sample_from_run(out, length=40, prime="import ", seed=3)
    assert text.startswith("import ") and len(text) == 47
    assert text == sample_from_run(out, length=40, prime="import ", seed=3)
    with pytest.raises(ValueError, match="never saw"):
        sample_from_run(out, length=5, prime="\u263a")


def test_a_run_saved_before_ngram_and_alibi_loads_as_the_original_model(tmp_path):
    # gpt.json files written before these settings existed describe ngram 1 without ALiBi.
    import dendrite.recipes.gpt as recipe
    from dendrite.data import CharVocab
    from dendrite.recipes.language import save_run_info

    model = _model()
    dendrite.save(model.state_dict(), tmp_path / "model.safetensors")
    sizes = {"vocab_size": 11, "block_size": 12, "d_model": 16, "n_layers": 2, "n_heads": 2}
    save_run_info(tmp_path, CharVocab("abcdefghijk"), sizes, model="gpt", keys=tuple(sizes))
    loaded, _ = recipe.load_gpt(tmp_path)
    assert loaded.ngram == 1 and not loaded.alibi
    ids = np.arange(10)[None, :] % 11
    np.testing.assert_array_equal(_logits(loaded, ids), _logits(model, ids))
    # A description with a setting this version does not know says so, rather than loading wrongly.
    save_run_info(tmp_path, CharVocab("abcdefghijk"), {**sizes, "rotary": True}, model="gpt",
                  keys=(*sizes, "rotary"))
    with pytest.raises(ValueError, match="rotary, which this version of dendrite does not know"):
        recipe.load_gpt(tmp_path)


def test_dendrite_sample_reads_a_gpt_run(capsys, tiny_run):
    out, _ = tiny_run
    assert main(["sample", str(out), "--length", "30", "--prime", "def ", "--seed", "2"]) == 0
    text = capsys.readouterr().out[:-1]
    assert text.startswith("def ") and len(text) == 34


def test_dendrite_train_gpt_through_the_cli(capsys, monkeypatch, tmp_path, corpus):
    import dendrite.data

    monkeypatch.setattr(dendrite.data, "load_dataset", lambda name: corpus)  # the small corpus
    spec = MODELS["gpt"]
    monkeypatch.setitem(MODELS, "gpt", type(spec)(**{**spec.__dict__, "defaults": lambda splits: {
        **gpt_defaults(splits), **TINY, "train_chars": 20_000}}))
    status = main(["train", "gpt", "--data", "pytext", "--epochs", "2", "--quiet", "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out.startswith("gpt on pytext: val_bits_per_char ")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and len(metrics["history"]) == 2
    assert (tmp_path / "gpt.json").is_file()


@pytest.mark.parametrize("argv, message", [
    (["train", "gpt", "--data", "digits"], "model 'gpt' cannot train on dataset 'digits'"),
    (["train", "gpt", "--cell", "gru"], "--cell is for the recurrent models"),
    (["train", "gpt", "--optimizer", "nope"], "unknown optimizer 'nope'"),
])
def test_bad_cli_arguments_are_one_line_errors(capsys, monkeypatch, tmp_path, corpus, argv, message):
    import dendrite.data

    real = dendrite.data.load_dataset  # the small corpus for pytext, the real loader for the others
    monkeypatch.setattr(dendrite.data, "load_dataset", lambda name: corpus if name == "pytext" else
                        real(name))
    status = main([*argv, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("arguments, message", [
    ({"d_model": 10, "n_heads": 4}, r"d_model \(10\) must be a multiple of n_heads \(4\)"),
    ({"block_size": 0}, "block_size must be a whole number >= 1"),
    ({"dropout": 1.5}, r"dropout must be in \[0, 1\)"),
    ({"ngram": 0}, "ngram must be a whole number >= 1"),
])
def test_bad_model_arguments_name_the_argument(arguments, message):
    with pytest.raises(ValueError, match=message):
        CharGPT(**{"vocab_size": 5, **arguments})


def test_bad_inputs_say_what_was_expected():
    model = _model()
    with pytest.raises(ValueError, match=r"does not fit the block size 12"):
        model(dendrite.zeros(1, 13, dtype=dendrite.int64))
    with pytest.raises(ValueError, match=r"\(N, T\)"):
        model(dendrite.zeros(13, dtype=dendrite.int64))
    with pytest.raises(ValueError, match=r"ids must be in \[0, 11\)"):
        model.generate([3, 11], max_new_tokens=2)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        model.generate([3], max_new_tokens=2, temperature=0)
    with pytest.raises(ValueError, match="warmup"):
        MODELS["gpt"].build(load_pytext(max_chars=2000), {**gpt_defaults(None), "warmup": 2})
    with pytest.raises(ValueError, match="alibi must be true or false, got 'yes'"):
        MODELS["gpt"].build(load_pytext(max_chars=2000), {**gpt_defaults(None), "alibi": "yes"})
    for betas in ((0.9,), (0.9, 1.0), "0.9,0.99", (0.9, None), (True, 0.9)):
        with pytest.raises(ValueError, match=r"betas must be two numbers in \[0, 1\)"):
            gpt_optimizer(model, {**gpt_defaults(None), "betas": betas})


def test_the_optimizer_takes_the_betas_and_decays_only_the_matrices():
    model = _model()
    optimizer = gpt_optimizer(model, {**gpt_defaults(None), "betas": (0.8, 0.95)})
    assert type(optimizer).__name__ == "AdamW"
    assert [group["betas"] for group in optimizer.param_groups] == [(0.8, 0.95)] * 2
    assert sorted(group["weight_decay"] for group in optimizer.param_groups) == [0.0, 0.1]
    # an optimizer without betas (SGD) is built without them: the setting does not apply to it
    sgd = gpt_optimizer(model, {**gpt_defaults(None), "optimizer": "sgd", "betas": (0.8, 0.95)})
    assert type(sgd).__name__ == "SGD" and "betas" not in sgd.param_groups[0]


def test_attention_learns_what_one_character_of_context_cannot_tell():
    # Rows of the pattern 0 1 0 2 0 1 0 2 ...: after a 0 comes 1 or 2 depending on the character two
    # back, so a model that sees only the current character (a bigram) cannot go below
    # ln(2) / 2 = 0.347 nats per character; attention to the earlier positions can reach 0.
    model = _model(vocab_size=3, block_size=10, n_layers=1).train()
    optimizer = dendrite.optim.AdamW(model.parameters(), lr=1e-2)
    pattern = np.array([0, 1, 0, 2])
    ids = dendrite.tensor(pattern[(np.arange(11)[None, :] + np.arange(8)[:, None]) % 4])
    for _ in range(80):
        logits = model(ids[:, :-1])
        loss = nn.functional.cross_entropy(logits.reshape(-1, 3), ids[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss.item()) < 0.1
