"""Where a second BLAS thread starts to pay: one float32 matrix product, 1 thread vs the pool.

For each shape (m, k) @ (k, n) the product runs alternately with one OpenBLAS
thread and with the whole pool (``--threads``, default: the pool as loaded),
switched through ``openblas_set_num_threads`` (dendrite.utils.blas's switch, so the
switch itself is timed too, as in training). Reported: the quartiles of
each (microseconds) and their ratios (pool / one thread: below 1 means the pool is faster; the 25th
percentile is the machine at its quietest, the 75th shows what load does),
with the work in FLOPs (2·m·k·n). dendrite's serial threshold
(``dendrite.utils.blas``) was chosen from this table; see
benchmarks/README.md.

    python benchmarks/blas_threshold.py
    python benchmarks/blas_threshold.py --repeats 200
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dendrite.utils import blas  # noqa: E402

SWITCH = blas._switch

# (m, k, n): square sizes, and the products of small models (batch x in -> out).
SHAPES = [
    (16, 16, 16), (32, 16, 16), (64, 64, 64), (32, 64, 192), (64, 128, 384), (32, 256, 256),
    (64, 256, 256), (32, 256, 512), (32, 256, 768), (32, 256, 1024), (64, 256, 512), (128, 128, 128),
    (128, 512, 10), (64, 800, 64), (128, 784, 512), (128, 512, 512),
    (256, 256, 256), (64, 3136, 256), (512, 512, 512), (1024, 1024, 1024),
]


def time_pair(m: int, k: int, n: int, pool: int, repeats: int) -> dict:
    """Quartiles (25th, 50th, 75th percentile) of the seconds of one product, 1 and ``pool`` threads."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    out = np.empty((m, n), np.float32)
    samples = {1: [], pool: []}
    for index in range(repeats + 2):
        for count in (1, pool) if index % 2 else (pool, 1):
            start = time.perf_counter()
            SWITCH["set"](count)
            np.matmul(a, b, out=out)
            if index >= 2:  # two warm-up rounds
                samples[count].append(time.perf_counter() - start)
    return {count: statistics.quantiles(times, n=4) for count, times in samples.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="the pool size (default: as loaded)")
    parser.add_argument("--repeats", type=int, default=60, help="timed products per thread count")
    args = parser.parse_args(argv)
    blas._find_openblas()
    if SWITCH["get"] is None:
        raise SystemExit("this benchmark needs NumPy on OpenBLAS (pthreads), threadpoolctl, and no "
                         "OPENBLAS_NUM_THREADS / OMP_NUM_THREADS in the environment")
    pool = args.threads or SWITCH["get"]()
    print(f"OpenBLAS pool {pool} threads, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    many = f"{pool} threads (p25 p50 p75)"
    print(f"{'m x k x n':>18} {'MFLOP':>9} {'1 thread (p25 p50 p75)':>26}  {many:>26}  ratio p25 p50 p75")
    for m, k, n in SHAPES:
        repeats = args.repeats if m * k * n < 50_000_000 else max(5, args.repeats // 10)
        quartiles = time_pair(m, k, n, pool, repeats)
        one, many = quartiles[1], quartiles[pool]
        print(f"{f'{m}x{k}x{n}':>18} {2 * m * k * n / 1e6:9.3f} "
              + " ".join(f"{t * 1e6:8.1f}" for t in one) + "  " + " ".join(f"{t * 1e6:8.1f}" for t in many)
              + "  " + " ".join(f"{b / a:5.2f}" for a, b in zip(one, many)), flush=True)
    SWITCH["set"](pool)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
