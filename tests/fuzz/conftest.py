"""Hypothesis settings of the differential fuzzer (tests/fuzz/).

Every fuzz test runs under the settings ``FUZZ`` (also registered as the Hypothesis profile
``dendrite-fuzz``; applied per test, so the other Hypothesis tests keep their own): derandomized (the
same examples on every run), no deadline (a slow example is never a failure) and a modest number of
examples per family (30), so the whole folder runs in well under a minute on two cores. For a release
check, ask for more examples:

    DENDRITE_FUZZ_EXAMPLES=2000 python -m pytest -q -p no:cacheprovider -n 2 tests/fuzz

``DENDRITE_FUZZ_RANDOM=1`` draws fresh random examples instead of the fixed set (a failure prints the
``@reproduce_failure`` line that replays it). Exclusions live in the strategies, each with its reason.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("DENDRITE_FUZZ_EXAMPLES", "30"))
RANDOM = os.environ.get("DENDRITE_FUZZ_RANDOM", "") not in ("", "0")

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=not RANDOM,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile("dendrite-fuzz", FUZZ)
