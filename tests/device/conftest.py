"""The devices the device tests run on: the fake CUDA device always, a real GPU where one is present.

``fake-cuda`` plugs :mod:`tests.device.fake_cupy` (a NumPy-backed stand-in for CuPy that refuses
implicit host conversion) in as dendrite's ``"cuda"`` array module; ``cuda`` uses CuPy itself and
skips with a clear reason on machines without CuPy or a GPU (this one, CI).
"""

from __future__ import annotations

import pytest

from dendrite import backend
from tests.device import fake_cupy

NO_GPU = "no CUDA device (cupy not installed or no GPU)"


def _real_cuda_present() -> bool:
    backend.reset_device_modules()
    return backend.device_module_or_none("cuda") is not None


@pytest.fixture(params=["fake-cuda", "cuda"])
def device(request):
    """``"cuda"``, backed by the fake device or by a real GPU; the previous backend is restored after."""
    if request.param == "fake-cuda":
        backend.use_device_module("cuda", fake_cupy)
    elif not _real_cuda_present():
        backend.reset_device_modules()
        pytest.skip(NO_GPU)
    yield "cuda"
    backend.reset_device_modules()


@pytest.fixture
def fake_cuda():
    """The fake CUDA device only (for tests about what a real GPU cannot show: host transfers)."""
    backend.use_device_module("cuda", fake_cupy)
    yield fake_cupy
    backend.reset_device_modules()
