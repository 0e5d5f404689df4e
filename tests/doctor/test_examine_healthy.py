"""Precision: sound setups get no error and no warning (false alarms are listed when they happen)."""

from __future__ import annotations

import pytest

from dendrite.doctor import examine
from tests.doctor.setups import HEALTHY


@pytest.mark.parametrize("name", sorted(HEALTHY))
@pytest.mark.parametrize("seed", [0, 1])
def test_sound_setup_has_no_error_or_warning(name, seed):
    report = examine(**HEALTHY[name](seed), budget_s=30, seed=seed)
    alarms = [(f.code, f.severity) for f in report.findings if f.severity != "info"]
    assert report.ok and not alarms, f"false alarms on {name} (seed {seed}): {alarms}\n{report}"
    assert not report.skipped, report.skipped
