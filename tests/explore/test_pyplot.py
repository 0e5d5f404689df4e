"""The explorers' figures leave a chosen matplotlib backend alone (a notebook's inline backend above all)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")

PROGRAM = """
import matplotlib
{before}
from dendrite.explore.init import signal_stats
signal_stats("kaiming_normal", "relu", depth=2, width=4, samples=8).figure()
print(matplotlib.get_backend().lower())
"""


def _backend_after(before: str, **env) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"} | env
    done = subprocess.run([sys.executable, "-c", PROGRAM.format(before=before)], capture_output=True,
                          text=True, env=environment, timeout=120, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_a_backend_chosen_before_is_kept():
    # svg stands for Jupyter's inline backend: chosen, with pyplot loaded, before the figure is drawn
    assert _backend_after("matplotlib.use('svg')\nimport matplotlib.pyplot") == "svg"
    assert _backend_after("", MPLBACKEND="svg") == "svg"

