"""Limit the BLAS thread pool while training small networks.

NumPy hands matrix products to a multi-threaded BLAS (OpenBLAS here). For the
small matrices of the built-in datasets (a batch of 32 8x8 digits), starting
and synchronising the BLAS threads costs more than the arithmetic: measured on
this project's 2-core machine, a LeNet step on digits took 16 ms with one
thread and 60-70 ms with two under load.

Inside the library every matrix product decides for itself
(:mod:`dendrite.utils.blas`): one thread below 8 MFLOP, the pool above. The
pool is the maximum: OpenBLAS's default (one thread per core), or what
:func:`set_num_threads` or ``threadpoolctl`` set; a count fixed in the
environment (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``...) is left alone.
The recipes go further and train with one BLAS thread throughout
(:func:`blas_threads`): their networks are small.

``threadpoolctl`` (a small, well-kept package, part of the ``train`` and ``test``
extras) does the work; without it :func:`blas_threads` is a no-op, while
:func:`set_num_threads` and :func:`get_num_threads` (PyTorch's
``torch.set_num_threads``) raise an ``ImportError`` naming the extra: a thread
count the user asked for must not be silently ignored.
"""

from __future__ import annotations

import contextlib
import os

from dendrite.utils.blas import USER_VARIABLES

__all__ = ["blas_threads", "set_num_threads", "get_num_threads"]

_NEEDS_THREADPOOLCTL = ("{who} needs the threadpoolctl package to control NumPy's BLAS threads: "
                        "pip install threadpoolctl (or dendrite[train])")
# The limiter set_num_threads made last (threadpoolctl applies a limit when the object is created).
_limit = []


@contextlib.contextmanager
def blas_threads(limit: int = 1):
    """Context manager: at most ``limit`` BLAS threads inside (unless the environment sets the count).

    Example:
        >>> with blas_threads(1):
        ...     pass
    """
    user_choice = any(os.environ.get(name) for name in USER_VARIABLES)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is None or user_choice:
        yield
        return
    with threadpool_limits(limits=limit, user_api="blas"):
        yield


def _threadpoolctl(who: str):
    try:
        import threadpoolctl
    except ImportError:
        raise ImportError(_NEEDS_THREADPOOLCTL.format(who=who)) from None
    return threadpoolctl


def set_num_threads(num_threads: int) -> None:
    """Use at most ``num_threads`` threads in the BLAS behind NumPy (matrix products, convolutions).

    PyTorch's ``torch.set_num_threads``: it sets the intra-op pool, which in
    dendrite is the BLAS pool (dendrite's own Python code runs in one thread).
    It is a maximum: as in PyTorch, a product too small to gain from threads
    runs on one (:mod:`dendrite.utils.blas`). The limit holds for the rest of
    the process. Needs ``threadpoolctl``.

    Example:
        >>> import dendrite
        >>> before = dendrite.get_num_threads()
        >>> dendrite.set_num_threads(1)
        >>> dendrite.get_num_threads()
        1
        >>> dendrite.set_num_threads(before)
    """
    if isinstance(num_threads, bool) or not isinstance(num_threads, int):
        raise TypeError(f"set_num_threads expects an int, but got {type(num_threads).__name__}")
    if num_threads <= 0:
        raise ValueError(f"set_num_threads expects a positive integer, got {num_threads}")
    threadpoolctl = _threadpoolctl("set_num_threads")
    from dendrite.backend import xp  # noqa: F401  (NumPy's BLAS must be loaded for threadpoolctl to find it)

    _limit[:] = [threadpoolctl.threadpool_limits(limits=num_threads, user_api="blas")]


def get_num_threads() -> int:
    """The number of threads NumPy's BLAS uses now (PyTorch's ``torch.get_num_threads``).

    Needs ``threadpoolctl``; 1 when NumPy has no BLAS library that reports a pool.

    Example:
        >>> import dendrite
        >>> dendrite.get_num_threads() >= 1
        True
    """
    threadpoolctl = _threadpoolctl("get_num_threads")
    from dendrite.backend import xp  # noqa: F401  (NumPy's BLAS must be loaded for threadpoolctl to find it)

    pools = [info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]
    return max(pools, default=1)
