"""``mpirun -n 2 dendrite train mlp --data digits --distributed`` equals one process with the doubled batch.

Both runs use ``--distributed`` (one process: a job of one rank), so both read the data in the
DistributedSampler's order from the same seed; ``--dropout 0`` because each rank draws its own
dropout masks (with dropout the runs agree in distribution, not step for step). digits has
1437 training samples: the ranks' shares are uneven (719 and 718), and still equal. A 2-rank
run of one epoch resumed for a second equals the one-process run of two epochs.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from tests.distributed.mpi import ROOT, explain, mpi_environment, require_mpi, run_ranks


def _train(out, ranks: int, batch: int, epochs: int, *extra: str):
    arguments = [sys.executable, "-m", "dendrite.cli.main", "train", "mlp", "--data", "digits",
                 "--distributed", "--epochs", str(epochs), "--batch-size", str(batch), "--dropout", "0",
                 "--quiet", "--out", str(out), *extra]
    if ranks == 1:
        import subprocess

        require_mpi()
        return subprocess.run(arguments, capture_output=True, text=True, timeout=120, env=mpi_environment(),
                              cwd=ROOT)
    return run_ranks(arguments, ranks, timeout=120)


def _weights(folder):
    safetensors = pytest.importorskip("safetensors.numpy")
    return safetensors.load_file(str(folder / "model.safetensors"))


def _largest_difference(first: dict, second: dict) -> float:
    assert first.keys() == second.keys()
    return max(float(np.abs(first[key] - second[key]).max()) for key in first)


@pytest.mark.slow
def test_two_ranks_of_dendrite_train_match_one_process_with_the_doubled_batch_and_resume(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    single = _train(one, 1, 64, 2)  # the reference: one process, batch 64, two epochs straight
    assert single.returncode == 0, explain(single)
    double = _train(two, 2, 32, 1)  # 2 ranks x 32, the first epoch
    assert double.returncode == 0, explain(double)
    assert double.stdout.count("mlp on digits:") == 1, explain(double)  # rank 0 alone reports
    first = json.loads((one / "metrics.json").read_text())["history"]
    second = json.loads((two / "metrics.json").read_text())["history"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert second[0][key] == pytest.approx(first[0][key], rel=1e-5), key
    assert sorted(path.name for path in two.iterdir()) == sorted(path.name for path in one.iterdir())
    # --resume on 2 ranks: every rank reads the checkpoint, rank 0's weights and Adam state are broadcast
    resumed = _train(two, 2, 32, 2, "--resume")
    assert resumed.returncode == 0, explain(resumed)
    second = json.loads((two / "metrics.json").read_text())["history"]
    assert [row["epoch"] for row in second] == [1, 2]
    assert second[1]["loss"] == pytest.approx(first[1]["loss"], rel=1e-5)
    assert _largest_difference(_weights(one), _weights(two)) < 1e-5  # float32, 46 steps


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
