"""Training checkpoints: what they hold, that they are written atomically, and that resuming is exact."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import dendrite
from dendrite import nn, optim
from dendrite.data import DataLoader, TensorDataset
from dendrite.interop.serialization import WeightsFileError
from dendrite.optim import lr_scheduler
from dendrite.train import Trainer
from dendrite.train.checkpoint_state import (
    TrainingCheckpoint,
    checkpoint_path,
    discard_checkpoint,
    has_checkpoint,
    load_training_state,
    read_training_state,
    save_training_state,
)
from tests.train.train_helpers import make_blobs, weights_of

POINTS, LABELS = make_blobs(96)


def build(seed: int = 0, loader_seed: int | None = None):
    """Model with dropout, Adam, a cosine schedule and a shuffling loader: every kind of state."""
    dendrite.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=4)
    loader = DataLoader(TensorDataset(POINTS, LABELS), batch_size=16, shuffle=True, seed=loader_seed)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, scheduler=scheduler, progress=False, seed=7)
    return trainer, loader


def straight_run(loader_seed: int | None = None):
    trainer, loader = build(loader_seed=loader_seed)
    history = trainer.fit(loader, epochs=4)
    return weights_of(trainer.model), history.history, trainer


def interrupted_run(folder, loader_seed=None, restore_rng=True, restore_loader=True):
    """Two epochs with a checkpoint, then new objects (other initial weights) resumed for two more."""
    trainer, loader = build(loader_seed=loader_seed)
    trainer.callbacks.append(TrainingCheckpoint(folder, generators={"train": loader}))
    trainer.fit(loader, epochs=2)
    dendrite.rand(5)  # whatever happens after the save must not leak into the resumed run
    trainer, loader = build(seed=123, loader_seed=loader_seed)
    state = load_training_state(folder, trainer.model, trainer.optimizer, trainer.scheduler,
                                generators={"train": loader} if restore_loader else None,
                                restore_rng=restore_rng)
    trainer.global_step = state.global_step
    checkpoint = TrainingCheckpoint(folder, history=state.history, generators={"train": loader})
    trainer.callbacks.append(checkpoint)
    trainer.fit(loader, epochs=4, initial_epoch=state.epoch)
    return weights_of(trainer.model), checkpoint.history.history, trainer


def assert_same_weights(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)


# ----------------------------------------------------------------------------- exact resume
def test_resumed_run_is_bit_identical_to_a_straight_run(tmp_path):
    weights, history, trainer = straight_run()
    resumed_weights, resumed_history, resumed = interrupted_run(tmp_path)
    assert_same_weights(weights, resumed_weights)
    assert resumed_history == history  # loss, accuracy and lr of all four epochs, to the last bit
    assert resumed.global_step == trainer.global_step == 24
    assert resumed.optimizer.state_dict()["param_groups"][0]["lr"] == trainer.optimizer.param_groups[0]["lr"]
    assert read_training_state(tmp_path).epoch == 4


def test_loader_with_its_own_seed_is_resumed_through_generators(tmp_path):
    weights, _, _ = straight_run(loader_seed=5)
    assert_same_weights(weights, interrupted_run(tmp_path / "a", loader_seed=5)[0])
    # Without restoring the loader's generator the shuffles of epochs 3-4 repeat those of 1-2.
    other = interrupted_run(tmp_path / "b", loader_seed=5, restore_loader=False)[0]
    assert any(not np.array_equal(weights[key], other[key]) for key in weights)


def test_without_the_global_rng_state_the_run_differs(tmp_path):
    # Shows that the equality above depends on the saved generator (dropout masks, shuffles).
    weights, _, _ = straight_run()
    other = interrupted_run(tmp_path, restore_rng=False)[0]
    assert any(not np.array_equal(weights[key], other[key]) for key in weights)


# ----------------------------------------------------------------------------- contents
def test_round_trip_restores_every_part(tmp_path):
    trainer, loader = build()
    trainer.fit(loader, epochs=1)
    history = dendrite.train.History({"loss": [1.0, math.nan], "val_loss": [math.inf, 0.5]})
    extra = {"settings": {"hidden": (16, 16), "lr": 0.05}, "seconds": 1.5, "table": np.arange(3),
             "by_id": {0: "zero", 1: None}}
    save_training_state(tmp_path, trainer.model, trainer.optimizer, trainer.scheduler, epoch=1,
                        history=history, extra=extra, global_step=6)
    rng_after_save = dendrite.backend.get_rng_state()
    dendrite.manual_seed(99)
    fresh, _ = build(seed=1)
    state = load_training_state(tmp_path, fresh.model, fresh.optimizer, fresh.scheduler)
    assert_same_weights(weights_of(trainer.model), weights_of(fresh.model))
    saved_opt, loaded_opt = trainer.optimizer.state_dict(), fresh.optimizer.state_dict()
    assert saved_opt["param_groups"] == loaded_opt["param_groups"]  # betas stay a tuple
    for index, entry in saved_opt["state"].items():
        for key, value in entry.items():
            np.testing.assert_array_equal(value.numpy(), loaded_opt["state"][index][key].numpy())
            assert value.dtype == loaded_opt["state"][index][key].dtype
    assert fresh.scheduler.state_dict() == trainer.scheduler.state_dict()
    assert dendrite.backend.get_rng_state() == rng_after_save
    assert (state.epoch, state.global_step) == (1, 6)
    assert state.history.history["loss"][0] == 1.0 and math.isnan(state.history.history["loss"][1])
    assert state.history.history["val_loss"][0] == math.inf
    assert state.extra["settings"] == {"hidden": (16, 16), "lr": 0.05}
    np.testing.assert_array_equal(state.extra["table"], np.arange(3))
    assert state.extra["by_id"] == {0: "zero", 1: None}


def test_several_models_and_optimizers_by_name(tmp_path):
    dendrite.manual_seed(0)
    generator, discriminator = nn.Linear(3, 4), nn.Linear(4, 1)
    optimizers = {"g": optim.Adam(generator.parameters()), "d": optim.SGD(discriminator.parameters(), lr=0.1)}
    models = {"generator": generator, "discriminator": discriminator}
    save_training_state(tmp_path, models, optimizers, epoch=5)
    other_g, other_d = nn.Linear(3, 4), nn.Linear(4, 1)
    models = {"generator": other_g, "discriminator": other_d}
    state = load_training_state(tmp_path, models, {"g": optim.Adam(other_g.parameters()),
                                                   "d": optim.SGD(other_d.parameters(), lr=0.5)})
    assert state.epoch == 5
    assert_same_weights(weights_of(generator), weights_of(other_g))
    assert_same_weights(weights_of(discriminator), weights_of(other_d))
    with pytest.raises(ValueError, match=r"holds models \['discriminator', 'generator'\]"):
        load_training_state(tmp_path, nn.Linear(3, 4))


def test_file_is_arrays_plus_standard_json_and_never_needs_pickle(tmp_path):
    trainer, loader = build()
    trainer.fit(loader, epochs=1)
    path = save_training_state(tmp_path, trainer.model, trainer.optimizer, trainer.scheduler, epoch=1,
                               history={"epoch": [0], "history": {"loss": [math.nan]}})
    assert path == checkpoint_path(tmp_path) and has_checkpoint(tmp_path)
    with np.load(path, allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    assert all(array.dtype.kind in "biuf" for array in members.values())
    assert "models/model/0.weight" in members
    record = bytes(members["__training_state__"]).decode("utf-8")

    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    meta = json.loads(record, parse_constant=refuse)
    assert meta["epoch"] == 1 and meta["format"].startswith("dendrite.training_state/")
    discard_checkpoint(tmp_path)
    assert not has_checkpoint(tmp_path)


# ----------------------------------------------------------------------------- atomic writes
def test_failure_during_the_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    from dendrite.interop import serialization

    model = nn.Linear(2, 2)
    save_training_state(tmp_path, model, epoch=1)
    before = checkpoint_path(tmp_path).read_bytes()
    real_write = serialization._write_npz

    def write_half_then_fail(path, arrays):
        real_write(path, dict(list(arrays.items())[:1]))  # some bytes reach the temporary file
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_npz", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save_training_state(tmp_path, model, epoch=2)
    assert checkpoint_path(tmp_path).read_bytes() == before
    assert read_training_state(tmp_path).epoch == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]  # no temporary left behind


def test_process_killed_mid_save_leaves_the_previous_checkpoint_loadable(tmp_path):
    # A hard kill runs no cleanup: the half-written temporary stays, the checkpoint must not change.
    script = f"""
import os, dendrite
from dendrite.interop import serialization
from dendrite.train.checkpoint_state import save_training_state
model = dendrite.nn.Linear(2, 2)
save_training_state({str(tmp_path)!r}, model, epoch=1)
real = serialization._write_npz
def killed(path, arrays):
    real(path, dict(list(arrays.items())[:1]))
    os._exit(9)
serialization._write_npz = killed
save_training_state({str(tmp_path)!r}, model, epoch=2)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 9, result.stderr
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "checkpoint.npz"]
    assert leftovers and all(name.startswith(".checkpoint.npz.") for name in leftovers)
    assert read_training_state(tmp_path).epoch == 1


# ----------------------------------------------------------------------------- errors
def test_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no training checkpoint in .*checkpoint.npz"):
        load_training_state(tmp_path, nn.Linear(2, 2))


def test_wrong_model_and_plain_weights_and_damaged_file_are_clear_errors(tmp_path):
    save_training_state(tmp_path, nn.Linear(2, 2), epoch=1)
    with pytest.raises(ValueError, match="does not fit model 'model' \\(Linear\\)"):
        load_training_state(tmp_path, nn.Linear(3, 2))
    dendrite.save(nn.Linear(2, 2).state_dict(), checkpoint_path(tmp_path))
    with pytest.raises(ValueError, match="weights file, not a training checkpoint"):
        read_training_state(tmp_path)
    checkpoint_path(tmp_path).write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(WeightsFileError, match="truncated or corrupt"):
        read_training_state(tmp_path)


def test_state_that_would_need_pickle_is_refused_by_name(tmp_path):
    model = nn.Linear(2, 2)
    scheduler = lr_scheduler.LambdaLR(optim.SGD(model.parameters(), lr=0.1), lambda epoch: 0.5)
    save_training_state(tmp_path, model, scheduler=scheduler)  # LambdaLR leaves its function out
    with pytest.raises(TypeError, match=r"extra\.callback is a function; .*nothing is pickled"):
        save_training_state(tmp_path, model, extra={"callback": lambda: 0})
    with zipfile.ZipFile(checkpoint_path(tmp_path)) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
