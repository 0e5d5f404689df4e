"""Probes of the model and the loss at its current weights: one forward pass or one backward pass each.

Each takes the :class:`~dendrite.doctor.context.Context` and returns findings.
Thresholds and their reasons: ``docs/doctor.md``.
"""

from __future__ import annotations

import math

import numpy as np

from dendrite import nn
from dendrite.autograd.grad_mode import no_grad
from dendrite.doctor.context import Context, host
from dendrite.doctor.report import Finding

__all__ = ["loss_wiring", "initial_loss", "activations", "gradients", "generalisation"]

STATS_BATCH = 256  # examples in a forward-only probe
GRAD_BATCH = 64  # examples in the one-backward probe
DEAD_LIMIT = 0.5  # half of a ReLU layer's units never fire on STATS_BATCH examples
SATURATED_LIMIT = 0.5  # half of a sigmoid/tanh layer's outputs sit where the derivative is < 2 % of its peak
EXCESS_NATS = 1.0  # classification: loss at init more than 1 nat above ln C (logits std ~1.4 or more)
REGRESSION_RATIO = (4.0, 25.0)  # regression: loss at init / loss of predicting the mean (warning, error)
HUGE_RELATIVE = 10.0  # |grad| / |weight| of a layer; healthy nets at init measure about 1e-3 to 1e-1
ORDERS = 3.0  # vanishing / exploding: early vs late relative gradients 3 orders of magnitude apart
CONSTANT_SPREAD = 1e-6  # no output moves more than this across the examples: the output ignores its input


def loss_wiring(ctx: Context) -> list[Finding]:
    """``softmax-before-loss``, ``missing-log-softmax``, ``target-shape-mismatch``: the output does not suit
    the loss (probabilities into a loss that applies its own softmax/sigmoid, shapes that broadcast)."""
    model = ctx.fresh()
    x, y = ctx.batch(STATS_BATCH)
    with no_grad():
        out = host(model(x)).astype(np.float64)
    findings = []
    if ctx.kind in ("mse", "l1", "bce_logits", "bce") and out.shape != tuple(y.shape):
        findings.append(Finding(
            "target-shape-mismatch", "error",
            f"Output shape {out.shape} and target shape {tuple(y.shape)} differ: the loss broadcasts them",
            {"output_shape": list(out.shape), "target_shape": list(y.shape)},
            "Make them equal: targets of shape (N, 1) for one output (`y.unsqueeze(1)`), or squeeze the "
            "output (`model(x).squeeze(1)`).", "loss"))
    if out.ndim < 2 or out.size < 8 or not np.isfinite(out).all():
        return findings
    # An output that is the same for every example (all-zero weights give logits of exactly 0) says nothing
    # about what produced it: 0 lies in [0, 1] and a one-hot constant row sums to 1, yet no softmax or
    # sigmoid is in sight. A real softmax/sigmoid output follows its input, so only varying outputs count.
    varies = float(np.ptp(out.reshape(out.shape[0], -1), axis=0).max()) > CONSTANT_SPREAD
    if ctx.kind in ("cross_entropy", "nll"):
        rows = np.moveaxis(out, 1, -1).reshape(-1, out.shape[1])
        if rows.shape[1] < 2:
            return findings
        sums = rows.sum(axis=1)
        top = rows.max(axis=1, keepdims=True)
        logsumexp = (top[:, 0] + np.log(np.exp(rows - top).sum(axis=1)))
        probabilities = varies and bool((rows >= 0).all() and np.abs(sums - 1).max() < 1e-3)
        log_probabilities = bool(np.abs(logsumexp).max() < 1e-3)
        evidence = {"min_output": float(rows.min()), "max_abs_row_sum_minus_1": float(np.abs(sums - 1).max()),
                    "max_abs_logsumexp": float(np.abs(logsumexp).max()), "rows": int(len(rows))}
        if ctx.kind == "cross_entropy" and probabilities:
            findings.append(Finding(
                "softmax-before-loss", "error",
                "The model outputs probabilities (rows >= 0 summing to 1) but cross_entropy applies its own "
                "softmax: gradients are squashed and the loss cannot approach 0", evidence,
                "Feed raw logits to `F.cross_entropy`/`nn.CrossEntropyLoss`: remove the final `nn.Softmax`.",
                "loss"))
        elif ctx.kind == "cross_entropy" and log_probabilities:
            findings.append(Finding(
                "softmax-before-loss", "warning",
                "The model outputs log-probabilities (log_softmax) and cross_entropy applies "
                "log_softmax again",
                evidence, "Remove the final `nn.LogSoftmax` and keep `F.cross_entropy`, or keep it and use "
                "`F.nll_loss`/`nn.NLLLoss` — not both.", "loss"))
        elif ctx.kind == "nll" and probabilities:
            findings.append(Finding(
                "softmax-before-loss", "error",
                "nll_loss gets probabilities (softmax output) instead of log-probabilities", evidence,
                "Use `nn.LogSoftmax(dim=1)` instead of `nn.Softmax`, or drop it and use `F.cross_entropy` on "
                "raw logits.", "loss"))
        elif ctx.kind == "nll" and not log_probabilities:
            findings.append(Finding(
                "missing-log-softmax", "error",
                "nll_loss gets raw scores: it expects log-probabilities (rows whose logsumexp is 0)",
                evidence, "Use `F.cross_entropy` on the raw logits, or end the model with "
                "`nn.LogSoftmax(dim=1)`.", "loss"))
    elif ctx.kind == "bce_logits" and varies and out.min() >= 0 and out.max() <= 1:
        findings.append(Finding(
            "softmax-before-loss", "error",
            "The model outputs values in [0, 1] (a sigmoid) but binary_cross_entropy_with_logits applies its "
            "own sigmoid", {"min_output": float(out.min()), "max_output": float(out.max())},
            "Remove the final `nn.Sigmoid` and keep `nn.BCEWithLogitsLoss`, or keep it and use `nn.BCELoss` "
            "(less stable).", "loss"))
    return findings


def initial_loss(ctx: Context) -> list[Finding]:
    """``initial-loss-off`` (loss far above what an unbiased start gives) and ``nan-loss`` at step 0."""
    model = ctx.fresh()
    x, y = ctx.batch(STATS_BATCH)
    with no_grad():
        out = model(x)
        loss = float(ctx.loss(out, y).item())
    ctx.notes["initial_loss"] = loss
    if not math.isfinite(loss):
        return [Finding("nan-loss", "error", f"The loss is {loss} at initialisation (step 0)",
                        {"step": 0, "loss": loss, "output_finite": bool(np.isfinite(host(out)).all())},
                        "Find the first non-finite value with `dendrite.autograd.detect_anomaly()`; "
                        "check the "
                        "data for NaN/Inf and the model for log/sqrt/division of values that can be 0.",
                        "initial-loss")]
    if ctx.kind in ("cross_entropy", "nll", "bce_logits") and ctx.num_outputs:
        classes = 2 if ctx.kind == "bce_logits" else ctx.num_outputs
        expected = math.log(classes)
        excess = loss - expected
        if excess <= EXCESS_NATS:
            return []
        severity = "error" if loss > 2 * expected else "warning"
        return [Finding("initial-loss-off", severity,
                        f"The loss at initialisation is {loss:.3g}, expected about ln({classes}) = "
                        f"{expected:.3g}"
                        ": the model starts confidently wrong",
                        {"initial_loss": loss, "expected": expected, "excess_nats": excess,
                         "logit_std": float(host(out).std())},
                        "Start from small logits: keep the default init of the last `nn.Linear` (or scale it "
                        "down, e.g. `nn.init.zeros_(model.head.weight)`), and check that the inputs are "
                        "normalised.", "initial-loss")]
    baseline = ctx.baseline_loss(y)
    if baseline is None or baseline <= 0:
        return []
    ratio = loss / baseline
    if ratio < REGRESSION_RATIO[0]:
        return []
    severity = "error" if ratio >= REGRESSION_RATIO[1] else "warning"
    return [Finding("initial-loss-off", severity,
                    f"The loss at initialisation is {ratio:.3g}x the loss of always predicting the mean "
                    f"target",
                    {"initial_loss": loss, "mean_prediction_loss": baseline, "ratio": ratio,
                     "target_mean": float(host(y).mean()), "target_std": float(host(y).std())},
                    "Standardise the targets (`y = (y - y.mean()) / y.std()`, undo it on predictions) or set "
                    "the last layer's bias to the target mean (`nn.init.constant_(head.bias, y_mean)`).",
                    "initial-loss")]


def _units_never_active(out: np.ndarray) -> np.ndarray:
    """Per unit (feature or channel): True when it is <= 0 for every example and position."""
    if out.ndim == 2:
        return ~(out > 0).any(axis=0)
    if out.ndim >= 4:
        return ~(np.moveaxis(out, 1, -1).reshape(-1, out.shape[1]) > 0).any(axis=0)
    return ~(out.reshape(-1, out.shape[-1]) > 0).any(axis=0)


def activations(ctx: Context) -> list[Finding]:
    """``dead-relu`` and ``saturated-activations``, measured with forward hooks on a copy."""
    model = ctx.fresh()
    records: list[tuple[str, str, np.ndarray]] = []
    handles = []
    for name, module in model.named_modules():
        kind = "relu" if isinstance(module, nn.ReLU) else "tanh" if isinstance(module, nn.Tanh) else \
            "sigmoid" if isinstance(module, nn.Sigmoid) else None
        if kind:
            handles.append(module.register_forward_hook(
                lambda m, args, out, name=name, kind=kind: records.append((name, kind, out))))
    if not handles:
        return []
    x, _ = ctx.batch(STATS_BATCH)
    try:
        with no_grad():
            final = model(x)
    finally:
        for handle in handles:
            handle.remove()
    if len(x) < 16:
        return []
    dead, saturated = {}, {}
    for index, (name, kind, out) in enumerate(records):
        label = name if sum(r[0] == name for r in records) == 1 else f"{name}#{index}"
        values = host(out)
        if not np.isfinite(values).all():
            continue  # NaN/Inf: the nan-loss and data probes speak for this layer
        if kind == "relu":
            never = _units_never_active(values)
            if len(never) >= 4:
                dead[label] = float(never.mean())
        elif out is not final:
            limit = 0.99 if kind == "tanh" else 0.01
            stuck = np.abs(values) > limit if kind == "tanh" else (values < limit) | (values > 1 - limit)
            saturated[label] = float(stuck.mean())
    findings = []
    worst = max(dead.items(), key=lambda item: item[1], default=(None, 0.0))
    if worst[1] >= DEAD_LIMIT:
        findings.append(Finding(
            "dead-relu", "error", f"{worst[1]:.0%} of the units of ReLU layer {worst[0]!r} never activate on "
                                  f"{len(x)} examples: they pass no gradient",
            {"dead_share_per_layer": {k: round(v, 4) for k, v in dead.items()}, "examples": len(x),
             "worst_layer": worst[0]},
            "Check the bias/weight init of the layer before it (`nn.init.kaiming_uniform_`, biases at 0), "
            "normalise the inputs, lower the learning rate, or use `nn.LeakyReLU(0.01)`.", "activations"))
        ctx.found["dead-relu"] = True
    worst = max(saturated.items(), key=lambda item: item[1], default=(None, 0.0))
    if worst[1] >= SATURATED_LIMIT:
        findings.append(Finding(
            "saturated-activations", "error",
            f"{worst[1]:.0%} of the outputs of {worst[0]!r} sit at the flat ends of the sigmoid/tanh",
            {"saturated_share_per_layer": {k: round(v, 4) for k, v in saturated.items()},
             "examples": len(x), "worst_layer": worst[0]},
            "Normalise the inputs, use Xavier init for tanh/sigmoid layers (`nn.init.xavier_uniform_`), add "
            "`nn.LayerNorm`/`nn.BatchNorm1d` before the activation, or switch to `nn.ReLU`.", "activations"))
    return findings


def _frozen_findings(ctx: Context) -> list[Finding]:
    params = list(ctx.model.named_parameters())
    frozen = [name for name, p in params if not p.requires_grad]
    if not frozen:
        return []
    if len(frozen) == len(params):
        return [Finding("no-gradient", "error", "Every parameter has requires_grad=False: nothing can train",
                        {"frozen": frozen[:8], "frozen_count": len(frozen)},
                        "Unfreeze what should learn: `model.requires_grad_(True)` or "
                        "`layer.requires_grad_(True)` for the layers to fine-tune.", "gradients")]
    partial = []
    for module_name, module in ctx.model.named_modules():
        own = list(module.named_parameters(recurse=False))
        if own and 0 < sum(not p.requires_grad for _, p in own) < len(own):
            partial += [f"{module_name}.{n}" if module_name else n for n, p in own if not p.requires_grad]
    if partial:
        return [Finding("no-gradient", "warning",
                        f"Part of a layer is frozen ({', '.join(partial[:3])}) while the rest trains",
                        {"partly_frozen": partial[:8], "frozen_count": len(frozen)},
                        "Freeze whole layers (`layer.requires_grad_(False)`) or none; a weight frozen "
                        "beside a "
                        "trainable bias is usually a mistake.", "gradients")]
    return [Finding("frozen-parameters", "info", f"{len(frozen)} parameter tensor(s) are frozen "
                                                 f"(requires_grad="
                    "False), whole layers at a time: assumed intentional (fine-tuning)",
                    {"frozen": frozen[:8], "frozen_count": len(frozen)}, "Nothing to do if intended.",
                    "gradients")]


def gradients(ctx: Context) -> list[Finding]:
    """``no-gradient`` (trainable tensors that get no or an all-zero gradient), frozen tensors (info),
    ``vanishing-gradients`` and ``exploding-gradients`` (relative gradients of early vs late layers)."""
    findings = _frozen_findings(ctx)
    model = ctx.fresh()
    x, y = ctx.batch(GRAD_BATCH)
    loss = ctx.loss(model(x), y)
    if not math.isfinite(float(loss.item())):
        return findings
    loss.backward()
    missing, zero, relative, names = [], [], [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.grad is None:
            missing.append(name)
            continue
        grad = host(p.grad)
        if not np.any(grad):
            zero.append(name)
        elif p.ndim >= 2:
            weight = host(p)
            if np.sqrt(np.mean(weight.astype(np.float64) ** 2)) < 1e-4:
                continue  # a zero-initialised layer (a deliberate choice) has no scale to compare with
            relative.append(float(np.linalg.norm(grad)) / float(np.linalg.norm(weight)))
            names.append(name)
    if missing:
        findings.append(Finding(
            "no-gradient", "error", f"{len(missing)} trainable parameter tensor(s) get no gradient: "
                                    f"unused in "
                                    "forward, or cut from the graph",
            {"no_grad": missing[:8], "count": len(missing)},
            "Use every layer you define in `forward`, and do not `.detach()`, `.numpy()` or `.item()` on the "
            "path to the loss; delete layers you do not need.", "gradients"))
    if zero and "dead-relu" not in ctx.found:
        findings.append(Finding(
            "no-gradient", "warning", f"{len(zero)} trainable parameter tensor(s) get an all-zero gradient",
            {"zero_grad": zero[:8], "count": len(zero)},
            "Look for a multiplication by zero, a constant output or a dead activation before these layers.",
            "gradients"))
    ctx.notes["relative_gradients"] = dict(zip(names, relative))
    values = np.array(relative)
    finite = np.isfinite(values)
    if not finite.all():
        bad = [n for n, ok in zip(names, finite) if not ok]
        ctx.found["exploding-gradients"] = True
        return findings + [_exploding({"non_finite_grad": bad[:8]}, "Gradients overflow to Inf/NaN")]
    if len(values) and values.max() >= HUGE_RELATIVE:
        worst = int(values.argmax())
        ctx.found["exploding-gradients"] = True
        return findings + [_exploding(
            {"layer": names[worst], "relative_grad": float(values[worst]),
             "relative_grad_per_layer": {n: float(v) for n, v in zip(names, values)}},
            f"The gradient of {names[worst]!r} is {values[worst]:.3g}x its weights' norm: one step of "
            f"lr=0.01 "
            "would change it by more than 10%")]
    if len(relative) < 3:
        return findings
    early, late = float(values[0]), float(values[-1])
    span = math.log10(max(early, 1e-30) / max(late, 1e-30))
    evidence = {"first_layer": names[0], "last_layer": names[-1], "first_relative_grad": early,
                "last_relative_grad": late, "orders_of_magnitude": span,
                "relative_grad_per_layer": {n: float(v) for n, v in zip(names, values)}}
    if span <= -ORDERS:
        ctx.found["vanishing-gradients"] = True
        findings.append(Finding(
            "vanishing-gradients", "error",
            f"The first layer's gradient is {-span:.1f} orders of magnitude smaller (relative to its "
            f"weights) "
            "than the last layer's", evidence,
            "Use ReLU-family activations with Kaiming init (`nn.init.kaiming_normal_`), add normalisation "
            "(`nn.BatchNorm1d`/`nn.LayerNorm`) or residual connections; for sequences use "
            "`nn.LSTM`/`nn.GRU`.",
            "gradients"))
    elif span >= ORDERS:
        ctx.found["exploding-gradients"] = True
        findings.append(_exploding(evidence, f"The first layer's gradient is {span:.1f} orders of magnitude "
                                             "larger (relative to its weights) than the last layer's"))
    return findings


def _exploding(evidence: dict, title: str) -> Finding:
    return Finding("exploding-gradients", "error", title, evidence,
                   "Scale the init down (`nn.init.kaiming_uniform_`/`xavier_uniform_` instead of large "
                   "weights), normalise the inputs, and clip with "
                   "`nn.utils.clip_grad_norm_(model.parameters(), "
                   "1.0)` before `optimizer.step()`.", "gradients")


def generalisation(ctx: Context) -> list[Finding]:
    """``overfitting``: the model (as it is now) does far better on training examples than on validation."""
    if ctx.val is None:
        return []
    model = ctx.fresh()
    model.eval()
    x, y = ctx.batch(512)
    vx, vy = ctx.batch(512, data=ctx.val)
    with no_grad():
        out, val_out = model(x), model(vx)
        train_loss, val_loss = float(ctx.loss(out, y).item()), float(ctx.loss(val_out, vy).item())
    train_acc, val_acc = ctx.accuracy(out, y), ctx.accuracy(val_out, vy)
    if not (math.isfinite(train_loss) and math.isfinite(val_loss)) or val_loss <= 0:
        return []
    gap = (val_loss - train_loss) / val_loss
    accuracy_gap = None if train_acc is None or val_acc is None else train_acc - val_acc
    if gap < 0.5 or (accuracy_gap is not None and accuracy_gap < 0.1):
        return []
    return [Finding("overfitting", "warning",
                    f"Validation loss {val_loss:.3g} is {val_loss / max(train_loss, 1e-12):.3g}x the "
                    f"training loss",
                    {"train_loss": train_loss, "val_loss": val_loss, "train_accuracy": train_acc,
                     "val_accuracy": val_acc, "examples": [len(x), len(vx)]},
                    "Regularise: more data or augmentation (`dendrite.data.transforms`), `nn.Dropout`, "
                    "weight "
                    "decay (`optim.AdamW(..., weight_decay=1e-2)`), a smaller model, or early stopping "
                    "(`EarlyStopping` callback).", "generalisation")]
