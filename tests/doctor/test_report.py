"""Report and Finding: ordering, ok, JSON without NaN literals, readable text."""

from __future__ import annotations

import json

import pytest

from dendrite.doctor import Finding, Report


def test_findings_are_ordered_errors_first_then_root_cause():
    report = Report([
        Finding("overfitting", "warning", "train much better than val"),
        Finding("lr-too-high", "error", "loss rises"),
        Finding("nan-in-data", "error", "NaN inputs"),
        Finding("class-imbalance", "warning", "skewed"),
    ])
    expected = ["nan-in-data", "lr-too-high", "class-imbalance", "overfitting"]
    assert [f.code for f in report.findings] == expected
    assert not report.ok
    assert report.codes() == {"overfitting", "lr-too-high", "nan-in-data", "class-imbalance"}


def test_warnings_alone_leave_the_report_ok():
    assert Report([Finding("class-imbalance", "warning", "skewed")]).ok
    assert Report().ok and Report().codes() == set()


def test_json_has_no_non_finite_literals():
    evidence = {"loss": float("nan"), "ratio": float("inf"), "steps": [1.0, float("-inf")]}
    report = Report([Finding("nan-loss", "error", "loss is not finite", evidence)])
    text = report.to_json()
    assert "NaN" not in text and "Infinity" not in text
    evidence = json.loads(text)["findings"][0]["evidence"]
    assert evidence == {"loss": "nan", "ratio": "inf", "steps": [1.0, "-inf"]}


def test_text_names_code_evidence_and_fix():
    report = Report([Finding("dead-relu", "error", "62% of ReLU units never fire", {"dead_fraction": 0.62},
                             "Use nn.init.kaiming_normal_ or LeakyReLU.")], passed=["data"],
                    skipped={"overfit": "out of time"})
    text = str(report)
    for piece in ("1 error(s)", "dead-relu", "dead_fraction=0.62", "kaiming_normal_", "passed: data",
                  "overfit (out of time)"):
        assert piece in text


def test_a_finding_rejects_an_unknown_severity():
    with pytest.raises(ValueError, match="severity must be one of"):
        Finding("dead-relu", "fatal", "x")


def test_merge_keeps_one_finding_per_code_the_most_severe():
    a = Report([Finding("lr-too-high", "warning", "ratio high")], passed=["data"])
    b = Report([Finding("lr-too-high", "error", "diverged"), Finding("nan-loss", "error", "not finite")],
               passed=["grads"])
    merged = a.merge(b)
    assert [(f.code, f.severity) for f in merged.findings] == [("lr-too-high", "error"),
                                                               ("nan-loss", "error")]
    assert merged.passed == ["data", "grads"]
