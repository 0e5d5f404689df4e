"""Convolution and pooling: dendrite vs PyTorch CPU, forward + backward, float32, 2 threads.

Usage::

    python benchmarks/bench_conv.py            # the three workloads of the CNN benchmark
    python benchmarks/bench_conv.py --repeats 30

Calls alternate between the two libraries so that machine noise hits both alike; the table
shows the median time per call (and the fastest) in milliseconds and the ratio of medians.
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


def workloads():
    """name -> (input shape, weight shape or None, call(F, x, w))."""
    return {
        "conv2d (64,1,28,28) * (32,1,5,5), pad 2": (
            (64, 1, 28, 28), (32, 1, 5, 5), lambda F, x, w, b: F.conv2d(x, w, b, padding=2)),
        "conv2d (64,32,14,14) * (64,32,5,5), pad 2": (
            (64, 32, 14, 14), (64, 32, 5, 5), lambda F, x, w, b: F.conv2d(x, w, b, padding=2)),
        "max_pool2d(2) (64,32,28,28)": (
            (64, 32, 28, 28), None, lambda F, x, w, b: F.max_pool2d(x, 2)),
    }


def step(lib, call, tensors):
    """One forward + backward; gradients are cleared first so accumulation is not timed."""
    for t in tensors:
        if t is not None:
            t.grad = None
    out = call(lib.nn.functional, *tensors)
    out.backward(lib.ones_like(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    import torch

    import dendrite

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    print(f"{'workload':44s} {'dendrite ms':>14s} {'torch ms':>14s} {'ratio':>6s}")
    for name, (x_shape, w_shape, call) in workloads().items():
        arrays = [rng.standard_normal(x_shape, dtype=np.float32)]
        if w_shape is not None:
            arrays += [rng.standard_normal(w_shape, dtype=np.float32) * 0.1,
                       rng.standard_normal(w_shape[0], dtype=np.float32)]
        ours = [dendrite.tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        if w_shape is None:
            ours, theirs = ours + [None, None], theirs + [None, None]
        times = {"dendrite": [], "torch": []}
        for _ in range(2):  # warm-up
            step(dendrite, call, ours)
            step(torch, call, theirs)
        for _ in range(args.repeats):
            for label, lib, tensors in (("dendrite", dendrite, ours), ("torch", torch, theirs)):
                start = time.perf_counter()
                step(lib, call, tensors)
                times[label].append(1e3 * (time.perf_counter() - start))
        ours_ms, theirs_ms = statistics.median(times["dendrite"]), statistics.median(times["torch"])
        print(f"{name:44s} {ours_ms:7.2f} ({min(times['dendrite']):5.2f}) {theirs_ms:7.2f} "
              f"({min(times['torch']):5.2f}) {ours_ms / theirs_ms:6.2f}")


if __name__ == "__main__":
    main()
