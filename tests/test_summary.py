"""dendrite.summary: per-layer shapes and parameter counts, equal to PyTorch's for the same model."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import dendrite
from dendrite import nn


def small_cnn(lib):
    return lib.Sequential(
        lib.Conv2d(1, 8, 3, padding=1), lib.BatchNorm2d(8), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(8, 16, 3, groups=2, bias=False), lib.ReLU(), lib.AdaptiveAvgPool2d(1),
        lib.Sequential(lib.Flatten(), lib.Linear(16, 10)),
    )


def _rows(table: str) -> dict:
    """``{layer name: (output shape, parameter count)}`` parsed from the table."""
    rows = {}
    for line in table.splitlines():
        match = re.match(r"^(\S+) \((\w+)\)\s+(\(.*?\)|--)\s+([\d,]+)$", line)
        if match:
            rows[match.group(1)] = (match.group(3), int(match.group(4).replace(",", "")))
    return rows


def _total(table: str, label: str) -> int:
    return int(re.search(rf"{label} params: ([\d,]+)", table).group(1).replace(",", ""))


def test_summary_of_a_small_cnn_matches_torch(capsys):
    theirs, ours = small_cnn(torch.nn), small_cnn(nn)
    table = dendrite.summary(ours, (1, 28, 28))
    assert capsys.readouterr().out.strip() == table.strip()

    # Reference output shapes from PyTorch's own forward pass with hooks.
    shapes, names = {}, {module: name for name, module in theirs.named_modules()}
    for module in list(theirs.modules())[1:]:
        module.register_forward_hook(lambda m, a, out: shapes.__setitem__(names[m], tuple(out.shape)))
    theirs.eval()(torch.zeros(1, 1, 28, 28))

    rows = _rows(table)
    leaves = {name: module for name, module in theirs.named_modules() if name and not list(module.children())}
    assert set(rows) == set(leaves)
    for name, module in leaves.items():
        shape, count = rows[name]
        assert count == sum(p.numel() for p in module.parameters()), name
        assert shape == str(shapes[name]), name
    total = sum(p.numel() for p in theirs.parameters())
    assert _total(table, "Total") == total == 80 + 16 + 16 * 4 * 9 + 170
    assert _total(table, "Trainable") == total and _total(table, "Frozen") == 0
    assert "Output shape: (1, 10)" in table


def test_frozen_parameters_are_counted_separately():
    model = small_cnn(nn)
    model[0].requires_grad_(False)
    table = dendrite.summary(model, (1, 12, 12), print_fn=None)
    assert _total(table, "Frozen") == 80
    assert _total(table, "Trainable") == _total(table, "Total") - 80


def test_summary_leaves_the_model_untouched():
    model = small_cnn(nn)
    model[1].running_mean.copy_(dendrite.ones(8))
    model.train()
    model[7].eval()
    dendrite.summary(model, (1, 10, 10), print_fn=None)
    assert model.training and model[1].training and not model[7].training and not model[7][1].training
    np.testing.assert_array_equal(model[1].running_mean.numpy(), np.ones(8, np.float32))
    assert int(model[1].num_batches_tracked) == 0
    assert all(not m._forward_hooks for m in model.modules())


def test_shared_layers_and_container_parameters():
    class WithOwnParameter(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(dendrite.ones(4))
            self.body = nn.Linear(4, 4)

        def forward(self, x):
            return self.body(x) * self.scale

    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, WithOwnParameter(), shared)
    table = dendrite.summary(model, (4,), print_fn=None)
    rows = _rows(table)
    assert rows["1"][1] == 4 and rows["1.body"][1] == 20
    assert _total(table, "Total") == 20 + 24  # the shared Linear counts once


def test_embedding_input_dtype_and_errors():
    model = nn.Sequential(nn.Embedding(50, 8), nn.Flatten(), nn.Linear(8 * 6, 2))
    table = dendrite.summary(model, (6,), dtype=dendrite.int64, print_fn=None)
    assert _rows(table)["0"] == ("(1, 6, 8)", 400)
    with pytest.raises(RuntimeError, match=r"forward pass of Sequential on input of shape \(1, 7\) failed"):
        dendrite.summary(model, (7,), dtype=dendrite.int64, print_fn=None)
    with pytest.raises(TypeError, match="expects a dendrite.nn.Module"):
        dendrite.summary(torch.nn.Linear(2, 2), (2,))
