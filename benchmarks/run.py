"""Side-by-side training-step benchmark: dendrite vs PyTorch CPU, in one process.

Each workload is built with the *same* code for both libraries (``lib.nn...``),
PyTorch's initial weights are copied into dendrite, the first losses are
checked to agree, and then single training steps (zero_grad, forward, mean
cross-entropy, backward, SGD update, ``loss.item()``) alternate between the two
libraries so that machine noise hits both alike. Both use at most 2 threads
(OpenBLAS for NumPy, OpenMP/MKL for PyTorch). The shared machinery is in
harness.py (also used by scaling.py and bench_lstm.py).

Usage::

    python benchmarks/run.py                 # all workloads, table on stdout
    python benchmarks/run.py --only tiny mlp --steps 200
    python benchmarks/run.py --json results.json
    python benchmarks/run.py --threads 1 --cpu-time   # CPU time, steady when others load the machine
    python benchmarks/run.py --only tiny --compile     # also dendrite.compile'd (row tiny+c)

What is reported (see benchmarks/README.md):

* step time: blocks of back-to-back steps of each library alternate, each
  block after a quarter second of idle time (so neither library runs while the
  other's worker threads still spin); the median over the timed steps of each
  library, and the ratio dendrite / torch of the medians. ``iqr`` is the spread
  (25th-75th percentile) of the ratios of neighbouring blocks' medians, a
  measure of how noisy the run was.
* peak memory of a step: in a fresh process per library, after two warm-up
  steps, freed memory is handed back to the OS (``malloc_trim``) and the
  kernel's peak-RSS mark is reset (``/proc/self/clear_refs``); the number is
  the peak resident memory during the next step above the resident memory
  before it (activations, gradients, temporaries; the model and data are
  already resident). For dendrite the peak of NumPy's own allocations during
  the step (``tracemalloc``) is also shown: it does not depend on the
  allocator's caching. Linux only; skipped elsewhere.
* threads: ``--threads`` (default 2) for both libraries, set through their
  APIs (``torch.set_num_threads``, ``dendrite.set_num_threads``): a maximum, each
  library may run a small operation on one thread (harness.py). NumPy's OpenBLAS
  runs with the environment as it is; ``--native-blas`` drops an inherited
  ``OPENBLAS_CORETYPE`` so OpenBLAS picks the CPU's best kernels (the header line
  names the kernels in use); ``--pooled-blas`` runs every dendrite product on
  the whole pool (no per-product choice), for a before/after comparison.
* import time: the median of 5 fresh interpreters each for ``import dendrite``
  and ``import torch``, with bytecode compiled beforehand (as an installed
  package has it; otherwise every import of dendrite compiles its sources).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import harness  # first: it sets the threads before NumPy and PyTorch load
from harness import ROOT, THREADS, machine, np

# name: (batch size, input shape, description)
WORKLOADS = {
    "tiny": (32, (2,), "MLP 2-16-16-2, ReLU, batch 32"),
    "mlp": (128, (784,), "MLP 784-512-512-10, ReLU, batch 128"),
    "cnn": (64, (1, 28, 28), "LeNet-like CNN on 1x28x28, batch 64"),
    "lstm": (32, (50, 64), "LSTM(64, 256) over T=50 + Linear(256, 10), batch 32"),
}
DEFAULT_STEPS = {"tiny": 500, "mlp": 100, "cnn": 30, "lstm": 30}


def build(lib, name: str):
    """The workload's model, written once for both libraries."""
    nn = lib.nn
    if name == "tiny":
        return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                             nn.Linear(512, 10))
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 256), nn.ReLU(), nn.Linear(256, 10),
        )
    if name == "lstm":

        class LastStep(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(64, 256, batch_first=True)
                self.head = nn.Linear(256, 10)

            def forward(self, x):
                output, _ = self.lstm(x)
                return self.head(output[:, -1])

        return LastStep()
    raise ValueError(f"unknown workload {name!r}; expected one of {sorted(WORKLOADS)}")


def make_data(name: str, seed: int = 0):
    batch, shape, _ = WORKLOADS[name]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *shape)).astype(np.float32)
    classes = 2 if name == "tiny" else 10
    y = rng.integers(0, classes, batch).astype(np.int64)
    return x, y


def make_pair(name: str, compiled: bool = False):
    """(dendrite runner, torch runner) holding the same weights and data; ``compiled``: dendrite.compile."""
    return harness.make_pair(lambda lib: build(lib, name), *make_data(name), compiled=compiled)


def time_steps(name: str, steps: int, warmup: int = 3, clock=time.perf_counter,
               compiled: bool = False) -> dict:
    """One workload's row; ``compiled``: dendrite's loss through ``dendrite.compile`` (row ``NAME+c``)."""
    ours, theirs = make_pair(name, compiled)
    timed = harness.time_alternating(ours, theirs, steps, warmup, label=name, clock=clock)
    return {"workload": name + ("+c" if compiled else ""), **timed}


# ----------------------------------------------------------------------------- peak memory
def _memory_probe(name: str, library: str) -> dict:
    """Run in a fresh process: the peak memory of one training step (see harness.step_memory)."""
    ours, theirs = make_pair(name)
    return harness.step_memory(ours if library == "dendrite" else theirs, traced=library == "dendrite")


def peak_memory(name: str, library: str) -> dict:
    """``_memory_probe`` in a fresh interpreter, so that the other library's steps leave no trace."""
    return harness.in_fresh_process(__file__, name, library)


# ----------------------------------------------------------------------------- import time
def import_seconds(module: str, repeats: int = 5) -> float:
    """Median wall time of ``import module`` in fresh interpreters (after one unmeasured run)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    samples = []
    for index in range(repeats + 1):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                cwd=ROOT)
        if index:  # the first run only warms the file cache
            samples.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def compile_dendrite() -> None:
    """Write dendrite's bytecode (``__pycache__``), as installing a package does."""
    import compileall

    compileall.compile_dir(os.path.join(ROOT, "dendrite"), quiet=1)


# ----------------------------------------------------------------------------- report
def _format_row(row: dict) -> str:
    low, high = row["pair_ratio_iqr"]
    text = (f"{row['workload']:>7}  dendrite {row['dendrite_ms']:9.3f} ms   torch {row['torch_ms']:9.3f} ms"
            f"   ratio {row['ratio']:.2f} (iqr {low:.2f}-{high:.2f})")
    if "dendrite_peak_mb" in row:
        text += (f"   peak {row['dendrite_peak_mb']:.2f} MB vs {row['torch_peak_mb']:.2f} MB"
                 f" (dendrite NumPy-traced {row['dendrite_traced_mb']:.2f} MB)")
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(WORKLOADS), help="workloads to run")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per library (default per workload)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument("--no-import", action="store_true", help="skip the import-time subprocesses")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--compile", action="store_true",
                        help="also time each workload with dendrite.compile (a row NAME+c after NAME's)")
    harness.add_machine_options(parser)
    parser.add_argument("--cpu-time", action="store_true",
                        help="time steps by this thread's CPU time (with --threads 1: steady under load)")
    parser.add_argument("--memory-probe", nargs=2, metavar=("WORKLOAD", "LIBRARY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        print(json.dumps(_memory_probe(*args.memory_probe)))
        return 0
    measure_memory = not args.no_memory and sys.platform.startswith("linux")
    print(machine(), flush=True)
    rows = []
    for name in args.only or list(WORKLOADS):
        if args.cpu_time and THREADS != "1":
            parser.error("--cpu-time counts this thread only: use it with --threads 1")
        clock = time.thread_time if args.cpu_time else time.perf_counter
        row = time_steps(name, args.steps or DEFAULT_STEPS[name], clock=clock)
        if measure_memory:
            try:
                ours, theirs = peak_memory(name, "dendrite"), peak_memory(name, "torch")
                row["dendrite_peak_mb"], row["dendrite_traced_mb"] = ours["rss_mb"], ours["traced_mb"]
                row["torch_peak_mb"] = theirs["rss_mb"]
            except subprocess.CalledProcessError as error:  # e.g. /proc/self/clear_refs not writable
                print(f"peak memory skipped: {error.stderr.strip().splitlines()[-1]}", flush=True)
                measure_memory = False
        rows.append(row)
        print(_format_row(row), flush=True)
        if args.compile:
            rows.append(time_steps(name, args.steps or DEFAULT_STEPS[name], clock=clock, compiled=True))
            print(_format_row(rows[-1]), flush=True)
    imports = {}
    if not args.no_import:
        compile_dendrite()
        imports = {"dendrite_import_s": import_seconds("dendrite"), "torch_import_s": import_seconds("torch")}
        print(f"import dendrite {imports['dendrite_import_s']:.3f} s   "
              f"import torch {imports['torch_import_s']:.3f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"machine": machine(), "workloads": rows, **imports}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
