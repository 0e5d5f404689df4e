"""Shared test setup: every test starts from dendrite's default global state."""

from __future__ import annotations

import os

# Two pytest workers share two cores: one BLAS/OpenMP thread each avoids oversubscription
# (set before NumPy or torch is imported, which read these at load time).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import pytest  # noqa: E402

import dendrite  # noqa: E402
from dendrite.autograd.grad_mode import state  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_global_state():
    """Restore the grad mode, anomaly mode and default dtype, whatever a test did to them."""
    yield
    state.grad_enabled = True
    state.anomaly_enabled = False
    if dendrite.get_default_dtype() != dendrite.float32:
        dendrite.set_default_dtype(dendrite.float32)
