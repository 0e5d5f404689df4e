"""A diverged run never overwrites the last finite checkpoint, whatever the callback order."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import dendrite
from dendrite import nn, optim
from dendrite.train import LambdaCallback, ModelCheckpoint, TerminateOnNaN, Trainer
from dendrite.train.callbacks import load_state_dict_file, save_state_dict
from dendrite.train.checkpoint_state import TrainingCheckpoint, load_training_state
from dendrite.train.divergence import (
    NonFiniteCheckpointWarning,
    NonFiniteStateError,
    nonfinite_entries,
    watch_divergence,
)
from tests.train.train_helpers import make_loader, make_model

BATCHES = 6  # 96 samples, batch size 16
POISON_AT = BATCHES + 3  # the 9th training batch: epoch 2, batch 3


def poisoned(loss_fn, at: int = POISON_AT):
    """``loss_fn`` whose value (so every later gradient and weight) is NaN from call ``at`` on."""
    calls = []

    def loss(output, target):
        calls.append(1)
        value = loss_fn(output, target)
        return value * float("nan") if len(calls) >= at else value

    return loss


def fit(blobs, callbacks, epochs: int = 4, loss=None):
    points, labels = blobs
    model = make_model()
    trainer = Trainer(model, loss or poisoned(nn.CrossEntropyLoss()), optim.SGD(model.parameters(), lr=0.1),
                      metrics=[], callbacks=callbacks, progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(make_loader(points[:96], labels[:96]), epochs=epochs)
    return trainer, [w for w in caught if issubclass(w.category, NonFiniteCheckpointWarning)]


def snapshot_after_first_epoch(path):
    """A callback that copies ``path``'s bytes once epoch 1's callbacks have all run."""
    saved = {}

    def keep(epoch, logs):
        if epoch == 0:
            saved["bytes"] = path.read_bytes()

    return saved, LambdaCallback(on_epoch_end=keep)


@pytest.mark.parametrize("order", ["checkpoint-first", "terminator-first", "no-terminator"])
@pytest.mark.parametrize("save_best_only", [False, True])
def test_model_checkpoint_keeps_the_last_finite_file(blobs, tmp_path, order, save_best_only):
    path = tmp_path / "weights.npz"
    checkpoint = ModelCheckpoint(path, monitor="loss", save_best_only=save_best_only)
    saved, snapshot = snapshot_after_first_epoch(path)
    terminator = TerminateOnNaN(verbose=False)
    callbacks = {"checkpoint-first": [checkpoint, terminator], "terminator-first": [terminator, checkpoint],
                 "no-terminator": [checkpoint]}[order] + [snapshot]
    trainer, caught = fit(blobs, callbacks)

    assert trainer.divergence is not None
    assert (trainer.divergence.epoch, trainer.divergence.batch, trainer.divergence.key) == (2, 3, "loss")
    assert nonfinite_entries(trainer.model.state_dict())  # the weights really are NaN now
    assert path.read_bytes() == saved["bytes"]  # epoch 1's file, byte for byte
    weights = load_state_dict_file(path)
    assert all(np.isfinite(value.numpy()).all() for value in weights.values())
    assert len(caught) == 1 and "the last finite checkpoint is kept" in str(caught[0].message)
    assert checkpoint.refused is not None
    if save_best_only:
        assert math.isfinite(checkpoint.best)


def test_writer_refuses_nonfinite_weights_even_when_the_loss_looks_fine(blobs, tmp_path):
    # The loss stays finite; a callback breaks the weights at the end of epoch 2, before the checkpoint.
    path = tmp_path / "weights.npz"

    checkpoint = ModelCheckpoint(path, monitor="loss")

    def break_weights(epoch, logs):
        if epoch == 1:
            checkpoint.model[0].weight.array[0, 0] = np.inf

    saved, snapshot = snapshot_after_first_epoch(path)
    trainer, caught = fit(blobs, [LambdaCallback(on_epoch_end=break_weights), checkpoint, snapshot],
                          epochs=3, loss=nn.CrossEntropyLoss())
    assert trainer.divergence is None
    assert path.read_bytes() == saved["bytes"]
    assert len(caught) == 1 and "0.weight" in str(caught[0].message)  # said once, over two epochs


def test_training_checkpoint_keeps_the_last_finite_state(blobs, tmp_path):
    saved, snapshot = snapshot_after_first_epoch(tmp_path / "checkpoint.npz")
    trainer, caught = fit(blobs, [TrainingCheckpoint(tmp_path), TerminateOnNaN(verbose=False), snapshot])
    assert trainer.divergence.epoch == 2 and len(caught) == 1
    assert (tmp_path / "checkpoint.npz").read_bytes() == saved["bytes"]
    model = make_model()
    state = load_training_state(tmp_path, model, optim.SGD(model.parameters(), lr=0.1), restore_rng=False)
    assert state.epoch == 1 and not nonfinite_entries(model.state_dict())


def test_save_state_dict_refuses_nan_and_keeps_the_previous_file(tmp_path):
    path = tmp_path / "w.npz"
    save_state_dict({"weight": dendrite.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(NonFiniteStateError, match="weight holds NaN or infinite values"):
        save_state_dict({"weight": dendrite.tensor([1.0, float("nan")])}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]  # no temporary file left behind
    save_state_dict({"weight": dendrite.tensor([float("inf")])}, path, allow_nonfinite=True)
    assert np.isinf(load_state_dict_file(path)["weight"].numpy()).all()


def test_divergence_is_recorded_before_any_batch_callback(blobs):
    seen = []
    probe = LambdaCallback(on_batch_end=lambda batch, logs: seen.append(trainer.divergence))
    points, labels = blobs
    model = make_model()
    trainer = Trainer(model, poisoned(nn.CrossEntropyLoss()), optim.SGD(model.parameters(), lr=0.1),
                      metrics=[], callbacks=[probe], progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        trainer.fit(make_loader(points[:96], labels[:96]), epochs=3)
    # Without TerminateOnNaN the run goes on (Keras's behaviour), but the first divergence is kept.
    assert len(seen) == 3 * BATCHES
    assert seen[POISON_AT - 2] is None and seen[POISON_AT - 1] is trainer.divergence
    assert trainer.divergence.describe() == "the loss became nan at epoch 2, batch 3"


def test_inside_a_watch_every_trainer_stops_at_the_first_nonfinite_loss(blobs):
    points, labels = blobs
    model = make_model()
    trainer = Trainer(model, poisoned(nn.CrossEntropyLoss()), optim.SGD(model.parameters(), lr=0.1),
                      metrics=[], progress=False)
    with watch_divergence() as watch:
        history = trainer.fit(make_loader(points[:96], labels[:96]), epochs=5)
    assert watch.divergence is trainer.divergence and trainer.stop_training
    assert len(history) == 2 and watch.history is history
    assert trainer.stop_reason == "diverged: the loss became nan at epoch 2, batch 3"
