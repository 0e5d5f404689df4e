"""Side-by-side training-step benchmark: dendrite vs PyTorch CPU, in one process.

Each workload is built with the *same* code for both libraries (``lib.nn...``),
PyTorch's initial weights are copied into dendrite, the first losses are
checked to agree, and then single training steps (forward, mean cross-entropy,
backward, SGD update) alternate between the two libraries so that machine
noise hits both alike. Both use 2 threads.

Usage::

    python benchmarks/run.py                 # all workloads, table on stdout
    python benchmarks/run.py --only tiny mlp --steps 200
    python benchmarks/run.py --json results.json

Peak memory is measured per library in a fresh subprocess (growth of the
peak resident set while steps run, over the size after the warm-up step), and
import time is the median of 5 fresh interpreters.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name: (batch size, input shape, description)
WORKLOADS = {
    "tiny": (32, (2,), "MLP 2-16-16-2, ReLU, batch 32"),
    "mlp": (128, (784,), "MLP 784-512-512-10, ReLU, batch 128"),
    "cnn": (64, (1, 28, 28), "LeNet-like CNN on 1x28x28, batch 64"),
    "lstm": (32, (50, 64), "LSTM(64, 256) over T=50 + Linear(256, 10), batch 32"),
}


def build(lib, name: str):
    """The workload's model, written once for both libraries."""
    nn = lib.nn
    if name == "tiny":
        return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
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


class Runner:
    """One library's model, data and optimizer, stepping one training step at a time."""

    def __init__(self, lib, model, x, y):
        self.lib, self.model = lib, model
        self.x, self.y = lib.tensor(x), lib.tensor(y)
        self.optimizer = lib.optim.SGD(model.parameters(), lr=0.01)

    def step(self) -> float:
        self.optimizer.zero_grad()
        loss = self.lib.nn.functional.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        return float(loss.item())


def make_pair(name: str):
    import torch

    import dendrite

    torch.manual_seed(0)
    torch_model = build(torch, name)
    ours = build(dendrite, name)
    ours.load_state_dict({k: v.detach().numpy() for k, v in torch_model.state_dict().items()})
    x, y = make_data(name)
    return Runner(dendrite, ours, x, y), Runner(torch, torch_model, x, y)


def time_steps(name: str, steps: int, warmup: int = 3) -> dict:
    import torch

    torch.set_num_threads(2)
    ours, theirs = make_pair(name)
    first_ours, first_theirs = ours.step(), theirs.step()
    if not np.isclose(first_ours, first_theirs, rtol=1e-4, atol=1e-5):
        raise SystemExit(f"{name}: first losses differ: dendrite {first_ours} vs torch {first_theirs}")
    for _ in range(warmup):
        ours.step()
        theirs.step()
    times = {"dendrite": [], "torch": []}
    for _ in range(steps):
        for label, runner in (("dendrite", ours), ("torch", theirs)):
            start = time.perf_counter()
            runner.step()
            times[label].append(time.perf_counter() - start)
    median_ours = statistics.median(times["dendrite"])
    median_theirs = statistics.median(times["torch"])
    return {"workload": name, "dendrite_ms": median_ours * 1e3, "torch_ms": median_theirs * 1e3,
            "ratio": median_ours / median_theirs, "first_loss": first_ours}


def peak_memory_mb(name: str, library: str, steps: int = 5) -> float:
    """Growth of peak RSS over the warmed-up size while running steps, in a fresh process."""
    code = f"""
import resource, sys
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
import run
ours, theirs = run.make_pair({name!r})
runner = ours if {library!r} == "dendrite" else theirs
runner.step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for _ in range({steps}):
    runner.step()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(max(after - before, 0) / 1024)
"""
    # Peak RSS only grows, so measure the warmed-up step's own peak from a baseline too.
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def import_seconds(module: str, repeats: int = 5) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(repeats):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        samples.append(float(result.stdout.strip()))
    return statistics.median(samples)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(WORKLOADS), help="workloads to run")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per library (default per workload)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    default_steps = {"tiny": 300, "mlp": 60, "cnn": 20, "lstm": 20}
    rows = []
    for name in args.only or list(WORKLOADS):
        row = time_steps(name, args.steps or default_steps[name])
        if not args.no_memory:
            row["dendrite_peak_mb"] = peak_memory_mb(name, "dendrite")
            row["torch_peak_mb"] = peak_memory_mb(name, "torch")
        rows.append(row)
        print(_format_row(row), flush=True)
    imports = {"dendrite_import_s": import_seconds("dendrite"), "torch_import_s": import_seconds("torch")}
    print(f"import dendrite {imports['dendrite_import_s']:.3f} s   import torch {imports['torch_import_s']:.3f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"workloads": rows, **imports}, handle, indent=2)
    return 0


def _format_row(row: dict) -> str:
    text = (f"{row['workload']:>5}  dendrite {row['dendrite_ms']:9.3f} ms   torch {row['torch_ms']:9.3f} ms"
            f"   ratio {row['ratio']:.2f}  ({WORKLOADS[row['workload']][2]})")
    if "dendrite_peak_mb" in row:
        text += f"   peak +{row['dendrite_peak_mb']:.1f} MB vs +{row['torch_peak_mb']:.1f} MB"
    return text


if __name__ == "__main__":
    raise SystemExit(main())
