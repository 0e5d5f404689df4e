"""Transfer learning on the 8x8 digits: does a CNN pretrained on 0-4 help to learn 5-9 from a few images?

The pretrained network is ``dendrite.models.pretrained("digits04-cnn")``: a LeNet trained on
the digits 0-4 only (``scripts/make_pretrained.py``; it never saw a 5, 6, 7, 8 or 9). The new
task is to tell 5-9 apart from 1, 3 or 10 labelled training images per class. Three ways:

* ``scratch``   -- the same LeNet, randomly initialised, all weights trained;
* ``frozen``    -- the pretrained convolutional ``features`` frozen (``dendrite.freeze``), a new
                   ``classifier`` head (Linear-ReLU-Dropout-Linear, random) trained on top;
* ``finetune``  -- the pretrained ``features`` with the same new head, everything trained, the
                   pretrained part with a 10x smaller learning rate (two parameter groups).

(Keeping the pretrained hidden layer too and training only a new last layer -- a linear probe --
does worse here, about 0.7 at 10 images per class: that layer was shaped for 0-4 only.)

Each run takes the same number of full-batch Adam steps on its few images; the test accuracy
on all 5-9 test images (179) is measured every 5 steps. Reported over several seeds (which
images are picked, how the new layers start): the final test accuracy, the accuracy after only
20 steps, and the steps and training seconds until the run first came within one point of its
final accuracy ("time to reach it"; evaluation time is not counted).

    python examples/finetune_digits.py              # 1, 3, 10 shots x 5 seeds (about 2 min on 2 cores)
    python examples/finetune_digits.py --quick      # 1 seed, 1 and 10 shots, fewer steps (seconds)

See docs/transfer_learning.md for the measured table and what it shows.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
import time
from pathlib import Path

# These networks multiply small matrices; BLAS threads cost more than they give there (on 2 busy
# cores a step is about 10x slower with them). Set before NumPy loads; your environment wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dendrite  # noqa: E402
import dendrite.models  # noqa: E402
from dendrite import nn, optim  # noqa: E402
from dendrite.data import load_dataset  # noqa: E402

VARIANTS = ("scratch", "frozen", "finetune")
NEW_CLASSES = [5, 6, 7, 8, 9]


@functools.lru_cache(maxsize=1)
def _digits():
    return load_dataset("digits")


def few_shot_task(shots: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``shots`` training images per digit 5-9 (chosen by ``seed``) and all 5-9 test images; labels 0-4."""
    digits = _digits()
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.choice(np.flatnonzero(digits.y_train == digit), shots, replace=False)
                             for digit in NEW_CLASSES])
    test = np.isin(digits.y_test, NEW_CLASSES)
    return (digits.x_train[chosen], digits.y_train[chosen] - 5, digits.x_test[test], digits.y_test[test] - 5)


def build(variant: str, seed: int, lr: float):
    """The model and its optimizer for one variant (the new layers are seeded by ``seed``)."""
    dendrite.manual_seed(seed)
    fresh = dendrite.models.LeNet((8, 8), 5)  # random weights; the same draw for every variant
    if variant == "scratch":
        return fresh, optim.Adam(fresh.parameters(), lr=lr)
    model = dendrite.models.pretrained("digits04-cnn")  # features for 0-4, classifier with 5 outputs
    model.classifier = fresh.classifier  # the new head
    if variant == "frozen":
        dendrite.freeze(model.features)
        return model, optim.Adam(model.classifier.parameters(), lr=lr)
    return model, optim.Adam([{"params": model.features.parameters(), "lr": lr / 10},
                              {"params": model.classifier.parameters()}], lr=lr)


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with dendrite.no_grad():
        predicted = model(dendrite.tensor(x)).numpy().argmax(axis=1)
    model.train()
    return float((predicted == y).mean())


def run(variant: str, shots: int, seed: int, steps: int, eval_every: int, lr: float) -> dict:
    """Train one variant on one few-shot draw; return its accuracy curve and the summary numbers."""
    x_train, y_train, x_test, y_test = few_shot_task(shots, seed)
    model, optimizer = build(variant, seed, lr)
    model.train()
    inputs, targets = dendrite.tensor(x_train), dendrite.tensor(y_train)
    curve, seconds = [], 0.0  # (step, training seconds so far, test accuracy)
    for step in range(1, steps + 1):
        started = time.perf_counter()
        loss = nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seconds += time.perf_counter() - started  # evaluation below is not training time
        if step % eval_every == 0 or step == steps:
            curve.append((step, seconds, accuracy(model, x_test, y_test)))
    final = curve[-1][2]
    reached = next(point for point in curve if point[2] >= final - 0.01)
    early = next((point[2] for point in curve if point[0] >= 20), final)
    return {"variant": variant, "shots": shots, "seed": seed, "accuracy": final, "accuracy_20": early,
            "steps_to_reach": reached[0], "seconds_to_reach": reached[1], "seconds": seconds, "curve": curve}


def summarise(results: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds, one row per (shots, variant)."""
    rows = []
    for shots in sorted({r["shots"] for r in results}):
        for variant in VARIANTS:
            runs = [r for r in results if r["shots"] == shots and r["variant"] == variant]
            if not runs:
                continue
            row = {"shots": shots, "variant": variant, "seeds": len(runs)}
            for key in ("accuracy", "accuracy_20", "steps_to_reach", "seconds_to_reach", "seconds"):
                values = np.array([r[key] for r in runs], dtype=float)
                row[key] = (float(values.mean()), float(values.std()))
            rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    """The summary as a Markdown table."""
    lines = ["| per class | variant | test accuracy | after 20 steps | steps to reach | seconds to reach "
             "| training s |", "|---:|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(
            f"| {row['shots']} | {row['variant']} | {row['accuracy'][0]:.3f} ± {row['accuracy'][1]:.3f} | "
            f"{row['accuracy_20'][0]:.3f} ± {row['accuracy_20'][1]:.3f} | "
            f"{row['steps_to_reach'][0]:.0f} ± {row['steps_to_reach'][1]:.0f} | "
            f"{row['seconds_to_reach'][0]:.2f} ± {row['seconds_to_reach'][1]:.2f} | "
            f"{row['seconds'][0]:.2f} ± {row['seconds'][1]:.2f} |"
        )
    return "\n".join(lines)


def _one_blas_thread():
    """One BLAS thread even when NumPy was loaded before this file (threadpoolctl, where installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 1 and 10 shots, 40 steps")
    parser.add_argument("--shots", type=int, nargs="+", default=None,
                        help="images per class (default 1 3 10)")
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (default 5)")
    parser.add_argument("--steps", type=int, default=None, help="Adam steps per run (default 150)")
    parser.add_argument("--lr", type=float, default=3e-3, help="learning rate of the trained layers")
    parser.add_argument("--json", type=Path, default=None, help="also write every run's numbers here")
    args = parser.parse_args(argv)
    shots_list = args.shots or ([1, 10] if args.quick else [1, 3, 10])
    seeds = args.seeds or (1 if args.quick else 5)
    steps = args.steps or (40 if args.quick else 150)
    eval_every = 5
    results = []
    started = time.perf_counter()
    with _one_blas_thread():
        for shots in shots_list:
            for seed in range(seeds):
                for variant in VARIANTS:
                    results.append(run(variant, shots, seed, steps, eval_every, args.lr))
    rows = summarise(results)
    print(f"Digits 5-9 from few images: {seeds} seed(s), {steps} full-batch Adam steps per run, "
          f"lr {args.lr:g} (pretrained body {args.lr / 10:g} when fine-tuned); "
          f"total {time.perf_counter() - started:.0f} s\n")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "runs": results}, indent=1) + "\n")
    return rows


if __name__ == "__main__":
    main()
