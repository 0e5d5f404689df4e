"""How long ``dendrite.doctor.examine`` takes on the catalog's mlp, cnn and lstm recipes (digits, defaults).

Run: ``python benchmarks/doctor_timing.py`` (prints seconds per model, the median of 3 runs, and the
probes each one skipped). The setup is exactly what ``dendrite doctor MODEL`` examines
(:func:`dendrite.recipes.diagnose.examine_recipe`). Timing is measured here, never asserted in tests.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from dendrite.data import load_dataset  # noqa: E402
from dendrite.recipes.base import RunConfig  # noqa: E402
from dendrite.recipes.catalog import MODELS  # noqa: E402
from dendrite.recipes.diagnose import examine_recipe  # noqa: E402


def main(repeats: int = 3) -> None:
    splits = load_dataset("digits")
    for name in ("mlp", "cnn", "lstm"):
        times, report = [], None
        for _ in range(repeats):
            began = time.perf_counter()
            report = examine_recipe(MODELS[name], splits, RunConfig(name, "digits"))
            times.append(time.perf_counter() - began)
        print(f"{name:5s} examine: {statistics.median(times):6.2f} s (median of {repeats}); "
              f"findings={sorted(report.codes())} skipped={sorted(report.skipped)}")


if __name__ == "__main__":
    main()
