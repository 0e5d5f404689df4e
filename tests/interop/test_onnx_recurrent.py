"""ONNX export of recurrent models that take and return their hidden state, with a dynamic batch.

Each exported graph is run by onnxruntime at batch sizes other than the export's and compared
with dendrite (and, for the bare layers, with PyTorch given the same weights).
"""

from __future__ import annotations

import itertools

import numpy as np
import onnxruntime as ort
import pytest
import torch

import dendrite
from dendrite import nn
from dendrite.interop.onnx_export import OnnxExportError
from dendrite.models import CharLM

TOLERANCE = 1e-5
CELLS = {"RNN": (nn.RNN, torch.nn.RNN), "LSTM": (nn.LSTM, torch.nn.LSTM), "GRU": (nn.GRU, torch.nn.GRU)}
INPUT, HIDDEN, STEPS, BATCH = 4, 6, 5, 3


class WithState(nn.Module):
    """``forward(x, h) -> (y, h_new)`` (LSTM: ``forward(x, h, c) -> (y, h_new, c_new)``) with a head."""

    def __init__(self, layer) -> None:
        super().__init__()
        self.rnn = layer
        self.head = nn.Linear(HIDDEN * (2 if layer.bidirectional else 1), 2)

    def forward(self, x, *state):
        output, new_state = self.rnn(x, state if len(state) == 2 else state[0])
        new_state = new_state if isinstance(new_state, tuple) else (new_state,)
        return (self.head(output), *new_state)


def _layer(cell: str, num_layers: int, bidirectional: bool, batch_first: bool):
    dendrite.manual_seed(num_layers + 2 * bidirectional + 4 * batch_first)
    return CELLS[cell][0](INPUT, HIDDEN, num_layers=num_layers, bidirectional=bidirectional,
                          batch_first=batch_first)


def _arrays(layer, batch: int, seed: int) -> list:
    """(x, h0[, c0]) as float32 arrays for ``layer`` at ``batch``."""
    rng = np.random.default_rng(seed)
    x_shape = (batch, STEPS, INPUT) if layer.batch_first else (STEPS, batch, INPUT)
    state_shape = (layer.num_layers * (2 if layer.bidirectional else 1), batch, HIDDEN)
    states = 2 if layer.mode == "LSTM" else 1
    return [rng.standard_normal(shape).astype(np.float32) for shape in [x_shape] + [state_shape] * states]


def _dims(value_info) -> list:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def _run(path, names, arrays) -> list:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, dict(zip(names, arrays)))


def _dendrite(model, arrays) -> list:
    with dendrite.no_grad():
        result = model(*[dendrite.tensor(a) for a in arrays])
    flat = []
    for item in result if isinstance(result, tuple) else (result,):
        flat += [part.numpy() for part in item] if isinstance(item, tuple) else [item.numpy()]
    return flat


def _check(got: list, expected: list) -> None:
    assert len(got) == len(expected)
    for index, (mine, reference) in enumerate(zip(got, expected)):
        assert mine.shape == reference.shape, f"output {index}"
        np.testing.assert_allclose(mine, reference, rtol=0, atol=TOLERANCE, err_msg=f"output {index}")


@pytest.mark.parametrize("cell, num_layers, bidirectional, batch_first",
                         list(itertools.product(CELLS, (1, 2), (False, True), (True, False))))
def test_model_taking_and_returning_state(tmp_path, cell, num_layers, bidirectional, batch_first):
    layer = _layer(cell, num_layers, bidirectional, batch_first)
    model = WithState(layer).eval()
    states = 2 if cell == "LSTM" else 1
    in_names = ["x", "h0", "c0"][:1 + states]
    out_names = ["y", "h_n", "c_n"][:1 + states]
    path = tmp_path / "model.onnx"
    example = [dendrite.tensor(a) for a in _arrays(layer, BATCH, seed=0)]
    proto = dendrite.onnx.export(model, tuple(example), path, input_names=in_names, output_names=out_names)
    batch_axis = 0 if batch_first else 1
    directions = num_layers * (2 if bidirectional else 1)
    x_dims = [BATCH, STEPS, INPUT] if batch_first else [STEPS, BATCH, INPUT]
    x_dims[batch_axis] = "batch"
    assert [i.name for i in proto.graph.input] == in_names
    assert [o.name for o in proto.graph.output] == out_names
    assert _dims(proto.graph.input[0]) == x_dims
    for value in list(proto.graph.input[1:]) + list(proto.graph.output[1:]):
        assert _dims(value) == [directions, "batch", HIDDEN], value.name
    y_dims = x_dims[:2] + [2]
    assert _dims(proto.graph.output[0]) == y_dims
    for batch in (1, 5):
        arrays = _arrays(layer, batch, seed=batch)
        _check(_run(path, in_names, arrays), _dendrite(model, arrays))


@pytest.mark.parametrize("cell", list(CELLS))
def test_bare_layer_with_state_matches_pytorch(tmp_path, cell):
    """``out, (h, c) = lstm(x, (h0, c0))`` exported as it is: the state nested in the example."""
    layer = _layer(cell, 2, True, False).eval()
    twin = CELLS[cell][1](INPUT, HIDDEN, num_layers=2, bidirectional=True)
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in layer.state_dict().items()})
    example = [dendrite.tensor(a) for a in _arrays(layer, BATCH, seed=0)]
    nested = (example[0], tuple(example[1:])) if cell == "LSTM" else tuple(example)
    names = ["x", "h0", "c0"][:len(example)]
    path = tmp_path / "layer.onnx"
    dendrite.onnx.export(layer, nested, path, input_names=names,
                         output_names=["output", "h_n", "c_n"][:len(example)])
    arrays = _arrays(layer, 4, seed=7)
    got = _run(path, names, arrays)
    with torch.no_grad():
        tensors = [torch.from_numpy(a) for a in arrays]
        output, state = twin(tensors[0], tuple(tensors[1:]) if cell == "LSTM" else tensors[1])
    reference = [output.numpy()] + ([s.numpy() for s in state] if cell == "LSTM" else [state.numpy()])
    _check(got, reference)


def test_time_major_sequence_without_state_has_its_batch_on_axis_1(tmp_path):
    layer = _layer("GRU", 1, False, False).eval()
    path = tmp_path / "gru.onnx"
    proto = dendrite.onnx.export(layer, dendrite.tensor(_arrays(layer, BATCH, 0)[0]), path,
                                 output_names=["output", "h_n"])
    assert _dims(proto.graph.input[0]) == [STEPS, "batch", INPUT]
    assert _dims(proto.graph.output[1]) == [1, "batch", HIDDEN]
    x = _arrays(layer, 6, seed=1)[0]
    _check(_run(path, ["input"], [x]), _dendrite(layer, [x]))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_char_lm_carries_its_state_across_chunks(tmp_path, cell):
    dendrite.manual_seed(0)
    model = CharLM(11, embedding_dim=5, hidden_size=7, num_layers=2, cell=cell).eval()
    states = 2 if cell == "lstm" else 1
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 11, size=(2, 6)).astype(np.int64)
    state = [rng.standard_normal((2, 2, 7)).astype(np.float32) for _ in range(states)]
    example_state = tuple(dendrite.tensor(s) for s in state) if states == 2 else dendrite.tensor(state[0])
    in_names = ["ids", "h0", "c0"][:1 + states]
    out_names = ["logits", "h_n", "c_n"][:1 + states]
    path = tmp_path / "charlm.onnx"
    proto = dendrite.onnx.export(model, (dendrite.tensor(ids), example_state), path, input_names=in_names,
                                 output_names=out_names)
    assert _dims(proto.graph.input[0]) == ["batch", 6]
    for value in list(proto.graph.input[1:]) + list(proto.graph.output[1:]):
        assert _dims(value) == [2, "batch", 7], value.name
    # Two chunks of 4 rows (not the export's 2), the state of the first fed to the second, as in generation.
    chunks = rng.integers(0, 11, size=(2, 4, 6)).astype(np.int64)
    onnx_state = [np.zeros((2, 4, 7), np.float32) for _ in range(states)]
    dendrite_state = None
    for chunk in chunks:
        logits, *onnx_state = _run(path, in_names, [chunk] + onnx_state)
        with dendrite.no_grad():
            expected, dendrite_state = model(dendrite.tensor(chunk), dendrite_state)
        parts = dendrite_state if states == 2 else (dendrite_state,)
        _check([logits, *onnx_state], [expected.numpy()] + [part.numpy() for part in parts])


def test_batch_axes_can_be_given_where_they_cannot_be_inferred(tmp_path):
    class Scaled(nn.Module):  # the state reaches the GRU through an operation: not inferable
        def __init__(self) -> None:
            super().__init__()
            self.gru = nn.GRU(INPUT, HIDDEN, batch_first=True)

        def forward(self, x, h):
            return self.gru(x, h * 0.5)

    dendrite.manual_seed(0)
    model = Scaled().eval()
    rng = np.random.default_rng(0)
    x, h = rng.standard_normal((3, STEPS, INPUT)).astype(np.float32), rng.standard_normal((1, 3, HIDDEN))
    example = (dendrite.tensor(x), dendrite.tensor(h.astype(np.float32)))
    with pytest.raises(OnnxExportError, match=r"batch axes inferred \({'x': 0, 'h': 0}.*batch_axes="):
        dendrite.onnx.export(model, example, None, input_names=["x", "h"])
    path = tmp_path / "scaled.onnx"
    dendrite.onnx.export(model, example, path, input_names=["x", "h"], batch_axes={"h": 1})
    arrays = [x[:1], h[:, :1].astype(np.float32)]
    _check(_run(path, ["x", "h"], arrays), _dendrite(model, arrays))
    dendrite.onnx.export(model, example, path, input_names=["x", "h"], batch_axes=[0, 1])
    _check(_run(path, ["x", "h"], arrays), _dendrite(model, arrays))


def test_bad_batch_axes_and_examples():
    layer = _layer("GRU", 1, False, True).eval()
    x, h = (dendrite.tensor(a) for a in _arrays(layer, BATCH, 0))
    with pytest.raises(ValueError, match=r"one axis \(or None\) per graph input: 2 inputs"):
        dendrite.onnx.export(layer, (x, h), None, batch_axes=[0])
    with pytest.raises(ValueError, match=r"input 'input_1' of shape \(1, 3, 6\) the axis 3"):
        dendrite.onnx.export(layer, (x, h), None, batch_axes=[0, 3])
    with pytest.raises(ValueError, match=r"names inputs \['h'\].*\['input_0', 'input_1'\]"):
        dendrite.onnx.export(layer, (x, h), None, batch_axes={"h": 1})
    with pytest.raises(TypeError, match="batch_axes must be a list"):
        dendrite.onnx.export(layer, (x, h), None, batch_axes=1)
    with pytest.raises(TypeError, match=r"example input 1\[0\] is nested two levels deep"):
        dendrite.onnx.export(layer, (x, ((h,),)), None)
    with pytest.raises(ValueError, match="needs an input with a batch dimension"):
        dendrite.onnx.export(layer, (x, h), None, batch_axes=[None, None])
    with pytest.raises(ValueError, match="cannot be combined with dynamic_batch=False"):
        dendrite.onnx.export(layer, (x, h), None, batch_axes=[0, 1], dynamic_batch=False)


def test_unbatched_sequences_have_no_batch_axis(tmp_path):
    layer = _layer("LSTM", 1, False, False).eval()
    x, h, c = (a[:, 0] for a in _arrays(layer, 1, seed=0))  # (T, F) and (1, H): unbatched
    example = (dendrite.tensor(x), (dendrite.tensor(h), dendrite.tensor(c)))
    with pytest.raises(ValueError, match="needs an input with a batch dimension.*dynamic_batch=False"):
        dendrite.onnx.export(layer, example, None)
    path = tmp_path / "unbatched.onnx"
    dendrite.onnx.export(layer, example, path, dynamic_batch=False, input_names=["x", "h0", "c0"])
    with dendrite.no_grad():
        output, (h_n, c_n) = layer(*example)
    _check(_run(path, ["x", "h0", "c0"], [x, h, c]), [output.numpy(), h_n.numpy(), c_n.numpy()])
