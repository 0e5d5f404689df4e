"""Matrix products that run on one BLAS thread when they are too small for more.

OpenBLAS splits a matrix product over its whole thread pool as soon as it is
larger than m·n·k = 262,144 (its own ``GEMM_MULTITHREAD_THRESHOLD``; below that
it already runs one thread). For the products of small networks, a few hundred
thousand to a few million multiply-adds, the threads' start and synchronisation
cost more than they save, and when the cores are busy with other work a product
waits for its slowest thread: on this project's 2-core machine under load a GRU
step took 293 ms with two threads and 59 ms with one. So dendrite asks for one
thread per product below :data:`SERIAL_BELOW_FLOPS` and leaves larger products
to the pool as it is.

The policy, per product of ``2·m·k·n`` FLOPs (one matrix of a batch):

* ``flops <= 524,288`` (OpenBLAS's own threshold): nothing to do, it runs serially;
* ``flops < SERIAL_BELOW_FLOPS``: one thread for this product, then the count is put back;
* larger: the pool as the user left it (``dendrite.set_num_threads(n)``,
  ``threadpoolctl.threadpool_limits``, or OpenBLAS's default: one per core).

Never more threads than the user allowed: the switch only lowers the count,
for the duration of one product, and reads the count each time (a
``threadpool_limits`` block is seen at once). When the user fixed the count in
the environment (``OPENBLAS_NUM_THREADS``, ``GOTO_NUM_THREADS``,
``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``), that choice wins and dendrite switches
nothing. It also switches nothing when NumPy's BLAS is not OpenBLAS with its
own (pthreads) pool, when ``threadpoolctl`` (used once, to find the library) is
missing, and outside the first thread that switched (OpenBLAS's pool is one per
process). The switch is two ``ctypes`` calls to ``openblas_get_num_threads`` /
``openblas_set_num_threads`` (about 0.1 µs each), not ``threadpool_limits``
(about 300 µs).

Results: OpenBLAS's one-thread and pooled products can differ in the last bits
(the partial sums are added in another order), each within float32's error bound
of the exact product, and each thread count repeats its own bits. So a product in
the serial range rounds as OpenBLAS's one-thread product does, on every machine
(checked by tests/test_blas_switch.py; benchmarks/README.md has the measurement).
"""

from __future__ import annotations

import os
import threading

from dendrite.backend import xp

__all__ = ["SERIAL_BELOW_FLOPS", "dot", "matmul", "serial_threads", "tensordot", "threads_for"]

SERIAL_BELOW_FLOPS = 8_000_000
"""Products of fewer FLOPs (2·m·k·n) run on one BLAS thread; 0 turns the policy off.

Measured with benchmarks/blas_threshold.py (benchmarks/README.md, "How the threshold was
chosen"): below 8 MFLOP a second thread saved 0-35 % (at most ~30 µs) while the other core was
free, and cost 30-50 ms per product while another job held it; from 8 MFLOP up it saved 35-45 %.
"""

OPENBLAS_SERIAL_FLOPS = 2 * 65536 * 4
"""At or below this OpenBLAS itself runs a product on one thread (``SMP_THRESHOLD_MIN * 4``)."""

USER_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

_switch = {"looked_up": False, "get": None, "set": None, "owner": None}


def _find_openblas() -> None:
    """Look the library up once: the ctypes functions, or None when dendrite must not switch."""
    _switch["looked_up"] = True
    if any(os.environ.get(name) for name in USER_VARIABLES):
        return  # the user fixed the count: theirs wins
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return
    for library in ThreadpoolController().lib_controllers:
        if library.internal_api != "openblas" or getattr(library, "threading_layer", None) != "pthreads":
            continue  # with OpenMP each calling thread has its own pool: leave it to the user
        affixes = library._find_affixes()
        if affixes is None:
            continue
        prefix, suffix = affixes
        _switch["get"] = getattr(library.dynlib, f"{prefix}openblas_get_num_threads{suffix}")
        _switch["set"] = getattr(library.dynlib, f"{prefix}openblas_set_num_threads{suffix}")
        _switch["owner"] = threading.get_ident()
        return


def _reset() -> None:
    """Forget the lookup (tests change the environment, then look again)."""
    _switch.update(looked_up=False, get=None, set=None, owner=None)


def _serial() -> int:
    """Drop to one thread; the count to put back afterwards, or 0 when nothing was changed."""
    if not _switch["looked_up"]:
        _find_openblas()
    get = _switch["get"]
    if get is None or threading.get_ident() != _switch["owner"]:
        return 0
    count = get()
    if count <= 1:
        return 0
    _switch["set"](1)
    return count


def threads_for(flops: float) -> int:
    """The BLAS threads a product of ``flops`` (2·m·k·n) runs on now: 1 when small, else the pool.

    Example:
        >>> from dendrite.utils.blas import threads_for
        >>> threads_for(2 * 32 * 16 * 16)
        1
    """
    if flops <= OPENBLAS_SERIAL_FLOPS:
        return 1
    if not _switch["looked_up"]:
        _find_openblas()
    get = _switch["get"]
    if get is None:  # dendrite does not switch: the pool as it is
        try:
            from threadpoolctl import threadpool_info
        except ImportError:  # the count cannot be read: OpenBLAS's default
            return os.cpu_count() or 1
        return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"),
                   default=1)
    return 1 if flops < SERIAL_BELOW_FLOPS and threading.get_ident() == _switch["owner"] else get()


class serial_threads:
    """Context manager: one BLAS thread inside when ``flops`` is in the serial range, else nothing.

    For a kernel whose products all have one size (a recurrent loop); ``matmul`` decides per product.

    Example:
        >>> from dendrite.utils.blas import serial_threads
        >>> with serial_threads(2 * 32 * 256 * 768):
        ...     pass
    """

    __slots__ = ("flops", "previous")

    def __init__(self, flops: float):
        self.flops, self.previous = flops, 0

    def __enter__(self):
        if OPENBLAS_SERIAL_FLOPS < self.flops < SERIAL_BELOW_FLOPS:
            self.previous = _serial()
        return self

    def __exit__(self, *exc_info):
        if self.previous:
            _switch["set"](self.previous)
            self.previous = 0
        return False


def matmul(a, b, out=None):
    """``xp.matmul(a, b, out=out)`` on one BLAS thread when each product is small (see the module).

    The work counted is one matrix product of a batch (NumPy calls the BLAS once per matrix).

    Example:
        >>> import numpy as np
        >>> from dendrite.utils.blas import matmul
        >>> matmul(np.ones((2, 3)), np.ones((3, 4))).shape
        (2, 4)
    """
    k = a.shape[-1]
    flops = 2 * k * (a.shape[-2] if a.ndim > 1 else 1) * (b.shape[-1] if b.ndim > 1 else 1)
    if OPENBLAS_SERIAL_FLOPS < flops < SERIAL_BELOW_FLOPS:
        previous = _serial()
        if previous:
            try:
                return xp.matmul(a, b, out=out)
            finally:
                _switch["set"](previous)
    return xp.matmul(a, b, out=out)


def dot(a, b):
    """``a.dot(b)`` for 2-D ``a`` and ``b``, on one BLAS thread when the product is small.

    ``dot`` has about half the call overhead of ``matmul``, which counts for small layers.

    Example:
        >>> import numpy as np
        >>> from dendrite.utils.blas import dot
        >>> dot(np.ones((2, 3)), np.ones((3, 4))).shape
        (2, 4)
    """
    flops = 2 * a.size * b.shape[1]  # 2·m·k·n (size: no shape tuple to build, this runs per layer)
    if OPENBLAS_SERIAL_FLOPS < flops < SERIAL_BELOW_FLOPS:
        previous = _serial()
        if previous:
            try:
                return a.dot(b)
            finally:
                _switch["set"](previous)
    return a.dot(b)


def tensordot(a, b, axes: tuple[int, int]):
    """``xp.tensordot(a, b, axes=axes)`` contracting one axis of each, on one thread when small.

    NumPy turns it into one matrix product of 2·a.size·b.size / (the contracted length) FLOPs.

    Example:
        >>> import numpy as np
        >>> from dendrite.utils.blas import tensordot
        >>> tensordot(np.ones((2, 3, 4)), np.ones((5, 3)), axes=(1, 1)).shape
        (2, 4, 5)
    """
    flops = 2 * a.size * b.size // max(a.shape[axes[0]], 1)
    with serial_threads(flops):
        return xp.tensordot(a, b, axes=axes)
