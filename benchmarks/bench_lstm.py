"""LSTM speed: dendrite's fused sequence LSTM vs PyTorch CPU, both on 2 threads, in one process.

Workloads (batch 32, T = 50, input 64, hidden 256, batch_first):

* ``lstm2``: forward + backward of a 2-layer ``nn.LSTM`` (loss: a fixed weighting of the output);
* ``train``: one training step of ``nn.LSTM(64, 256)`` + ``nn.Linear(256, 10)`` on the last time
  step (forward, mean cross-entropy, backward, SGD update).

Both libraries hold the same weights (PyTorch's, copied); the first results are checked to agree,
then steps alternate between the libraries so machine noise hits both alike. Prints the median
times and the ratio dendrite / torch.

Usage::

    python benchmarks/bench_lstm.py             # both workloads, 15 timed steps each
    python benchmarks/bench_lstm.py --steps 30 --only train
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BATCH, STEPS_T, INPUT, HIDDEN, CLASSES = 32, 50, 64, 256, 10


def build(lib, workload: str):
    """The same model code for both libraries."""
    nn = lib.nn
    if workload == "lstm2":
        return nn.LSTM(INPUT, HIDDEN, num_layers=2, batch_first=True)

    class LastStep(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(INPUT, HIDDEN, batch_first=True)
            self.head = nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            output, _ = self.lstm(x)
            return self.head(output[:, -1])

    return LastStep()


class Runner:
    """One library's model and data; ``step()`` runs one timed unit of work."""

    def __init__(self, lib, model, workload: str, x, y, weight):
        self.lib, self.model, self.workload = lib, model, workload
        self.x, self.y, self.weight = lib.tensor(x), lib.tensor(y), lib.tensor(weight)
        self.params = list(model.parameters())

    def step(self) -> float:
        lib = self.lib
        if self.workload == "lstm2":
            output, _ = self.model(self.x)
            loss = (output * self.weight).sum()
            loss.backward()
            for p in self.params:
                p.grad = None
            return float(loss.item())
        loss = lib.nn.functional.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        with lib.no_grad():  # plain SGD, written identically for both libraries
            for p in self.params:
                p.sub_(p.grad * 0.01)
                p.grad = None
        return float(loss.item())


def make_pair(workload: str):
    import torch

    import dendrite

    torch.manual_seed(0)
    theirs = build(torch, workload)
    ours = build(dendrite, workload)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, STEPS_T, INPUT)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH).astype(np.int64)
    weight = rng.standard_normal((BATCH, STEPS_T, HIDDEN)).astype(np.float32)
    return Runner(dendrite, ours, workload, x, y, weight), Runner(torch, theirs, workload, x, y, weight)


def time_workload(workload: str, steps: int, warmup: int = 2) -> dict:
    import torch

    torch.set_num_threads(2)
    ours, theirs = make_pair(workload)
    first_ours, first_theirs = ours.step(), theirs.step()
    if not np.isclose(first_ours, first_theirs, rtol=1e-4, atol=1e-4):
        raise SystemExit(f"{workload}: first losses differ: dendrite {first_ours} vs torch {first_theirs}")
    for _ in range(warmup):
        ours.step()
        theirs.step()
    times: dict[str, list[float]] = {"dendrite": [], "torch": []}
    for _ in range(steps):
        for label, runner in (("dendrite", ours), ("torch", theirs)):
            start = time.perf_counter()
            runner.step()
            times[label].append(time.perf_counter() - start)
    ours_ms = statistics.median(times["dendrite"]) * 1e3
    theirs_ms = statistics.median(times["torch"]) * 1e3
    return {"workload": workload, "dendrite_ms": ours_ms, "torch_ms": theirs_ms, "ratio": ours_ms / theirs_ms}


DESCRIPTIONS = {
    "lstm2": "2-layer LSTM(64, 256), T=50, batch 32: forward + backward",
    "train": "LSTM(64, 256) + Linear(256, 10), T=50, batch 32: training step",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(DESCRIPTIONS), help="workloads to run")
    parser.add_argument("--steps", type=int, default=15, help="timed steps per library")
    args = parser.parse_args(argv)
    for workload in args.only or list(DESCRIPTIONS):
        row = time_workload(workload, args.steps)
        print(f"{workload:>5}  dendrite {row['dendrite_ms']:8.2f} ms   torch {row['torch_ms']:8.2f} ms   "
              f"ratio {row['ratio']:.2f}  ({DESCRIPTIONS[workload]})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
