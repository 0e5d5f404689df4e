"""The docstring examples of dendrite.interop and dendrite.onnx run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["dendrite.interop.serialization", "dendrite.interop.freeze", "dendrite.interop.torch_compat",
           "dendrite.interop._modes", "dendrite.onnx"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"
