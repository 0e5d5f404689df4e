"""Limit the BLAS thread pool while training small networks.

NumPy hands matrix products to a multi-threaded BLAS (OpenBLAS here). For the
small matrices of the built-in datasets (a batch of 32 8x8 digits), starting
and synchronising the BLAS threads costs more than the arithmetic: measured on
this project's 2-core machine, a LeNet step on digits took 16 ms with one
thread and 60-70 ms with two under load. The recipes therefore train with one
BLAS thread; large workloads (the benchmarks) keep the default.

``threadpoolctl`` (a small, well-kept package, part of the ``train`` extra) does
the work; without it this is a no-op.
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["blas_threads"]


@contextlib.contextmanager
def blas_threads(limit: int = 1):
    """Context manager: at most ``limit`` BLAS threads inside (unless the user set OPENBLAS_NUM_THREADS).

    Example:
        >>> with blas_threads(1):
        ...     pass
    """
    user_choice = any(os.environ.get(name) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                         "MKL_NUM_THREADS"))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is None or user_choice:
        yield
        return
    with threadpool_limits(limits=limit, user_api="blas"):
        yield
