"""Every public name outside the engine shows a runnable example (scripts/doc_examples.py).

The examples themselves run as doctests in the normal test run (``--doctest-modules`` in
pyproject.toml); this checks that none is missing.
"""

from __future__ import annotations

import runpy
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "doc_examples.py"


def test_every_public_name_shows_an_example():
    public_names = runpy.run_path(str(SCRIPT))["public_names"]
    names = list(public_names())
    assert len(names) > 500, "the scan found too few public names; is scripts/doc_examples.py broken?"
    missing = [name for _, name, how in names if not how]
    assert not missing, "public names without a runnable example:\n" + "\n".join(missing)
