"""Time one ``SGD.step()`` on the six parameters of a tiny MLP (was a test; wall time belongs here).

A step costs a few microseconds per parameter; a regression to per-step tensor allocations
or graph recording shows up as tens of microseconds or more.

    python benchmarks/sgd_step_overhead.py
"""

from __future__ import annotations

import time

import dendrite


def main() -> None:
    shapes = [(16, 2), (16,), (16, 16), (16,), (1, 16), (1,)]
    params = [dendrite.nn.Parameter(dendrite.zeros(*s)) for s in shapes]
    for p in params:
        p.grad = dendrite.ones(*p.shape)
    opt = dendrite.optim.SGD(params, lr=0.01)
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(200):
            opt.step()
        timings.append((time.perf_counter() - start) / 200)
    print(f"SGD step, 6 parameters: best {min(timings) * 1e6:.1f} us (of 5 x 200 steps)")


if __name__ == "__main__":
    main()
