"""How long ``dendrite.doctor.examine`` takes on the catalog's mlp, cnn and lstm recipes (digits, defaults).

Run: ``python benchmarks/doctor_timing.py`` (prints seconds per model, the median of 3 runs, and the
probes each one skipped). Timing is measured here, never asserted in tests.
"""

from __future__ import annotations

import statistics
import time

from dendrite import manual_seed
from dendrite.data import DataLoader, load_dataset
from dendrite.doctor import examine
from dendrite.recipes.base import make_optimizer
from dendrite.recipes.catalog import MODELS


def main(repeats: int = 3) -> None:
    splits = load_dataset("digits")
    for name in ("mlp", "cnn", "lstm"):
        spec = MODELS[name]
        settings = spec.defaults(splits)
        times, report = [], None
        for _ in range(repeats):
            manual_seed(0)
            model = spec.build(splits, settings)
            optimizer = make_optimizer(settings["optimizer"], model.parameters(), lr=settings["lr"],
                                       weight_decay=settings.get("weight_decay", 0.0))
            loader = DataLoader(splits.train_dataset(), batch_size=settings["batch_size"], shuffle=True,
                                seed=0)
            began = time.perf_counter()
            report = examine(model, loader, optimizer=optimizer, val_data=splits.test_dataset())
            times.append(time.perf_counter() - began)
        print(f"{name:5s} examine: {statistics.median(times):6.2f} s (median of {repeats}); "
              f"findings={sorted(report.codes())} skipped={sorted(report.skipped)}")


if __name__ == "__main__":
    main()
