"""The layer diagram of docs/architecture.md, enforced: no import circles, no upward imports.

Every ``import`` and ``from ... import`` in the package counts, at module level
or inside a function (a lazy import is still a dependency), except those under
``if TYPE_CHECKING:``, which never run. A name imported from a package that is
a submodule (``from dendrite import backend``) counts as that submodule.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dendrite"

# Lowest first. A module may import modules of its own layer (without circles) or below.
LAYERS = [
    ("foundation", ["dendrite.backend", "dendrite.backend_devices", "dendrite.utils", "dendrite.version",
                    "dendrite.devices", "dendrite.cuda", "dendrite.accelerator", "dendrite.backends"]),
    ("engine", ["dendrite.autograd", "dendrite.tensor_base", "dendrite.ops", "dendrite.tensor",
                "dendrite.linalg",
                "dendrite.creation", "dendrite.random_generator", "dendrite.random_sampling",
                "dendrite.legacy_tensors", "dendrite.torch_names"]),
    ("nn/optim", ["dendrite.nn", "dendrite.optim", "dendrite.summary", "dendrite.distributions"]),
    ("data", ["dendrite.data", "dendrite.utils.data"]),  # utils.data: PyTorch's path to dendrite.data
    ("interop", ["dendrite.interop", "dendrite.onnx", "dendrite"]),
    ("models", ["dendrite.models"]),
    # The doctor sits below train: the Trainer's Doctor callback uses its watch.
    ("doctor", ["dendrite.doctor"]),
    ("train", ["dendrite.train", "dendrite.distributed"]),
    ("explain", ["dendrite.explore"]),
    # the lessons' checkers use the explorers and the doctor; the tour (recipes) links to the lessons
    ("lessons", ["dendrite.lessons"]),
    ("recipes", ["dendrite.recipes"]),
    ("front doors", ["dendrite.cli", "dendrite.playground"]),
]
# Inside the engine the order is finer (docs/architecture.md, "The engine").
ENGINE_LAYERS = [
    # what a tensor holds; the random streams
    ["dendrite.autograd.grad_mode", "dendrite.tensor_base", "dendrite.random_generator"],
    # nodes, the backward walk, gradcheck; making tensors, sampling
    ["dendrite.autograd", "dendrite.creation", "dendrite.random_sampling", "dendrite.legacy_tensors"],
    ["dendrite.ops"],  # every operation, forward and backward
    ["dendrite.tensor"],  # class Tensor(TensorBase): the operations as methods
    # PyTorch's one-line names (is_tensor, finfo, compile...) over Tensor; torch.linalg
    ["dendrite.torch_names", "dendrite.linalg"],
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The package module that ``name`` (a module or an attribute of one) lives in."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(module: str, source: str, is_package: bool = False) -> list[tuple[str, int]]:
    """(imported dendrite module, line) for every import in ``module``'s source that runs."""
    found = []

    def visit(node: ast.AST) -> None:
        if _is_type_checking_block(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                     for alias in node.names]
        else:
            for child in ast.iter_child_nodes(node):
                visit(child)
            return
        for name in names:
            target = _resolve(name) if name.startswith("dendrite") else None
            if target and target != module and (target, node.lineno) not in found:
                found.append((target, node.lineno))

    visit(ast.parse(source))
    return found


GRAPH = {
    module: _imports(module, path.read_text(encoding="utf-8"), path.name == "__init__.py")
    for module, path in MODULES.items()
}


def _rank(module: str, layers) -> int | None:
    """Index of the layer that owns ``module`` (the longest matching prefix wins)."""
    best, best_length = None, -1
    for index, prefixes in enumerate(layers):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    return best


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for start in sorted(GRAPH):
        if start in index:
            continue
        work = [(start, iter(sorted({t for t, _ in GRAPH[start]})))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted({t for t, _ in GRAPH[child]}))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return components


def test_every_module_has_a_layer():
    missing = sorted(module for module in MODULES if _rank(module, [p for _, p in LAYERS]) is None)
    assert not missing, f"add these modules to LAYERS in tests/test_architecture.py: {missing}"


def test_no_import_circles():
    cycles = _cycles()
    described = []
    for component in cycles:
        members = set(component)
        edges = [f"{module}:{line} imports {target}" for module in component
                 for target, line in GRAPH[module] if target in members]
        described.append("\n  ".join(edges))
    assert not cycles, "import circles:\n  " + "\n\n  ".join(described)


@pytest.mark.parametrize("layers, label", [
    ([prefixes for _, prefixes in LAYERS], "package layers"),
    (ENGINE_LAYERS, "engine layers"),
])
def test_imports_only_point_down(layers, label):
    upward = []
    for module, imports in sorted(GRAPH.items()):
        rank = _rank(module, layers)
        if rank is None:
            continue
        for target, line in imports:
            target_rank = _rank(target, layers)
            if target_rank is not None and target_rank > rank:
                upward.append(f"{module}:{line} imports {target} ({label}: {rank} -> {target_rank})")
    assert not upward, "upward imports:\n  " + "\n  ".join(upward)


def test_the_checker_sees_lazy_relative_and_upward_imports():
    """The graph builder is not blind: module-level, relative and in-function imports all count."""
    source = (
        "from dendrite.nn import Linear\n"
        "from .math import exp\n"
        "if TYPE_CHECKING:\n    from dendrite.train import Trainer\n"
        "def f():\n    from dendrite.cli import main\n"
    )
    found = {target for target, _ in _imports("dendrite.ops.fake", source)}
    assert found == {"dendrite.nn", "dendrite.ops.math", "dendrite.cli.main"}
    package_layers = [prefixes for _, prefixes in LAYERS]
    assert _rank("dendrite.cli.main", package_layers) > _rank("dendrite.ops.math", package_layers)


def test_private_engine_names_stay_inside_the_engine():
    """``._data`` and the engine's private helpers are read only inside the engine (use ``.array``)."""
    offenders = []
    for module, path in MODULES.items():
        if _rank(module, [p for _, p in LAYERS]) <= 1:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"\._data\b|\b_new_tensor\b", code):
                offenders.append(f"{module}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_engine_nn_and_optim_reach_numpy_only_through_the_backend():
    """So that another array library (CuPy) can slot in by changing backend.py alone."""
    direct = []
    for module, path in MODULES.items():
        rank = _rank(module, [p for _, p in LAYERS])
        if module in ("dendrite.backend", "dendrite.backend_devices") or rank is None or rank > 2:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            direct += [f"{module}:{node.lineno}" for name in names if name.split(".")[0] == "numpy"]
    assert not direct, "import the array module as `from dendrite.backend import xp`: " + ", ".join(direct)
