"""dendrite.utils.allocator: import dendrite keeps freed array memory (glibc), so a step's arrays reuse it.

Each case runs in a fresh interpreter: the thresholds are process-wide and set once at import.
What is checked is the effect, counted by the kernel: page faults when an array of the size of a
training step's activations is freed and allocated again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dendrite.utils import allocator

glibc_only = pytest.mark.skipif(allocator._glibc() is None, reason="mallopt thresholds exist on glibc only")

# A step's pattern: three 8 MiB arrays alive at once (activations), all freed at the end, ten steps:
# the page faults of steps 2-11. glibc's adaptive rule alone serves 8 MiB blocks from its heap after the
# first free but trims the heap's top when more than twice that lies free, as 24 MiB does here: fresh
# pages then fault once per 4 KiB, 2,048 per array. Kept memory does not fault at all.
PROBE = """
import json, resource, sys
import dendrite
from dendrite.utils import allocator
import numpy as np
def step():
    arrays = [np.ones(2 << 20, np.float32) for _ in range(3)]
    del arrays
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"applied": allocator.keep_freed_memory(), "faults": faults}))
"""


def _probe(**environment) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DENDRITE_KEEP_FREED_MEMORY", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")}
    env.update(environment)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@glibc_only
def test_import_keeps_freed_memory_so_reallocating_does_not_fault():
    result = _probe()
    assert result["applied"] is True
    assert result["faults"] < 300  # thirty 8 MiB arrays from fresh pages would be 61,440 faults


@glibc_only
def test_opting_out_leaves_glibc_as_it_is_and_arrays_fault_again():
    result = _probe(DENDRITE_KEEP_FREED_MEMORY="0")
    assert result["applied"] is False
    assert result["faults"] > 10 * 500  # fresh pages every step (measured: ~1,050 faults per step)


@glibc_only
@pytest.mark.parametrize("variable", ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"])
def test_a_threshold_the_user_set_wins(variable):
    assert _probe(**{variable: str(1 << 20)})["applied"] is False


def test_keep_freed_memory_is_idempotent_and_reports_its_state():
    first = allocator.keep_freed_memory()
    assert allocator.keep_freed_memory() is first
    opted_out = os.environ.get("DENDRITE_KEEP_FREED_MEMORY") == "0" or any(
        os.environ.get(v) for v in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"))
    assert first is (allocator._glibc() is not None and not opted_out)
