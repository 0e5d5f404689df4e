"""``examine(model, data)``: run the doctor's probes on a copy of the user's setup, within a time budget.

The user's objects are never changed: the model (parameters, buffers, grads,
train/eval flag), the optimizer, the data and loader, and the global random
state of dendrite and NumPy are exactly as they were when ``examine`` returns.
Probes run cheapest first; before each one the remaining budget is compared
with an estimate from the measured time of one forward pass and one training
step, and a probe that does not fit is listed in ``Report.skipped`` with why.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import dendrite.nn.functional as F
from dendrite import backend, nn
from dendrite.autograd.grad_mode import no_grad
from dendrite.doctor import probes_data, probes_model, probes_optim
from dendrite.doctor.context import Context, OptimizerRecipe
from dendrite.doctor.inputs import DataSample, read_data
from dendrite.doctor.report import Finding, Report

__all__ = ["examine", "PROBES", "Probe"]

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Probe:
    """One experiment: its name, what it runs, an estimate of its cost, whether it needs a working model.

    ``run(ctx)`` returns the probe's findings; ``cost(ctx)`` estimates its seconds (from the context's
    measured forward/step times) so :func:`examine` can skip what the budget cannot afford.

    Example:
        >>> probe = next(p for p in PROBES if p.name == "labels")
        >>> probe.needs_model, probe.run.__name__
        (False, 'labels')
    """

    name: str
    run: Callable[[Context], list[Finding]]
    cost: Callable[[Context], float]
    needs_model: bool = True


def _forward(ctx: Context, times: float = 1.0) -> float:
    return times * ctx.forward_s


def _steps(count: float) -> Callable[[Context], float]:
    return lambda ctx: count * ctx.step_s


PR = probes_optim
PROBES: list[Probe] = [
    Probe("data", probes_data.nan_in_data, lambda ctx: 0.0, needs_model=False),
    Probe("labels", probes_data.labels, lambda ctx: 0.0, needs_model=False),
    Probe("inputs", probes_data.inputs_scale, lambda ctx: 0.0, needs_model=False),
    Probe("overlap", probes_data.train_val_overlap, lambda ctx: 0.0, needs_model=False),
    Probe("mode", probes_data.eval_mode, lambda ctx: 0.0, needs_model=False),
    Probe("batchnorm", probes_data.batchnorm_batch, lambda ctx: 0.0, needs_model=False),
    Probe("optimizer", probes_data.optimizer_coverage, lambda ctx: 0.0, needs_model=False),
    Probe("loss", probes_model.loss_wiring, _forward),
    Probe("initial-loss", probes_model.initial_loss, _forward),
    Probe("activations", probes_model.activations, _forward),
    Probe("gradients", probes_model.gradients, _steps(2)),
    Probe("generalisation", probes_model.generalisation, lambda ctx: _forward(ctx, 4) if ctx.val else 0.0),
    Probe("overfit", PR.overfit_batch, _steps(PR.OVERFIT_STEPS * 0.6)),
    Probe("learning-rate", PR.learning_rate, _steps(PR.SHORT_STEPS + len(PR.GRID) * PR.GRID_STEPS)),
    Probe("weight-decay", PR.weight_decay, lambda ctx: 2 * PR.WD_STEPS * ctx.step_s if ctx.recipe.weight_decay
          else 0.0),
    # 64 examples a step (2x a step's time) for at most 3 x ALIGN_STEPS steps; usually half of that
    Probe("labels-alignment", PR.label_alignment, _steps((PR.ALIGN_SHUFFLES + 1) * PR.ALIGN_STEPS)),
]


def _infer_task(task: str | None, targets: np.ndarray, loss_fn) -> str:
    if task is not None:
        if task not in TASKS:
            raise ValueError(f"examine: task must be one of {TASKS} or None (inferred), got {task!r}")
        return task
    from dendrite.doctor.context import loss_kind

    if loss_kind(loss_fn) in ("cross_entropy", "nll", "bce_logits", "bce"):
        return "classification"
    return "classification" if np.issubdtype(targets.dtype, np.integer) else "regression"


def _check_arguments(model, loss_fn, budget_s, seed) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"examine: model must be a dendrite.nn.Module, got {type(model).__name__}")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"examine: loss_fn must be callable (output, target) -> loss, e.g. F.cross_entropy; "
                        f"got {type(loss_fn).__name__}")
    if isinstance(budget_s, bool) or not isinstance(budget_s, (int, float)) or not budget_s > 0:
        raise ValueError(f"examine: budget_s must be a positive number of seconds, got {budget_s!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"examine: seed must be an int, got {type(seed).__name__}")


def _check_shapes(train: DataSample, val: DataSample | None) -> None:
    if val is None:
        return
    for what, a, b in (("inputs", train.inputs, val.inputs), ("targets", train.targets, val.targets)):
        if a.shape[1:] != b.shape[1:]:
            raise ValueError(f"examine: val_data {what} have shape (N, *{b.shape[1:]}) but data {what} have "
                             f"(N, *{a.shape[1:]}); expected the same shape per example")


def _setup(ctx: Context) -> list[Finding]:
    """One forward pass (output shape, timing) and one loss + backward (timing); failures become findings."""
    x, y = ctx.batch(probes_model.STATS_BATCH)
    model = ctx.fresh()
    began = time.perf_counter()
    try:
        with no_grad():
            out = model(x)
    except Exception as error:  # noqa: BLE001 - any failure of the user's forward is the finding
        ctx.notes["broken"] = "the model's forward pass failed"
        return [Finding("forward-error", "error", f"model(inputs) fails on a batch of shape "
                                                  f"{tuple(x.shape)}: "
                        f"{type(error).__name__}: {error}",
                        {"input_shape": list(x.shape), "input_dtype": str(x.dtype),
                         "error": str(error)[:300]},
                        "Make the model accept the data's shape (N, *input_shape): check `in_features`, "
                        "`nn.Flatten()` before `nn.Linear`, and the channel dimension of images.", "setup")]
    ctx.forward_s = time.perf_counter() - began
    shape = tuple(out.shape)
    if len(shape) >= 2:
        ctx.num_outputs = int(shape[1]) if ctx.kind in ("cross_entropy", "nll") else int(shape[-1])
    small_x, small_y = ctx.batch(probes_optim.RUN_BATCH)
    try:
        began = time.perf_counter()
        loss = ctx.loss(model(small_x), small_y)
        value = float(loss.item())
        if math.isfinite(value):
            loss.backward()
        ctx.step_s = (time.perf_counter() - began) * 1.3  # + the optimizer's update and bookkeeping
    except Exception as error:  # noqa: BLE001 - the loss rejecting the output/targets is the finding
        ctx.notes["broken"] = "the loss cannot be computed"
        return [Finding("loss-error", "error", f"loss_fn(output, target) fails: {type(error).__name__}: "
                                               f"{error}",
                        {"output_shape": list(shape), "target_shape": list(y.shape),
                         "target_dtype": str(y.dtype),
                         "error": str(error)[:300]},
                        "Match the loss to the task: `F.cross_entropy(logits (N, C), class ids (N,) int64)`, "
                        "`F.mse_loss(output, target)` with equal shapes, "
                        "`F.binary_cross_entropy_with_logits` with float 0/1 targets.", "setup")]
    return []


# A finding that is a consequence of a more specific one is kept as a warning: the large initial loss of
# a network whose gradients explode or whose units saturate comes from the same too-large weights.
_CONSEQUENCES = {"initial-loss-off": ("exploding-gradients", "saturated-activations")}


def _defer(findings: list[Finding]) -> list[Finding]:
    errors = {f.code for f in findings if f.severity == "error"}
    kept = []
    for finding in findings:
        causes = [code for code in _CONSEQUENCES.get(finding.code, ()) if code in errors]
        if causes and finding.severity == "error":
            evidence = {**finding.evidence, "explained_by": causes}
            finding = Finding(finding.code, "warning", finding.title, evidence, finding.fix, finding.probe)
        kept.append(finding)
    return kept


def examine(model: nn.Module, data, loss_fn: Callable | None = None, optimizer=None, *, val_data=None,
            task: str | None = None, budget_s: float = 60, seed: int = 0) -> Report:
    """Examine a training setup with short experiments on a copy; return a :class:`Report`.

    Args:
        model: the :class:`~dendrite.nn.Module` to train (left exactly as it is).
        data: training data: a ``DataLoader``, a ``Dataset`` of ``(input, target)`` pairs, or a pair
            ``(inputs (N, ...), targets (N, ...))`` of tensors or NumPy arrays.
        loss_fn: ``loss_fn(output, target) -> scalar``; default ``F.cross_entropy`` for classification,
            ``F.mse_loss`` for regression.
        optimizer: an optimizer over ``model.parameters()`` or a callable ``params -> optimizer``;
            default ``optim.Adam(lr=1e-3)``. Its class and hyper-parameters are what is tested.
        val_data: optional validation data, in any of the forms of ``data``.
        task: ``"classification"`` or ``"regression"``; inferred when ``None`` (integer targets:
            classification).
        budget_s: time budget in seconds; probes that do not fit are listed in ``report.skipped``.
        seed: seed of every random choice (the same seed gives the same findings).

    Returns:
        A :class:`Report`: ``findings`` most likely root cause first, ``passed``, ``skipped``.

    Raises:
        TypeError, ValueError: an argument is not one of the accepted kinds (the message says which).

    Example:
        >>> import numpy as np
        >>> from dendrite import nn
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(64, 4)).astype(np.float32)
        >>> y = (x[:, 0] > 0).astype(np.int64)
        >>> model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2), nn.Softmax(dim=1))
        >>> report = examine(model, (x, y), budget_s=10)
        >>> report.findings[0].code
        'softmax-before-loss'
    """
    began = time.perf_counter()
    _check_arguments(model, loss_fn, budget_s, seed)
    seed = int(seed)
    dendrite_state, numpy_state = backend.get_rng_state(), np.random.get_state()
    try:
        backend.manual_seed(seed)
        np.random.seed(seed)
        train = read_data(data, "data", seed=seed)
        val = read_data(val_data, "val_data", seed=seed) if val_data is not None else None
        _check_shapes(train, val)
        floats = [p.array.dtype for p in model.parameters() if p.array.dtype.kind == "f"]
        for sample in (train, val):  # NumPy float64 data meets a float32 model as in Trainer.fit
            if sample is not None and floats:
                sample.cast_floats(floats[0])
        task = _infer_task(task, train.targets, loss_fn)
        if loss_fn is None:
            if task == "classification" and not np.issubdtype(train.targets.dtype, np.integer):
                raise ValueError(f"examine: task='classification' with the default loss "
                                 f"(F.cross_entropy) needs "
                                 f"integer class ids as targets, got {train.targets.dtype}; pass loss_fn="
                                 "F.binary_cross_entropy_with_logits for float 0/1 targets")
            loss_fn = F.cross_entropy if task == "classification" else F.mse_loss
        recipe, facts = OptimizerRecipe.of(optimizer, model)
        doctor_model = copy.deepcopy(model)
        for p in doctor_model.parameters():
            p.grad = None
        ctx = Context(doctor_model, recipe, loss_fn, task, train, val, seed, began + budget_s, facts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            findings = _setup(ctx)
        passed: list[str] = []
        skipped: dict[str, str] = {}
        for probe in PROBES:
            if probe.needs_model and "broken" in ctx.notes:
                skipped[probe.name] = ctx.notes["broken"]
                continue
            estimate, left = probe.cost(ctx), ctx.time_left()
            if estimate > left or left <= 0:
                skipped[probe.name] = (f"out of budget: needs about {estimate:.2g} s, "
                                       f"{max(left, 0):.2g} s left of budget_s={budget_s}")
                continue
            try:
                with warnings.catch_warnings():  # overflow and broadcast warnings of the experiments are
                    warnings.simplefilter("ignore")  # measured by the probes, not printed at the user
                    found = probe.run(ctx)
            except Exception as error:  # noqa: BLE001 - one failing experiment must not hide the others
                skipped[probe.name] = f"could not run: {type(error).__name__}: {str(error)[:200]}"
                continue
            findings += found
            for finding in found:
                ctx.found.setdefault(finding.code, finding)
            if not found:
                passed.append(probe.name)
        return Report(_defer(findings), passed=passed, skipped=skipped, elapsed_s=time.perf_counter() - began)
    finally:
        backend.set_rng_state(dendrite_state)
        np.random.set_state(numpy_state)
