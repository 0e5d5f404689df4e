"""``dendrite.backends`` and the determinism/precision switches: PyTorch's flags, accepted honestly.

Training scripts set GPU flags at the top (``torch.backends.cudnn.benchmark = True``,
``torch.backends.cuda.matmul.allow_tf32 = True``). dendrite computes on the CPU
with NumPy, so these flags are **stored and read back and change nothing**:
there is no cuDNN to benchmark and no TF32 matrix unit. They exist so that such
a script runs unchanged under ``import dendrite as torch``.

The same goes for :func:`use_deterministic_algorithms` and
:func:`set_float32_matmul_precision`: dendrite's CPU path is already
deterministic (one seed repeats a run exactly on the same machine) and its
float32 matrix products are always full float32 (NumPy's BLAS), which is
PyTorch's ``"highest"``.

Example:
    >>> import dendrite
    >>> dendrite.backends.cudnn.benchmark = True   # accepted; nothing to benchmark on the CPU
    >>> dendrite.backends.cudnn.benchmark, dendrite.backends.mps.is_available()
    (True, False)
    >>> dendrite.backends.cudnn.benchmark = False
"""

from __future__ import annotations

__all__ = ["cudnn", "cuda", "mps", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]


class _Cudnn:
    """``backends.cudnn``: the cuDNN flags, with PyTorch's defaults; stored, never used (no cuDNN here)."""

    def __init__(self) -> None:
        self.enabled = True
        self.benchmark = False
        self.benchmark_limit = None
        self.deterministic = False
        self.allow_tf32 = True

    def is_available(self) -> bool:
        """False: dendrite has no cuDNN."""
        return False

    def version(self) -> None:
        """``None``: no cuDNN library is loaded (PyTorch's answer on a CPU build)."""
        return None


class _Matmul:
    """``backends.cuda.matmul``: the CUDA matrix-product flags; stored, never used (no CUDA here)."""

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


class _Cuda:
    """``backends.cuda``: ``matmul`` flags and ``is_built()`` (False: no CUDA backend)."""

    def __init__(self) -> None:
        self.matmul = _Matmul()

    def is_built(self) -> bool:
        """False: dendrite was not built with CUDA."""
        return False


class _Mps:
    """``backends.mps``: Apple's Metal backend, absent here."""

    def is_available(self) -> bool:
        """False: dendrite has no MPS backend."""
        return False

    def is_built(self) -> bool:
        """False: dendrite was not built with MPS."""
        return False


cudnn = _Cudnn()
cuda = _Cuda()
mps = _Mps()

_deterministic = {"mode": False, "warn_only": False}
_PRECISIONS = ("highest", "high", "medium")
_matmul_precision = ["highest"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record PyTorch's determinism switch; dendrite's CPU operations are deterministic either way.

    Nothing changes: every dendrite operation already gives the same result for
    the same inputs and seed (no atomics, no autotuned kernels). The flag is kept
    so that :func:`are_deterministic_algorithms_enabled` reads it back.

    Example:
        >>> import dendrite
        >>> dendrite.use_deterministic_algorithms(True)
        >>> dendrite.are_deterministic_algorithms_enabled()
        True
        >>> dendrite.use_deterministic_algorithms(False)
    """
    for name, value in (("mode", mode), ("warn_only", warn_only)):
        if not isinstance(value, bool):
            raise TypeError(f"use_deterministic_algorithms(): argument '{name}' must be bool, "
                            f"not {type(value).__name__}")
    _deterministic.update(mode=mode, warn_only=warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """What :func:`use_deterministic_algorithms` last set (False at start).

    Example:
        >>> import dendrite
        >>> dendrite.are_deterministic_algorithms_enabled()
        False
    """
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """The ``warn_only`` that :func:`use_deterministic_algorithms` last set (False at start).

    Example:
        >>> import dendrite
        >>> dendrite.is_deterministic_algorithms_warn_only_enabled()
        False
    """
    return _deterministic["warn_only"]


def set_float32_matmul_precision(precision: str) -> None:
    """Record ``"highest"``, ``"high"`` or ``"medium"``; dendrite always multiplies in full float32.

    On a GPU, PyTorch may then use TF32 or bfloat16 units for float32 products.
    NumPy's BLAS has none, so every float32 product here is ``"highest"``
    whatever is set. An unknown value raises ``ValueError`` (PyTorch only warns).

    Example:
        >>> import dendrite
        >>> dendrite.set_float32_matmul_precision("high")
        >>> dendrite.get_float32_matmul_precision()
        'high'
        >>> dendrite.set_float32_matmul_precision("highest")
    """
    if precision not in _PRECISIONS:
        raise ValueError(f"set_float32_matmul_precision: {precision!r} is not one of "
                         f"{', '.join(_PRECISIONS)}")
    _matmul_precision[0] = precision


def get_float32_matmul_precision() -> str:
    """What :func:`set_float32_matmul_precision` last set (``"highest"`` at start).

    Example:
        >>> import dendrite
        >>> dendrite.get_float32_matmul_precision()
        'highest'
    """
    return _matmul_precision[0]
