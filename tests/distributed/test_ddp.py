"""Data-parallel training on 2 MPI ranks equals one process with the doubled batch, and agrees on the rest.

Each test launches ``mpirun --oversubscribe -n 2`` on a script of ``scripts/`` (see ``mpi.py``):
a few seconds each. Float64 models, so "equal" means within rounding (1e-12).
"""

from __future__ import annotations

import json

import pytest

from tests.distributed.mpi import explain, run_script


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_two_ranks_match_one_process_with_the_doubled_batch(kind, tmp_path):
    out = tmp_path / "result.json"
    done = run_script("ddp_match.py", kind, str(out))
    assert done.returncode == 0, explain(done)
    result = json.loads(out.read_text())
    assert result["world_size"] == 2 and result["steps"] == 8 and result["buckets"] > 1
    # ranks seeded differently hold identical weights: the initial broadcast and the equal averages
    assert result["max_rank_spread"] == 0.0
    assert result["max_difference"] < 1e-12, result
    # overlap with backward: before the first layer's backward ran, every bucket without a parameter of
    # the first layer had started its allreduce, in every step
    assert result["buckets_after_first_layer"] >= 1
    assert result["launched_before_first_layer"] == [result["buckets_after_first_layer"]], result
    # a parameter without a gradient is named by the next forward (find_unused_parameters is not supported)
    assert "gave gradients to only 2 of the 4 parameters" in result["unused"], result["unused"]
    assert "unused.weight" in result["unused"] and "unused.bias" in result["unused"]
    # broadcast_optimizer_state: rank 0's Adam moments, step counts and learning rate on every rank
    assert result["optimizer_state_agrees"] is True


def test_the_distributed_trainer_reports_what_one_process_reports_and_agrees_to_stop(tmp_path):
    done = run_script("trainer_match.py", str(tmp_path))
    assert done.returncode == 0, explain(done)
    result = json.loads((tmp_path / "result.json").read_text())
    reference, distributed = result["reference"], result["distributed"]
    assert set(reference) == set(distributed) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key in reference:
        assert distributed[key] == pytest.approx(reference[key], abs=1e-12), key
    # only rank 0's callbacks wrote (each rank was given its own file names)
    assert result["files"] == ["checkpoint-rank0", "log-rank0.csv"]
    # rank 1 alone asked to stop after epoch 2 of 5: rank 0 stopped there too, and says why
    assert result["epochs_after_stop"] == 2
    assert result["stop_reason"] == "rank 1 stopped the run"
    # one progress bar (rank 0's), not two: counted by its first line, which a bar prints once when it
    # starts (its 100% line may be printed again when the validation metrics arrive, depending on timing)
    assert (done.stderr + done.stdout).count("Epoch 1/3:   0%") == 1, explain(done)
