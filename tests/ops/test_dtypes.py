"""Type promotion follows PyTorch: each expression gives the same dtype in dendrite and torch."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite

torch = pytest.importorskip("torch")


def _make(m, kind: str, dims: int = 1):
    """A small tensor of ``kind`` ('f32', 'f64', 'i64', 'i32', 'bool'), 0-d when dims == 0."""
    dtype = {"f32": m.float32, "f64": m.float64, "i64": m.int64, "i32": m.int32, "bool": m.bool}[kind]
    values = [1, 2, 3] if kind != "bool" else [True, False, True]
    return m.tensor(values[0] if dims == 0 else values, dtype=dtype)


EXPRESSIONS = {
    "int64 * 2.5": lambda m: _make(m, "i64") * 2.5,
    "int64 * 2": lambda m: _make(m, "i64") * 2,
    "2.5 * int64": lambda m: 2.5 * _make(m, "i64"),
    "int64 / int64": lambda m: _make(m, "i64") / _make(m, "i64"),
    "int64 / 2": lambda m: _make(m, "i64") / 2,
    "int64 // 2": lambda m: _make(m, "i64") // 2,
    "int64 % 2": lambda m: _make(m, "i64") % 2,
    "float32 + float64": lambda m: _make(m, "f32") + _make(m, "f64"),
    "float32 + int64": lambda m: _make(m, "f32") + _make(m, "i64"),
    "int32 + int64": lambda m: _make(m, "i32") + _make(m, "i64"),
    "bool + bool": lambda m: _make(m, "bool") + _make(m, "bool"),
    "bool + 1": lambda m: _make(m, "bool") + 1,
    "bool * 2.5": lambda m: _make(m, "bool") * 2.5,
    "bool + True": lambda m: _make(m, "bool") + True,
    "int64 + True": lambda m: _make(m, "i64") + True,
    "float32 + 0-d float64": lambda m: _make(m, "f32") + _make(m, "f64", 0),
    "int64 + 0-d float64": lambda m: _make(m, "i64") + _make(m, "f64", 0),
    "int32 + 0-d int64": lambda m: _make(m, "i32") + _make(m, "i64", 0),
    "0-d float32 + 0-d float64": lambda m: _make(m, "f32", 0) + _make(m, "f64", 0),
    "float32 * numpy float64 scalar": lambda m: _make(m, "f32") * np.float64(2.5),
    "int64 ** 2": lambda m: _make(m, "i64") ** 2,
    "int64 ** 0.5": lambda m: _make(m, "i64") ** 0.5,
    "2 ** int64": lambda m: 2 ** _make(m, "i64"),
    "2.5 ** int64": lambda m: 2.5 ** _make(m, "i64"),
    "float32 ** int64": lambda m: _make(m, "f32") ** _make(m, "i64"),
    "sqrt(int64)": lambda m: m.sqrt(_make(m, "i64")),
    "exp(bool)": lambda m: m.exp(_make(m, "bool")),
    "abs(int64)": lambda m: m.abs(_make(m, "i64")),
    "relu(int64)": lambda m: m.relu(_make(m, "i64")),
    "neg(int32)": lambda m: -_make(m, "i32"),
    "sum(int32)": lambda m: _make(m, "i32").sum(),
    "sum(bool)": lambda m: _make(m, "bool").sum(),
    "sum(float64)": lambda m: _make(m, "f64").sum(dim=0),
    "prod(int32)": lambda m: _make(m, "i32").prod(),
    "cumsum(int32)": lambda m: m.cumsum(_make(m, "i32"), 0),
    "mean(int64, dtype=float64)": lambda m: _make(m, "i64").mean(dtype=m.float64),
    "maximum(int64, float32)": lambda m: m.maximum(_make(m, "i64"), _make(m, "f32")),
    "clamp(int64, min=1.5)": lambda m: _make(m, "i64").clamp(min=1.5),
    "clamp(int64, 0, 2)": lambda m: _make(m, "i64").clamp(0, 2),
    "where(cond, 1.0, 0)": lambda m: m.where(_make(m, "bool"), 1.0, 0),
    "where(cond, int64, 0.5)": lambda m: m.where(_make(m, "bool"), _make(m, "i64"), 0.5),
    "where(cond, float32, float64)": lambda m: m.where(_make(m, "bool"), _make(m, "f32"), _make(m, "f64")),
    "cat(float32, float64)": lambda m: m.cat([_make(m, "f32"), _make(m, "f64")]),
    "stack(int64, float32)": lambda m: m.stack([_make(m, "i64"), _make(m, "f32")]),
    "eq(int64, float32)": lambda m: _make(m, "i64") == _make(m, "f32"),
    "argmax(float32)": lambda m: _make(m, "f32").argmax(),
    "max(dim) indices": lambda m: _make(m, "f32").max(dim=0).indices,
    "floor(int64)": lambda m: m.floor(_make(m, "i64")),
    "softmax(int64 -> float64)": lambda m: m.softmax(_make(m, "i64"), 0, dtype=m.float64),
    "masked_fill(int64, 2.7)": lambda m: _make(m, "i64").masked_fill(_make(m, "bool"), 2.7),
    "x.long()": lambda m: _make(m, "f32").long(),
    "x.double()": lambda m: _make(m, "f32").double(),
    "x.to(int32)": lambda m: _make(m, "f32").to(m.int32),
    "x.type_as(int64)": lambda m: _make(m, "f32").type_as(_make(m, "i64")),
}


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_result_dtype_matches_torch(name):
    ours, theirs = EXPRESSIONS[name](dendrite), EXPRESSIONS[name](torch)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), name
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_default_dtype_is_float32_and_can_change():
    assert dendrite.tensor([1.0]).dtype == dendrite.float32
    assert dendrite.zeros(2).dtype == dendrite.float32
    dendrite.set_default_dtype(dendrite.float64)
    try:
        assert dendrite.tensor([1.0]).dtype == dendrite.float64
        assert (dendrite.tensor([1]) * 0.5).dtype == dendrite.float64
        assert dendrite.randn(2).dtype == dendrite.float64
    finally:
        dendrite.set_default_dtype(dendrite.float32)
    with pytest.raises(TypeError, match="floating"):
        dendrite.set_default_dtype(dendrite.int64)


def test_gradient_of_a_cast_comes_back_in_the_input_dtype():
    x = dendrite.tensor([1.0, 2.0], dtype=dendrite.float32, requires_grad=True)
    (x.double() * dendrite.tensor([3.0, 4.0], dtype=dendrite.float64)).sum().backward()
    assert x.grad.dtype == dendrite.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_integer_results_are_not_part_of_the_graph():
    x = dendrite.tensor([1.5, -2.5], requires_grad=True)
    for result in (x.long(), x.argmax(), x > 0, x.max(dim=0).indices):
        assert not result.requires_grad and result.grad_fn is None and result.is_leaf


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients"):
        dendrite.tensor([1, 2], requires_grad=True)
