"""``dendrite.accelerator``: PyTorch 2.x's ``torch.accelerator``, answered for a CPU-only library.

``torch.accelerator`` asks "is there *any* accelerator (CUDA, MPS, XPU...)?". dendrite
has none, so newer device-agnostic scripts
(``device = torch.accelerator.current_accelerator() or torch.device("cpu")``)
pick the CPU, exactly as they do under a CPU-only PyTorch.
"""

from __future__ import annotations

from dendrite.devices import device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "synchronize"]

_NONE = "Cannot access accelerator device when none is available: dendrite runs on the CPU only"


def is_available() -> bool:
    """False: no accelerator (GPU) is available to dendrite.

    Example:
        >>> import dendrite
        >>> dendrite.accelerator.is_available()
        False
    """
    return False


def current_accelerator(check_available: bool = False) -> device | None:
    """``None``: there is no accelerator, so callers fall back to the CPU.

    Example:
        >>> import dendrite
        >>> dendrite.accelerator.current_accelerator() or dendrite.device("cpu")
        device(type='cpu')
    """
    return None


def device_count() -> int:
    """0: no accelerator devices.

    Example:
        >>> import dendrite
        >>> dendrite.accelerator.device_count()
        0
    """
    return 0


def current_device_index() -> int:
    """Raise ``RuntimeError``, as PyTorch does when no accelerator is available.

    Example:
        >>> import dendrite
        >>> dendrite.accelerator.current_device_index()
        Traceback (most recent call last):
        ...
        RuntimeError: Cannot access accelerator device when none is available: dendrite runs on the CPU only
    """
    raise RuntimeError(_NONE)


def synchronize(device=None) -> None:
    """Raise ``RuntimeError``, as PyTorch does when no accelerator is available.

    Example:
        >>> import dendrite
        >>> dendrite.accelerator.synchronize()
        Traceback (most recent call last):
        ...
        RuntimeError: Cannot access accelerator device when none is available: dendrite runs on the CPU only
    """
    raise RuntimeError(_NONE)
