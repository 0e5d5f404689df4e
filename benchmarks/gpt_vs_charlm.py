"""Character GPT vs character GRU (``charlm``) on ``pytext`` at equal training time.

Both models are built from their recipes' defaults (``dendrite train gpt`` / ``dendrite
train charlm``) and trained the way their recipes train them:

* ``charlm``: truncated BPTT over 32 parallel rows of the stream (64 characters per step,
  the state carried), Adam at the cell's rate, gradient clipping 1, cosine decay to 5%;
* ``gpt``: random windows of ``block_size + 1`` characters, AdamW (weight decay on the
  matrices), linear warm-up then cosine decay to 10%, gradient clipping 1.

Each gets ``--seconds`` of *training* time, measured step by step: the steps alternate
(whichever model has used less time goes next), so the load of a shared machine hits both
alike. The schedules run on each model's own clock (the fraction of its budget used). Both
run with one BLAS thread, as ``dendrite train`` does. Then each is scored with its recipe's
bits per character on the same held-out tail of ``pytext``, beside the unigram baseline
(evaluation time is not counted).

Usage::

    python benchmarks/gpt_vs_charlm.py                 # 90 s each (about 3.5 minutes in all)
    python benchmarks/gpt_vs_charlm.py --seconds 30 --seed 1
    python benchmarks/gpt_vs_charlm.py --cell lstm --steps 1250 8125   # equal steps (a quiet machine's)
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import dendrite  # noqa: E402
from dendrite import nn  # noqa: E402
from dendrite.data import bptt_batches, load_dataset  # noqa: E402
from dendrite.models.recurrent import detach_state  # noqa: E402
from dendrite.recipes import gpt, language  # noqa: E402
from dendrite.recipes.base import make_optimizer  # noqa: E402
from dendrite.utils.threads import blas_threads  # noqa: E402

LN2 = math.log(2.0)


class Contestant:
    """One model, its optimizer, its batches, and the training time it has used."""

    def __init__(self, name, model, optimizer, batches, step, schedule, budget, by_steps=False):
        self.name, self.model, self.optimizer, self.batches = name, model, optimizer, batches
        self.step_fn, self.schedule, self.budget, self.by_steps = step, schedule, budget, by_steps
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.seconds, self.steps, self.chars, self.last_bits = 0.0, 0, 0, float("nan")

    def used(self) -> float:
        """The budget used so far: seconds of training, or steps with ``by_steps``."""
        return self.steps if self.by_steps else self.seconds

    def done(self) -> bool:
        return self.used() >= self.budget

    def train_one_step(self) -> None:
        factor = self.schedule(min(1.0, self.used() / self.budget))
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * factor
        start = time.perf_counter()
        inputs, targets = next(self.batches)
        loss = self.step_fn(inputs, targets)
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.last_bits = float(loss.item()) / LN2
        self.seconds += time.perf_counter() - start
        self.steps += 1
        self.chars += int(np.prod(targets.shape))


def endless(make):
    while True:
        yield from make()


def charlm_contestant(splits, budget: float, seed: int, cell: str) -> Contestant:
    settings = language.charlm_defaults(splits)
    settings["cell"] = cell
    settings["lr"] = language.CELL_LR[settings["cell"]]
    dendrite.manual_seed(seed)
    model = language.build_charlm(splits, settings)
    optimizer = make_optimizer(settings["optimizer"], model.parameters(), settings["lr"])
    holder = {"state": None}

    def rows():
        holder["state"] = None  # each pass starts the rows from their beginning again
        return iter(bptt_batches(splits.x_train, settings["batch_size"], settings["seq_len"]))

    def step(inputs, targets):
        logits, state = model(inputs, holder["state"])
        holder["state"] = detach_state(state)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    def cosine(fraction):  # run_charlm's CosineAnnealingLR to 5%
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * fraction))

    return Contestant(f"charlm ({cell.upper()})", model, optimizer, endless(rows), step, cosine, budget)


def gpt_contestant(splits, budget: float, seed: int) -> Contestant:
    settings = gpt.gpt_defaults(splits)
    dendrite.manual_seed(seed)
    model = gpt.build_gpt(splits, settings)
    optimizer = gpt.gpt_optimizer(model, settings)
    windows = gpt.RandomWindows(splits.x_train, settings["batch_size"], settings["block_size"], steps=10**9,
                                seed=seed)

    def step(inputs, targets):
        logits = model(inputs)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    resolution = 1000  # warmup_cosine counts steps; here a "step" is a thousandth of the budget
    factor = gpt.warmup_cosine(resolution, max(1, round(settings["warmup"] * resolution)))
    return Contestant("gpt", model, optimizer, iter(windows), step,
                      lambda fraction: factor(int(fraction * resolution)), budget)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0, help="training seconds per model (default 90)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cell", choices=sorted(language.CELL_LR), default="gru",
                        help="the recurrent cell of the charlm contestant (default gru, charlm's default; "
                             "lstm is the char-LSTM of the issue)")
    parser.add_argument("--steps", type=int, nargs=2, metavar=("CHARLM", "GPT"),
                        help="equal steps instead of equal seconds: train each for this many steps (the "
                             "schedules on the step clocks); a timed run's step counts give what a machine "
                             "of that speed would, whatever the load now")
    args = parser.parse_args(argv)

    splits = load_dataset("pytext")
    baseline = language.unigram_bits_per_char(splits.x_train, splits.x_test, splits.num_classes)
    with blas_threads(1):
        contestants = [charlm_contestant(splits, args.seconds, args.seed, args.cell),
                       gpt_contestant(splits, args.seconds, args.seed)]
        if args.steps:
            for contestant, steps in zip(contestants, args.steps):
                contestant.budget, contestant.by_steps = steps, True
        while not all(c.done() for c in contestants):
            min((c for c in contestants if not c.done()), key=lambda c: c.seconds).train_one_step()
        scores = {contestants[0].name: language.bits_per_char(contestants[0].model, splits.x_test),
                  "gpt": gpt.gpt_bits_per_char(contestants[1].model, splits.x_test)}

    budget = (f"{args.steps[0]:,} and {args.steps[1]:,} steps of training" if args.steps
              else f"{args.seconds:g} s of training each")
    print(f"pytext: {len(splits.x_train):,} training characters, held-out tail {len(splits.x_test):,}; "
          f"{budget}, seed {args.seed}, 1 BLAS thread")
    print(f"{'model':<14}{'parameters':>11}{'steps':>7}{'chars seen':>12}{'train s':>9}"
          f"{'last batch':>11}{'val bits/char':>15}")
    for c in contestants:
        count = sum(int(np.prod(p.shape)) for p in c.model.parameters())
        print(f"{c.name:<14}{count:>11,}{c.steps:>7}{c.chars:>12,}{c.seconds:>9.1f}{c.last_bits:>11.3f}"
              f"{scores[c.name]:>15.3f}")
    print(f"{'unigram':<14}{'':>11}{'':>7}{'':>12}{'':>9}{'':>11}{baseline:>15.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
