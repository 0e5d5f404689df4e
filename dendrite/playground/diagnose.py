"""The doctor on the playground's current setup: short experiments on a copy, findings as JSON.

:func:`diagnose_run` hands :func:`dendrite.doctor.examine` the session's model, its training
points (as features), its loss (BCE with logits for the one-logit binary head, cross entropy for
3+ classes, MSE for regression) and its optimizer, within a time budget; the findings come back
as plain dicts the page lists. The model and the optimizer are left exactly as they were.
"""

from __future__ import annotations

from dendrite.doctor import examine
from dendrite.nn import functional as F
from dendrite.playground.snapshot import finite_or_none

__all__ = ["diagnose_run"]

# The playground's head is always a bare Linear (logits): a "probabilities into a logits loss" finding
# can only be the probe mistaking a constant output (e.g. all-zero init gives logits of 0) for a sigmoid.
IMPOSSIBLE = frozenset({"softmax-before-loss"})


def _explanation(evidence: dict) -> str:
    shown = []
    for name, value in evidence.items():
        if isinstance(value, float):
            number = finite_or_none(value)
            value = f"{number:.4g}" if number is not None else str(value)
        shown.append(f"{name.replace('_', ' ')} = {value}")
    return "; ".join(shown)


def diagnose_run(run: dict, budget_s: float = 6.0, seed: int = 0) -> dict:
    """Examine ``run`` (see :func:`~dendrite.playground.network.new_run`) for about ``budget_s`` seconds.

    Returns ``{"findings": [{"code", "title", "severity", "explanation", "fix", "evidence"}...],
    "passed": [...], "skipped": {...}, "elapsed_s": ...}``, most likely root cause first.

    Example:
        >>> from dendrite.playground.config import validate_config
        >>> from dendrite.playground.datasets import builtin_points
        >>> from dendrite.playground.network import new_run
        >>> config = validate_config({"points": 100})
        >>> run = new_run(config, *builtin_points("circle", "classification", 2, 100, 0, 0), [])
        >>> sorted(diagnose_run(run, budget_s=1.0))
        ['elapsed_s', 'findings', 'passed', 'skipped']
    """
    config = run["config"]
    if config["problem"] == "regression":
        loss_fn, task = F.mse_loss, "regression"
    elif config["classes"] > 2:
        loss_fn, task = F.cross_entropy, "classification"
    else:
        loss_fn, task = F.binary_cross_entropy_with_logits, "classification"
    report = examine(run["model"], (run["x_train"], run["y_train"]), loss_fn, run["optimizer"],
                     val_data=(run["x_test"], run["y_test"]), task=task, budget_s=budget_s, seed=seed)
    findings = []
    for finding in report.findings:
        if finding.code in IMPOSSIBLE:
            continue
        data = finding.to_dict()
        findings.append({"code": data["code"], "title": data["title"], "severity": data["severity"],
                         "explanation": _explanation(finding.evidence), "fix": data["fix"],
                         "evidence": data["evidence"]})
    return {"findings": findings, "passed": list(report.passed), "skipped": dict(report.skipped),
            "elapsed_s": round(report.elapsed_s, 3)}
