"""One library's training steps in a process of its own: what a user running only that library sees.

``run.py`` times both libraries in one process (alternating blocks), where both share one allocator:
PyTorch's allocations raise glibc's adaptive thresholds for dendrite's arrays too, and since
2026-12-07 ``import dendrite`` sets glibc's thresholds for the whole process
(dendrite/utils/allocator.py), for PyTorch's arrays too. Here only one library steps: the median
step time includes whatever page faults a dendrite-only (or PyTorch-only) training loop has. For
``torch`` the process runs without dendrite's allocator settings (``DENDRITE_KEEP_FREED_MEMORY=0``),
as a PyTorch-only program would; the model is still built by both libraries (same weights).

Usage::

    python benchmarks/alone.py lstm dendrite       # median step of run.py's lstm workload
    python benchmarks/alone.py cnn torch --steps 50
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import harness  # first: it sets the threads before NumPy and PyTorch load
import run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(run.WORKLOADS))
    parser.add_argument("library", choices=["dendrite", "torch"])
    parser.add_argument("--steps", type=int, default=30)
    harness.add_machine_options(parser)
    args = parser.parse_args(argv)
    if args.library == "torch":  # as a PyTorch-only process (neither library is imported yet)
        os.environ.update(harness.PYTORCH_ONLY)
    ours, theirs = run.make_pair(args.workload)  # both built (same weights), only one steps
    runner = ours if args.library == "dendrite" else theirs
    del ours, theirs
    for _ in range(3):
        runner.step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        runner.step()
        times.append(time.perf_counter() - start)
    print(f"{args.workload} {args.library} alone: median step {statistics.median(times) * 1e3:.3f} ms "
          f"over {args.steps} steps ({harness.THREADS} threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
