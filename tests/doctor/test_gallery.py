"""The gallery: every classic mistake is matched by the doctor's top finding."""

from __future__ import annotations

from dendrite.doctor import format_gallery, gallery
from dendrite.doctor.gallery import MISTAKES


def test_every_gallery_row_matches():
    rows = gallery(seed=0)
    assert len(rows) == len(MISTAKES) >= 20
    mismatched = [(r.mistake, r.expected, r.top_finding) for r in rows if not r.matched]
    assert not mismatched, format_gallery(rows)
    assert all(r.symptom for r in rows)
    table = format_gallery(rows)
    assert table.count("\n| ") == len(rows) and f"{len(rows)} of {len(rows)} mistakes matched" in table
