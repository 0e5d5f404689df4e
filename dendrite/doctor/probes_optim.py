"""Probes that train a copy for a few steps: learning rate, weight decay, capacity, label alignment.

Every run starts from a fresh copy of the model (dropout off, so a fixed batch
gives a clean trend) and trains on a fixed, seeded batch: on one batch a sound
setup always lowers the loss, so a rise, a stall or a NaN is a measurement, not
noise. Thresholds and their reasons: ``docs/doctor.md``.
"""

from __future__ import annotations

import math

import numpy as np

from dendrite import optim
from dendrite.autograd.grad_mode import no_grad
from dendrite.creation import tensor
from dendrite.doctor.context import Context, host
from dendrite.doctor.report import Finding

__all__ = ["learning_rate", "weight_decay", "overfit_batch", "label_alignment", "RUN_BATCH", "SHORT_STEPS",
           "GRID", "GRID_STEPS", "WD_STEPS", "OVERFIT_STEPS", "ALIGN_STEPS"]

RUN_BATCH = 32
SHORT_STEPS = 20  # the user's optimizer on one batch
GRID = [10.0 ** k for k in range(-7, 2)]  # 1e-7 ... 10, a decade apart (started near the user's lr)
GRID_STEPS = 8
RISE = 1.5  # a peak loss above 1.5x the start, on one fixed batch, is divergence
TOO_LOW = 100.0  # user's lr at least two orders of magnitude below the best of the range test ...
TOO_LITTLE = 0.1  # ... and its run lowers the loss by less than a tenth of what the best lr achieves ...
CREEP = 3e-4  # ... and the weights move by less than 3e-4 of their norm per step (rule of thumb: ~1e-3)
WD_STEPS = 40
WD_KEPT = 0.5  # with the user's weight decay the run keeps less than half of its loss improvement
OVERFIT_BATCH, OVERFIT_STEPS, OVERFIT_LR = 16, 200, 3e-3
OVERFIT_ACCURACY = 0.9  # at most 1 of 16 examples may stay wrong (e.g. a frozen feature extractor)
ALIGN_EXAMPLES, ALIGN_STEPS, ALIGN_SHUFFLES = 128, 150, 2
ALIGN_TARGET = 0.5  # the true-label run trains until its loss halves
ALIGN_MARGIN = 0.1  # flagged when the true labels do not lower the held-out loss at all (ratio >= 1) and do
# no better than shuffled labels, within 10 % of the starting held-out loss
# findings that already explain slow fitting: with them the shuffled-label control says nothing
BLOCKERS = {"softmax-before-loss", "missing-log-softmax", "target-shape-mismatch", "dead-relu",
            "saturated-activations", "vanishing-gradients", "exploding-gradients", "no-gradient",
            "initial-loss-off", "nan-loss"}


def _finite(values: list[float]) -> bool:
    return all(math.isfinite(v) for v in values)


def _update_ratio(model, optimizer, ctx: Context, x, y) -> tuple[float, list[float]]:
    """Median over weight tensors of ``|update| / |weight|`` for one step; the losses before and after."""
    before = [host(p).copy() for p in model.parameters()]
    losses = ctx.run(model, optimizer, x, y, 1)
    ratios = []
    for old, p in zip(before, model.parameters()):
        if p.ndim >= 2 and p.requires_grad:
            norm = float(np.linalg.norm(old))
            if norm > 0:
                ratios.append(float(np.linalg.norm(host(p) - old)) / norm)
    return (float(np.median(ratios)) if ratios else float("nan")), losses


def _movement(before: list, model, steps: int) -> float:
    """Median over weight tensors of ``|w_end - w_start| / |w_start|``, per step."""
    ratios = []
    for old, p in zip(before, model.parameters()):
        norm = float(np.linalg.norm(old))
        if p.ndim >= 2 and p.requires_grad and norm > 0:
            ratios.append(float(np.linalg.norm(host(p) - old)) / norm / max(steps, 1))
    return float(np.median(ratios)) if ratios else 0.0


def _range_test(ctx: Context, x, y, start: float) -> dict[float, float]:
    """Loss after GRID_STEPS steps for each learning rate of GRID (stops after two divergences)."""
    results, diverged = {}, 0
    # From a decade and a half below the user's rate upwards (a too-high rate needs lower ones to
    # suggest, a too-low one needs higher ones); above that the loop stops at the second divergence.
    lowest = min((ctx.recipe.lr or 0) / 20, 1e-2)
    for lr in [value for value in GRID if value >= lowest]:
        if ctx.time_left() <= 0:
            break
        model = ctx.fresh()
        losses = ctx.run(model, ctx.recipe.build(model, lr=lr), x, y, GRID_STEPS)
        final = losses[-1] if _finite(losses) and len(losses) == GRID_STEPS + 1 else float("inf")
        if not math.isfinite(final) or max(losses) > RISE * start:
            final = float("inf")
            diverged += 1
        results[lr] = final
        if diverged >= 2:
            break
    return results


def learning_rate(ctx: Context) -> list[Finding]:
    """``lr-too-high``, ``nan-loss`` (during training) and ``lr-too-low``: the user's optimizer on one batch,
    compared with a short learning-rate range test of the same optimizer class."""
    lr = ctx.recipe.lr
    x, y = ctx.batch(RUN_BATCH)
    model = ctx.fresh()
    before = [host(p).copy() for p in model.parameters()]
    optimizer = ctx.recipe.build(model)
    ratio, losses = _update_ratio(model, optimizer, ctx, x, y)
    if _finite(losses):
        losses = losses[:-1] + ctx.run(model, optimizer, x, y, SHORT_STEPS - 1)
    start = losses[0]
    moved = _movement(before, model, len(losses) - 1)
    if not math.isfinite(start):
        return []  # the initial-loss probe reports a loss that is already non-finite at step 0
    grid = _range_test(ctx, x, y, start) if lr else {}
    finite_grid = {k: v for k, v in grid.items() if math.isfinite(v)}
    best = min(finite_grid, key=finite_grid.get) if finite_grid else None
    suggested = best / math.sqrt(10) if best else None
    ctx.notes["suggested_lr"] = suggested
    evidence = {"optimizer": ctx.recipe.name, "lr": lr, "losses": [round(v, 5) for v in losses],
                "update_to_weight_ratio": ratio,
                "weight_change_per_step": moved, "range_test_best_lr": best, "suggested_lr": suggested,
                "range_test_loss": {f"{k:.0e}": v for k, v in grid.items()}}
    findings = []
    bad = next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)
    peak = max((v for v in losses[1:] if math.isfinite(v)), default=start)
    suggestion = f" (the range test suggests lr={suggested:.1e})" if suggested else ""
    if bad is not None or peak > RISE * start or losses[-1] > start * 1.05:
        what = (f"turns {losses[bad]} at step {bad}" if bad is not None else
                f"rises from {start:.3g} to {peak:.3g} within {len(losses) - 1} steps on one batch")
        findings.append(Finding(
            "lr-too-high", "error", f"With {ctx.recipe.name}(lr={lr}) the loss {what}", evidence,
            f"Lower the learning rate{suggestion}, e.g. `{ctx.recipe.name}(model.parameters(), "
            f"lr={suggested or (lr or 1e-3) / 10:.1e})`; add `nn.utils.clip_grad_norm_` if spikes remain.",
            "learning-rate"))
    if bad is not None:
        findings.append(Finding(
            "nan-loss", "error", f"The loss becomes {losses[bad]} at step {bad} of a short run",
            {"step": bad, "loss_before": losses[bad - 1] if bad else None, "lr": lr},
            "Lower the learning rate and find the first bad value with `dendrite.autograd.detect_anomaly()`.",
            "learning-rate"))
    if findings or not best or not lr or (BLOCKERS | {"cannot-overfit-batch"}) & set(ctx.found):
        return findings  # a dead layer or a broken loss also keeps the loss still: no verdict on the lr
    reach = min(len(losses) - 1, GRID_STEPS)
    gain_user, gain_best = start - losses[reach], start - finite_grid[best]
    evidence["loss_drop_user"], evidence["loss_drop_best"] = gain_user, gain_best
    if lr <= best / TOO_LOW and gain_best > 0 and gain_user < TOO_LITTLE * gain_best and moved < CREEP:
        findings.append(Finding(
            "lr-too-low", "error",
            f"lr={lr:g} is {best / lr:.0f}x below the range test's best ({best:.0e}); the loss barely moves "
            f"({gain_user:.3g} vs {gain_best:.3g} in {reach} steps)", evidence,
            f"Raise the learning rate to about {suggested:.1e}: `{ctx.recipe.name}(model.parameters(), "
            f"lr={suggested:.1e})`, or find it with a range test (`LRFinder`-style sweep).", "learning-rate"))
    return findings


def weight_decay(ctx: Context) -> list[Finding]:
    """``weight-decay-too-high``: the same short run with the user's weight decay and with none (the "
      "control)."""
    decay = ctx.recipe.weight_decay
    if decay <= 0:
        return []
    x, y = ctx.batch(RUN_BATCH)
    runs = {}
    for value in (decay, 0.0):
        model = ctx.fresh()
        runs[value] = ctx.run(model, ctx.recipe.build(model, weight_decay=value), x, y, WD_STEPS)
        runs[f"norm{value}"] = math.sqrt(sum(float(np.sum(host(p) ** 2)) for p in model.parameters()))
    with_decay, without = runs[decay], runs[0.0]
    if not (_finite(with_decay) and _finite(without)) or len(with_decay) != len(without):
        return []
    gain, control = with_decay[0] - with_decay[-1], without[0] - without[-1]
    if control <= 0 or gain >= WD_KEPT * control:
        return []
    return [Finding("weight-decay-too-high", "error",
                    f"weight_decay={decay:g} cancels {1 - gain / control:.0%} of the progress of a "
                    f"{WD_STEPS}-step run (loss drop {gain:.3g} vs {control:.3g} without it)",
                    {"weight_decay": decay, "loss_drop_with": gain, "loss_drop_without": control,
                     "weight_norm_with": runs[f"norm{decay}"], "weight_norm_without": runs["norm0.0"]},
                    "Use a weight decay around 1e-4 to 1e-2 (`optim.AdamW(model.parameters(), lr=..., "
                    "weight_decay=1e-2)`; with SGD/Adam 1e-4 to 5e-4).", "weight-decay")]


def _fits(ctx: Context):
    def done(model, output, loss) -> bool:
        accuracy = ctx.accuracy(output, ctx.notes["overfit_y"])
        return accuracy == 1.0 if accuracy is not None else False
    return done


def overfit_batch(ctx: Context) -> list[Finding]:
    """``cannot-overfit-batch``: Adam on 16 examples for up to 200 steps must memorise them."""
    x, y = ctx.batch(OVERFIT_BATCH)
    model = ctx.fresh()
    ctx.notes["overfit_y"] = y
    with no_grad():
        start = float(ctx.loss(model(x), y).item())
    if not math.isfinite(start):
        return []
    losses = ctx.run(model, optim.Adam(model.parameters(), lr=OVERFIT_LR), x, y, OVERFIT_STEPS,
                     stop_below=_fits(ctx))
    if ctx.time_left() <= 0 and len(losses) < OVERFIT_STEPS:
        ctx.notes["overfit"] = "out of time"
        return []
    with no_grad():
        out = model(x)
        final = float(ctx.loss(out, y).item())
    accuracy = ctx.accuracy(out, y)
    baseline = ctx.baseline_loss(y)
    if accuracy is not None:
        fitted = accuracy >= OVERFIT_ACCURACY or final < 0.05 * start
    elif baseline:
        fitted = final < 0.1 * baseline
    else:
        fitted = final < 0.1 * start
    if fitted or not math.isfinite(final):
        ctx.notes["overfit_ok"] = bool(fitted)
        return []
    return [Finding("cannot-overfit-batch", "error",
                    f"Adam(lr={OVERFIT_LR}) cannot fit {len(x)} examples in {len(losses) - 1} steps "
                    f"(loss {start:.3g} -> {final:.3g})",
                    {"examples": len(x), "steps": len(losses) - 1, "initial_loss": start, "final_loss": final,
                     "train_accuracy": accuracy, "mean_prediction_loss": baseline},
                    "A sound model memorises a handful of examples: look for a wiring bug (an output that "
                    "ignores the input, a missing activation, a bottleneck of width 1, detached tensors) or "
                    "too little capacity; test with `examine` again after each change.", "overfit")]


def label_alignment(ctx: Context) -> list[Finding]:
    """``labels-unlearnable``: training on the true labels helps on held-out examples no more than training
    on shuffled labels (the control) does: the inputs say nothing about their targets.

    The true-label run trains on ALIGN_EXAMPLES examples until its loss halves (at most ALIGN_STEPS steps),
    so slow learners get the time they need; the shuffled-label runs get as many steps. Each model is then
    scored on ALIGN_EXAMPLES other examples with their true targets, relative to the score at the start.
    """
    count = min(ALIGN_EXAMPLES, len(ctx.train) // 2)
    blocking = BLOCKERS & set(ctx.found)
    if count < 32 or not ctx.notes.get("overfit_ok") or blocking:
        ctx.notes["alignment"] = "not informative: " + (", ".join(sorted(blocking)) if blocking else
                                                        "too few examples" if count < 32 else
                                                        "the model did not fit one small batch")
        return []
    x, y = ctx.batch(count)
    held_x, held_y = ctx.batch(count, offset=count)
    baseline = ctx.baseline_loss(y)
    rng = np.random.default_rng(ctx.seed + 1)
    targets = host(y)
    model = ctx.fresh()
    with no_grad():
        start = float(ctx.loss(model(x), y).item())
    held_start = ctx.evaluate(model, held_x, held_y)
    if not (start > 0 and held_start > 0 and math.isfinite(start) and math.isfinite(held_start)):
        return []
    goal = min(start, baseline) if baseline else start  # regression: halve the loss of predicting the mean
    true = ctx.run(model, optim.Adam(model.parameters(), lr=OVERFIT_LR), x, y, ALIGN_STEPS,
                   stop_below=lambda m, out, loss: loss <= ALIGN_TARGET * goal)
    steps = len(true) - 1
    if true[-1] > ALIGN_TARGET * goal or steps < 2 or not _finite(true):
        ctx.notes["alignment"] = "not informative: the true labels were not fitted in time"
        return []
    held = {"true": ctx.evaluate(model, held_x, held_y) / held_start}
    for index in range(ALIGN_SHUFFLES):
        model = ctx.fresh()
        shuffled = tensor(targets[rng.permutation(count)])
        losses = ctx.run(model, optim.Adam(model.parameters(), lr=OVERFIT_LR), x, shuffled, steps)
        if not _finite(losses) or len(losses) != steps + 1:
            return []
        held[f"shuffled{index}"] = ctx.evaluate(model, held_x, held_y) / held_start
    if not all(math.isfinite(v) for v in held.values()):
        return []
    shuffled = [v for k, v in held.items() if k != "true"]
    control, spread = float(np.mean(shuffled)), max(shuffled) - min(shuffled)
    evidence = {"heldout_loss_ratio_true": held["true"], "heldout_loss_ratio_shuffled": control,
                "shuffled_spread": spread, "examples": count, "steps": steps}
    ctx.notes["alignment"] = evidence
    if held["true"] < 1.0 or held["true"] < control - ALIGN_MARGIN:
        return []
    return [Finding("labels-unlearnable", "error",
                    "Learning the true labels helps on held-out examples no more than learning shuffled "
                    "labels: inputs and targets do not go together", evidence,
                    "Check that inputs and targets are shuffled/sorted together (one permutation for "
                    "both, or "
                    "`DataLoader(TensorDataset(x, y), shuffle=True)`), that the targets are the right "
                    "column, "
                    "and that no transform changes the order of one of them.", "labels")]
