"""dendrite.summary: per-layer shapes and parameter counts equal to PyTorch's, FLOPs and activation
memory equal to hand-computed numbers, and the table shown once."""

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
        match = re.match(r"^(\S+) \((\w+)\)\s+(\(.*?\)|--)\s+([\d,]+)\s+([\d,]+|\?)\s+[\d.]+ [KMG]?B$", line)
        if match:
            rows[match.group(1)] = (match.group(3), int(match.group(4).replace(",", "")))
    return rows


def _total(table: str, label: str) -> int:
    return int(re.search(rf"{label} params: ([\d,]+)", table).group(1).replace(",", ""))


def test_summary_of_a_small_cnn_matches_torch(capsys):
    theirs, ours = small_cnn(torch.nn), small_cnn(nn)
    result = dendrite.summary(ours, (1, 28, 28))
    assert capsys.readouterr().out == ""  # returned, not printed: a prompt shows it once
    table = str(result)
    assert repr(result) == table

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
    table = str(dendrite.summary(model, (1, 12, 12)))
    assert _total(table, "Frozen") == 80
    assert _total(table, "Trainable") == _total(table, "Total") - 80


def test_summary_leaves_the_model_untouched():
    model = small_cnn(nn)
    model[1].running_mean.copy_(dendrite.ones(8))
    model.train()
    model[7].eval()
    dendrite.summary(model, (1, 10, 10))
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
    table = str(dendrite.summary(model, (4,)))
    rows = _rows(table)
    assert rows["1"][1] == 4 and rows["1.body"][1] == 20
    assert _total(table, "Total") == 20 + 24  # the shared Linear counts once


def test_embedding_input_dtype_and_errors():
    model = nn.Sequential(nn.Embedding(50, 8), nn.Flatten(), nn.Linear(8 * 6, 2))
    table = str(dendrite.summary(model, (6,), dtype=dendrite.int64))
    assert _rows(table)["0"] == ("(1, 6, 8)", 400)
    with pytest.raises(RuntimeError, match=r"forward pass of Sequential on input of shape \(1, 7\) failed"):
        dendrite.summary(model, (7,), dtype=dendrite.int64)
    with pytest.raises(TypeError, match="expects a dendrite.nn.Module"):
        dendrite.summary(torch.nn.Linear(2, 2), (2,))


# ----------------------------------------------------------------------------- shown once
def test_summary_returns_the_table_once_and_print_fn_prints_it_once(capsys):
    model = nn.Sequential(nn.Linear(3, 2))
    result = dendrite.summary(model, (3,))
    assert capsys.readouterr().out == ""
    print(result)
    assert capsys.readouterr().out == str(result) + "\n"
    lines = []
    assert dendrite.summary(model, (3,), print_fn=lines.append) is None
    assert lines == [str(result)] and capsys.readouterr().out == ""


# ----------------------------------------------------------------------------- FLOPs and memory, by hand
def _by_name(result) -> dict:
    return {row.name: row for row in result.layers}


def test_flops_and_activation_memory_of_a_small_mlp():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    result = dendrite.summary(model, (1, 28, 28), batch_size=4)
    rows = _by_name(result)
    # 1 multiply-add = 2 FLOPs; a Linear does batch x out x in multiply-adds.
    assert rows["1"].flops == 2 * 4 * 128 * 784 == 802_816
    assert rows["3"].flops == 2 * 4 * 10 * 128 == 10_240
    assert rows["0"].flops == rows["2"].flops == 0
    assert result.total_flops == 802_816 + 10_240
    # float32 outputs: 4 bytes each
    expected = [4 * 784 * 4, 4 * 128 * 4, 4 * 128 * 4, 4 * 10 * 4]
    assert [rows[name].activation_bytes for name in "0123"] == expected
    assert result.activation_bytes == 2048 + 2048 + 160  # Flatten's output is a view of the input: no memory
    assert "Total FLOPs: 813,056 (1 multiply-add = 2 FLOPs)" in str(result)
    assert "Activation memory: 4,256 bytes" in str(result)


def test_flops_and_activation_memory_of_a_small_cnn():
    result = dendrite.summary(small_cnn(nn), (1, 28, 28))
    rows = _by_name(result)
    # conv: output elements x (in_channels / groups) x kernel elements
    assert rows["0"].flops == 2 * (8 * 28 * 28) * (1 * 3 * 3) == 112_896
    assert rows["4"].flops == 2 * (16 * 12 * 12) * (4 * 3 * 3) == 165_888  # groups=2: 8 / 2 input channels
    assert rows["7.1"].flops == 2 * 10 * 16 == 320
    assert all(rows[name].flops == 0 for name in ("1", "2", "3", "5", "6", "7.0"))
    assert result.total_flops == 112_896 + 165_888 + 320
    expected = {"0": 8 * 28 * 28 * 4, "1": 8 * 28 * 28 * 4, "2": 8 * 28 * 28 * 4, "3": 8 * 14 * 14 * 4,
                "4": 16 * 12 * 12 * 4, "5": 16 * 12 * 12 * 4, "6": 16 * 4, "7.0": 16 * 4, "7.1": 10 * 4}
    assert {name: row.activation_bytes for name, row in rows.items()} == expected
    assert result.activation_bytes == sum(expected.values()) - expected["7.0"]  # Flatten: a view


def test_flops_of_transposed_convolution_and_recurrent_layers():
    # ConvTranspose2d: every input element meets (out_channels / groups) x kernel elements weights.
    result = dendrite.summary(nn.Sequential(nn.ConvTranspose2d(4, 2, 3, stride=2)), (4, 5, 5))
    assert result.total_flops == 2 * (4 * 5 * 5) * (2 * 3 * 3) == 3_600
    # GRU: per time step and sample, 3 gates x hidden x (input + hidden), per layer and direction.
    gru = nn.Sequential(nn.GRU(3, 4, bidirectional=True))
    result = dendrite.summary(gru, (6, 3), batch_size=2)  # (2, 6, 3): 12 steps x samples
    assert result.total_flops == 2 * 12 * 2 * (3 * 4 * (3 + 4)) == 4_032
    lstm = nn.Sequential(nn.LSTM(10, 20, num_layers=2, batch_first=True))
    result = dendrite.summary(lstm, (5, 10))
    assert result.total_flops == 2 * 5 * (4 * 20 * (10 + 20) + 4 * 20 * (20 + 20)) == 56_000
    cell = nn.Sequential(nn.LSTMCell(10, 20))
    assert dendrite.summary(cell, (10,), batch_size=3).total_flops == 2 * 3 * 4 * 20 * (10 + 20)


def test_a_layer_whose_computation_is_not_known_is_marked_not_counted():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(dendrite.ones(4))
            self.body = nn.Linear(4, 4)

        def forward(self, x):
            return self.body(x) * self.scale

    result = dendrite.summary(nn.Sequential(Scaled()), (4,))
    rows = _by_name(result)
    assert rows["0"].flops is None and rows["0.body"].flops == 2 * 16
    assert result.uncounted_layers == ["0"] and result.total_flops == 32
    assert "(not counted: 0)" in str(result)
    assert result.total_params == 24 and result.frozen_params == 0
