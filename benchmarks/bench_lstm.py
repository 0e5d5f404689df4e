"""LSTM speed: dendrite's fused sequence LSTM vs PyTorch CPU, in one process (harness.py's machinery).

Workloads (batch 32, T = 50, input 64, hidden 256, batch_first):

* ``lstm2``: forward + backward of a 2-layer ``nn.LSTM`` (loss: a fixed weighting of the whole
  output, so every time step gets a gradient; no optimizer);
* ``train``: one training step of ``nn.LSTM(64, 256)`` + ``nn.Linear(256, 10)`` on the last time
  step (zero_grad, forward, mean cross-entropy, backward, SGD update): run.py's ``lstm``.

Timed as run.py and scaling.py time theirs (harness.py): both libraries hold the same weights
(PyTorch's, copied), the first losses must agree, then single steps alternate between the
libraries (and which goes first alternates) so that machine noise hits both alike. Threads go
through the libraries' APIs (``--threads``, default 2), so dendrite keeps its one-thread choice
for small products (``dendrite.utils.blas``). Prints the median step times, their ratio
dendrite / torch, and the peak memory of a step (Linux, a fresh process per library).

Usage::

    python benchmarks/bench_lstm.py                       # both workloads, 15 timed steps each
    python benchmarks/bench_lstm.py --steps 30 --only train
    python benchmarks/bench_lstm.py --threads 1 --cpu-time --no-memory
    python benchmarks/bench_lstm.py --only train --parts  # where a step's time goes, per library

``--parts`` splits each library's steps (still alternating) into forward (the loss), backward and
the rest (zero_grad, optimizer step, ``item()``), and counts the page faults of a step (fresh
memory the kernel must map and zero: each costs microseconds).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import harness  # first: it sets the threads before NumPy and PyTorch load
from harness import THREADS, machine, np

BATCH, STEPS_T, INPUT, HIDDEN, CLASSES = 32, 50, 64, 256, 10

DESCRIPTIONS = {
    "lstm2": "2-layer LSTM(64, 256), T=50, batch 32: forward + backward",
    "train": "LSTM(64, 256) + Linear(256, 10), T=50, batch 32: training step",
}


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


class WeightedOutput(harness.Runner):
    """``lstm2``'s step: loss = sum(output * weight), backward, gradients dropped (no update)."""

    def __init__(self, lib, model, x, y, weight):
        super().__init__(lib, model, x, y)
        self.weight = lib.tensor(weight)

    def step(self) -> float:
        output, _ = self.model(self.x)
        loss = (output * self.weight).sum()
        loss.backward()
        self.optimizer.zero_grad()
        return float(loss.item())


def make_pair(workload: str):
    """(dendrite runner, torch runner) holding the same weights and data."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, STEPS_T, INPUT)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH).astype(np.int64)
    ours, theirs = harness.make_pair(lambda lib: build(lib, workload), x, y)
    if workload == "lstm2":
        weight = rng.standard_normal((BATCH, STEPS_T, HIDDEN)).astype(np.float32)
        ours, theirs = (WeightedOutput(r.lib, r.model, x, y, weight) for r in (ours, theirs))
    return ours, theirs


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _step_parts(runner, clock) -> tuple[float, float, float, int]:
    """One step of ``runner`` as (forward, backward, rest) seconds and its page faults."""
    faults = _faults()
    start = clock()
    runner.optimizer.zero_grad()
    if isinstance(runner, WeightedOutput):  # lstm2: no optimizer step
        output, _ = runner.model(runner.x)
        loss = (output * runner.weight).sum()
    else:
        loss = runner.loss_of(runner.x, runner.y)
    middle = clock()
    loss.backward()
    end = clock()
    if not isinstance(runner, WeightedOutput):
        runner.optimizer.step()
    float(loss.item())
    done = clock()
    return middle - start, end - middle, done - end, _faults() - faults


def time_parts(ours, theirs, steps: int, clock) -> dict:
    """Medians of forward, backward and the rest for each library, steps alternating as in harness.py."""
    for _ in range(2):
        ours.step()
        theirs.step()
    parts = {"dendrite": [], "torch": []}
    for index in range(steps):
        order = [("dendrite", ours), ("torch", theirs)]
        for name, runner in (order if index % 2 == 0 else order[::-1]):
            parts[name].append(_step_parts(runner, clock))
    return {name: [statistics.median(column) for column in zip(*rows)] for name, rows in parts.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(DESCRIPTIONS), help="workloads to run")
    parser.add_argument("--steps", type=int, default=15, help="timed steps per library")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    harness.add_machine_options(parser)
    parser.add_argument("--cpu-time", action="store_true",
                        help="time steps by this thread's CPU time (with --threads 1: steady under load)")
    parser.add_argument("--parts", action="store_true",
                        help="split each step into forward, backward and the rest (and count page faults)")
    parser.add_argument("--memory-probe", nargs=2, metavar=("WORKLOAD", "LIBRARY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        workload, library = args.memory_probe
        ours, theirs = make_pair(workload)
        print(json.dumps(harness.step_memory(ours if library == "dendrite" else theirs, traced=False)))
        return 0
    if args.cpu_time and THREADS != "1":
        parser.error("--cpu-time counts this thread only: use it with --threads 1")
    clock = time.thread_time if args.cpu_time else time.perf_counter
    measure_memory = not args.no_memory and sys.platform.startswith("linux")
    print(machine(), flush=True)
    for workload in args.only or list(DESCRIPTIONS):
        ours, theirs = make_pair(workload)
        if args.parts:
            for name, parts in time_parts(ours, theirs, args.steps, clock).items():
                forward, backward, rest, faults = parts
                print(f"{workload:>5}  {name:>8}  forward {forward * 1e3:7.2f} ms   backward "
                      f"{backward * 1e3:7.2f} ms   rest {rest * 1e3:6.2f} ms   page faults {faults:6.0f}",
                      flush=True)
            continue
        row = harness.time_alternating(ours, theirs, args.steps, warmup=2, label=workload, clock=clock)
        low, high = row["pair_ratio_iqr"]
        text = (f"{workload:>5}  dendrite {row['dendrite_ms']:8.2f} ms   torch {row['torch_ms']:8.2f} ms   "
                f"ratio {row['ratio']:.2f} (iqr {low:.2f}-{high:.2f})")
        if measure_memory:
            try:
                peaks = [harness.in_fresh_process(__file__, workload, library)["rss_mb"]
                         for library in ("dendrite", "torch")]
                text += f"   peak {peaks[0]:.2f} MB vs {peaks[1]:.2f} MB"
            except subprocess.CalledProcessError as error:  # e.g. /proc/self/clear_refs not writable
                print(f"peak memory skipped: {error.stderr.strip().splitlines()[-1]}", flush=True)
                measure_memory = False
        print(f"{text}  ({DESCRIPTIONS[workload]})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
