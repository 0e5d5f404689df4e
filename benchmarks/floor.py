"""How fast could dendrite's step be? Its matrix products alone, timed against PyTorch's whole step.

dendrite's training step is NumPy calls; the matrix products among them go to OpenBLAS and cannot get
faster by anything dendrite does in Python. This benchmark records every product of one dendrite
training step of a ``run.py`` workload (the operands as dendrite passed them: same shapes, memory
layout and BLAS thread count), then times **replaying only those products** in blocks that alternate
with PyTorch's whole training step, exactly as run.py times the two libraries (harness.py). Also
timed in the same run: dendrite's whole step.

* ``products``: the replayed products of one step (the floor of dendrite's step with these kernels);
* ``floor``: products / PyTorch's step, the lowest ratio run.py could show if everything else in
  dendrite's step (element-wise work, copies, Python) took no time at all;
* ``rest``: dendrite's step minus its products.

Usage::

    python benchmarks/floor.py                   # all run.py workloads
    python benchmarks/floor.py --only mlp lstm --steps 50
    python benchmarks/floor.py --threads 1 --cpu-time     # CPU time, one thread each
    python benchmarks/floor.py --only lstm --per-shape     # also each product alone: NumPy vs torch.matmul

A replayed product writes into a private array of the recorded output's shape (never into
dendrite's own buffers) and reads the recorded operands (the tensors of the recorded step, kept
alive here); between steps the values differ, the work does not.
"""

from __future__ import annotations

import argparse
import sys
import time

import harness  # first: it sets the threads before NumPy and PyTorch load
import run
from harness import machine, np


class _Recorder:
    """While active: every ``numpy.matmul`` and dendrite ``blas.dot``/``blas.tensordot`` call is kept.

    ``numpy.matmul`` is looked up at call time by all of dendrite (``xp`` is NumPy), including
    ``blas.matmul`` and the recurrent loops; ``blas.dot`` and ``blas.tensordot`` are imported by name
    into dendrite's modules, so those names are swapped in every loaded dendrite module.
    """

    def __init__(self):
        from dendrite.utils import blas

        self.blas, self.calls = blas, []
        self.saved_matmul = np.matmul
        self.swapped = []  # (module, name, original)

    def _threads(self) -> int | None:
        get = self.blas._switch["get"]
        return get() if get is not None else None

    def __enter__(self):
        original_matmul, blas = self.saved_matmul, self.blas

        def matmul(a, b, out=None, **options):
            result = original_matmul(a, b, out=out, **options)
            target = None if out is None else np.empty(np.shape(out), np.asarray(out).dtype)
            self.calls.append(("matmul", a, b, target, self._threads()))
            return result

        def dot(a, b):
            self.calls.append(("dot", a, b, None, self._threads()))
            return originals["dot"](a, b)

        def tensordot(a, b, axes):
            self.calls.append(("tensordot", a, b, axes, self._threads()))
            return originals["tensordot"](a, b, axes)

        originals = {"dot": blas.dot, "tensordot": blas.tensordot}
        replacements = {"dot": dot, "tensordot": tensordot}
        np.matmul = matmul
        for module in [m for name, m in sys.modules.items() if name.startswith("dendrite") and m]:
            for name, original in originals.items():
                if getattr(module, name, None) is original:
                    self.swapped.append((module, name, original))
                    setattr(module, name, replacements[name])
        return self

    def __exit__(self, *exc_info):
        np.matmul = self.saved_matmul
        for module, name, original in self.swapped:
            setattr(module, name, original)
        return False


class ProductsRunner:
    """Replays the recorded products of one step; ``step()`` returns None (it has no loss)."""

    def __init__(self, calls, blas):
        self.calls, self.blas = calls, blas
        self.flops = sum(_flops(kind, a, b, extra) for kind, a, b, extra, _ in calls)

    def step(self):
        setter, getter = self.blas._switch["set"], self.blas._switch["get"]
        start = getter() if getter is not None else None
        current = start
        for kind, a, b, extra, threads in self.calls:
            if threads is not None and setter is not None and threads != current:
                setter(threads)
                current = threads
            if kind == "matmul":
                np.matmul(a, b, out=extra)
            elif kind == "dot":
                a.dot(b)
            else:
                np.tensordot(a, b, axes=extra)
        if current != start and setter is not None:
            setter(start)
        return None


def _flops(kind, a, b, extra) -> int:
    """2·m·k·n summed over the matrices of one call."""
    if kind == "tensordot":
        return 2 * a.size * b.size // max(a.shape[extra[0]], 1)
    a, b = np.asarray(a), np.asarray(b)
    k = a.shape[-1]
    rows = a.size // k
    columns = b.shape[-1] if b.ndim > 1 else 1
    batch = max(1, b.size // (k * columns)) if b.ndim > 2 and a.ndim == 2 else 1
    return 2 * rows * k * columns * batch


def record_products(runner) -> ProductsRunner:
    """The products of one training step of ``runner`` (a harness.Runner of dendrite)."""
    with _Recorder() as recorder:
        runner.step()
    return ProductsRunner(recorder.calls, recorder.blas)


def measure(name: str, steps: int, clock=time.perf_counter) -> dict:
    """One workload: products alone vs PyTorch, and dendrite's whole step vs PyTorch, in one run."""
    ours, theirs = run.make_pair(name)
    whole = harness.time_alternating(ours, theirs, steps, label=name, clock=clock)  # first: checks the losses
    products = record_products(ours)
    alone = harness.time_alternating(products, theirs, steps, label=name + " products", clock=clock,
                                     check_losses=False)
    torch_ms = (whole["torch_ms"] + alone["torch_ms"]) / 2
    return {"workload": name, "products": len(products.calls), "gflop": products.flops / 1e9,
            "products_ms": alone["dendrite_ms"], "dendrite_ms": whole["dendrite_ms"], "torch_ms": torch_ms,
            "floor": alone["dendrite_ms"] / torch_ms, "ratio": whole["dendrite_ms"] / torch_ms,
            "rest_ms": whole["dendrite_ms"] - alone["dendrite_ms"]}


def per_shape(name: str, seconds: float = 0.2) -> list:
    """Each distinct product of one dendrite step, timed alone in NumPy and in ``torch.matmul``.

    The same operands (``torch.from_numpy`` shares them) and the same thread count as the step
    (dendrite's per-product choice for NumPy, ``--threads`` for PyTorch); best of 3 loops of about
    ``seconds`` each. Rows: (shapes, count in the step, NumPy ms, PyTorch ms).
    """
    import torch

    ours, _ = run.make_pair(name)
    for _ in range(2):
        ours.step()
    products = record_products(ours)
    rows: dict = {}
    for call in products.calls:
        kind, a, b, extra, threads = call
        if kind == "tensordot":
            continue
        key = (np.shape(a), np.shape(b), threads)
        rows.setdefault(key, [call, 0])[1] += 1

    def best(function) -> float:
        function()
        start = time.perf_counter()
        function()
        repeats = max(1, int(seconds / max(time.perf_counter() - start, 1e-7)))
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(repeats):
                function()
            timings.append((time.perf_counter() - start) / repeats)
        return min(timings) * 1e3

    def shared(array):
        """The operand as a PyTorch tensor on the same memory and strides (a copy only for negative ones)."""
        array = np.asarray(array)
        return torch.from_numpy(array if min(array.strides, default=0) >= 0 else array.copy())

    table = []
    for (shape_a, shape_b, _), (call, count) in rows.items():
        one = ProductsRunner([call], products.blas)
        a, b = shared(call[1]), shared(call[2])
        table.append((f"{shape_a} @ {shape_b}", count, best(one.step),
                      best(lambda a=a, b=b: torch.matmul(a, b))))
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(run.WORKLOADS), help="workloads to run")
    parser.add_argument("--steps", type=int, help="timed steps per library (default: run.py's)")
    parser.add_argument("--per-shape", action="store_true",
                        help="also time each distinct product alone in NumPy and in torch.matmul")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time CPU time of this thread (with --threads 1): steady on a loaded machine")
    harness.add_machine_options(parser)
    args = parser.parse_args(argv)
    if args.cpu_time and harness.THREADS != "1":
        parser.error("--cpu-time counts this thread only: use it with --threads 1")
    clock = time.thread_time if args.cpu_time else time.perf_counter
    print(machine())
    print(f"{'workload':>8} {'products':>9} {'GFLOP':>6} {'products ms':>12} {'GFLOP/s':>8} "
          f"{'dendrite ms':>12} {'torch ms':>9} {'floor':>6} {'ratio':>6} {'rest ms':>8}")
    for name in args.only or list(run.WORKLOADS):
        row = measure(name, args.steps or run.DEFAULT_STEPS[name], clock)
        rate = row["gflop"] / max(row["products_ms"], 1e-9) * 1e3
        print(f"{name:>8} {row['products']:>9} {row['gflop']:>6.2f} {row['products_ms']:>12.3f} {rate:>8.0f} "
              f"{row['dendrite_ms']:>12.3f} {row['torch_ms']:>9.3f} {row['floor']:>6.2f} "
              f"{row['ratio']:>6.2f} {row['rest_ms']:>8.3f}", flush=True)
    if args.per_shape:
        for name in args.only or list(run.WORKLOADS):
            print(f"\n{name}: each product alone (ms)  {'count':>5} {'NumPy':>8} {'torch.matmul':>13}")
            for shapes, count, numpy_ms, torch_ms in per_shape(name):
                print(f"  {shapes:<42} {count:>5} {numpy_ms:>8.4f} {torch_ms:>13.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
