"""How fast the playground trains and updates the page, and where the time goes.

    python benchmarks/playground_rate.py              # 5 s of Play on the default config
    python benchmarks/playground_rate.py --seconds 10

Starts the server in this process (``LiveServer``), creates a session with the default config,
presses Play and reads the event stream like the page does. It prints the updates (snapshots)
per second, epochs and optimizer steps per second, the mean snapshot size, and the share of
the wall time spent in ``PlaygroundSession.train_for`` and ``.snapshot`` (timed in-process)
versus everything else (JSON encoding, the event stream, the event loop, waiting). For
comparison it times one optimizer step of the same network in plain dendrite (no playground).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import httpx  # noqa: E402

import dendrite  # noqa: E402
from dendrite.playground.config import DEFAULT_CONFIG  # noqa: E402
from dendrite.playground.serve import LiveServer  # noqa: E402
from dendrite.playground.session import PlaygroundSession  # noqa: E402


class Timer:
    """Wraps a method of PlaygroundSession and adds up the time spent in it (thread-safe)."""

    def __init__(self, name: str):
        self.name, self.total, self.calls = name, 0.0, 0
        self.original = getattr(PlaygroundSession, name)
        self.lock = threading.Lock()
        timer = self

        def timed(session, *args, **kwargs):
            start = time.perf_counter()
            try:
                return timer.original(session, *args, **kwargs)
            finally:
                with timer.lock:
                    timer.total += time.perf_counter() - start
                    timer.calls += 1

        setattr(PlaygroundSession, name, timed)

    def reset(self) -> None:
        with self.lock:
            self.total, self.calls = 0.0, 0

    def restore(self) -> None:
        setattr(PlaygroundSession, self.name, self.original)


def play_and_listen(seconds: float) -> dict:
    """Play the default session for ``seconds`` while reading its event stream; the measurements."""
    timers = {name: Timer(name) for name in ("train_for", "snapshot")}
    try:
        with LiveServer() as server, httpx.Client(base_url=server.url, timeout=30) as client:
            session_id = client.post("api/sessions", json={}).json()["session"]
            sizes, epochs, steps = [], [], []
            with client.stream("GET", f"api/sessions/{session_id}/events") as stream:
                lines = stream.iter_lines()
                next(line for line in lines if line.startswith("data: "))  # the first event: at once
                for timer in timers.values():
                    timer.reset()
                client.post(f"api/sessions/{session_id}/play")
                start = time.perf_counter()
                for line in lines:
                    if not line.startswith("data: "):
                        continue
                    snapshot = json.loads(line[len("data: "):])
                    sizes.append(len(line) - len("data: "))
                    epochs.append(snapshot["epoch"])
                    steps.append(snapshot["steps"])
                    if time.perf_counter() - start >= seconds:
                        break
                wall = time.perf_counter() - start
                train_s, snapshot_s = timers["train_for"].total, timers["snapshot"].total
                client.post(f"api/sessions/{session_id}/pause")
    finally:
        for timer in timers.values():
            timer.restore()
    return {"wall": wall, "updates": len(sizes), "epochs": epochs[-1] - epochs[0],
            "steps": steps[-1] - steps[0], "mean_size": sum(sizes) / len(sizes), "train_s": train_s,
            "snapshot_s": snapshot_s,
            "train_calls": timers["train_for"].calls}


def plain_step_seconds(repeats: int = 2000) -> float:
    """Seconds per optimizer step of the default network (2-4-2-1, tanh, SGD, batch 10) in plain dendrite."""
    from dendrite import nn, optim
    from dendrite.nn import functional as F

    dendrite.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2), nn.Tanh(), nn.Linear(2, 1))
    optimizer = optim.SGD(model.parameters(), lr=DEFAULT_CONFIG["learning_rate"])
    inputs, targets = dendrite.randn(10, 2), (dendrite.rand(10, 1) > 0.5).float()

    def step():
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(inputs), targets)
        loss.backward()
        optimizer.step()

    for _ in range(100):
        step()
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats // 5):
            step()
        best = min(best, (time.perf_counter() - start) / (repeats // 5))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of Play to measure (default 5)")
    args = parser.parse_args()
    result = play_and_listen(args.seconds)
    wall = result["wall"]
    plain = plain_step_seconds()
    in_playground = result["train_s"] / max(result["steps"], 1)
    other = wall - result["train_s"] - result["snapshot_s"]
    rows = [
        ("updates (snapshots) per second", f"{result['updates'] / wall:.1f}"),
        ("epochs per second", f"{result['epochs'] / wall:.1f}"),
        ("optimizer steps per second", f"{result['steps'] / wall:.0f}"),
        ("mean snapshot size", f"{result['mean_size'] / 1024:.1f} KiB"),
        ("time in train_for", f"{100 * result['train_s'] / wall:.0f} %  ({result['train_calls']} calls)"),
        ("time in snapshot", f"{100 * result['snapshot_s'] / wall:.0f} %"),
        ("time elsewhere (web layer, waiting)", f"{100 * other / wall:.0f} %"),
        ("one step inside train_for", f"{in_playground * 1e6:.0f} us"),
        ("one step in plain dendrite", f"{plain * 1e6:.0f} us"),
    ]
    print(f"playground, default config, {wall:.1f} s of Play with one event stream open")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
