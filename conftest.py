"""Shared test setup for tests/ and for the docstring examples under dendrite/ (run by ``--doctest-modules``).

Every test and every docstring example starts from dendrite's default global state; each example
runs in a fresh temporary directory, so the files it writes never land in the checkout. A module
whose examples need an optional extra (onnx, torch, matplotlib ...) is left out of the doctest
collection when that extra is not installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path

# Two pytest workers share two cores: one BLAS/OpenMP thread each avoids oversubscription
# (set before NumPy or torch is imported, which read these at load time).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import pytest  # noqa: E402

# Imported here, before collection: pytest's importlib import mode executes a collected file a
# second time when its package is not imported yet, and a second copy of dendrite/tensor.py
# would register a second Tensor class (tests/test_tensor.py checks this).
import dendrite  # noqa: E402
from dendrite.autograd.grad_mode import state  # noqa: E402

# Docstring examples that need an optional package: the path (relative to this file) -> the packages.
NEEDS_EXTRAS = {
    "dendrite/interop/onnx_export": ("onnx",),
    "dendrite/onnx.py": ("onnx",),
    "dendrite/interop/torch_compat.py": ("torch",),
    "dendrite/train/plots.py": ("matplotlib",),
    "dendrite/data/image_folder.py": ("PIL",),
    "dendrite/data/image_decode.py": ("PIL",),
    # the playground's web server (the extra dendrite[playground])
    "dendrite/playground/app.py": ("starlette",),
    "dendrite/playground/http.py": ("starlette",),
    "dendrite/playground/explorers.py": ("starlette",),
    "dendrite/playground/session_routes.py": ("starlette",),
    "dendrite/playground/serve.py": ("starlette", "uvicorn"),
    "dendrite/playground/routes_init.py": ("starlette",),
    "dendrite/playground/routes_optim.py": ("starlette",),
    "dendrite/explore/optim.py": ("matplotlib",),
    "dendrite/explore/optim_landscape.py": ("matplotlib",),
    "dendrite/explore/optim_optimizers.py": ("matplotlib",),
    # the initialisation explorer's figures (their examples draw them)
    **{f"dendrite/explore/{name}.py": ("matplotlib",) for name in ("init", "init_figures", "init_training")},
    "dendrite/playground/routes_gan.py": ("starlette",),
    "dendrite/explore/gan.py": ("matplotlib",),  # the examples draw figures
    "dendrite/explore/gan_demo.py": ("matplotlib",),
    "dendrite/explore/gan_figures.py": ("matplotlib",),
    "dendrite/explore/pyplot.py": ("matplotlib",),
    # data parallel over MPI: the examples join a job of one (the extra dendrite[mpi])
    **{f"dendrite/distributed/{name}.py": ("mpi4py",) for name in ("__init__", "communication", "parallel",
                                                                    "trainer")},
    # running a lesson starts a Jupyter kernel (the extra dendrite[lessons])
    "dendrite/lessons/execute.py": ("nbclient", "nbformat", "ipykernel"),
    # the recipes that train save their plots
    **{f"dendrite/recipes/{name}.py": ("matplotlib",) for name in (
        "autoencoding", "classification", "forecasting", "gan", "language", "pictures", "runner",
        "sequence", "tour")},
}


def _missing(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is None
    except (ImportError, ValueError):
        return True


collect_ignore = [path for path, packages in NEEDS_EXTRAS.items() if any(map(_missing, packages))]

_PACKAGE = Path(__file__).resolve().parent / "dendrite"


def pytest_collect_file(file_path: Path, parent):
    """Import each package module the ordinary way before its docstring examples are collected.

    pytest's importlib mode would otherwise execute a module whose package is not imported yet
    a second time (the package's ``__init__`` imports it first): two copies of its classes, and
    examples that see the copy no other code uses. Imported normally, pytest reuses the module.
    """
    if file_path.suffix == ".py" and _PACKAGE in file_path.resolve().parents:
        parts = file_path.resolve().relative_to(_PACKAGE.parent).with_suffix("").parts
        importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))


@pytest.fixture(autouse=True)
def _fresh_global_state():
    """Restore the grad mode, anomaly mode and default dtype, whatever a test did to them."""
    yield
    state.grad_enabled = True
    state.anomaly_enabled = False
    if dendrite.get_default_dtype() != dendrite.float32:
        dendrite.set_default_dtype(dendrite.float32)


@pytest.fixture(autouse=True)
def _doctest_in_tmp_path(request):
    """Run each docstring example in its own empty directory (the checkout stays clean)."""
    if not isinstance(request.node, pytest.DoctestItem):
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(request.getfixturevalue("tmp_path"))
        yield
