"""Shared test setup: every test starts from dendrite's default global state."""

from __future__ import annotations

import pytest

import dendrite
from dendrite.autograd.grad_mode import state


@pytest.fixture(autouse=True)
def _fresh_global_state():
    """Restore the grad mode, anomaly mode and default dtype, whatever a test did to them."""
    yield
    state.grad_enabled = True
    state.anomaly_enabled = False
    if dendrite.get_default_dtype() != dendrite.float32:
        dendrite.set_default_dtype(dendrite.float32)
