"""The `dendrite` command: listing, bad arguments, and a short real training run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dendrite.cli.main import main


def test_models_and_datasets_are_listed(capsys):
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    for name in ("mlp", "cnn", "resnet"):
        assert name in listing
    assert main(["datasets"]) == 0
    listing = capsys.readouterr().out
    for name in ("digits", "spiral", "ring8", "pytext", "mackey-glass"):
        assert name in listing
    assert "1437" in listing and "360" in listing  # the digits split sizes


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "nosuchmodel", "--data", "digits"], "unknown model 'nosuchmodel'"),
        (["train", "mlp", "--data", "nosuchdata"], "unknown dataset 'nosuchdata'"),
        (["train", "cnn", "--data", "spiral"], "cannot train on dataset 'spiral'"),
        (["train", "mlp", "--data", "digits", "--epochs", "0"], "--epochs must be a whole number > 0"),
        (
            ["train", "mlp", "--data", "digits", "--optimizer", "nesterov-magic", "--epochs", "1"],
            "unknown optimizer",
        ),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(argv, message, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dendrite.cli.main", *argv, "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_short_training_run_writes_the_contract_files(tmp_path):
    out = tmp_path / "run"
    assert (
        main(
            ["train", "mlp", "--data", "spiral", "--epochs", "3", "--seed", "0", "--out", str(out), "--quiet"]
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"model", "dataset", "seed", "epochs", "seconds", "n_train", "n_test", "final", "history"} <= set(
        metrics
    )
    assert metrics["model"] == "mlp" and metrics["dataset"] == "spiral" and metrics["epochs"] == 3
    assert len(metrics["history"]) == 3
    assert 0.0 <= metrics["final"]["test_accuracy"] <= 1.0
    assert metrics["n_train"] + metrics["n_test"] == 1000
    for name in ("curves.png", "confusion.png", "decision_boundary.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "model.safetensors").exists() or (out / "model.npz").exists()


def test_same_seed_same_result(tmp_path):
    finals = []
    for attempt in range(2):
        out = tmp_path / f"run{attempt}"
        main(
            ["train", "mlp", "--data", "spiral", "--epochs", "2", "--seed", "3", "--out", str(out), "--quiet"]
        )
        finals.append(json.loads((out / "metrics.json").read_text())["final"])
    assert finals[0] == finals[1]
