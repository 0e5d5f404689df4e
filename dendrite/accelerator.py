"""``dendrite.accelerator``: PyTorch 2.x's ``torch.accelerator``: the GPU when CuPy sees one, else none.

With ``dendrite[cuda]`` and a GPU (docs/cuda.md) the accelerator is ``cuda:0`` and these
functions answer from :mod:`dendrite.cuda`; otherwise they answer as a CPU-only PyTorch:

``torch.accelerator`` asks "is there *any* accelerator (CUDA, MPS, XPU...)?". dendrite
has none, so newer device-agnostic scripts
(``device = torch.accelerator.current_accelerator() or torch.device("cpu")``)
pick the CPU, exactly as they do under a CPU-only PyTorch.
"""

from __future__ import annotations

from dendrite import backend
from dendrite.devices import device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "synchronize"]

_NONE = "Cannot access accelerator device when none is available: dendrite runs on the CPU only"


def is_available() -> bool:
    """True when CuPy sees a GPU (``dendrite.cuda.is_available()``); False otherwise.

    Example:
        >>> import dendrite
        >>> dendrite.accelerator.is_available()
        False
    """
    return backend.device_module_or_none("cuda") is not None


def current_accelerator(check_available: bool = False) -> device | None:
    """``device(type='cuda')`` with a GPU; ``None`` without one, so callers fall back to the CPU.

    Example:
        >>> import dendrite
        >>> dendrite.accelerator.current_accelerator() or dendrite.device("cpu")
        device(type='cpu')
    """
    return device("cuda") if is_available() else None


def device_count() -> int:
    """1 with a GPU (dendrite uses one), 0 without.

    Example:
        >>> import dendrite
        >>> dendrite.accelerator.device_count()
        0
    """
    return int(is_available())


def current_device_index() -> int:
    """0 with a GPU; ``RuntimeError`` when no accelerator is available, as PyTorch.

    Example:
        >>> import dendrite
        >>> dendrite.accelerator.current_device_index()
        Traceback (most recent call last):
        ...
        RuntimeError: Cannot access accelerator device when none is available: dendrite runs on the CPU only
    """
    if not is_available():
        raise RuntimeError(_NONE)
    return 0


def synchronize(device=None) -> None:
    """Wait for the GPU's queued work; ``RuntimeError`` when no accelerator is available, as PyTorch.

    Example:
        >>> import dendrite
        >>> dendrite.accelerator.synchronize()
        Traceback (most recent call last):
        ...
        RuntimeError: Cannot access accelerator device when none is available: dendrite runs on the CPU only
    """
    if not is_available():
        raise RuntimeError(_NONE)
    backend.device_module_or_none("cuda").cuda.Device().synchronize()
