"""``mpirun -n 2 dendrite train mlp --data digits --distributed`` equals one process with the doubled batch.

Both runs use ``--distributed`` (one process: a job of one rank), so both read the data in the
DistributedSampler's order from the same seed; ``--dropout 0`` because each rank draws its own
dropout masks (with dropout the runs agree in distribution, not step for step). digits has
1437 training samples: the ranks' shares are uneven (719 and 718), and still equal.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from tests.distributed.mpi import ROOT, explain, mpi_environment, require_mpi, run_ranks


def _train(out, ranks: int, batch: int):
    arguments = [sys.executable, "-m", "dendrite.cli.main", "train", "mlp", "--data", "digits",
                 "--distributed", "--epochs", "1", "--batch-size", str(batch), "--dropout", "0", "--quiet",
                 "--out", str(out)]
    if ranks == 1:
        import subprocess

        require_mpi()
        return subprocess.run(arguments, capture_output=True, text=True, timeout=120, env=mpi_environment(),
                              cwd=ROOT)
    return run_ranks(arguments, ranks, timeout=120)


def _weights(folder):
    safetensors = pytest.importorskip("safetensors.numpy")
    return safetensors.load_file(str(folder / "model.safetensors"))


@pytest.mark.slow
def test_two_ranks_of_dendrite_train_match_one_process_with_the_doubled_batch(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    single = _train(one, 1, 64)
    assert single.returncode == 0, explain(single)
    double = _train(two, 2, 32)
    assert double.returncode == 0, explain(double)
    assert double.stdout.count("mlp on digits:") == 1, explain(double)  # rank 0 alone reports
    first = json.loads((one / "metrics.json").read_text())
    second = json.loads((two / "metrics.json").read_text())
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert second["history"][0][key] == pytest.approx(first["history"][0][key], rel=1e-5), key
    weights_one, weights_two = _weights(one), _weights(two)
    assert weights_one.keys() == weights_two.keys()
    difference = max(float(np.abs(weights_one[key] - weights_two[key]).max()) for key in weights_one)
    assert difference < 1e-5  # float32, 23 steps
    assert sorted(path.name for path in two.iterdir()) == sorted(path.name for path in one.iterdir())


def test_distributed_is_refused_for_a_recipe_that_trains_in_one_process(tmp_path, capsys):
    from dendrite.cli.main import main

    assert main(["train", "gan", "--data", "digits", "--distributed", "--out", str(tmp_path / "gan")]) == 2
    message = capsys.readouterr().err
    assert "--distributed is for the classifier recipes (mlp, cnn, resnet); model 'gan'" in message
    assert not (tmp_path / "gan").exists()
