"""What the side-by-side benchmarks share: threads, runners, alternating timing, peak memory.

Import this module before NumPy or PyTorch: it sets the thread count first
(``--threads N`` on the command line, default 2). Both libraries get it through
their own API (``torch.set_num_threads``, ``dendrite.set_num_threads``), not
through ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS``, which are removed from
the environment: a count fixed there would also switch off dendrite's choice of
one BLAS thread for small products (``dendrite.utils.blas``), as PyTorch still
chooses its own per operation. ``--native-blas`` drops an inherited
``OPENBLAS_CORETYPE`` so that OpenBLAS picks the CPU's best kernels;
``--pooled-blas`` switches dendrite's per-product choice off (every product
on the whole pool), for a before/after comparison in one run.

Used by run.py (fixed workloads), scaling.py (batch and width sweeps) and bench_lstm.py.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time


def early_option(name: str, default: str | None = None) -> str | None:
    """``--name value`` from the command line, read before NumPy is imported (threads, kernels)."""
    for index, argument in enumerate(sys.argv):
        if argument == name:
            return sys.argv[index + 1] if index + 1 < len(sys.argv) else default
        if argument.startswith(name + "="):
            return argument.split("=", 1)[1]
    return default


THREADS = early_option("--threads", "2")
# The subprocesses (memory probes) inherit this environment, so they see the same settings.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.pop(_variable, None)
# An inherited OPENBLAS_CORETYPE pins NumPy's BLAS to older kernels (this project's machines set
# Haswell: AVX2) while PyTorch's MKL still uses the CPU's best (AVX-512). By default the benchmark
# measures the environment as a user gets it; --native-blas lets OpenBLAS detect the CPU.
if "--native-blas" in sys.argv:
    os.environ.pop("OPENBLAS_CORETYPE", None)

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def add_machine_options(parser) -> None:
    """``--threads``, ``--native-blas`` and ``--pooled-blas`` on a benchmark's command line.

    This module reads them from ``sys.argv`` when it is imported (before NumPy and PyTorch load);
    declaring them here lets argparse accept and document them.
    """
    parser.add_argument("--threads", default="2", help="threads of each library (default 2)")
    parser.add_argument("--native-blas", action="store_true",
                        help="drop an inherited OPENBLAS_CORETYPE so OpenBLAS picks the CPU's own kernels")
    parser.add_argument("--pooled-blas", action="store_true",
                        help="every dendrite product on the whole BLAS pool (no one-thread small products)")


def set_threads() -> None:
    """Both libraries on ``--threads`` threads (a maximum: each may run a small operation on one)."""
    import torch

    import dendrite

    torch.set_num_threads(int(THREADS))
    dendrite.set_num_threads(int(THREADS))
    if "--pooled-blas" in sys.argv:  # every product on the whole pool, as before dendrite chose per product
        from dendrite.utils import blas

        blas.SERIAL_BELOW_FLOPS = 0


class Runner:
    """One library's model, data and optimizer, stepping one training step at a time.

    ``compiled``: the loss (forward and cross-entropy) goes through ``lib.compile`` (dendrite's
    record-and-replay, docs/compile.md); zero_grad, backward, the SGD step and ``item()`` stay as they are.
    """

    def __init__(self, lib, model, x, y, compiled: bool = False):
        self.lib, self.model = lib, model
        self.x, self.y = lib.tensor(x), lib.tensor(y)
        self.optimizer = lib.optim.SGD(model.parameters(), lr=0.01)
        cross_entropy = lib.nn.functional.cross_entropy
        self.loss_of = lambda x, y: cross_entropy(model(x), y)
        if compiled:
            self.loss_of = lib.compile(self.loss_of)

    def step(self) -> float:
        self.optimizer.zero_grad()
        loss = self.loss_of(self.x, self.y)
        loss.backward()
        self.optimizer.step()
        return float(loss.item())


def make_pair(build, x, y, compiled: bool = False):
    """(dendrite runner, torch runner) of ``build(lib)``, holding PyTorch's initial weights and the data;
    ``compiled``: dendrite's loss through ``dendrite.compile`` (PyTorch stays eager)."""
    import torch

    import dendrite

    set_threads()
    torch.manual_seed(0)
    torch_model = build(torch)
    ours = build(dendrite)
    ours.load_state_dict({k: v.detach().numpy() for k, v in torch_model.state_dict().items()})
    return Runner(dendrite, ours, x, y, compiled), Runner(torch, torch_model, x, y)


# Idle time before each block of steps: long enough for the other library's worker threads to stop
# spinning and sleep (OpenBLAS's idle threads yield-spin for about 2**28 cycles, ~0.1 s; OpenMP's spin
# briefly). Measured on the cnn workload (2026-12-07, 2 threads each): PyTorch's step took 44-48 ms
# when it ran right after a dendrite step, 24 ms after 0.2 s of idle, which is what it takes alone.
IDLE_BETWEEN_BLOCKS_S = 0.25
BLOCK_SECONDS = 0.2  # steps per block: about this much work (at least 1, at most MAX_BLOCK_STEPS)
# Short blocks read PyTorch's tiny step 20-30% slower than long ones (0.17 vs 0.13 ms, 2026-12-07): a block
# must be long enough to be the steady state of a training loop.
MAX_BLOCK_STEPS = 200


def time_alternating(ours: Runner, theirs: Runner, steps: int, warmup: int = 3, label: str = "",
                     clock=time.perf_counter, check_losses: bool = True) -> dict:
    """Blocks of steps of the two runners, alternating (and alternating who goes first); medians and ratio.

    Each library runs as it would alone: a block starts after ``IDLE_BETWEEN_BLOCKS_S`` of idle time
    (so the other library's spinning worker threads are asleep), takes one untimed step (caches,
    thread wake-up), then ``block`` timed back-to-back steps, as in a training loop. Alternating
    blocks spreads the machine's noise over both libraries. (Until 2026-12-07 single steps
    alternated with no idle time, which slowed whichever library ran after the other's spinning
    threads: PyTorch's cnn step by about 2x, so the cnn ratio read 1.2 instead of 1.5-2.3.)

    The first losses must agree (rtol 1e-4): the two models are the same network (``check_losses=False``
    when ``ours`` is not a training step, as floor.py's replayed products). ``clock`` times a step
    (``time.thread_time`` for CPU time: steady on a loaded machine with one thread each).
    """
    first_ours, first_theirs = ours.step(), theirs.step()
    if check_losses and not np.isclose(first_ours, first_theirs, rtol=1e-4, atol=1e-5):
        raise SystemExit(f"{label}: first losses differ: dendrite {first_ours} vs torch {first_theirs}")
    for _ in range(warmup):
        ours.step()
        theirs.step()
    start = time.perf_counter()
    ours.step()
    theirs.step()
    slowest = max((time.perf_counter() - start) / 2, 1e-6)
    block = max(1, min(MAX_BLOCK_STEPS, steps, int(BLOCK_SECONDS / slowest)))
    times = {"dendrite": [], "torch": []}
    block_medians = {"dendrite": [], "torch": []}
    index = 0
    while len(times["dendrite"]) < steps:
        order = [("dendrite", ours), ("torch", theirs)]
        if index % 2:
            order.reverse()
        index += 1
        count = min(block, steps - len(times["dendrite"]))
        for name, runner in order:
            time.sleep(IDLE_BETWEEN_BLOCKS_S)
            runner.step()  # untimed: wakes the thread pool, warms the caches
            timed = []
            for _ in range(count):
                begin = clock()
                runner.step()
                timed.append(clock() - begin)
            times[name] += timed
            block_medians[name].append(statistics.median(timed))
    median_ours = statistics.median(times["dendrite"])
    median_theirs = statistics.median(times["torch"])
    block_ratios = [a / b for a, b in zip(block_medians["dendrite"], block_medians["torch"])]
    quartiles = statistics.quantiles(block_ratios, n=4) if len(block_ratios) > 1 else block_ratios * 3
    return {"steps": steps, "block": block, "dendrite_ms": median_ours * 1e3, "torch_ms": median_theirs * 1e3,
            "ratio": median_ours / median_theirs, "pair_ratio_iqr": [quartiles[0], quartiles[2]],
            "first_loss": first_ours}


def steps_for(ours: Runner, theirs: Runner, budget_s: float, least: int = 3, most: int = 500) -> int:
    """How many timed steps fit in ``budget_s`` seconds per library, judged from one step of each
    (both step, so their weights stay alike for the first-loss check of ``time_alternating``)."""
    start = time.perf_counter()
    ours.step()
    middle = time.perf_counter()
    theirs.step()
    slowest = max(middle - start, time.perf_counter() - middle, 1e-6)
    return max(least, min(most, int(budget_s / slowest)))


# ----------------------------------------------------------------------------- peak memory
def _resident_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def step_memory(runner: Runner, traced: bool, steps: int = 3) -> dict:
    """The peak memory of one training step (the largest of ``steps``), to run in a fresh process.

    After two warm-up steps, freed memory is handed back to the OS (``malloc_trim``) and the kernel's
    peak-RSS mark is reset (``/proc/self/clear_refs``); the number is the peak resident memory during
    the next step above the resident memory before it. With ``traced`` also the peak of NumPy's own
    allocations (``tracemalloc``), which does not depend on the allocator's caching.
    """
    import ctypes
    import gc
    import tracemalloc

    libc = ctypes.CDLL("libc.so.6")
    runner.step()
    runner.step()
    rss_peaks, traced_peaks = [], []
    for _ in range(steps):
        gc.collect()
        libc.malloc_trim(0)  # hand freed memory back, so the step's own pages count again
        before = _resident_mb("VmRSS")
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # reset the peak-RSS mark (VmHWM) to the current RSS
        runner.step()
        rss_peaks.append(_resident_mb("VmHWM") - before)
        if traced:  # NumPy reports its data allocations to tracemalloc
            gc.collect()
            tracemalloc.start()
            start, _ = tracemalloc.get_traced_memory()
            runner.step()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            traced_peaks.append((peak - start) / 2**20)
    result = {"rss_mb": max(rss_peaks)}
    if traced_peaks:
        result["traced_mb"] = max(traced_peaks)
    return result


# What a PyTorch-only program's process lacks: the glibc thresholds that ``import dendrite`` sets for the
# whole process (dendrite/utils/allocator.py). The benchmarks build PyTorch's model beside dendrite's (same
# weights), so a PyTorch-only measurement sets this before dendrite is imported.
PYTORCH_ONLY = {"DENDRITE_KEEP_FREED_MEMORY": "0"}


def in_fresh_process(script: str, *arguments: str) -> dict:
    """``script --memory-probe ARGUMENTS...`` in a new interpreter: the JSON it prints last.

    A PyTorch probe (``"torch"`` among the arguments) runs as a PyTorch-only program would: without the
    glibc thresholds that ``import dendrite`` sets for the whole process (dendrite/utils/allocator.py),
    although the probe builds the model with both libraries (same weights).
    """
    flags = [flag for flag in ("--native-blas", "--pooled-blas") if flag in sys.argv]
    command = [sys.executable, os.path.abspath(script), "--memory-probe", *arguments, "--threads", THREADS]
    command += flags
    environment = dict(os.environ, **PYTORCH_ONLY) if "torch" in arguments else None
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    return json.loads(result.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- report
def blas_kernels() -> str:
    """OpenBLAS's kernel family as NumPy loaded it (e.g. SkylakeX, Haswell), when it can be told."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    for pool in threadpool_info():
        if pool.get("internal_api") == "openblas":
            return str(pool.get("architecture"))
    return "not OpenBLAS"


def machine() -> str:
    import torch

    return (f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__} (OpenBLAS kernels: {blas_kernels()}), PyTorch {torch.__version__}, "
            f"{THREADS} threads each, load average {os.getloadavg()[0]:.2f}")
