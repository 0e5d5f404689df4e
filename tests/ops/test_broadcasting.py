"""Hypothesis: binary operations broadcast like PyTorch, forward and gradient shapes and values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import dendrite

torch = pytest.importorskip("torch")

BINARY = {
    "add": (lambda m, a, b: a + b, lambda a: a),
    "sub": (lambda m, a, b: a - b, lambda a: a),
    "mul": (lambda m, a, b: a * b, lambda a: a),
    "div": (lambda m, a, b: a / b, lambda b: np.sign(b) * (np.abs(b) + 0.5)),
    "pow": (lambda m, a, b: a**b, lambda a: np.abs(a) + 0.5),
    "maximum": (lambda m, a, b: m.maximum(a, b), lambda a: a),
    "minimum": (lambda m, a, b: m.minimum(a, b), lambda a: a),
    "atan2": (lambda m, a, b: m.atan2(a, b), lambda a: a),
}


def _pair(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def _run(lib, fn, arrays):
    inputs = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(lib, *inputs)
    weights = np.random.default_rng(0).standard_normal(tuple(out.shape))
    (out * lib.tensor(weights)).sum().backward()
    return out, inputs


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(BINARY)),
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_binary_broadcasting_matches_torch(name, shapes, seed):
    fn, fix = BINARY[name]
    a, b = _pair(shapes.input_shapes, seed)
    if name == "pow":
        a = fix(a)
    elif name == "div":
        b = fix(b)
    ours, our_inputs = _run(dendrite, fn, [a, b])
    theirs, their_inputs = _run(torch, fn, [a, b])
    assert ours.shape == tuple(theirs.shape) == shapes.result_shape
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-12)
    for mine, reference in zip(our_inputs, their_inputs):
        assert mine.grad.shape == mine.shape
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-6, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_where_broadcasts_three_ways(shapes, seed):
    rng = np.random.default_rng(seed)
    condition = rng.random(shapes.input_shapes[0]) > 0.5
    a, b = (rng.standard_normal(shape) for shape in shapes.input_shapes[1:])

    def fn(m, x, y):
        return m.where(m.tensor(condition), x, y)

    ours, our_inputs = _run(dendrite, fn, [a, b])
    theirs, their_inputs = _run(torch, fn, [a, b])
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy())
    for mine, reference in zip(our_inputs, their_inputs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-6, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=4, max_side=3),
    inner=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_matmul_broadcast_batches_match_torch(shapes, inner, seed):
    rng = np.random.default_rng(seed)
    batch_a, batch_b = shapes.input_shapes
    a = rng.standard_normal(batch_a[:-1] + (2, inner))
    b = rng.standard_normal(batch_b[:-1] + (inner, 3))
    ours, our_inputs = _run(dendrite, lambda m, x, y: x @ y, [a, b])
    theirs, their_inputs = _run(torch, lambda m, x, y: x @ y, [a, b])
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-12)
    for mine, reference in zip(our_inputs, their_inputs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-6, atol=1e-12)


@given(
    shapes=st.tuples(
        st.lists(st.integers(2, 4), min_size=1, max_size=3),
        st.lists(st.integers(2, 4), min_size=1, max_size=3),
    )
)
def test_incompatible_shapes_raise_a_clear_error(shapes):
    a_shape, b_shape = tuple(shapes[0]), tuple(shapes[1])
    try:
        np.broadcast_shapes(a_shape, b_shape)
    except ValueError:
        pass
    else:
        return  # compatible: nothing to check
    with pytest.raises(RuntimeError, match=r"add: shapes .* cannot be broadcast"):
        dendrite.zeros(a_shape) + dendrite.zeros(b_shape)
