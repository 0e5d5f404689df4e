"""Precision: sound setups get no error and no warning (false alarms are listed when they happen)."""

from __future__ import annotations

import pytest

from dendrite.doctor import examine
from tests.doctor.setups import HEALTHY

# These tests check what the probes find, not how long they take: a budget no machine reaches
# (a 30 s budget skipped a probe once on a loaded 2-core machine). test_tiny_budget_* checks the budget.
UNHURRIED = 3600


@pytest.mark.parametrize("name", sorted(HEALTHY))
@pytest.mark.parametrize("seed", [0, 1])
def test_sound_setup_has_no_error_or_warning(name, seed):
    report = examine(**HEALTHY[name](seed), budget_s=UNHURRIED, seed=seed)
    alarms = [(f.code, f.severity) for f in report.findings if f.severity != "info"]
    assert report.ok and not alarms, f"false alarms on {name} (seed {seed}): {alarms}\n{report}"
    assert not report.skipped, report.skipped
