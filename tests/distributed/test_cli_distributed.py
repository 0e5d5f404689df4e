"""``mpirun -n 2 dendrite train mlp --data digits --distributed`` equals a plain process with twice the batch.

The issue's words, literally: the reference is a plain ``dendrite train`` (no ``--distributed``),
with the recipe's dropout. Both read the same order (the DistributedSampler's permutation from
(seed, epoch); a plain run is a job of one rank), and each rank cuts its dropout masks from the
mask the single process draws for the whole batch (docs/distributed.md). digits has 1437
training samples: the ranks' shares are uneven (719 and 718), and still equal. A 2-rank run of
one epoch resumed for a second equals the plain run of two epochs.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.distributed.mpi import ROOT, explain, mpi_environment, require_mpi, run_ranks


def _train(out, ranks: int, batch: int, epochs: int, *extra: str):
    """``dendrite train mlp --data digits``: ``ranks=0`` a plain run; otherwise ``--distributed`` on RANKS."""
    arguments = [sys.executable, "-m", "dendrite.cli.main", "train", "mlp", "--data", "digits",
                 "--epochs", str(epochs), "--batch-size", str(batch), "--quiet", "--out", str(out), *extra]
    if ranks > 0:
        arguments.append("--distributed")
    if ranks <= 1:
        require_mpi()
        return subprocess.run(arguments, capture_output=True, text=True, timeout=120, env=mpi_environment(),
                              cwd=ROOT)
    return run_ranks(arguments, ranks, timeout=120)


def _history(folder) -> list:
    return json.loads((folder / "metrics.json").read_text())["history"]


def _weights(folder):
    safetensors = pytest.importorskip("safetensors.numpy")
    return safetensors.load_file(str(folder / "model.safetensors"))


def _largest_difference(first: dict, second: dict) -> float:
    assert first.keys() == second.keys()
    return max(float(np.abs(first[key] - second[key]).max()) for key in first)


@pytest.mark.slow
def test_two_ranks_of_dendrite_train_match_one_plain_process_with_the_doubled_batch_with_dropout(tmp_path):
    runs = {}
    for name, ranks, batch, extra in [("plain", 0, 64, ()), ("two", 2, 32, ()), ("one rank", 1, 64, ()),
                                      ("plain sgd", 0, 64, ("--optimizer", "sgd", "--lr", "0.1")),
                                      ("two sgd", 2, 32, ("--optimizer", "sgd", "--lr", "0.1"))]:
        done = _train(tmp_path / name, ranks, batch, 1, *extra)
        assert done.returncode == 0, explain(done)
        runs[name] = tmp_path / name
    assert _weights(runs["plain"])["1.weight"].shape == (256, 64)  # the recipe's MLP, dropout 0.1 (defaults)
    assert json.loads((runs["plain"] / "metrics.json").read_text())["settings"]["dropout"] == 0.1
    # a job of one rank is the plain run, bit for bit: the same order, the same masks
    assert _largest_difference(_weights(runs["plain"]), _weights(runs["one rank"])) == 0.0
    assert _history(runs["one rank"]) == _history(runs["plain"])
    # two ranks: the same order split in two, each rank's rows of the same masks. SGD: float32 rounding
    # (measured 4.5e-8)
    assert _largest_difference(_weights(runs["plain sgd"]), _weights(runs["two sgd"])) < 1e-6
    # Adam (the recipe's): the losses agree to rounding, the weights to well under one Adam step (lr 1e-3;
    # measured 5.9e-5). Adam's update lr·m/(sqrt(v)+eps) has the same size whatever the gradient's: for a
    # weight whose gradient nearly cancels, a rounding-level difference in the sum (the ranks add their
    # halves separately) becomes a fraction of lr, on a few units (unit 159 of the first layer here).
    first, second = _history(runs["plain"])[0], _history(runs["two"])[0]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert second[key] == pytest.approx(first[key], rel=1e-6), key
    assert _largest_difference(_weights(runs["plain"]), _weights(runs["two"])) < 2.5e-4


@pytest.mark.slow
def test_two_ranks_resumed_match_one_plain_process_with_the_doubled_batch(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    single = _train(one, 0, 64, 2, "--dropout", "0")  # the reference: one plain process, two epochs straight
    assert single.returncode == 0, explain(single)
    double = _train(two, 2, 32, 1, "--dropout", "0")  # 2 ranks x 32, the first epoch
    assert double.returncode == 0, explain(double)
    assert double.stdout.count("mlp on digits:") == 1, explain(double)  # rank 0 alone reports
    first, second = _history(one), _history(two)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert second[0][key] == pytest.approx(first[0][key], rel=1e-5), key
    assert sorted(path.name for path in two.iterdir()) == sorted(path.name for path in one.iterdir())
    # --resume on 2 ranks: every rank reads the checkpoint, rank 0's weights and Adam state are broadcast
    resumed = _train(two, 2, 32, 2, "--dropout", "0", "--resume")
    assert resumed.returncode == 0, explain(resumed)
    second = _history(two)
    assert [row["epoch"] for row in second] == [1, 2]
    assert second[1]["loss"] == pytest.approx(first[1]["loss"], rel=1e-5)
    assert _largest_difference(_weights(one), _weights(two)) < 1e-5  # float32, 46 steps, no dropout


def test_distributed_is_refused_for_a_recipe_that_trains_in_one_process(tmp_path, capsys):
    from dendrite.cli.main import main

    assert main(["train", "gan", "--data", "digits", "--distributed", "--out", str(tmp_path / "gan")]) == 2
    message = capsys.readouterr().err
    assert "--distributed is for the classifier recipes (mlp, cnn, resnet); model 'gan'" in message
    assert not (tmp_path / "gan").exists()


def test_dropout_is_checked_and_refused_for_a_model_without_it(tmp_path, capsys):
    from dendrite.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["train", "mlp", "--data", "spiral", "--dropout", "1.5"])
    assert exit_info.value.code == 2
    assert "--dropout must be a number in [0, 1), got '1.5'" in capsys.readouterr().err
    assert main(["train", "gan", "--data", "digits", "--dropout", "0.1", "--out", str(tmp_path / "gan")]) == 2
    assert "--dropout is for the models with dropout; model 'gan' has none" in capsys.readouterr().err
