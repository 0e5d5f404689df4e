"""benchmarks/harness.py's timing: blocks of steps alternate, each library runs as it would alone."""

import importlib
import os
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")


@pytest.fixture
def harness(monkeypatch):
    monkeypatch.syspath_prepend(BENCHMARKS)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(variable, os.environ.get(variable, ""))  # restored after the test
    module = importlib.import_module("harness")
    monkeypatch.setattr(module, "IDLE_BETWEEN_BLOCKS_S", 0.0)
    yield module
    sys.modules.pop("harness", None)


class Recorder:
    """A runner that logs its steps in a shared journal and returns a fixed loss."""

    def __init__(self, name, journal, loss=1.0):
        self.name, self.journal, self.loss = name, journal, loss

    def step(self):
        self.journal.append(self.name)
        return self.loss


def blocks(*sizes):
    """The journal expected of blocks ``(name, steps), ...``."""
    return [name for name, count in sizes for _ in range(count)]


def test_blocks_alternate_and_each_library_gets_the_asked_steps(harness, monkeypatch):
    monkeypatch.setattr(harness, "BLOCK_SECONDS", 1e9)  # as many steps per block as allowed
    monkeypatch.setattr(harness, "MAX_BLOCK_STEPS", 20)
    journal = []
    row = harness.time_alternating(Recorder("d", journal), Recorder("t", journal), steps=45, warmup=2)
    assert row["steps"] == 45 and row["block"] == 20
    # first the loss check, 2 warm-up pairs and one pair to size the blocks, one step of each at a time
    assert journal[:8] == ["d", "t"] * 4
    # then blocks: one untimed step, then the timed ones; 45 = 20 + 20 + 5; who goes first alternates
    assert journal[8:] == blocks(("d", 21), ("t", 21), ("t", 21), ("d", 21), ("d", 6), ("t", 6))
    assert row["ratio"] > 0 and len(row["pair_ratio_iqr"]) == 2


def test_a_slow_step_gets_blocks_of_one(harness, monkeypatch):
    monkeypatch.setattr(harness, "BLOCK_SECONDS", 0.0)
    journal = []
    row = harness.time_alternating(Recorder("d", journal), Recorder("t", journal), steps=3, warmup=0)
    assert row["block"] == 1
    assert journal[4:] == blocks(("d", 2), ("t", 2), ("t", 2), ("d", 2), ("d", 2), ("t", 2))


def test_different_first_losses_stop_the_benchmark(harness):
    with pytest.raises(SystemExit, match="first losses differ"):
        harness.time_alternating(Recorder("d", [], 1.0), Recorder("t", [], 2.0), steps=2, label="tiny")
