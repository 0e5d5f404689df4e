"""The docstring examples of dendrite.train run and give what they show; every public name has one."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import dendrite.train

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(dendrite.train.__path__, "dendrite.train.")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"


@pytest.mark.parametrize("name", MODULES)
def test_every_public_class_and_function_shows_an_example(name):
    module = importlib.import_module(name)
    missing = [
        attribute for attribute, value in vars(module).items()
        if not attribute.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == name and ">>>" not in (value.__doc__ or "")
    ]
    assert not missing, f"{name}: public names without a runnable example: {missing}"
