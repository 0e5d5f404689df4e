"""A rank that dies ends the whole job (no hang) with a message, and the last checkpoint stays loadable.

The subprocess timeout (60 s) is the "no hang" bound: without the fault handling the surviving
rank would wait in its next allreduce until it is killed by that timeout, and the test fails.
"""

from __future__ import annotations

import re

import pytest

from tests.distributed.mpi import explain, run_script


def _checkpoint_loads(folder) -> int:
    from dendrite import nn, optim
    from dendrite.train.checkpoint_state import load_training_state

    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    state = load_training_state(folder, model, optim.SGD(model.parameters(), lr=0.1))
    return state.epoch


@pytest.mark.parametrize("how", ["exit", "raise", "stall"])
def test_a_dying_rank_ends_the_job_and_leaves_a_loadable_checkpoint(how, tmp_path):
    done = run_script("rank_dies.py", str(tmp_path), how, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode != 0, explain(done)
    if how == "exit":  # a crash: mpirun names the process and its exit status
        assert re.search(r"Exit code:\s+3", output), explain(done)
    elif how == "raise":  # an exception: the failing rank prints it with its number, then ends the job
        assert "[rank 1] ValueError: this rank failed on purpose" in output, explain(done)
        assert "dendrite.distributed: rank 1 of 2 failed (ValueError" in output, explain(done)
    else:  # a hung rank: the others give up after the timeout, name what they waited for, end the job
        assert "dendrite.distributed: rank 0 of 2 waited more than 2 s for" in output, explain(done)
        assert "rank 0 of 2 failed (DistributedError" in output, explain(done)
    # epochs 1-3 were saved by rank 0 before rank 1 died at the start of epoch 4
    assert _checkpoint_loads(tmp_path) == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["checkpoint.npz"]  # no temporary left
