"""What the doctor found: :class:`Finding` (one diagnosis) and :class:`Report` (all of them).

A finding names its ``code`` (a stable identifier such as ``"lr-too-high"``), a
``severity`` (``"error"``: training cannot work like this; ``"warning"``: it
works badly or a number misleads; ``"info"``: worth knowing), a one-line
``title``, the measured ``evidence`` and a ``fix`` that names the dendrite API
to use. A report orders findings most-likely-root-cause first: errors before
warnings before notes, and within a severity by :data:`ROOT_CAUSE_ORDER` (bad
data explains bad gradients, which explain a diverging loss, never the reverse).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from dendrite.utils.strict_json import json_safe

SEVERITIES = ("error", "warning", "info")

# Upstream causes first: the data feeds the model, the model's wiring feeds the
# gradients, the gradients feed the optimiser. A symptom listed later is often a
# consequence of a cause listed earlier (NaN in the data -> nan-loss).
ROOT_CAUSE_ORDER = (
    "nan-in-data",
    "labels-out-of-range",
    "forward-error",
    "loss-error",
    "target-shape-mismatch",
    "labels-unlearnable",
    "train-val-overlap",
    "inputs-not-normalized",
    "class-imbalance",
    "softmax-before-loss",
    "missing-log-softmax",
    "eval-mode",
    "params-not-in-optimizer",
    "no-gradient",
    "frozen-parameters",
    "missing-zero-grad",
    "batchnorm-small-batch",
    "initial-loss-off",
    "dead-relu",
    "saturated-activations",
    "vanishing-gradients",
    "exploding-gradients",
    "lr-too-high",
    "nan-loss",
    "lr-too-low",
    "weight-decay-too-high",
    "cannot-overfit-batch",
    "loss-plateau",
    "overfitting",
)


def _json_safe(value: Any) -> Any:
    """Evidence as plain JSON data: non-finite floats spelled ``"nan"``, ``"inf"``, ``"-inf"``.

    ``json.dumps(float("nan"))`` writes ``NaN``, which is not JSON; a report must stay
    readable by any JSON parser, and "the loss was nan" is evidence, so it is kept as a word
    (anything else that JSON cannot hold is written as its ``str``).
    """
    return json.loads(json.dumps(json_safe(value, nonfinite="string"), default=str, allow_nan=False))


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value) or value == 0:
            return str(value)
        return f"{value:.3g}" if (abs(value) >= 1e-3 and abs(value) < 1e4) else f"{value:.2e}"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(_format_value(v) for v in list(value)[:6])
        return f"[{shown}{', ...' if len(value) > 6 else ''}]"
    if isinstance(value, dict):
        shown = ", ".join(f"{key}: {_format_value(v)}" for key, v in list(value.items())[:6])
        return f"{{{shown}{', ...' if len(value) > 6 else ''}}}"
    return str(value)


@dataclass(frozen=True)
class Finding:
    """One diagnosis: what is wrong, the numbers that show it, and what to do.

    Attributes:
        code: stable identifier, e.g. ``"dead-relu"`` (see ``docs/doctor.md``).
        severity: ``"error"``, ``"warning"`` or ``"info"``.
        title: one line saying what is wrong, in the user's terms.
        evidence: the measured figures, name -> value (JSON-safe via :meth:`to_dict`).
        fix: one or two sentences naming the dendrite API that fixes it.
        probe: the probe that produced it.

    Example:
        >>> f = Finding("lr-too-high", "error", "The loss rises within 5 steps",
        ...             {"loss_start": 2.3, "loss_end": 41.0}, "Lower lr, e.g. Adam(lr=1e-3).", "lr")
        >>> f.code, f.severity
        ('lr-too-high', 'error')
    """

    code: str
    severity: str
    title: str
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: str = ""
    probe: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"Finding: severity must be one of {SEVERITIES}, got {self.severity!r}")
        if not self.code or not isinstance(self.code, str):
            raise ValueError(f"Finding: code must be a non-empty string, got {self.code!r}")

    def to_dict(self) -> dict[str, Any]:
        """The finding as plain JSON-safe data (non-finite numbers spelled ``"nan"``/``"inf"``).

        Example:
            >>> data = Finding("nan-loss", "error", "The loss is nan", {"loss": float("nan")}).to_dict()
            >>> data["code"], data["evidence"]
            ('nan-loss', {'loss': 'nan'})
        """
        return {"code": self.code, "severity": self.severity, "title": self.title,
                "evidence": _json_safe(dict(self.evidence)), "fix": self.fix, "probe": self.probe}

    def __str__(self) -> str:
        lines = [f"[{self.severity}] {self.code}: {self.title}"]
        if self.evidence:
            shown = ", ".join(f"{name}={_format_value(value)}" for name, value in self.evidence.items())
            lines.append(f"    evidence: {shown}")
        if self.fix:
            lines.append(f"    fix: {self.fix}")
        return "\n".join(lines)


def _rank(finding: Finding) -> tuple[int, int]:
    known = finding.code in ROOT_CAUSE_ORDER
    order = ROOT_CAUSE_ORDER.index(finding.code) if known else len(ROOT_CAUSE_ORDER)
    return SEVERITIES.index(finding.severity), order


class Report:
    """All findings of one examination, most likely root cause first.

    Attributes:
        findings: list of :class:`Finding`, ordered errors first, then by root cause.
        passed: names of the probes that ran and found nothing.
        skipped: probe name -> why it did not run (not applicable, out of time budget).
        elapsed_s: seconds the examination took.

    Example:
        >>> r = Report([Finding("class-imbalance", "warning", "92% of labels are class 0"),
        ...             Finding("nan-in-data", "error", "3 inputs are NaN")], passed=["labels"])
        >>> [f.code for f in r.findings], r.ok, sorted(r.codes())
        (['nan-in-data', 'class-imbalance'], False, ['class-imbalance', 'nan-in-data'])
    """

    def __init__(self, findings: list[Finding] | None = None, *, passed: list[str] | None = None,
                 skipped: dict[str, str] | None = None, elapsed_s: float = 0.0) -> None:
        self.findings: list[Finding] = sorted(findings or [], key=_rank)
        self.passed: list[str] = list(passed or [])
        self.skipped: dict[str, str] = dict(skipped or {})
        self.elapsed_s = float(elapsed_s)

    def codes(self) -> set[str]:
        """The set of finding codes, e.g. ``{"dead-relu", "lr-too-high"}``."""
        return {f.code for f in self.findings}

    @property
    def ok(self) -> bool:
        """True when no finding has severity ``"error"``."""
        return not any(f.severity == "error" for f in self.findings)

    def by_severity(self, severity: str) -> list[Finding]:
        """The findings of one severity, in report order.

        Example:
            >>> r = Report([Finding("dead-relu", "error", "60% of ReLUs never fire"),
            ...             Finding("class-imbalance", "warning", "92% of labels are class 0")])
            >>> [f.code for f in r.by_severity("warning")], r.by_severity("info")
            (['class-imbalance'], [])
        """
        if severity not in SEVERITIES:
            raise ValueError(f"Report.by_severity: severity must be one of {SEVERITIES}, got {severity!r}")
        return [f for f in self.findings if f.severity == severity]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe data: ``{"ok", "findings", "passed", "skipped", "elapsed_s"}``.

        Example:
            >>> report = Report([Finding("dead-relu", "error", "60% of ReLUs never fire")], passed=["labels"])
            >>> data = report.to_dict()
            >>> data["ok"], [f["code"] for f in data["findings"]], data["passed"]
            (False, ['dead-relu'], ['labels'])
        """
        return {"ok": self.ok, "findings": [f.to_dict() for f in self.findings], "passed": list(self.passed),
                "skipped": dict(self.skipped), "elapsed_s": round(self.elapsed_s, 3)}

    def to_json(self, indent: int | None = 2) -> str:
        """The report as a JSON string (strict JSON: no ``NaN``/``Infinity`` literals).

        Example:
            >>> report = Report([Finding("nan-loss", "error", "The loss is inf", {"loss": float("inf")})])
            >>> report.to_json(None)[:60]
            '{"ok": false, "findings": [{"code": "nan-loss", "severity": '
        """
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def __str__(self) -> str:
        errors, warnings = len(self.by_severity("error")), len(self.by_severity("warning"))
        if not self.findings:
            head = "dendrite doctor: no problems found"
        else:
            head = f"dendrite doctor: {errors} error(s), {warnings} warning(s), " \
                   f"{len(self.findings) - errors - warnings} note(s) — most likely cause first"
        lines = [head]
        if self.findings:
            lines.append("")
        for number, finding in enumerate(self.findings, 1):
            lines.append(f"{number}. {finding}")
        if self.passed:
            lines += ["", "passed: " + ", ".join(self.passed)]
        if self.skipped:
            lines += ["skipped: " + "; ".join(f"{name} ({why})" for name, why in self.skipped.items())]
        if self.elapsed_s:
            lines.append(f"({self.elapsed_s:.1f} s)")
        return "\n".join(lines).rstrip()

    def __repr__(self) -> str:
        return f"Report(ok={self.ok}, codes={sorted(self.codes())})"

    def merge(self, other: Report) -> Report:
        """A new report with both reports' findings (duplicates of one code kept once, first wins).

        Example:
            >>> first = Report([Finding("lr-too-high", "error", "loss rises")], passed=["labels"])
            >>> second = Report([Finding("lr-too-high", "warning", "loss wobbles"),
            ...                  Finding("class-imbalance", "warning", "92% class 0")],
            ...                 passed=["nan-in-data"])
            >>> merged = first.merge(second)
            >>> [(f.code, f.severity) for f in merged.findings], merged.passed
            ([('lr-too-high', 'error'), ('class-imbalance', 'warning')], ['labels', 'nan-in-data'])
        """
        seen: set[str] = set()
        merged = []
        for finding in sorted(self.findings + other.findings, key=_rank):
            if finding.code not in seen:
                seen.add(finding.code)
                merged.append(finding)
        skipped = {**other.skipped, **self.skipped}
        return Report(merged, passed=sorted(set(self.passed) | set(other.passed)), skipped=skipped,
                      elapsed_s=self.elapsed_s + other.elapsed_s)
