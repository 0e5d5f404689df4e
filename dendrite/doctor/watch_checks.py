"""What :func:`dendrite.doctor.watch` saw, and the checks that turn it into findings.

:class:`LoopRecord` holds the numbers recorded around each ``optimizer.step()``
of a training loop; each ``check_*`` function reads it and returns a
:class:`Finding` or ``None``. The thresholds are the module constants below,
documented where they are used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dendrite.autograd import AnomalyOrigin
from dendrite.doctor.nan_origin import finding_from_origin
from dendrite.doctor.report import Finding

PROBE = "watch"
# lr-too-high: the loss's rolling median (over ROLLING steps) reaches this many times the first loss.
DIVERGENCE_FACTOR = 10.0
DIVERGENCE_MIN_LOSSES = 8
ROLLING = 5
# lr-too-high: the median over steps of |Δθ| / |θ| (all parameters together). A healthy step moves the
# weights by about 1e-3 of their norm; 1e-2 is already fast; above this the weights are being thrown around.
UPDATE_RATIO_HIGH = 0.3
# lr-too-high: one step that moves the weights by this many times their norm is an error on its own.
UPDATE_RATIO_EXTREME = 10.0
# loss-plateau: at least this many losses, first and last fifth within 1 % of each other, and the loss
# not already near zero (absolute value above PLATEAU_NEAR_ZERO).
PLATEAU_MIN_LOSSES = 50
PLATEAU_RELATIVE_CHANGE = 0.01
PLATEAU_NEAR_ZERO = 1e-3


@dataclass
class LoopRecord:
    """The numbers recorded while watching a loop (one entry per ``optimizer.step()`` unless said).

    Example:
        >>> record = LoopRecord()
        >>> record.steps, record.losses
        (0, [])
    """

    steps: int = 0
    backward_calls: int = 0
    zero_grad_calls: int = 0
    losses: list = field(default_factory=list)  # (step, value) given to log_loss
    inferred_losses: list = field(default_factory=list)  # (step, value) read at the root of each backward
    grad_norms: list = field(default_factory=list)  # total gradient norm just before each step
    update_ratios: list = field(default_factory=list)  # |Δθ| / |θ| of each step (finite steps only)
    lrs: list = field(default_factory=list)  # the first group's lr at each step
    stale_steps: list = field(default_factory=list)  # steps whose gradient still held the previous step's
    zeroed_between: int = 0  # steps where zero_grad ran after the last backward (the step saw no gradient)
    eval_steps: int = 0  # steps whose last forward ran with model.training False
    forward_seen: int = 0
    missing_grad: dict = field(default_factory=dict)  # param name -> steps without a gradient
    zero_grad_only: dict = field(default_factory=dict)  # param name -> steps with an all-zero gradient
    not_in_optimizer: list = field(default_factory=list)  # trainable model params the optimizer lacks
    mode_layers: list = field(default_factory=list)  # Dropout / BatchNorm layers' class names
    first_nan: dict | None = None  # the first non-finite loss / gradient / weight, with its cause
    nan_origin: AnomalyOrigin | None = None

    def loss_series(self) -> tuple[str, list]:
        """``("log_loss" | "backward", finite losses)``: the given losses, else the inferred ones."""
        if self.losses:
            return "log_loss", [value for _, value in self.losses if math.isfinite(value)]
        return "backward", [value for _, value in self.inferred_losses if math.isfinite(value)]


def check_nan(record: LoopRecord) -> Finding | None:
    """``nan-loss``: the first non-finite loss, gradient or weight, with what made it."""
    if record.nan_origin is not None:
        return finding_from_origin(record.nan_origin, (record.first_nan or {}).get("step"), PROBE)
    if record.first_nan is None:
        return None
    event = dict(record.first_nan)
    fix, title, code = event.pop("fix"), event.pop("title"), event.pop("code", "nan-loss")
    return Finding(code, "error", title, event, fix, PROBE)


def check_missing_zero_grad(record: LoopRecord) -> Finding | None:
    """``missing-zero-grad``: a backward added onto the gradient the previous step already used.

    Measured at the first backward after each step: a parameter's ``.grad`` is
    still the same non-zero tensor the step consumed, and it is still not
    cleared (by ``zero_grad()``, ``p.grad = None`` or zeroing it in place) when
    the next step comes. Judged on the gradients themselves, so a
    ``zero_grad`` that does nothing is caught too. Gradient accumulation
    (zero_grad, several backwards, step, zero_grad) never does this.
    """
    stale = len(record.stale_steps)
    if stale < min(2, max(1, record.steps - 1)):
        return None
    norms = record.grad_norms
    evidence: dict[str, Any] = {"steps": record.steps, "steps_with_stale_gradient": stale,
                                "zero_grad_calls": record.zero_grad_calls,
                                "backward_calls": record.backward_calls}
    if len(norms) >= 2:
        evidence.update(grad_norm_first=norms[0], grad_norm_last=norms[-1])
    return Finding("missing-zero-grad", "error",
                   f"Gradients accumulate across optimizer steps: {stale} of {record.steps} steps added "
                   "their backward onto the previous step's gradient", evidence,
                   "Call optimizer.zero_grad() (or model.zero_grad()) once per step, before loss.backward(); "
                   "for gradient accumulation call it right after each optimizer.step().", PROBE)


def check_no_gradient(record: LoopRecord) -> Finding | None:
    """``no-gradient``: optimized parameters whose ``.grad`` was ``None`` (or all zero) at every step."""
    steps = record.steps
    if steps == 0:
        return None
    never = sorted(name for name, count in record.missing_grad.items() if count >= steps)
    zeros = sorted(name for name, count in record.zero_grad_only.items()
                   if count + record.missing_grad.get(name, 0) >= steps and name not in never)
    if record.zeroed_between >= steps:
        return Finding("no-gradient", "error", "zero_grad() runs between backward() and step(): every step "
                       "sees no gradient", {"steps": steps, "zeroed_between_backward_and_step":
                                            record.zeroed_between},
                       "Call optimizer.zero_grad() before loss.backward() (or right after optimizer.step()), "
                       "never between backward() and step().", PROBE)
    if not never and not zeros:
        return None
    names = never + zeros
    severity = "error" if never else "warning"
    return Finding("no-gradient", severity,
                   f"{len(names)} optimized parameter(s) got no gradient in {steps} step(s)",
                   {"never_a_gradient": never, "always_zero_gradient": zeros, "steps": steps},
                   "Check that these parameters take part in the loss: no .detach(), no .item()/.numpy() "
                   "round trip, no `dendrite.no_grad()` around the forward, every layer called in "
                   "forward(); to freeze them on purpose use requires_grad_(False).", PROBE)


def check_params_not_in_optimizer(record: LoopRecord) -> Finding | None:
    """``params-not-in-optimizer``: trainable model parameters that no param_group holds."""
    if not record.not_in_optimizer:
        return None
    names = record.not_in_optimizer
    return Finding("params-not-in-optimizer", "error",
                   f"{len(names)} trainable parameter(s) of the model are not in the optimizer",
                   {"parameters": names[:20], "count": len(names)},
                   "Build the optimizer from model.parameters() after the model is complete (layers "
                   "added later need optimizer.add_param_group), or freeze them with requires_grad_(False).",
                   PROBE)


def check_eval_mode(record: LoopRecord) -> Finding | None:
    """``eval-mode``: most steps ran their forward with ``model.training`` False, and mode matters."""
    if not record.mode_layers or record.steps == 0 or record.eval_steps * 2 < record.steps:
        return None
    batchnorm = any("BatchNorm" in name for name in record.mode_layers)
    return Finding("eval-mode", "error" if batchnorm else "warning",
                   f"The model was in eval mode during {record.eval_steps} of {record.steps} training steps",
                   {"eval_steps": record.eval_steps, "steps": record.steps,
                    "layers": sorted(set(record.mode_layers))},
                   "Call model.train() before the training loop (and again after each evaluation, which "
                   "calls model.eval()): Dropout is off and BatchNorm uses frozen running statistics in "
                   "eval mode.", PROBE)


def _median(values) -> float:
    return float(np.median(np.asarray(values, dtype=np.float64)))


def _divergence(losses: list) -> dict[str, Any] | None:
    """First loss, the peak of the 5-step rolling median, and where it was; ``None`` if too few losses."""
    if len(losses) < DIVERGENCE_MIN_LOSSES:
        return None
    values = np.asarray(losses, dtype=np.float64)
    rolling = np.median(np.lib.stride_tricks.sliding_window_view(values, ROLLING), axis=1)
    peak = int(np.argmax(rolling))
    return {"loss_first": float(values[0]), "loss_peak": float(rolling[peak]), "loss_peak_at": peak + ROLLING,
            "loss_last": float(values[-1])}


def _step_overshot(record: LoopRecord) -> bool:
    """The first NaN came from an optimizer step whose gradient was finite: the step itself overshot."""
    origin = record.nan_origin
    return origin is not None and origin.kind == "optimizer-step" and bool(
        origin.inputs and origin.inputs[0].get("grad_finite"))


def check_lr_too_high(record: LoopRecord) -> Finding | None:
    """``lr-too-high``: the loss rises 10x above its first value, each step moves the weights too far, or
    one step with a finite gradient threw the weights to NaN/Inf.

    Loss: the 5-step rolling median reaches ``DIVERGENCE_FACTOR`` times the first
    loss (and above 1e-3). Updates: one step's ``|Δθ| / |θ|`` exceeds
    ``UPDATE_RATIO_EXTREME`` (an error), or its median over the steps that moved
    the weights exceeds ``UPDATE_RATIO_HIGH`` (a warning on its own).
    """
    source, losses = record.loss_series()
    evidence: dict[str, Any] = {}
    rise = _divergence(losses)
    diverged = False
    if rise is not None:
        first, peak = rise["loss_first"], rise["loss_peak"]
        diverged = first > 0 and peak >= DIVERGENCE_FACTOR * first and peak > 1e-3
        if diverged:
            evidence.update(rise, loss_source=source)
    moving = [ratio for ratio in record.update_ratios if ratio > 0]  # steps that changed the weights
    ratio = _median(moving) if moving else 0.0
    largest = max(moving, default=0.0)
    if moving:
        evidence.update(update_ratio_median=ratio, update_ratio_max=largest)
    big_steps, extreme = ratio > UPDATE_RATIO_HIGH, largest > UPDATE_RATIO_EXTREME
    overshot = _step_overshot(record)
    if not (diverged or big_steps or extreme or overshot):
        return None
    if record.lrs:
        evidence["lr"] = record.lrs[-1]
    if diverged:
        title = f"The loss diverges: from {rise['loss_first']:.3g} up to {rise['loss_peak']:.3g}"
    elif overshot:
        title = "One optimizer step threw finite weights to NaN/Inf"
    elif extreme:
        title = f"A single step moved the weights by {largest:.3g} times their norm"
    else:
        title = f"Each step moves the weights by {ratio:.2g} of their norm (healthy: ~1e-3)"
    severity = "error" if diverged or overshot or extreme or record.first_nan is not None else "warning"
    return Finding("lr-too-high", severity, title, evidence,
                   "Lower the learning rate 10x (e.g. Adam(lr=1e-3), SGD(lr=0.01)), add a warm-up, or clip "
                   "gradients: dendrite.nn.utils.clip_grad_norm_(model.parameters(), 1.0) / "
                   "Trainer(grad_clip_norm=1.0).", PROBE)


def check_loss_plateau(record: LoopRecord) -> Finding | None:
    """``loss-plateau`` (warning): the loss is flat over many steps and not near zero."""
    source, losses = record.loss_series()
    if len(losses) < PLATEAU_MIN_LOSSES:
        return None
    window = len(losses) // 5
    start = float(np.mean(np.asarray(losses[:window], dtype=np.float64)))
    end = float(np.mean(np.asarray(losses[-window:], dtype=np.float64)))
    change = (start - end) / max(abs(start), 1e-12)
    if abs(change) >= PLATEAU_RELATIVE_CHANGE or abs(end) <= PLATEAU_NEAR_ZERO:
        return None
    return Finding("loss-plateau", "warning",
                   f"The loss is flat: {change:.2%} change over {len(losses)} steps, at {end:.4g}",
                   {"loss_start": start, "loss_end": end, "relative_change": change, "losses": len(losses),
                    "loss_source": source},
                   "Raise the learning rate (try 3-10x), check for dead units or saturated activations "
                   "(dendrite.doctor.examine), and check that the labels match the inputs.", PROBE)


CHECKS = {
    "nan-loss": check_nan,
    "missing-zero-grad": check_missing_zero_grad,
    "no-gradient": check_no_gradient,
    "params-not-in-optimizer": check_params_not_in_optimizer,
    "eval-mode": check_eval_mode,
    "lr-too-high": check_lr_too_high,
    "loss-plateau": check_loss_plateau,
}


def skipped_checks(record: LoopRecord) -> dict[str, str]:
    """The checks that could not judge, and why (too few steps or losses)."""
    skipped = {}
    source, losses = record.loss_series()
    if not losses:
        skipped["loss checks"] = ("no loss seen: pass it with w.log_loss(loss) (it is read from "
                                  "loss.backward() when the loss is a scalar)")
    elif len(losses) < PLATEAU_MIN_LOSSES:
        skipped["loss-plateau"] = f"needs {PLATEAU_MIN_LOSSES} losses, saw {len(losses)}"
    if record.steps == 0:
        skipped["step checks"] = "optimizer.step() was never called inside the watch"
    return skipped
