"""Every public name of the engine has a docstring example (pytest's doctest collection runs them).

The engine: tensor_base, tensor, creation, backend, autograd, ops, utils; and the device, random
and legacy-constructor modules beside it (devices, cuda, accelerator, backends, random_generator,
random_sampling, legacy_tensors).
Public functions, classes and their public methods need a ``>>>`` example; the
``Function`` subclasses of the operations need a docstring with their formula only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(
    [ROOT / "dendrite" / name for name in ("tensor_base.py", "tensor.py", "creation.py", "backend.py")]
    + [ROOT / "dendrite" / name for name in ("devices.py", "cuda.py", "accelerator.py", "backends.py",
                                             "random_generator.py", "random_sampling.py",
                                             "legacy_tensors.py")]
    + [path for path in (ROOT / "dendrite" / "autograd").glob("*.py") ]
    + list((ROOT / "dendrite" / "ops").glob("*.py"))
    + list((ROOT / "dendrite" / "utils").glob("*.py"))
)


def _missing(path: Path) -> list:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {"Function"}  # the autograd Function and its subclasses in this file
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(getattr(b, "id", None) in functions for b in node.bases):
            functions.add(node.name)
    missing = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name.startswith("_"):
            continue
        doc = ast.get_docstring(node) or ""
        if node.name in functions and node.name != "Function":
            if not doc:
                missing.append(f"{node.name} (no docstring)")
            continue
        if ">>>" not in doc:
            missing.append(node.name)
        if isinstance(node, ast.FunctionDef):
            continue
        methods = [item for item in node.body if isinstance(item, ast.FunctionDef)]
        for method in methods:
            if method.name.startswith("_") or any(
                getattr(decorator, "attr", "") in ("setter", "deleter") for decorator in method.decorator_list
            ):
                continue
            if ">>>" not in (ast.get_docstring(method) or ""):
                missing.append(f"{node.name}.{method.name}")
    return missing


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_public_name_shows_an_example(path):
    missing = _missing(path)
    assert not missing, f"{path.name}: public names without a runnable example: {missing}"
