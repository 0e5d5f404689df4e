"""The op registry drives the fused ``nn.functional`` operations too.

The generic checks of ``tests/ops/test_op_registry.py`` (forward against the
reference, backward against float64 central differences, forward and every
input gradient against PyTorch in float64 and float32, no graph under
``no_grad``) run over the entries of ``tests/ops/registry_fused.py``. A
coverage test fails when a ``Function`` subclass defined anywhere in
``dendrite.nn.functional`` is run by none of those entries' samples.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import dendrite
import dendrite.nn.functional
from dendrite.autograd.function import Function
from tests.ops import test_op_registry as generic
from tests.ops.registry_fused import OPS

pytestmark = pytest.mark.filterwarnings("ignore:kl_div. reduction=.mean.:UserWarning")

CASES = [pytest.param(op, sample, id=f"{op.name}-{sample!r}") for op in OPS for sample in op.samples]


def test_entry_names_are_unique():
    names = [op.name for op in OPS]
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)


@pytest.mark.parametrize("op, sample", CASES)
def test_forward_matches_reference(op, sample):
    generic.test_forward_matches_numpy(op, sample)


@pytest.mark.parametrize("op, sample", CASES)
def test_backward_matches_finite_differences(op, sample):
    generic.test_backward_matches_finite_differences(op, sample)


@pytest.mark.parametrize("op, sample", CASES)
def test_matches_pytorch_float64(op, sample):
    generic.test_matches_pytorch_float64(op, sample)


@pytest.mark.parametrize("op, sample", CASES)
def test_matches_pytorch_float32(op, sample):
    generic.test_matches_pytorch_float32(op, sample)


@pytest.mark.parametrize("op, sample", CASES)
def test_no_graph_under_no_grad(op, sample):
    generic.test_no_graph_under_no_grad(op, sample)


# ----------------------------------------------------------------------------- coverage
def fused_functions() -> set:
    """Every ``Function`` subclass defined in a module of the ``dendrite.nn.functional`` package."""
    package = dendrite.nn.functional
    found = set()
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, Function) and value is not Function and value.__module__ == module.__name__:
                found.add(value)
    return found


def functions_run_by_registry(monkeypatch) -> set:
    """The ``Function`` classes whose ``apply`` runs while every registry sample goes forward and back."""
    ran = set()
    original = Function.apply.__func__

    def recording_apply(cls, *inputs, **options):
        ran.add(cls)
        return original(cls, *inputs, **options)

    monkeypatch.setattr(Function, "apply", classmethod(recording_apply))
    for op in OPS:
        for sample in op.samples:
            inputs = generic.make_inputs(dendrite, sample)
            generic.backward_through(generic.flat(op.fn(dendrite, *inputs, **sample.kwargs)), dendrite)
    return ran


def test_every_fused_function_is_in_the_registry(monkeypatch):
    defined = fused_functions()
    assert len(defined) >= 30, f"found only {len(defined)} Function classes: is the package walk broken?"
    ran = functions_run_by_registry(monkeypatch)

    # An abstract base (never applied itself) is covered when every subclass of it is.
    def covered(cls) -> bool:
        children = [other for other in defined if other is not cls and cls in other.__mro__]
        return cls in ran or (bool(children) and all(covered(child) for child in children))

    missing = sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in defined if not covered(cls))
    assert not missing, f"fused Functions no entry of tests/ops/registry_fused.py runs: {missing}"
