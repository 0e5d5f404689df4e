"""List the public API outside the engine whose docstring shows no runnable example (no ``>>>``).

    python scripts/doc_examples.py          # counts per area, then every name lacking an example
    python scripts/doc_examples.py --quiet  # counts only; the exit status is 1 when a name lacks one

Public means: a module-level function or class whose name has no leading underscore, in a module
whose own name has none, and listed in the module's ``__all__`` when the module has one; plus the
public methods of such a class. A method counts as shown when its own docstring has an
example, when its class's example calls it (``.append(`` in ``Sequential``'s example), or when
its class shows an example and it overrides a method that a dendrite base class shows in an
example (``SGD.step`` after ``Optimizer.step``, ``Accuracy.update`` after ``Metric``'s example).
Not counted, each for a stated reason:

- framework hooks, overridden to be called by dendrite rather than by the user (``forward``,
  ``backward``, ``extra_repr``, ``reset_parameters``, a scheduler's ``get_lr``, a sampler's
  ``epoch_indices``, the callback hooks ...), when the class docstring itself shows an example;
- properties (attributes: their docstring states what they hold);
- the ONNX exporter's internal machinery (``interop/onnx_export`` other than its ``__init__``):
  the public surface there is ``export``, ``supported_operations`` and ``OnnxExportError``;
- the helpers shared by the functional files and not re-exported by ``dendrite.nn.functional``
  (``nn/functional/window.py``, ``nn/functional/loss_reduction.py``,
  ``nn/functional/conv_columns.py``, ``nn/functional/activation_common.py``).

The engine (``dendrite/tensor*.py``, ``creation.py``, ``autograd/``, ``ops/``, ``backend.py``) is
outside this check. A CLI command (``dendrite/cli``) needs a docstring stating its usage (a line
``Usage:``) or an example. tests/test_doc_examples.py runs this check as a test.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AREAS = ("nn", "optim", "data", "interop", "models", "recipes", "train", "cli", "utils", "doctor",
         "playground", "explore", "lessons", "summary.py", "onnx.py")
INTERNAL_MODULES = (
    # the exporter's machinery; its public surface is export, supported_operations, OnnxExportError
    "interop/onnx_export/builder.py", "interop/onnx_export/trace.py", "interop/onnx_export/ops_",
    "interop/onnx_export/unsupported.py",
    # helpers shared by the functional files, not re-exported by dendrite.nn.functional
    # the doctor's machinery (probes, their context, the watch's checks, input reading); its public
    # surface is what dendrite.doctor exports: examine, watch, Report, Finding, trace_nan, gallery...
    "doctor/context.py", "doctor/probes_", "doctor/watch_checks.py", "doctor/inputs.py",
    "nn/functional/window.py", "nn/functional/loss_reduction.py", "nn/functional/conv_columns.py",
    "nn/functional/activation_common.py",
)
HOOKS = frozenset({
    "forward", "backward", "extra_repr", "get_lr", "epoch_indices", "set_trainer", "set_params",
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin",
    "on_batch_end", "on_before_optimizer_step", "reset_parameters",
})


def _exported(tree: ast.Module) -> set[str] | None:
    """The names in a module's literal ``__all__``, or None when it has none."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return None


def _has_example(node) -> bool:
    return ">>>" in (ast.get_docstring(node) or "")


def _example(node) -> str:
    """The doctest lines of a docstring."""
    lines = (ast.get_docstring(node) or "").splitlines()
    return "\n".join(line for line in lines if line.lstrip().startswith((">>>", "...")))


def _is_property(node) -> bool:
    return any(
        (isinstance(d, ast.Name) and d.id in {"property", "cached_property"})
        or (isinstance(d, ast.Attribute) and d.attr in {"setter", "deleter"})
        for d in node.decorator_list
    )


def _classes(root: Path) -> dict[str, list[ast.ClassDef]]:
    """Every class defined in dendrite, by name (a name may be defined in several files)."""
    found: dict[str, list[ast.ClassDef]] = {}
    for file in sorted((root / "dendrite").rglob("*.py")):
        for node in ast.parse(file.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                found.setdefault(node.name, []).append(node)
    return found


def _inherits_example(cls: ast.ClassDef, method: str, classes, seen=None) -> bool:
    """Whether a base class of ``cls`` (found by name in dendrite) shows ``method`` in an example."""
    seen = set() if seen is None else seen
    for base in cls.bases:
        name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", None)
        for parent in classes.get(name, []):
            if id(parent) in seen:
                continue
            seen.add(id(parent))
            if f".{method}(" in _example(parent):
                return True
            for node in parent.body:
                if isinstance(node, ast.FunctionDef) and node.name == method and _has_example(node):
                    return True
            if _inherits_example(parent, method, classes, seen):
                return True
    return False


def _how(area: str, node) -> str:
    """``'example'`` when the docstring shows one, ``'usage'`` for a CLI command stating its usage."""
    if _has_example(node):
        return "example"
    if area == "cli" and "Usage:" in (ast.get_docstring(node) or ""):
        return "usage"
    return ""


def modules(root: Path = ROOT):
    """Yield (area, path) for every public module of the areas checked."""
    package = root / "dendrite"
    for area in AREAS:
        path = package / area
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            relative = file.relative_to(package).as_posix()
            if any(part.startswith("_") and part != "__init__.py" for part in relative.split("/")):
                continue
            if relative.startswith(INTERNAL_MODULES):
                continue
            yield area.removesuffix(".py"), file


def public_names(root: Path = ROOT):
    """Yield ``(area, 'path:line name', how)`` for every public function, class and method.

    ``how`` is ``'example'`` (its own docstring), ``'class'`` (its class's example calls it),
    ``'base'`` (a base class's example shows it), ``'usage'`` (a CLI command's usage line) or
    ``''`` (nothing: missing).
    """
    classes = _classes(root)
    for area, file in modules(root):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        exported = _exported(tree)
        where = file.relative_to(root).as_posix()
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name.startswith("_"):
                continue
            if exported is not None and node.name not in exported:
                continue
            yield area, f"{where}:{node.lineno} {node.name}", _how(area, node)
            if not isinstance(node, ast.ClassDef):
                continue
            class_example = _has_example(node)
            for method in node.body:
                if not isinstance(method, ast.FunctionDef) or method.name.startswith("_"):
                    continue
                if _is_property(method) or (method.name in HOOKS and class_example):
                    continue
                how = _how(area, method)
                if not how and class_example and f".{method.name}(" in _example(node):
                    how = "class"
                elif not how and class_example and _inherits_example(node, method.name, classes):
                    how = "base"
                yield area, f"{where}:{method.lineno} {node.name}.{method.name}", how


def main(argv: list[str]) -> int:
    kinds = ("example", "class", "base", "usage", "")
    totals: dict[str, dict[str, int]] = {}
    missing = []
    for area, name, how in public_names():
        totals.setdefault(area, dict.fromkeys(kinds, 0))[how] += 1
        if not how:
            missing.append(name)
    totals["all"] = {kind: sum(count[kind] for count in totals.values()) for kind in kinds}
    print(f"{'area':10s} {'shown':>5s} / {'total':>5s}   (own example, in its class's, in a base's, "
          "usage only; missing)")
    for area, count in totals.items():
        shown, total = total_shown(count), sum(count.values())
        print(f"{area:10s} {shown:5d} / {total:5d}   ({count['example']}, {count['class']}, {count['base']}, "
              f"{count['usage']}; {count['']})")
    if "--quiet" not in argv:
        print("\n".join(missing))
    return 1 if missing else 0


def total_shown(count: dict[str, int]) -> int:
    return sum(value for kind, value in count.items() if kind)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
