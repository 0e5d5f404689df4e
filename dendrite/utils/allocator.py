"""Keep freed array memory in the process, so that training steps do not page-fault it back in.

A training step allocates the same large arrays every time (activations, gradients, the columns of
a convolution) and frees them before the next. glibc's ``malloc`` serves a block of 128 KiB or more
with its own ``mmap`` and gives it back to the kernel on ``free``; it raises that threshold as it sees
large blocks freed, but it also trims the top of its heap whenever more than twice the threshold lies
free there. Either way the next step's arrays are fresh pages, and the kernel zero-fills each 4 KiB
page on first touch. Measured on a dendrite-only process, one thread (``benchmarks/alone.py``, CPU time):
the LeNet-like cnn step 65 ms with ~5,100 page faults, 56 ms with none; the LSTM step 39 ms with ~2,600,
34 ms with none.

``keep_freed_memory()`` sets glibc's two thresholds once (``mallopt``): blocks under
:data:`MMAP_THRESHOLD` (32 MiB, the ceiling glibc's own adaptive rule would reach) come from the heap
and are reused after ``free``; up to :data:`TRIM_THRESHOLD` (64 MiB) of free memory at the heap's top
stays mapped. ``import dendrite`` calls it. The cost: a process keeps up to 64 MiB more than it uses
(what PyTorch's advice to preload jemalloc or tcmalloc buys for the same reason). It changes no value.

It does nothing where the C library is not glibc (macOS, Windows, musl), and nothing when the
environment variable ``DENDRITE_KEEP_FREED_MEMORY`` is ``0``, or when the user set glibc's own
``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` (their choice wins).
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]

MMAP_THRESHOLD = 32 << 20
"""Blocks of at least this many bytes still get their own ``mmap`` (and go back to the kernel on free)."""
TRIM_THRESHOLD = 64 << 20
"""Free memory at the heap's top beyond this many bytes goes back to the kernel."""

# mallopt's parameter numbers (glibc's malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_OPT_OUT = "DENDRITE_KEEP_FREED_MEMORY"
_USER_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
_state = {"applied": None}  # None: not tried yet; then True or False


def _glibc():
    """The process's C library when it is glibc (has ``mallopt`` and ``gnu_get_libc_version``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded into this process
    except OSError:
        return None
    # only glibc has gnu_get_libc_version (musl has mallopt as a no-op stub)
    return libc if hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt") else None


def keep_freed_memory() -> bool:
    """Set glibc's thresholds (once per process); True when they are in effect.

    Example:
        >>> from dendrite.utils.allocator import keep_freed_memory
        >>> keep_freed_memory() in (True, False)
        True
    """
    if _state["applied"] is not None:
        return _state["applied"]
    applied = False
    if os.environ.get(_OPT_OUT, "1") != "0" and not any(os.environ.get(name) for name in _USER_VARIABLES):
        libc = _glibc()
        if libc is not None:
            libc.mallopt.argtypes, libc.mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            # mallopt returns 1 on success; setting either threshold switches glibc's adaptive rule off
            applied = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
                bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    _state["applied"] = applied
    return applied
