"""The docstring examples of dendrite.data run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["_random", "collate", "dataloader", "dataset", "digits", "files", "registry", "sampler", "series",
           "splits", "text", "toy2d", "transforms"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"dendrite.data.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) of dendrite.data.{name} failed"
