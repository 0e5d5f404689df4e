"""Differential fuzzing against PyTorch of the argument classes the op boundary must read: one tensor
argument of a valid call replaced by a list, tuple, None, string or number, an int/bool/float64 tensor
(a float-only op, mixed dtypes), a 0-d, empty or NaN/Inf tensor, across ops, nn.functional, layers and
losses. Both succeed alike, or both refuse and dendrite's error is a clear one naming the call.
Settings: tests/fuzz/conftest.py."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

import dendrite
from tests.fuzz.conftest import FUZZ
from tests.fuzz.differential import differential


def _x(*shape):
    return np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float32)


# name: (call taking the library and its arguments, valid arguments, what dendrite's error names)
CALLS = {
    "exp": (lambda m, x: m.exp(x), [_x(2, 3)]),
    "sum": (lambda m, x: m.sum(x, 1), [_x(2, 3)]),
    "softmax": (lambda m, x: m.softmax(x, -1), [_x(2, 3)]),
    "matmul": (lambda m, a, b: m.matmul(a, b), [_x(2, 3), _x(3, 2)]),
    "cat": (lambda m, a, b: m.cat([a, b]), [_x(2, 3), _x(1, 3)]),
    "where": (lambda m, c, a, b: m.where(c, a, b), [np.array([True, False, True]), _x(3), _x(3)]),
    "clamp": (lambda m, x, low: m.clamp(x, low), [_x(2, 3), np.float32(0.0)]),
    "gather": (lambda m, x, i: m.gather(x, 1, i), [_x(2, 3), np.array([[0], [2]])]),
    "linear": (lambda m, x, w, b: m.nn.functional.linear(x, w, b), [_x(2, 3), _x(4, 3), _x(4)]),
    "conv1d": (lambda m, x, w: m.nn.functional.conv1d(x, w), [_x(1, 2, 5), _x(3, 2, 2)]),
    "layer_norm": (lambda m, x, w: m.nn.functional.layer_norm(x, (3,), w), [_x(2, 3), _x(3)]),
    "relu": (lambda m, x: m.nn.functional.relu(x), [_x(2, 3)]),
    "gelu": (lambda m, x: m.nn.functional.gelu(x), [_x(2, 3)]),
    "max_pool1d": (lambda m, x: m.nn.functional.max_pool1d(x, 2), [_x(1, 2, 4)]),
    "embedding": (lambda m, i, w: m.nn.functional.embedding(i, w), [np.array([0, 2]), _x(3, 2)]),
    "mse_loss": (lambda m, x, t: m.nn.functional.mse_loss(x, t), [_x(2, 3), _x(2, 3)]),
    "kl_div": (lambda m, x, t: m.nn.functional.kl_div(x, t, reduction="sum"), [_x(2, 3), _x(2, 3)]),
    "cross_entropy": (lambda m, x, t: m.nn.functional.cross_entropy(x, t), [_x(2, 3), np.array([0, 2])]),
    "binary_cross_entropy_with_logits": (
        lambda m, x, t: m.nn.functional.binary_cross_entropy_with_logits(x, t), [_x(2, 3), _x(2, 3)]),
}

# Layers and loss modules: built with the same weights in both libraries, then called on the arguments
LAYERS = {
    "Linear": (lambda m: m.nn.Linear(3, 2), [_x(2, 3)]),
    "Conv1d": (lambda m: m.nn.Conv1d(2, 3, 2), [_x(1, 2, 5)]),
    "LayerNorm": (lambda m: m.nn.LayerNorm(3), [_x(2, 3)]),
    "Embedding": (lambda m: m.nn.Embedding(3, 2), [np.array([0, 2])]),
    "BatchNorm1d": (lambda m: m.nn.BatchNorm1d(3), [_x(2, 3)]),
    "MaxPool1d": (lambda m: m.nn.MaxPool1d(2), [_x(1, 2, 4)]),
    "Flatten": (lambda m: m.nn.Flatten(), [_x(2, 3, 2)]),
    "MSELoss": (lambda m: m.nn.MSELoss(), [_x(2, 3), _x(2, 3)]),
    "BCEWithLogitsLoss": (lambda m: m.nn.BCEWithLogitsLoss(), [_x(2, 3), _x(2, 3)]),
    "CrossEntropyLoss": (lambda m: m.nn.CrossEntropyLoss(), [_x(2, 3), np.array([0, 2])]),
}


def replacements(array):
    """What may stand where ``array`` stood: the argument classes the issue names."""
    as_list = array.tolist()
    return st.sampled_from([
        ("list", as_list), ("tuple", tuple(as_list) if isinstance(as_list, list) else as_list),
        ("None", None), ("string", "abc"), ("int", 2), ("float", 0.5),
        ("int64 tensor", np.asarray(array).astype(np.int64)), ("bool tensor", np.asarray(array) > 0),
        ("float64 tensor", np.asarray(array).astype(np.float64)), ("0-d tensor", np.array(1.5, np.float32)),
        ("empty tensor", np.zeros((0,) + np.shape(array)[1:], np.float32)),
        ("NaN/Inf tensor", np.where(np.arange(np.size(array)).reshape(np.shape(array)) % 2 == 0, np.nan,
                                    np.inf).astype(np.float32)),
    ])


def _with_torch_weights(layer, torch_layer):
    """Copy ``torch_layer``'s parameters into the dendrite ``layer`` (same names, as the API promises)."""
    state = {k: dendrite.tensor(v.detach().numpy()) for k, v in torch_layer.state_dict().items()}
    layer.load_state_dict(state)
    return layer


@FUZZ
@given(name=st.sampled_from(sorted(CALLS)), data=st.data())
def test_argument_classes_in_functions(name, data):
    fn, args = CALLS[name]
    position = data.draw(st.integers(0, len(args) - 1))
    kind, value = data.draw(replacements(args[position]))
    arrays = list(args)
    arrays[position] = value
    if name == "softmax" and kind in ("int64 tensor", "bool tensor"):
        return  # a deliberate leniency: dendrite's softmax promotes integers (ops/operands.py: float_input)
    if name == "gelu" and kind == "NaN/Inf tensor":
        return  # PyTorch's own inconsistency: its vectorized gelu(inf) is NaN, its scalar one inf
    refuses = None
    if name == "gather" and kind == "empty tensor":
        # PyTorch's gather skips its index dtype check for an empty index; dendrite always checks it
        refuses = "a float index"
    differential(f"{name} with a {kind}", lambda *a: fn(dendrite, *a), lambda *a: fn(torch, *a), arrays,
                 names=name, scale_atol=True, refuses=refuses)


@FUZZ
@given(name=st.sampled_from(sorted(LAYERS)), data=st.data())
def test_argument_classes_in_layers(name, data):
    build, args = LAYERS[name]
    torch.manual_seed(0)
    theirs = build(torch)
    ours = _with_torch_weights(build(dendrite), theirs)
    position = data.draw(st.integers(0, len(args) - 1))
    kind, value = data.draw(replacements(args[position]))
    arrays = list(args)
    arrays[position] = value
    # a layer's error names the layer or what it computes (Linear: linear/matmul; MSELoss: mse_loss)
    names = (name, "linear", "matmul", "conv", "norm", "embedding", "pool", "flatten", "_loss",
             "cross_entropy")
    differential(f"{name} with a {kind}", lambda *a: ours(*a), lambda *a: theirs(*a), arrays, names=names,
                 scale_atol=True)
