"""`dendrite train` on a run that diverges: exit 3, one line, strict metrics.json, finite files kept."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from dendrite.cli.main import main
from dendrite.data import load_dataset
from dendrite.recipes.base import make_optimizer
from dendrite.recipes.catalog import MODELS
from dendrite.train.checkpoint_state import load_training_state, read_training_state
from dendrite.train.divergence import nonfinite_entries

# SGD (momentum 0.9) at lr 30 on spiral, 4 batches per epoch: epoch 1 stays finite, epoch 2 blows up.
DIVERGING = ["train", "mlp", "--data", "spiral", "--optimizer", "sgd", "--lr", "30", "--batch-size", "200",
             "--schedule", "none", "--seed", "0", "--quiet"]
HEALTHY = ["train", "mlp", "--data", "spiral", "--epochs", "1", "--batch-size", "200", "--seed", "0",
           "--quiet"]


def strict_loads(text: str):
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def run(argv, capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_diverged_run_exits_3_with_one_line_and_strict_metrics(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, stderr = run([*DIVERGING, "--epochs", "3", "--out", str(out)], capsys)
    assert code == 3
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("dendrite train: the loss became nan at epoch 2, batch ")
    assert "the run diverged" in lines[0] and "--doctor" in lines[0] and "--lr" in lines[0]
    assert "Traceback" not in stderr + stdout

    text = (out / "metrics.json").read_text()
    metrics = strict_loads(text)
    assert "NaN" not in text and "Infinity" not in text
    assert metrics["diverged"] is True
    where = metrics["diverged_at"]
    assert (where["epoch"], where["key"], where["loss"]) == (2, "loss", "nan") and where["batch"] >= 1
    assert f"batch {where['batch']};" in lines[0]
    assert [row["epoch"] for row in metrics["history"]] == [1, 2]  # the run stopped in epoch 2
    assert metrics["history"][1]["loss"] is None  # NaN is written as null

    # The weights are not saved; the training checkpoint is the last finite one, epoch 1.
    assert not (out / "model.safetensors").exists() and not (out / "model.npz").exists()
    assert read_training_state(out).epoch == 1


def test_the_last_finite_checkpoint_equals_a_run_that_stopped_before(tmp_path, capsys):
    diverged, reference = tmp_path / "diverged", tmp_path / "reference"
    assert run([*DIVERGING, "--epochs", "3", "--out", str(diverged)], capsys)[0] == 3
    assert run([*DIVERGING, "--epochs", "1", "--out", str(reference)], capsys)[0] == 0

    def weights(folder):
        splits = load_dataset("spiral")
        model = MODELS["mlp"].build(splits, MODELS["mlp"].defaults(splits))
        optimizer = make_optimizer("sgd", model.parameters(), lr=30.0)
        state = load_training_state(folder, model, optimizer, restore_rng=False)
        return state.epoch, {key: value.numpy().copy() for key, value in model.state_dict().items()}

    epoch, kept = weights(diverged)
    reference_epoch, expected = weights(reference)
    assert epoch == reference_epoch == 1
    assert not nonfinite_entries(kept)
    assert kept.keys() == expected.keys()
    for key in kept:
        np.testing.assert_array_equal(kept[key], expected[key])

    # Resuming the diverged run diverges again and still leaves that checkpoint byte for byte.
    before = (diverged / "checkpoint.npz").read_bytes()
    code, _, stderr = run([*DIVERGING, "--epochs", "3", "--out", str(diverged), "--resume"], capsys)
    assert code == 3 and len(stderr.strip().splitlines()) == 1
    assert (diverged / "checkpoint.npz").read_bytes() == before


def test_a_diverged_run_keeps_the_weights_of_an_earlier_run_in_its_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert run([*HEALTHY, "--out", str(out)], capsys)[0] == 0
    weights = next(path for path in out.iterdir() if path.stem == "model")
    before = weights.read_bytes()
    assert run([*DIVERGING, "--epochs", "3", "--out", str(out)], capsys)[0] == 3
    assert weights.read_bytes() == before


def test_a_healthy_run_exits_0_and_records_no_divergence(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, stderr = run([*HEALTHY, "--out", str(out)], capsys)
    assert code == 0 and stderr == ""
    metrics = strict_loads((out / "metrics.json").read_text())
    assert metrics["diverged"] is False and "diverged_at" not in metrics


def test_the_one_line_is_all_a_real_process_prints_on_stderr(tmp_path):
    # NumPy's overflow warnings and the checkpoints' "not saving" warnings must not leak out.
    result = subprocess.run([sys.executable, "-m", "dendrite.cli.main", *DIVERGING, "--epochs", "2",
                             "--out", str(tmp_path / "run")], capture_output=True, text=True)
    assert result.returncode == 3
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("dendrite train: the loss became nan at epoch 2")


NUMERIC = [
    # command prefix, option, what the message says
    (["train", "mlp", "--data", "spiral"], "--lr", "a finite number > 0"),
    (["train", "mlp", "--data", "spiral"], "--epochs", "a whole number > 0"),
    (["train", "mlp", "--data", "spiral"], "--batch-size", "a whole number > 0"),
    (["sample", "nowhere"], "--temperature", "a finite number > 0"),
    (["sample", "nowhere"], "--length", "a whole number > 0"),
]
BAD_VALUES = ["inf", "-inf", "nan", "0", "-1", "abc"]


@pytest.mark.parametrize("value", BAD_VALUES)
@pytest.mark.parametrize("prefix, option, expected", NUMERIC)
def test_numeric_options_reject_nonfinite_and_out_of_range_values(prefix, option, expected, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*prefix, f"{option}={value}"])
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err
    assert stderr.strip().splitlines() == [
        f"dendrite {prefix[0]}: error: {option} must be {expected}, got {value!r}"
    ]


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "inf"])
@pytest.mark.parametrize("command", [["train", "mlp"], ["sample", "nowhere"]])
def test_seed_may_be_zero_but_not_negative_or_fractional(command, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, f"--seed={value}"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"dendrite {command[0]}: error: --seed must be a whole number >= 0, got {value!r}"
    ]
