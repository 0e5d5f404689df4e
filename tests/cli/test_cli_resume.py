"""`dendrite train ... --resume`: an interrupted or extended run continues exactly where it stopped."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from dendrite.cli.main import main
from dendrite.data import load_dataset
from dendrite.data.splits import DataSplits
from dendrite.recipes.base import RunConfig, RunResult
from dendrite.recipes.catalog import MODELS
from dendrite.recipes.runner import train
from dendrite.train import Trainer
from dendrite.train.checkpoint_state import has_checkpoint, read_training_state

SPIRAL = ["--data", "spiral", "--seed", "3", "--quiet"]


def cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dendrite.cli.main", *argv], capture_output=True, text=True,
                          timeout=600)


def metrics(folder) -> dict:
    return json.loads((folder / "metrics.json").read_text())


def assert_same_run(first: dict, second: dict) -> None:
    assert first["final"] == second["final"]
    assert first["history"] == second["history"]  # loss, accuracy, val_*, lr of every epoch
    assert len(first["history"]) == first["epochs"]


@pytest.fixture
def interrupt_at(monkeypatch):
    """``interrupt_at(k)``: Ctrl-C arrives during epoch k (0-based), after the checkpoint of epoch k-1."""
    real = Trainer._train_epoch

    def arm(epoch: int) -> None:
        def train_epoch(self, loader):
            if self.epoch == epoch:
                raise KeyboardInterrupt
            return real(self, loader)

        monkeypatch.setattr(Trainer, "_train_epoch", train_epoch)

    yield arm
    monkeypatch.undo()


@pytest.mark.slow
def test_interrupted_run_resumed_in_a_new_process_equals_a_straight_run(tmp_path, interrupt_at):
    assert main(["train", "mlp", *SPIRAL, "--epochs", "4", "--out", str(tmp_path / "A")]) == 0
    interrupt_at(2)
    assert main(["train", "mlp", *SPIRAL, "--epochs", "4", "--out", str(tmp_path / "B")]) == 130
    assert read_training_state(tmp_path / "B").epoch == 2 and not (tmp_path / "B" / "metrics.json").exists()
    result = cli("train", "mlp", *SPIRAL, "--epochs", "4", "--out", str(tmp_path / "B"), "--resume")
    assert result.returncode == 0, result.stderr
    resumed = metrics(tmp_path / "B")
    assert_same_run(metrics(tmp_path / "A"), resumed)  # the default cosine schedule included
    assert resumed["resumed_from_epoch"] == 2
    assert read_training_state(tmp_path / "B").epoch == 4


@pytest.mark.slow
def test_extended_run_equals_a_straight_run_when_the_schedule_does_not_depend_on_the_total(
        tmp_path, monkeypatch, capsys):
    spec = MODELS["mlp"]
    monkeypatch.setitem(MODELS, "mlp", dataclasses.replace(
        spec, defaults=lambda splits: {**spec.defaults(splits), "schedule": "none"}))
    assert main(["train", "mlp", *SPIRAL, "--epochs", "4", "--out", str(tmp_path / "A")]) == 0
    assert main(["train", "mlp", *SPIRAL, "--epochs", "2", "--out", str(tmp_path / "B")]) == 0
    assert main(["train", "mlp", *SPIRAL, "--epochs", "4", "--out", str(tmp_path / "B"), "--resume"]) == 0
    assert_same_run(metrics(tmp_path / "A"), metrics(tmp_path / "B"))
    assert "note" not in capsys.readouterr().err


def test_extending_a_cosine_run_says_the_schedule_was_stretched(tmp_path, capsys):
    out = str(tmp_path / "B")
    cosine = ["--schedule", "cosine"]
    assert main(["train", "mlp", *SPIRAL, *cosine, "--epochs", "1", "--out", out]) == 0
    assert main(["train", "mlp", *SPIRAL, *cosine, "--epochs", "2", "--out", out, "--resume"]) == 0
    error = capsys.readouterr().err
    assert "planned for 1 epochs" in error and "'cosine'" in error
    rows = metrics(tmp_path / "B")["history"]
    # From the resume on, the rates follow the 2-epoch cosine: epoch 2 runs at half the initial rate.
    assert [row["epoch"] for row in rows] == [1, 2] and rows[1]["lr"] == pytest.approx(rows[0]["lr"] / 2)


def test_resume_without_a_checkpoint_is_one_line_and_exit_2(tmp_path):
    result = cli("train", "mlp", *SPIRAL, "--epochs", "2", "--out", str(tmp_path / "empty"), "--resume")
    assert result.returncode == 2
    assert "cannot resume: no training checkpoint in" in result.stderr and "checkpoint.npz" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_resume_refuses_other_settings_models_and_finished_runs(tmp_path, capsys):
    out = str(tmp_path / "B")
    assert main(["train", "mlp", *SPIRAL, "--epochs", "1", "--out", out]) == 0
    capsys.readouterr()
    cases = [
        (["train", "mlp", *SPIRAL, "--epochs", "3", "--lr", "0.5"],
         "settings differ from the checkpointed run (lr 0.01 -> 0.5); only --epochs may change"),
        (["train", "mlp", "--data", "spiral", "--seed", "4", "--epochs", "3"], "is a run of seed 3, not 4"),
        (["train", "mlp", "--data", "moons", "--seed", "3", "--epochs", "3"],
         "run of dataset 'spiral', not 'moons'"),
        (["train", "mlp", *SPIRAL, "--epochs", "1"],
         "has already trained 1 epochs; pass --epochs N with N > 1"),
    ]
    for argv, message in cases:
        assert main([*argv, "--out", out, "--resume", "--quiet"]) == 2, argv
        assert message in capsys.readouterr().err
    assert read_training_state(out).epoch == 1  # refused resumes change nothing


def test_a_new_run_discards_the_old_checkpoint(tmp_path, interrupt_at, capsys):
    out = str(tmp_path / "B")
    assert main(["train", "mlp", *SPIRAL, "--epochs", "1", "--out", out]) == 0
    assert has_checkpoint(out)
    interrupt_at(0)  # the new run is stopped before its first checkpoint
    assert main(["train", "mlp", *SPIRAL, "--epochs", "3", "--out", out]) == 130
    assert not has_checkpoint(out)  # so --resume cannot continue the older run by mistake
    assert main(["train", "mlp", *SPIRAL, "--epochs", "3", "--out", out, "--resume"]) == 2
    assert "no training checkpoint" in capsys.readouterr().err


def test_a_recipe_without_checkpoints_refuses_to_resume(tmp_path, monkeypatch, capsys):
    def recipe(spec, splits, settings, config, out):
        return RunResult(final={}, history=[])

    monkeypatch.setitem(MODELS, "mlp", dataclasses.replace(MODELS["mlp"], recipe=recipe))
    assert main(["train", "mlp", *SPIRAL, "--epochs", "2", "--out", str(tmp_path), "--resume"]) == 2
    assert "does not save training checkpoints yet" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("model", ["cnn", "resnet"])
def test_convolutional_models_resume_exactly(model, tmp_path, interrupt_at):
    # Dropout (cnn) and BatchNorm running statistics (resnet) must both come back; a small
    # slice of the digits keeps the six epochs cheap.
    digits = load_dataset("digits")
    splits = DataSplits("digits", "classification", digits.x_train[:96], digits.y_train[:96],
                        digits.x_test[:48], digits.y_test[:48], digits.input_shape, 10)

    def run(out, resume=False):
        config = RunConfig(model, "digits", epochs=3, batch_size=32, seed=1, out=tmp_path / out, quiet=True,
                           resume=resume)
        return train(MODELS[model], splits, config)

    straight = run("A")
    interrupt_at(1)
    with pytest.raises(KeyboardInterrupt):
        run("B")
    interrupt_at(-1)  # no more interruptions
    resumed = run("B", resume=True)
    assert_same_run(straight, resumed)


def test_a_run_stopped_after_its_last_checkpoint_is_finished_by_resume(tmp_path, capsys):
    # Killed after the last epoch's checkpoint but before the weights and metrics.json (written
    # last): --resume with the same --epochs trains nothing more and writes the same results.
    out = tmp_path / "run"
    argv = ["train", "mlp", *SPIRAL, "--epochs", "2", "--out", str(out)]
    assert main(argv) == 0
    finished = metrics(out)
    weights = next(out.glob("model.*"))
    saved = weights.read_bytes()
    (out / "metrics.json").unlink()
    weights.unlink()
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 0
    resumed = metrics(out)
    assert resumed["final"] == finished["final"]
    assert resumed["history"] == finished["history"] and len(resumed["history"]) == 2
    assert weights.read_bytes() == saved
    # Once finished, the same resume is refused with one line.
    assert main([*argv, "--resume"]) == 2
    assert "has already trained 2 epochs" in capsys.readouterr().err
