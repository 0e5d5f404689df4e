"""Scaling curves: step time and peak memory vs batch size and width, dendrite vs PyTorch CPU.

Four sweeps, each point timed like run.py (harness.py: same weights, first losses
checked, blocks of training steps alternating between the libraries after idle
time, medians and their ratio; peak memory of a step in a fresh process per
library). The stored results/scaling_1thread.* were measured with one thread
each (no worker threads to spin), before the blocks replaced single steps:

* ``mlp-batch``: MLP 784-512-512-10 at batch 1, 4, 16, 64, 256, 1024;
* ``mlp-width``: MLP 784-w-w-10 at batch 64, w = 16, 64, 256, 1024, 4096;
* ``cnn-batch``: run.py's LeNet-like CNN (conv 32 and 64 channels) at the same batches;
* ``cnn-width``: the same CNN with c and 2c channels at batch 16, c = 4, 8, 16, 32, 64, 128
  (a convolution's cost grows with c², so c = 4096 would be ~10⁴ times a LeNet step).

Usage::

    python benchmarks/scaling.py --out scaling          # table; scaling.json and scaling.png
    python benchmarks/scaling.py --quick                # a sanity run: 2-3 points per sweep, short
    python benchmarks/scaling.py --only mlp-batch --no-memory

Each point gets about ``--seconds`` (default 2) of timed steps per library, at
least 3 steps. The plot needs matplotlib.
"""

from __future__ import annotations

import argparse
import json
import sys

import harness  # first: it sets the threads before NumPy and PyTorch load
from harness import machine, np

BATCHES = (1, 4, 16, 64, 256, 1024)
SWEEPS = {  # name: (model, what varies, its values, the values of --quick)
    "mlp-batch": ("mlp", "batch", BATCHES, (1, 256)),
    "mlp-width": ("mlp", "width", (16, 64, 256, 1024, 4096), (16, 1024)),
    "cnn-batch": ("cnn", "batch", BATCHES, (1, 16)),
    "cnn-width": ("cnn", "width", (4, 8, 16, 32, 64, 128), (4, 16)),
}
DEFAULTS = {"mlp": {"batch": 64, "width": 512}, "cnn": {"batch": 16, "width": 32}}


def build(lib, model: str, width: int):
    """The network, written once for both libraries: an MLP of ``width`` units, a CNN of ``width`` maps."""
    nn = lib.nn
    if model == "mlp":
        return nn.Sequential(nn.Linear(784, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                             nn.Linear(width, 10))
    return nn.Sequential(
        nn.Conv2d(1, width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * width * 49, 256), nn.ReLU(), nn.Linear(256, 10),
    )


def point(sweep: str, value: int) -> dict:
    """The batch and width of one point of a sweep."""
    model, varies, _, _ = SWEEPS[sweep]
    return {**DEFAULTS[model], varies: value}


def make_pair(sweep: str, value: int):
    model = SWEEPS[sweep][0]
    settings = point(sweep, value)
    rng = np.random.default_rng(0)
    shape = (784,) if model == "mlp" else (1, 28, 28)
    x = rng.standard_normal((settings["batch"], *shape)).astype(np.float32)
    y = rng.integers(0, 10, settings["batch"]).astype(np.int64)
    return harness.make_pair(lambda lib: build(lib, model, settings["width"]), x, y)


def measure(sweep: str, value: int, seconds: float, memory: bool) -> dict:
    ours, theirs = make_pair(sweep, value)
    steps = harness.steps_for(ours, theirs, seconds)
    row = {"value": value, **point(sweep, value),
           **harness.time_alternating(ours, theirs, steps, warmup=1, label=f"{sweep} {value}")}
    if memory:
        for library in ("dendrite", "torch"):
            result = harness.in_fresh_process(__file__, sweep, str(value), library)
            row[f"{library}_peak_mb"] = result["rss_mb"]
    return row


def format_row(sweep: str, row: dict) -> str:
    text = (f"{sweep:>9} {SWEEPS[sweep][1]:>5} {row['value']:>5}   dendrite {row['dendrite_ms']:10.3f} ms"
            f"   torch {row['torch_ms']:10.3f} ms   ratio {row['ratio']:5.2f}")
    if "dendrite_peak_mb" in row:
        text += f"   peak {row['dendrite_peak_mb']:8.2f} MB vs {row['torch_peak_mb']:8.2f} MB"
    return text


def plot(results: dict, path: str) -> None:
    """Step time (top) and peak memory (bottom) of each sweep, log-log, one panel per sweep."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweeps = list(results["sweeps"])
    figure, axes = plt.subplots(2, len(sweeps), figsize=(4 * len(sweeps), 7), squeeze=False)
    for column, sweep in enumerate(sweeps):
        rows = results["sweeps"][sweep]
        values = [row["value"] for row in rows]
        for line, (metric, label) in enumerate((("ms", "step time (ms)"), ("peak_mb", "peak memory (MB)"))):
            axis = axes[line][column]
            for library, style in (("dendrite", "o-"), ("torch", "s--")):
                key = f"{library}_{metric}"
                if all(key in row for row in rows):
                    axis.plot(values, [max(row[key], 1e-3) for row in rows], style, label=library)
            axis.set_xscale("log", base=2)
            axis.set_yscale("log")
            axis.set_xlabel(SWEEPS[sweep][1])
            axis.set_ylabel(label)
            axis.grid(True, which="both", alpha=0.3)
            if line == 0:
                axis.set_title(sweep)
            axis.legend()
    figure.suptitle(results["machine"], fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(SWEEPS), help="sweeps to run")
    parser.add_argument("--quick", action="store_true", help="a sanity run: few points, short timings")
    parser.add_argument("--seconds", type=float, default=None,
                        help="timed seconds per point and library (default 2, --quick 0.3)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument("--out", help="write OUT.json and OUT.png (the plot needs matplotlib)")
    harness.add_machine_options(parser)
    parser.add_argument("--memory-probe", nargs=3, metavar=("SWEEP", "VALUE", "LIBRARY"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        sweep, value, library = args.memory_probe
        ours, theirs = make_pair(sweep, int(value))
        print(json.dumps(harness.step_memory(ours if library == "dendrite" else theirs, traced=False)))
        return 0
    seconds = args.seconds or (0.3 if args.quick else 2.0)
    memory = not args.no_memory and sys.platform.startswith("linux")
    results = {"machine": machine(), "quick": args.quick, "sweeps": {}}
    print(results["machine"], flush=True)
    for sweep in args.only or list(SWEEPS):
        values = SWEEPS[sweep][3] if args.quick else SWEEPS[sweep][2]
        rows = results["sweeps"][sweep] = []
        for value in values:
            rows.append(measure(sweep, value, seconds, memory))
            print(format_row(sweep, rows[-1]), flush=True)
    if args.out:
        with open(args.out + ".json", "w") as handle:
            json.dump(results, handle, indent=2)
        try:
            plot(results, args.out + ".png")
        except ImportError:
            print("plot skipped: matplotlib is not installed (pip install matplotlib)")
        else:
            print(f"wrote {args.out}.json and {args.out}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
