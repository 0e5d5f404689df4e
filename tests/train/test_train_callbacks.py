"""Callbacks: hook order and logs, early stopping, checkpoints, NaN stop, LR plateau, clipping, loggers."""

from __future__ import annotations

import csv
import json
import math
import os

import numpy as np
import pytest

import dendrite
from dendrite import nn, optim
from dendrite.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    GradientClipping,
    History,
    JSONLLogger,
    LambdaCallback,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
    Trainer,
    load_state_dict_file,
)
from dendrite.train.callbacks import checkpoint as checkpoint_module
from tests.train.train_helpers import make_model, weights_of


class Recorder(Callback):
    def __init__(self, name, events):
        self.name, self.events = name, events

    def on_train_begin(self, logs=None):
        self.events.append((self.name, "train_begin"))

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append((self.name, "epoch_begin", epoch))

    def on_batch_begin(self, batch, logs=None):
        self.events.append((self.name, "batch_begin", batch))

    def on_before_optimizer_step(self, optimizer, batch, logs=None):
        self.events.append((self.name, "before_step", batch))

    def on_batch_end(self, batch, logs=None):
        self.events.append((self.name, "batch_end", batch, sorted(logs)))

    def on_epoch_end(self, epoch, logs=None):
        self.events.append((self.name, "epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.events.append((self.name, "train_end", sorted(logs)))


def test_hooks_fire_in_order_with_the_right_logs(setup):
    model, loss_fn, optimizer, loader, val_loader = setup
    events = []
    trainer = Trainer(model, loss_fn, optimizer, callbacks=[Recorder("a", events), Recorder("b", events)],
                      progress=False)
    trainer.fit(loader, epochs=2, val_loader=val_loader)
    epoch_keys = ["accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    expected = [("train_begin",)]
    for epoch in range(2):
        expected.append(("epoch_begin", epoch))
        for batch in range(len(loader)):
            expected += [("batch_begin", batch), ("before_step", batch),
                         ("batch_end", batch, ["batch", "loss", "size"])]
        expected.append(("epoch_end", epoch, epoch_keys))
    expected.append(("train_end", epoch_keys))
    # Each hook runs on "a" then "b" before the next hook starts.
    assert events == [(name, *event) for event in expected for name in ("a", "b")]
    assert all(callback.trainer is trainer for callback in trainer.callbacks)


def test_stop_training_flag_from_a_callback_stops_after_the_batch(setup):
    model, loss_fn, optimizer, loader, _ = setup
    batches = []

    def stop_at_third(batch, logs):
        batches.append(batch)
        if batch == 2:
            trainer.stop_training = True

    trainer = Trainer(model, loss_fn, optimizer, callbacks=[LambdaCallback(on_batch_end=stop_at_third)],
                      progress=False)
    history = trainer.fit(loader, epochs=5)
    assert batches == [0, 1, 2] and len(history) == 1


def test_lambda_callback_rejects_unknown_hooks_and_callbacks_must_be_callbacks(setup):
    model, loss_fn, optimizer, _, _ = setup
    with pytest.raises(ValueError, match="on_epoch_ends"):
        LambdaCallback(on_epoch_ends=print)
    with pytest.raises(TypeError, match="LambdaCallback"):
        Trainer(model, loss_fn, optimizer, callbacks=[print])


# ----------------------------------------------------------------------------- EarlyStopping
def test_early_stopping_counts_patience_like_keras():
    stopper = EarlyStopping(monitor="val_loss", patience=2, min_delta=0.05)
    values = [1.0, 0.9, 0.88, 0.87, 0.5]  # 0.88 and 0.87 are within min_delta of 0.9
    stopped_at = None
    for epoch, value in enumerate(values):
        stopper.on_epoch_end(epoch, {"val_loss": value})
        if stopper.stopped_epoch is not None:
            stopped_at = epoch
            break
    assert stopped_at == 3 and stopper.best == 0.9 and stopper.best_epoch == 1


def test_early_stopping_mode_auto_maximises_accuracy():
    stopper = EarlyStopping(monitor="val_accuracy", patience=1)
    for epoch, value in enumerate([0.5, 0.7, 0.6, 0.65]):
        stopper.on_epoch_end(epoch, {"val_accuracy": value})
        if stopper.stopped_epoch is not None:
            break
    assert stopper.mode == "max" and stopper.best == 0.7 and stopper.stopped_epoch == 2


def test_early_stopping_stops_and_restores_the_best_weights(setup):
    model, loss_fn, optimizer, loader, val_loader = setup
    # A scripted monitor: best at epoch 1, then worse; patience 2 stops at epoch 3.
    scripted = iter([0.9, 0.5, 0.7, 0.8, 0.95, 0.99])
    snapshots = {}

    class Script(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = next(scripted)
            snapshots[epoch] = weights_of(self.model)

    stopper = EarlyStopping(monitor="score", mode="min", patience=2, restore_best_weights=True)
    trainer = Trainer(model, loss_fn, optimizer, callbacks=[Script(), stopper], progress=False)
    history = trainer.fit(loader, epochs=6, val_loader=val_loader)
    assert len(history) == 4 and stopper.stopped_epoch == 3 and stopper.best_epoch == 1
    assert "EarlyStopping" in trainer.stop_reason
    restored = weights_of(model)
    for key, value in snapshots[1].items():
        np.testing.assert_array_equal(restored[key], value)
    assert any(not np.array_equal(restored[key], snapshots[3][key]) for key in restored)


def test_early_stopping_warns_when_the_monitor_is_missing(setup):
    model, loss_fn, optimizer, loader, _ = setup
    with pytest.warns(UserWarning, match="val_loss"):
        Trainer(model, loss_fn, optimizer, callbacks=[EarlyStopping()], progress=False).fit(loader, epochs=1)


# ----------------------------------------------------------------------------- ModelCheckpoint
def _no_temporaries(folder):
    return [name for name in os.listdir(folder) if ".tmp" in name] == []


def test_checkpoint_every_epoch_with_formatted_names(setup, tmp_path):
    model, loss_fn, optimizer, loader, val_loader = setup
    pattern = str(tmp_path / "ckpt" / "epoch{epoch:02d}-{val_loss:.3f}.npz")
    checkpoint = ModelCheckpoint(pattern)
    history = Trainer(model, loss_fn, optimizer, callbacks=[checkpoint], progress=False).fit(
        loader, epochs=2, val_loader=val_loader)
    names = sorted(os.listdir(tmp_path / "ckpt"))
    assert names == [f"epoch{e + 1:02d}-{history['val_loss'][e]:.3f}.npz" for e in range(2)]
    state = load_state_dict_file(checkpoint.last_saved)
    for key, value in weights_of(model).items():
        np.testing.assert_array_equal(np.array(state[key]), value)
    fresh = make_model(seed=99)
    fresh.load_state_dict(state)
    assert _no_temporaries(tmp_path / "ckpt")


def test_checkpoint_save_best_only_keeps_the_best_epoch(setup, tmp_path, monkeypatch):
    model, loss_fn, optimizer, loader, _ = setup
    scripted = iter([0.5, 0.7, 0.4, 0.6])
    saved_weights = {}

    class Script(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = next(scripted)
            saved_weights[epoch] = weights_of(self.model)

    path = tmp_path / "best.npz"
    checkpoint = ModelCheckpoint(path, monitor="score", mode="min", save_best_only=True)
    saves = []
    original = checkpoint_module.save_state_dict
    monkeypatch.setattr(checkpoint_module, "save_state_dict",
                        lambda state, target: saves.append(target) or original(state, target))
    Trainer(model, loss_fn, optimizer, callbacks=[Script(), checkpoint], progress=False).fit(loader, epochs=4)
    assert len(saves) == 2 and checkpoint.best == 0.4  # epochs 0 and 2 improved
    state = load_state_dict_file(path)
    for key, value in saved_weights[2].items():
        np.testing.assert_array_equal(np.array(state[key]), value)


def test_checkpoint_failure_leaves_the_previous_file_intact(setup, tmp_path, monkeypatch):
    model, loss_fn, optimizer, loader, _ = setup
    path = tmp_path / "model.npz"
    checkpoint = ModelCheckpoint(path, monitor="loss")
    trainer = Trainer(model, loss_fn, optimizer, callbacks=[checkpoint], progress=False)
    trainer.fit(loader, epochs=1)
    good = path.read_bytes()

    def failing_writer(state_dict, temporary):
        temporary.write_bytes(b"PK\x03\x04 half a zip")  # a partial write, then the disk fills up
        raise OSError("No space left on device")

    monkeypatch.setattr(checkpoint_module, "_serialise", failing_writer)
    with pytest.raises(OSError, match="No space left"):
        trainer.fit(loader, epochs=1)
    assert path.read_bytes() == good
    assert _no_temporaries(tmp_path)
    assert set(load_state_dict_file(path)) == set(model.state_dict())


def test_checkpoint_names_missing_format_fields(setup, tmp_path):
    model, loss_fn, optimizer, loader, _ = setup
    checkpoint = ModelCheckpoint(tmp_path / "{val_acc:.2f}.npz")
    with pytest.raises(ValueError, match="val_acc"):
        Trainer(model, loss_fn, optimizer, callbacks=[checkpoint], progress=False).fit(loader, epochs=1)


# ----------------------------------------------------------------------------- TerminateOnNaN
def test_terminate_on_nan_stops_and_names_epoch_and_batch(setup, capsys):
    model, loss_fn, optimizer, loader, _ = setup
    calls = []

    def poisoned_loss(output, target):
        calls.append(1)
        loss = loss_fn(output, target)
        # From the 9th batch on (epoch 2, batch 3 with 6 batches per epoch) the loss is NaN.
        return loss * float("nan") if len(calls) >= 9 else loss

    terminator = TerminateOnNaN()
    trainer = Trainer(model, poisoned_loss, optimizer, metrics=[], callbacks=[terminator], progress=False)
    history = trainer.fit(loader, epochs=5)
    assert len(calls) == 9 and len(history) == 2
    assert terminator.message == "TerminateOnNaN: loss became nan at epoch 2/5, batch 3/6; stopping training"
    assert trainer.stop_reason == terminator.message
    assert terminator.message in capsys.readouterr().out
    assert math.isnan(history["loss"][-1])


# ----------------------------------------------------------------------------- LR, clipping
def test_reduce_lr_on_plateau_callback_lowers_every_group():
    weights = [nn.Parameter(dendrite.zeros(1)), nn.Parameter(dendrite.zeros(1))]
    optimizer = optim.SGD([{"params": [weights[0]]}, {"params": [weights[1]], "lr": 0.5}], lr=1.0)
    callback = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, cooldown=2, min_lr=0.2,
                                 optimizer=optimizer)
    rates = []
    for epoch, value in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        callback.on_epoch_end(epoch, {"val_loss": value})
        rates.append([group["lr"] for group in optimizer.param_groups])
    # Keras's counting: the epoch that ends the cooldown already counts as a bad epoch again,
    # so with cooldown=2: epoch 1 reduces, 2 is in cooldown, 3 reduces, 4 cools, 5 reduces to min_lr.
    assert rates == [[1.0, 0.5], [0.5, 0.25], [0.5, 0.25], [0.25, 0.2], [0.25, 0.2], [0.2, 0.2]]


def _keras_reduce_lr_on_plateau(values, factor, patience, min_delta, cooldown, min_lr, mode, lr):
    """Keras's ReduceLROnPlateau counting, written out as a reference: the learning rate after each epoch."""
    best, wait, cooldown_counter, rates = (math.inf if mode == "min" else -math.inf), 0, 0, []
    for value in values:
        if cooldown_counter > 0:
            cooldown_counter -= 1
            wait = 0
        improved = value < best - min_delta if mode == "min" else value > best + min_delta
        if improved:
            best, wait = value, 0
        elif cooldown_counter <= 0:
            wait += 1
            if wait >= patience:
                if lr > min_lr:
                    lr = max(lr * factor, min_lr)
                cooldown_counter, wait = cooldown, 0
        rates.append(lr)
    return rates


@pytest.mark.parametrize("seed", range(12))
def test_reduce_lr_on_plateau_callback_counts_as_keras_does(seed):
    # The callback is an adapter over optim.lr_scheduler.ReduceLROnPlateau (PyTorch's counting);
    # this pins that the translation gives Keras's sequence for any patience, cooldown and mode.
    rng = np.random.default_rng(seed)
    patience, cooldown = int(rng.integers(0, 4)), int(rng.integers(0, 4))
    mode, min_delta = ("min", "max")[seed % 2], float(rng.choice([0.0, 0.05]))
    values = np.round(rng.normal(size=30).cumsum() * 0.1, 2).tolist()
    weight = nn.Parameter(dendrite.zeros(1))
    optimizer = optim.SGD([weight], lr=1.0)
    callback = ReduceLROnPlateau(monitor="m", factor=0.5, patience=patience, mode=mode, min_delta=min_delta,
                                 cooldown=cooldown, min_lr=0.01, optimizer=optimizer)
    rates = []
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {"m": value})
        rates.append(optimizer.param_groups[0]["lr"])
    assert rates == _keras_reduce_lr_on_plateau(values, 0.5, patience, min_delta, cooldown, 0.01, mode, 1.0)


def test_reduce_lr_on_plateau_in_a_run_is_logged_as_lr(setup):
    model, loss_fn, optimizer, loader, _ = setup
    scripted = iter([1.0, 1.0, 1.0])

    class Flat(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["flat"] = next(scripted)

    callback = ReduceLROnPlateau(monitor="flat", factor=0.1, patience=1)
    history = Trainer(model, loss_fn, optimizer, callbacks=[Flat(), callback], progress=False).fit(
        loader, epochs=3)
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.01])


def test_gradient_clipping_callback_clips_before_the_step(setup):
    model, loss_fn, _, loader, _ = setup
    norms_after = []

    class Check(Callback):
        def on_before_optimizer_step(self, optimizer, batch, logs=None):
            grads = [p.grad.numpy() for p in model.parameters()]
            norms_after.append(math.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads)))

    optimizer = optim.SGD(model.parameters(), lr=0.1)
    Trainer(model, loss_fn, optimizer, callbacks=[GradientClipping(0.01), Check()], progress=False).fit(
        loader, epochs=1)
    assert len(norms_after) == len(loader) and max(norms_after) <= 0.01 * (1 + 1e-5)
    with pytest.raises(ValueError, match="max_norm"):
        GradientClipping(0)


# ----------------------------------------------------------------------------- loggers, History
def test_csv_and_jsonl_loggers_write_one_row_per_epoch(setup, tmp_path):
    model, loss_fn, optimizer, loader, val_loader = setup
    csv_path, jsonl_path = tmp_path / "log.csv", tmp_path / "logs" / "log.jsonl"
    history = Trainer(model, loss_fn, optimizer, callbacks=[CSVLogger(csv_path), JSONLLogger(jsonl_path)],
                      progress=False).fit(loader, epochs=3, val_loader=val_loader)
    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2]
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [float(row["val_loss"]) for row in rows] == pytest.approx(history["val_loss"])
    lines = [json.loads(line) for line in jsonl_path.read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [0, 1, 2]
    assert [line["loss"] for line in lines] == pytest.approx(history["loss"])
    assert _no_temporaries(tmp_path) and _no_temporaries(tmp_path / "logs")


def test_loggers_append_continues_a_previous_run(tmp_path):
    for logger_type, name in ((CSVLogger, "a.csv"), (JSONLLogger, "a.jsonl")):
        first = logger_type(tmp_path / name)
        first.on_train_begin()
        first.on_epoch_end(0, {"loss": 1.0})
        second = logger_type(tmp_path / name, append=True)
        second.on_train_begin()
        second.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.7})
        assert [row["loss"] for row in second.rows] == [1.0, 0.5]
        assert len((tmp_path / name).read_text().strip().splitlines()) == (3 if name.endswith("csv") else 2)


def test_history_alignment_best_and_round_trip(tmp_path):
    history = History()
    history.on_epoch_end(0, {"loss": 1.0})
    history.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.8})
    history.on_epoch_end(2, {"loss": float("nan"), "val_loss": 0.6})
    assert math.isnan(history["val_loss"][0]) and history["val_loss"][1:] == [0.8, 0.6]
    assert history.best("loss") == (1, 0.5) and history.best("val_loss") == (2, 0.6)
    path = history.save(tmp_path / "history.json")
    loaded = History.load(path)
    assert loaded.epoch == [0, 1, 2] and loaded["loss"][:2] == [1.0, 0.5] and math.isnan(loaded["loss"][2])
    with pytest.raises(KeyError, match="recorded keys"):
        history["accuracy"]
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="not a History file"):
        History.load(tmp_path / "bad.json")


def test_checkpoint_round_trip_without_a_trainer(tmp_path):
    model = make_model(seed=5)
    target = checkpoint_module.save_state_dict(model.state_dict(), tmp_path / "w.npz")
    other = make_model(seed=6)
    other.load_state_dict(load_state_dict_file(target))
    for key, value in weights_of(model).items():
        np.testing.assert_array_equal(weights_of(other)[key], value)
