"""Recurrent sequence classifiers (``rnn``, ``lstm``, ``gru``): model, recipe, gradient per step, targets."""

from __future__ import annotations

import json

import numpy as np
import pytest

import dendrite
from dendrite import nn
from dendrite.data import DataSplits, load_dataset
from dendrite.models import SequenceClassifier
from dendrite.recipes.base import RunConfig
from dendrite.recipes.catalog import MODELS
from dendrite.recipes.runner import train
from dendrite.recipes.sequence import as_steps, input_gradient_per_step, needs_sequences


def small_digits(n_train: int = 240, n_test: int = 120) -> DataSplits:
    data = load_dataset("digits")
    return DataSplits("digits", "classification", data.x_train[:n_train], data.y_train[:n_train],
                      data.x_test[:n_test], data.y_test[:n_test], data.input_shape, data.num_classes)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_sequence_classifier_shapes_and_cell(cell):
    model = SequenceClassifier((8, 8), 10, cell=cell, hidden_size=16)
    assert type(model.rnn).__name__ == cell.upper()
    assert model(dendrite.zeros(3, 8, 8)).shape == (3, 10)
    assert model(dendrite.zeros(3, 5, 8)).shape == (3, 10)  # any length: only F fixes a weight shape
    one_feature = SequenceClassifier((6,), 4, cell=cell, hidden_size=8)
    assert one_feature(dendrite.zeros(2, 6)).shape == (2, 4)


def test_sequence_classifier_bad_input_and_cell():
    with pytest.raises(ValueError, match="unknown recurrent cell"):
        SequenceClassifier((8, 8), 10, cell="transformer")
    with pytest.raises(ValueError, match=r"\(T, F\)"):
        SequenceClassifier((1, 8, 8), 10)
    model = SequenceClassifier((8, 8), 10, hidden_size=8)
    with pytest.raises(ValueError, match="expected input"):
        model(dendrite.zeros(2, 1, 8, 8))


def test_classifier_reads_the_last_step_output():
    dendrite.manual_seed(0)
    model = SequenceClassifier((4, 3), 2, cell="gru", hidden_size=5)
    x = dendrite.randn(2, 4, 3)
    with dendrite.no_grad():
        output, _ = model.rnn(x)
        np.testing.assert_allclose(model(x).numpy(), model.head(output[:, -1]).numpy(), rtol=1e-6)


def test_a_bidirectional_classifier_reads_each_direction_after_the_whole_sequence():
    dendrite.manual_seed(0)
    model = SequenceClassifier((10, 1), 2, cell="gru", hidden_size=4, bidirectional=True)
    x = dendrite.randn(1, 10, 1)
    with dendrite.no_grad():
        output, h_n = model.rnn(x)
        # the forward direction's last step and the backward direction's first step: the final states
        np.testing.assert_allclose(model.summary_vector(x).numpy()[0], np.concatenate([h_n[0, 0], h_n[1, 0]]),
                                   rtol=1e-6)
    for half in (slice(0, 4), slice(4, 8)):
        x = dendrite.randn(1, 10, 1, requires_grad=True)
        model.summary_vector(x)[0, half].sum().backward()
        assert (x.grad.numpy() != 0).all(), f"outputs {half} do not depend on every step"


def test_accepts_sequences_only():
    assert needs_sequences(load_dataset("digits")) is None
    assert "classifier" in needs_sequences(load_dataset("mackey-glass"))
    images = DataSplits("imgs", "classification", np.zeros((4, 1, 8, 8), np.float32), np.arange(4),
                        np.zeros((2, 1, 8, 8), np.float32), np.arange(2), (1, 8, 8), 4)
    assert "(T, F)" in needs_sequences(images)
    assert {"rnn", "lstm", "gru"} <= set(MODELS)


def test_as_steps_rereads_each_sample_row_major():
    data = small_digits(10, 5)
    pixels = as_steps(data, 1)
    assert pixels.input_shape == (64, 1)
    assert pixels.x_train.shape == (10, 64, 1) and pixels.x_test.shape == (5, 64, 1)
    np.testing.assert_array_equal(pixels.x_train[3, :, 0], data.x_train[3].ravel())
    assert as_steps(data, 4).input_shape == (16, 4)
    assert as_steps(data, None) is data
    with pytest.raises(ValueError, match="must divide"):
        as_steps(data, 3)


def test_a_few_steps_reduce_the_loss():
    dendrite.manual_seed(0)
    data = small_digits(128)
    model = SequenceClassifier((8, 8), 10, cell="lstm", hidden_size=32)
    optimizer = dendrite.optim.Adam(model.parameters(), lr=1e-2)
    x, y = dendrite.tensor(data.x_train), dendrite.tensor(data.y_train)
    losses = []
    for _ in range(15):
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    assert losses[-1] < 0.7 * losses[0]


def test_input_gradient_per_step_matches_a_hand_computed_gradient():
    # One step, one feature, identity-like RNN: logits = W_head tanh(w x) -> dL/dx by hand.
    model = SequenceClassifier((1, 1), 2, cell="rnn", hidden_size=1)
    with dendrite.no_grad():
        for parameter in model.parameters():
            parameter.fill_(0.0)
        model.rnn.weight_ih_l0.fill_(0.5)
        model.head.weight.copy_(dendrite.tensor([[1.0], [-1.0]]))
    x = np.array([[[2.0]]], np.float32)
    h = np.tanh(0.5 * 2.0)
    logits = np.array([h, -h])
    p = np.exp(logits) / np.exp(logits).sum()
    # L = -log p_0; dL/dlogits = p - e_0; dlogits/dh = (1, -1); dh/dx = 0.5 (1 - h^2)
    expected = abs(((p[0] - 1) * 1 + p[1] * -1) * 0.5 * (1 - h * h))
    (value,) = input_gradient_per_step(model, x, np.array([0]))
    assert value == pytest.approx(expected, rel=1e-5)


def test_plain_rnn_gradient_vanishes_towards_early_steps():
    dendrite.manual_seed(0)
    model = SequenceClassifier((30, 4), 3, cell="rnn", hidden_size=32)
    x = np.random.default_rng(0).normal(size=(16, 30, 4)).astype(np.float32)
    norms = input_gradient_per_step(model, x, np.zeros(16, np.int64))
    assert len(norms) == 30
    assert norms[0] < 1e-2 * norms[-1]  # 30 steps back, the signal has all but died
    assert model.training  # the probe restores the mode


def test_train_writes_the_run_files(tmp_path):
    config = RunConfig("gru", "digits", epochs=2, quiet=True, out=tmp_path, options={"hidden_size": 16})
    metrics = train(MODELS["gru"], small_digits(), config)
    for name in ("metrics.json", "curves.png", "confusion.png", "gradient_flow.png"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "model.safetensors").is_file() or (tmp_path / "model.npz").is_file()
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["final"] == metrics["final"]
    assert 0.0 <= saved["final"]["test_accuracy"] <= 1.0 and len(saved["history"]) == 2
    norms = saved["input_grad_norm_per_step"]
    assert len(norms["initial"]) == 8 and len(norms["trained"]) == 8
    assert saved["final"]["grad_first_over_last"] == pytest.approx(norms["trained"][0] / norms["trained"][-1])
    assert saved["settings"]["cell"] == "gru"


def test_features_per_step_makes_longer_sequences(tmp_path):
    config = RunConfig("rnn", "digits", epochs=1, quiet=True, out=tmp_path,
                       options={"hidden_size": 8, "features_per_step": 2})
    metrics = train(MODELS["rnn"], small_digits(64, 32), config)
    assert len(metrics["input_grad_norm_per_step"]["trained"]) == 32


def test_resumed_run_ends_like_an_uninterrupted_one(tmp_path):
    def run(folder, epochs, resume=False):
        config = RunConfig("lstm", "digits", epochs=epochs, quiet=True, out=folder, resume=resume,
                           options={"hidden_size": 8})
        return train(MODELS["lstm"], small_digits(96, 48), config)

    straight = run(tmp_path / "straight", 3)
    run(tmp_path / "stopped", 2)
    resumed = run(tmp_path / "stopped", 3, resume=True)
    assert resumed["resumed_from_epoch"] == 2
    assert resumed["final"]["test_loss"] == straight["final"]["test_loss"]
    assert resumed["input_grad_norm_per_step"] == straight["input_grad_norm_per_step"]


def test_cell_option_must_match_the_model(tmp_path):
    with pytest.raises(ValueError, match="train the model 'gru'"):
        train(MODELS["lstm"], small_digits(), RunConfig("lstm", "digits", epochs=1, quiet=True, out=tmp_path,
                                                        options={"cell": "gru"}))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_default_run_reaches_the_target(tmp_path, name):
    config = RunConfig(name, "digits", seed=0, quiet=True, out=tmp_path)
    metrics = train(MODELS[name], load_dataset("digits"), config)
    assert metrics["final"]["test_accuracy"] >= 0.95
