"""Hypothesis settings of the differential fuzzer (tests/fuzz/).

The regular suite loads the profile ``dendrite-fuzz``: derandomized (the same examples on every run),
no deadline (a slow example is never a failure) and a modest number of examples per family, so the
whole folder runs in about a minute on two cores. For a release check, ask for more examples:

    DENDRITE_FUZZ_EXAMPLES=2000 python -m pytest -q -p no:cacheprovider -n 2 tests/fuzz

``DENDRITE_FUZZ_SEED=<n>`` additionally draws a fresh, seeded set of examples instead of the fixed one.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("DENDRITE_FUZZ_EXAMPLES", "30"))
SEED = os.environ.get("DENDRITE_FUZZ_SEED")

settings.register_profile(
    "dendrite-fuzz",
    max_examples=EXAMPLES,
    derandomize=SEED is None,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.load_profile("dendrite-fuzz")
