"""A CSV larger than a memory limit trains: `dendrite train` under RLIMIT_DATA, beside the in-memory reader.

Writes a CSV of ``--rows`` rows of 40 numeric columns and a 3-class label (3.3 million rows
are about 1.1 GB), then runs, each in a child process whose private memory (heap, NumPy
arrays: Linux's RLIMIT_DATA) is capped at ``--limit-mib``:

1. ``dendrite train mlp --data FILE --epochs 1``: two streaming passes, rows encoded into
   memory-mapped ``.npy`` files (file-backed pages, which the cap does not count and the
   kernel can drop), then one epoch;
2. the in-memory reader ``dendrite.data.load_csv(FILE)`` for contrast, which needs the
   whole file as Python strings and fails under the same cap.

It prints each child's exit status, wall time and peak resident memory (ru_maxrss, which
does count the memory-mapped pages the run touched).

    python benchmarks/large_csv.py [--rows 3300000] [--limit-mib 400] [--folder /tmp/large-csv]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

COLUMNS = 40


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    """``rows`` rows of 40 normal features; the label is the sign band of a fixed linear score."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=COLUMNS)
    with open(path, "w") as handle:
        handle.write(",".join(f"f{i}" for i in range(COLUMNS)) + ",label\n")
        for start in range(0, rows, 100_000):
            x = rng.normal(size=(min(100_000, rows - start), COLUMNS))
            score = x @ weights
            labels = np.where(score > 0.5, "high", np.where(score < -0.5, "low", "mid"))
            handle.write("\n".join(",".join(f"{v:.5f}" for v in row) + "," + label
                                   for row, label in zip(x, labels)) + "\n")


def capped(command: list, limit_mib: int) -> str:
    """Run ``command`` with RLIMIT_DATA at ``limit_mib``; one line: exit status, seconds, its peak RSS."""
    limit = limit_mib * 2**20
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_DATA, (limit, limit)))
    _, status, usage = os.wait4(child.pid, 0)  # this child's own resource usage
    seconds = time.perf_counter() - started
    code, peak = os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024
    return f"exit {code}, {seconds:.0f} s, peak RSS {peak:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_300_000)
    parser.add_argument("--limit-mib", type=int, default=400)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/large-csv"))
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    path = args.folder / "large.csv"
    if not path.is_file():
        write_csv(path, args.rows)
    print(f"{path}: {path.stat().st_size / 2**30:.2f} GiB; private memory capped at {args.limit_mib} MiB")
    train = [sys.executable, "-m", "dendrite.cli.main", "train", "mlp", "--data", str(path), "--target",
             "label", "--epochs", "1", "--batch-size", "256", "--quiet", "--out", str(args.folder / "run")]
    print("dendrite train (streaming):", capped(train, args.limit_mib))
    final = json.loads((args.folder / "run" / "metrics.json").read_text())["final"]
    print("  " + ", ".join(f"{key} {value:.4f}" for key, value in final.items()))
    reader = f"from dendrite.data import load_csv; load_csv({str(path)!r}, 'label')"
    in_memory = [sys.executable, "-c", reader]
    print("load_csv (in memory):      ", capped(in_memory, args.limit_mib))


if __name__ == "__main__":
    main()
