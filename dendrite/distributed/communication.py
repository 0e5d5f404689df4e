"""The process group over MPI: ``init``, rank and world size, ``barrier``, ``all_reduce``, ``broadcast``.

dendrite does not implement its own message passing: it uses MPI through mpi4py, the
engine ChainerMN and Horovod build on. A job is started by MPI's launcher, which runs
the same script K times (``mpirun -n K python train.py``); each copy is a *rank*
(0 .. K-1) and :func:`init` connects it to the others.

The names follow ``torch.distributed``: :func:`init_process_group` (also :func:`init`),
:func:`is_initialized`, :func:`get_rank`, :func:`get_world_size`, :func:`barrier`,
:func:`all_reduce` and :func:`broadcast` (both in place, on a tensor or a NumPy array),
:class:`ReduceOp`. mpi4py is imported by :func:`init`, never by ``import dendrite``.

A job never hangs on a dead rank:

* every wait here polls its requests (``MPI_Testall``) instead of blocking inside MPI, so
  the rank stays responsive to signals, and gives up after ``timeout`` seconds
  (``init(timeout=...)``, or the ``DENDRITE_DISTRIBUTED_TIMEOUT`` environment variable;
  default 300 s) with a message naming the operation and the rank;
* an uncaught exception on one rank prints its traceback with the rank's number and then
  calls ``MPI_Abort``, which ends every rank of the job (instead of leaving the others
  waiting in their next collective);
* when ``mpirun`` ends the job because a rank died (``mpirun`` notices a process that
  exits early and terminates the others), each surviving rank exits at once on that
  ``SIGTERM``, with a one-line note (best effort: ``mpirun`` may have stopped forwarding output).

Without ``mpirun`` (a plain ``python train.py``), ``init()`` makes a group of one: rank 0 of 1.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from typing import Any

import numpy as np

__all__ = ["ReduceOp", "init", "init_process_group", "is_available", "is_initialized", "get_rank",
           "get_world_size", "barrier", "all_reduce", "broadcast", "wait_all", "DistributedError"]

DEFAULT_TIMEOUT = 300.0  # seconds one collective may take before the job is declared stuck
SPIN_SECONDS = 0.002  # how long a wait polls MPI without sleeping (see wait_all)
_yield_core = getattr(os, "sched_yield", lambda: time.sleep(0))  # sched_yield is not on every platform

_group: dict[str, Any] = {"comm": None, "MPI": None, "timeout": DEFAULT_TIMEOUT}


class DistributedError(RuntimeError):
    """A collective operation failed or timed out (another rank died, or ranks disagreed)."""


class ReduceOp:
    """How :func:`all_reduce` combines the ranks' values (``torch.distributed.ReduceOp``'s names).

    Example:
        >>> ReduceOp.SUM, ReduceOp.AVG
        ('sum', 'avg')
    """

    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"


def is_available() -> bool:
    """Whether mpi4py can be imported (the extra ``pip install "dendrite[mpi]"``).

    Example:
        >>> isinstance(is_available(), bool)
        True
    """
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            "dendrite.distributed needs mpi4py and an MPI library: pip install \"dendrite[mpi]\" "
            f"(mpi4py + Open MPI; then launch with `mpirun -n K ...`). Import failed: {error}"
        ) from None
    return MPI


def init(timeout: float | None = None) -> None:
    """Join the MPI job this process was started in (a group of one without ``mpirun``).

    ``timeout``: seconds any one collective may wait before it fails with
    :class:`DistributedError` (default: ``DENDRITE_DISTRIBUTED_TIMEOUT`` or 300). Calling it
    again changes only the timeout. Installs the fault handling described in the module docstring.

    Example:
        >>> init(); get_rank(), get_world_size(), is_initialized()   # a plain process: rank 0 of 1
        (0, 1, True)
    """
    if timeout is None:
        timeout = float(os.environ.get("DENDRITE_DISTRIBUTED_TIMEOUT", DEFAULT_TIMEOUT))
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    _group["timeout"] = float(timeout)
    if _group["comm"] is not None:
        return
    MPI = _import_mpi()
    comm = MPI.COMM_WORLD
    comm.Set_errhandler(MPI.ERRORS_RETURN)  # errors become Python exceptions (mpi4py's MPI.Exception)
    _group["MPI"], _group["comm"] = MPI, comm
    if comm.Get_size() > 1:
        _install_fault_handlers(comm)


def init_process_group(backend: str = "mpi", timeout: float | None = None) -> None:
    """``torch.distributed.init_process_group``'s name for :func:`init` (only the ``'mpi'`` backend).

    Example:
        >>> init_process_group("mpi"); get_world_size()
        1
    """
    if backend != "mpi":
        raise ValueError(f"dendrite.distributed runs over MPI only; got backend={backend!r}, expected 'mpi'")
    init(timeout)


def _install_fault_handlers(comm) -> None:
    rank, size = comm.Get_rank(), comm.Get_size()
    previous_hook = sys.excepthook

    def abort_job(kind, value, trace):
        text = "".join(traceback.format_exception(kind, value, trace))
        sys.stderr.write("".join(f"[rank {rank}] {line}\n" for line in text.rstrip().splitlines()))
        sys.stderr.write(f"dendrite.distributed: rank {rank} of {size} failed ({kind.__name__}: {value}); "
                         "ending the whole job with MPI_Abort so that no rank waits for it forever\n")
        sys.stderr.flush()
        if kind is KeyboardInterrupt:
            previous_hook(kind, value, trace)
        comm.Abort(1)

    def ended_from_outside(signum, frame):
        os.write(2, (f"dendrite.distributed: rank {rank} of {size} was ended by mpirun (signal {signum}): "
                     "another rank of the job failed or the job was cancelled\n").encode())
        os._exit(128 + signum)

    sys.excepthook = abort_job
    try:
        signal.signal(signal.SIGTERM, ended_from_outside)
    except ValueError:  # not the main thread: leave signals alone
        pass


def _comm():
    comm = _group["comm"]
    if comm is None:
        raise RuntimeError("dendrite.distributed is not initialised: call dendrite.distributed.init() first "
                           "(in every process of the job, e.g. one started by `mpirun -n 2 python run.py`)")
    return comm


def is_initialized() -> bool:
    """Whether :func:`init` has run in this process.

    Example:
        >>> init(); is_initialized()
        True
    """
    return _group["comm"] is not None


def get_rank() -> int:
    """This process's number in the job, 0 .. world size - 1 (rank 0 writes the files).

    Example:
        >>> init(); get_rank()
        0
    """
    return _comm().Get_rank()


def get_world_size() -> int:
    """How many processes the job has (``mpirun -n K``: K).

    Example:
        >>> init(); get_world_size()
        1
    """
    return _comm().Get_size()


def wait_all(requests: list, what: str) -> None:
    """Wait for non-blocking MPI requests, polling, so that a dead peer cannot hang this rank forever.

    Raises :class:`DistributedError` naming ``what`` after the timeout set by :func:`init`, or
    when MPI reports an error.

    Example:
        >>> init(); wait_all([], "nothing")
    """
    if not requests:
        return
    MPI, timeout = _group["MPI"], _group["timeout"]
    start = time.monotonic()
    # MPI moves a non-blocking collective forward only inside MPI calls (Open MPI has no progress
    # thread): poll without sleeping for the first SPIN seconds (yielding the core to the other ranks
    # of an oversubscribed machine), then sleep between polls so that a long wait does not burn a core.
    spin_until = start + SPIN_SECONDS
    try:
        while not MPI.Request.Testall(requests):
            now = time.monotonic()
            if now < spin_until:
                _yield_core()
                continue
            if now - start > timeout:
                raise DistributedError(
                    f"dendrite.distributed: rank {get_rank()} of {get_world_size()} waited more than "
                    f"{timeout:g} s for {what}; another rank has probably died or stopped calling the same "
                    "collectives (set a longer limit with init(timeout=...) or DENDRITE_DISTRIBUTED_TIMEOUT)")
            time.sleep(1e-4)
    except MPI.Exception as error:
        raise DistributedError(f"dendrite.distributed: rank {get_rank()} of {get_world_size()}: {what} "
                               f"failed in MPI: {error}") from None


def _buffer(value) -> tuple[np.ndarray, Any]:
    """``(contiguous array to communicate, tensor or None)`` for a tensor or a NumPy array."""
    array = getattr(value, "array", None)
    tensor = value if array is not None else None
    if array is None:
        if not isinstance(value, np.ndarray):
            raise TypeError(f"expected a dendrite Tensor or a NumPy array, got {type(value).__name__}")
        array = value
    if array.dtype.kind not in "biuf":
        raise TypeError(f"cannot communicate an array of dtype {array.dtype}; expected numbers or booleans")
    return array, tensor


def _store(result: np.ndarray, array: np.ndarray, tensor) -> None:
    """Write ``result`` into the caller's array in place (or replace the tensor's array when it cannot)."""
    if result is array:
        return
    if array.flags.writeable:
        np.copyto(array, result)
    elif tensor is not None:
        tensor.data = result
    else:
        raise ValueError("all_reduce/broadcast write in place, and this NumPy array is read-only")


def all_reduce(tensor, op: str = ReduceOp.SUM) -> None:
    """Combine ``tensor`` over every rank, in place: afterwards each rank holds the same result.

    ``op``: ``'sum'`` (default), ``'avg'``, ``'max'``, ``'min'`` or ``'product'`` (:class:`ReduceOp`).
    Shapes: any; every rank must pass the same shape and dtype.

    Example:
        >>> import dendrite
        >>> init(); x = dendrite.tensor([1.0, 2.0]); all_reduce(x); x   # one rank: unchanged
        tensor([1., 2.])
    """
    comm, MPI = _comm(), _group["MPI"]
    operations = {"sum": MPI.SUM, "avg": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN, "product": MPI.PROD}
    if op not in operations:
        raise ValueError(f"unknown reduce op {op!r}; expected one of {sorted(operations)}")
    array, owner = _buffer(tensor)
    send = np.ascontiguousarray(array)
    result = np.empty_like(send)
    wait_all([comm.Iallreduce(send, result, op=operations[op])], f"all_reduce({op}) of shape {array.shape}")
    if op == "avg":
        result = result / comm.Get_size() if result.dtype.kind != "f" else np.divide(
            result, comm.Get_size(), out=result)
    _store(result.astype(array.dtype, copy=False), array, owner)


def broadcast(tensor, src: int = 0) -> None:
    """Copy rank ``src``'s ``tensor`` into every other rank's ``tensor``, in place.

    Shapes: any; every rank must pass the same shape and dtype.

    Example:
        >>> import dendrite
        >>> init(); x = dendrite.tensor([3.0]); broadcast(x, src=0); x
        tensor([3.])
    """
    comm = _comm()
    if not 0 <= src < comm.Get_size():
        raise ValueError(f"src must be a rank in 0..{comm.Get_size() - 1}, got {src}")
    array, owner = _buffer(tensor)
    if comm.Get_size() == 1:
        return
    in_place = array.flags.c_contiguous and array.flags.writeable
    buffer = array if in_place else np.ascontiguousarray(array).copy()
    wait_all([comm.Ibcast(buffer, root=src)], f"broadcast from rank {src} of shape {array.shape}")
    _store(buffer, array, owner)


def barrier() -> None:
    """Wait until every rank has reached this call.

    Example:
        >>> init(); barrier()
    """
    comm = _comm()
    if comm.Get_size() > 1:
        wait_all([comm.Ibarrier()], "barrier")
