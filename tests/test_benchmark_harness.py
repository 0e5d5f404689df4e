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


def test_without_the_loss_check_a_runner_that_is_not_a_training_step_can_be_timed(harness):
    journal = []
    timed = harness.time_alternating(Recorder("products", journal, loss=None), Recorder("torch", journal),
                                     steps=2, warmup=0, check_losses=False)
    assert timed["steps"] == 2 and journal.count("products") == journal.count("torch")


@pytest.fixture
def floor(harness):
    yield importlib.import_module("floor")
    for name in ("floor", "run"):
        sys.modules.pop(name, None)


def test_floor_records_every_product_of_a_step_once_and_puts_numpy_back(floor):
    """The MLP workload's step: 3 forward products, 2 per hidden layer and 1 for the first in backward."""
    import numpy as np

    matmul = np.matmul
    ours, _ = floor.run.make_pair("mlp")
    products = floor.record_products(ours)
    assert np.matmul is matmul  # restored
    batch, sizes = 128, [(784, 512), (512, 512), (512, 10)]
    forward = sum(2 * batch * i * o for i, o in sizes)
    backward = 2 * forward - 2 * batch * 784 * 512  # no gradient for the images
    assert len(products.calls) == 8
    assert products.flops == forward + backward
    weights = [p.detach().numpy().copy() for p in ours.model.parameters()]
    products.step()  # the replay runs the same products, into its own outputs: the model is untouched
    assert len(products.calls) == 8
    assert all(np.array_equal(w, p.detach().numpy()) for w, p in zip(weights, ours.model.parameters()))
