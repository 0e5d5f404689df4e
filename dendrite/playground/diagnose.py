"""The doctor on the playground's current setup: short experiments on a copy, findings as JSON.

:func:`diagnose_run` hands :func:`dendrite.doctor.examine` the session's model, its training
points (as features), its loss (BCE with logits for the one-logit binary head, cross entropy for
3+ classes, MSE for regression) and its optimizer, within a time budget; the findings come back
as plain dicts the page lists. The model and the optimizer are left exactly as they were.

A run whose weights are no longer finite (training diverged) has nothing left to examine: every
probe would only see NaN and blame "the loss is nan at initialisation". The doctor then examines a
fresh start of the same setup instead (same config, same seed, built by the functions the session's
reset uses), which still shows the cause (a learning rate too high, an init too large, ...); the
result's ``"examined"`` says which one it looked at.
"""

from __future__ import annotations

import numpy as np

import dendrite
from dendrite.doctor import examine
from dendrite.nn import functional as F
from dendrite.playground.network import seeded_model
from dendrite.playground.snapshot import finite_or_none

__all__ = ["diagnose_run"]

EXAMINED_CURRENT = "the current weights"
EXAMINED_FRESH = "a fresh start of the same setup (the current weights are not finite)"

def _explanation(evidence: dict) -> str:
    shown = []
    for name, value in evidence.items():
        if isinstance(value, float):
            number = finite_or_none(value)
            value = f"{number:.4g}" if number is not None else str(value)
        shown.append(f"{name.replace('_', ' ')} = {value}")
    return "; ".join(shown)


def _all_finite(model) -> bool:
    """Whether every parameter and buffer (e.g. batch norm's running statistics) is finite."""
    return all(np.isfinite(value.detach().numpy()).all() for value in model.state_dict().values())


def _fresh_start(run: dict) -> tuple:
    """``(model, optimizer)`` as a reset would build them from ``run["config"]``; the global RNG is kept."""
    outer = dendrite.get_rng_state()
    try:
        return seeded_model(run["config"])
    finally:
        dendrite.set_rng_state(outer)  # the session's generator goes on as if nothing had happened


def diagnose_run(run: dict, budget_s: float = 6.0, seed: int = 0) -> dict:
    """Examine ``run`` (see :func:`~dendrite.playground.network.new_run`) for about ``budget_s`` seconds.

    Returns ``{"findings": [{"code", "title", "severity", "explanation", "fix", "evidence"}...],
    "passed": [...], "skipped": {...}, "elapsed_s": ..., "examined": ...}``, most likely root cause
    first; ``examined`` is :data:`EXAMINED_CURRENT` or, when the run's weights are not all finite,
    :data:`EXAMINED_FRESH` (the doctor then looked at a fresh start of the same config and seed).

    Example:
        >>> from dendrite.playground.config import validate_config
        >>> from dendrite.playground.datasets import builtin_points
        >>> from dendrite.playground.network import new_run
        >>> config = validate_config({"points": 100})
        >>> run = new_run(config, *builtin_points("circle", "classification", 2, 100, 0, 0), [])
        >>> report = diagnose_run(run, budget_s=1.0)
        >>> sorted(report), report["examined"]
        (['elapsed_s', 'examined', 'findings', 'passed', 'skipped'], 'the current weights')
    """
    config = run["config"]
    if config["problem"] == "regression":
        loss_fn, task = F.mse_loss, "regression"
    elif config["classes"] > 2:
        loss_fn, task = F.cross_entropy, "classification"
    else:
        loss_fn, task = F.binary_cross_entropy_with_logits, "classification"
    model, optimizer, examined = run["model"], run["optimizer"], EXAMINED_CURRENT
    if not _all_finite(model):
        (model, optimizer), examined = _fresh_start(run), EXAMINED_FRESH
    report = examine(model, (run["x_train"], run["y_train"]), loss_fn, optimizer,
                     val_data=(run["x_test"], run["y_test"]), task=task, budget_s=budget_s, seed=seed)
    findings = []
    for finding in report.findings:
        data = finding.to_dict()
        findings.append({"code": data["code"], "title": data["title"], "severity": data["severity"],
                         "explanation": _explanation(finding.evidence), "fix": data["fix"],
                         "evidence": data["evidence"]})
    return {"findings": findings, "passed": list(report.passed), "skipped": dict(report.skipped),
            "elapsed_s": round(report.elapsed_s, 3), "examined": examined}
