"""The contract for adding an operation (docs/CONTRIBUTING.md), checked so a missing step fails.

1. The function is exported by ``dendrite.ops`` (and so by ``dendrite``).
2. Where PyTorch has the same name as a Tensor method, ``dendrite.Tensor`` has
   it too, bound in its class body to the very same function.
3. Every ``Function`` of the ops and of ``nn.functional`` is exported to ONNX
   or listed, with its reason, in the exporter's ``UNSUPPORTED`` table.
(The registry step is checked by tests/ops/test_op_registry.py.)
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
import torch

import dendrite
import dendrite.nn.functional
import dendrite.ops
from dendrite.autograd.function import Function
from dendrite.interop.onnx_export.builder import HANDLERS
from dendrite.interop.onnx_export.unsupported import UNSUPPORTED
from dendrite.tensor import Tensor


def _functions_defined_in(package) -> list[type]:
    """Every public ``Function`` subclass defined in a module of ``package``."""
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, Function) and value is not Function
                    and value.__module__ == module.__name__ and not name.startswith("_")):
                found.append(value)
    return found


def test_every_public_op_is_exported_by_the_top_level_package():
    missing = [name for name in dendrite.ops.__all__
               if getattr(dendrite, name, None) is not getattr(dendrite.ops, name)]
    assert not missing


@pytest.mark.parametrize("name", [name for name in dendrite.ops.__all__ if hasattr(torch.Tensor, name)])
def test_ops_that_pytorch_has_as_methods_are_tensor_methods(name):
    assert name in vars(Tensor), f"add `{name} = ops.{name}` to class Tensor in dendrite/tensor.py"
    assert vars(Tensor)[name] is getattr(dendrite.ops, name), f"Tensor.{name} is not dendrite.ops.{name}"


def test_tensor_methods_named_after_ops_are_those_ops():
    """No method shadows an op of the same name with different code."""
    different = [name for name, value in vars(Tensor).items()
                 if name in dendrite.ops.__all__ and inspect.isfunction(value)
                 and value is not getattr(dendrite.ops, name)]
    assert not different


@pytest.mark.parametrize("package", [dendrite.ops, dendrite.nn.functional], ids=lambda p: p.__name__)
def test_every_function_is_exported_to_onnx_or_says_why_not(package):
    functions = _functions_defined_in(package)
    assert len(functions) > 20  # the walk really found the operations
    undecided = sorted(f"{cls.__module__}.{cls.__name__}" for cls in functions
                       if cls not in HANDLERS and cls not in UNSUPPORTED)
    assert not undecided, ("add an ONNX handler (dendrite/interop/onnx_export/ops_*.py) or an entry with "
                           f"its reason in dendrite/interop/onnx_export/unsupported.py for: {undecided}")


def test_unsupported_entries_are_not_also_handled():
    assert not set(UNSUPPORTED) & set(HANDLERS)
    assert all(isinstance(reason, str) and len(reason) > 20 for reason in UNSUPPORTED.values())


def test_unsupported_operation_error_names_the_reason(tmp_path):
    pytest.importorskip("onnx")

    class Angle(dendrite.nn.Module):
        def forward(self, x):
            return dendrite.atan2(x, x + 1)

    with pytest.raises(Exception, match="ONNX has no operator for it"):
        dendrite.onnx.export(Angle(), dendrite.ones(2, 3), tmp_path / "angle.onnx")
