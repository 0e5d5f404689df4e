"""Attention and Transformer layers: dendrite vs PyTorch CPU, forward + backward, float32, 2 threads.

Usage::

    python benchmarks/bench_attention.py            # sdpa, MultiheadAttention, an encoder layer
    python benchmarks/bench_attention.py --repeats 30

Calls alternate between the two libraries so that machine noise hits both alike; the table
shows the median time per call (and the fastest) in milliseconds and the ratio of medians.
PyTorch's modules get dendrite's weights, and the first outputs must agree before timing.
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

BATCH, LENGTH, EMBED, HEADS = 16, 64, 256, 8


def workloads():
    """name -> (input shapes, build(lib) -> module or None, call(lib, module, *inputs))."""
    head = EMBED // HEADS
    qkv = [(BATCH, HEADS, LENGTH, head)] * 3
    return {
        f"sdpa causal {qkv[0]}": (
            qkv, None,
            lambda lib, m, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)),
        f"MultiheadAttention({EMBED}, {HEADS}) self, ({BATCH},{LENGTH},{EMBED})": (
            [(BATCH, LENGTH, EMBED)],
            lambda lib: lib.nn.MultiheadAttention(EMBED, HEADS, batch_first=True),
            lambda lib, m, x: m(x, x, x, need_weights=False)[0]),
        f"TransformerEncoderLayer({EMBED}, {HEADS}, {4 * EMBED}) causal": (
            [(BATCH, LENGTH, EMBED)],
            lambda lib: lib.nn.TransformerEncoderLayer(EMBED, HEADS, 4 * EMBED, dropout=0.0,
                                                       batch_first=True),
            lambda lib, m, x: m(x, src_mask=lib.nn.Transformer.generate_square_subsequent_mask(LENGTH),
                                is_causal=True)),
    }


def step(lib, call, module, tensors):
    """One forward + backward; gradients are cleared first so accumulation is not timed."""
    for t in tensors:
        t.grad = None
    if module is not None:
        module.zero_grad()
    out = call(lib, module, *tensors)
    out.backward(lib.ones_like(out))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    import torch

    import dendrite

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    print(f"{'workload':58s} {'dendrite ms':>14s} {'torch ms':>14s} {'ratio':>6s}")
    for name, (shapes, build, call) in workloads().items():
        arrays = [rng.standard_normal(shape, dtype=np.float32) for shape in shapes]
        ours = [dendrite.tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        our_module = their_module = None
        if build is not None:
            our_module, their_module = build(dendrite), build(torch)
            weights = {k: torch.tensor(v.numpy()) for k, v in our_module.state_dict().items()}
            their_module.load_state_dict(weights)
        first = step(dendrite, call, our_module, ours).detach().numpy()
        np.testing.assert_allclose(first, step(torch, call, their_module, theirs).detach().numpy(),
                                   rtol=1e-3, atol=1e-4)
        times = {"dendrite": [], "torch": []}
        for _ in range(args.repeats):
            for label, lib, module, tensors in (("dendrite", dendrite, our_module, ours),
                                                ("torch", torch, their_module, theirs)):
                start = time.perf_counter()
                step(lib, call, module, tensors)
                times[label].append(1e3 * (time.perf_counter() - start))
        ours_ms, theirs_ms = statistics.median(times["dendrite"]), statistics.median(times["torch"])
        print(f"{name:58s} {ours_ms:7.2f} ({min(times['dendrite']):5.2f}) {theirs_ms:7.2f} "
              f"({min(times['torch']):5.2f}) {ours_ms / theirs_ms:6.2f}")


if __name__ == "__main__":
    main()
