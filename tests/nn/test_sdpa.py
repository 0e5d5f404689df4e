"""scaled_dot_product_attention: parity with PyTorch (float64), finite differences, masks, dropout, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import dendrite
from dendrite.nn import functional as F
from dendrite.nn.functional.attention import SafeSoftmax

TF = torch.nn.functional
TOL = dict(rtol=1e-10, atol=1e-12)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def run_both(arrays, masks=None, **kwargs):
    """Output and gradients (q, k, v and a float mask that requires grad) of dendrite and torch."""
    masks = masks or {}
    d_in = [dendrite.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    d_mask = {k: dendrite.tensor(v, requires_grad=v.dtype.kind == "f") for k, v in masks.items()}
    t_mask = {k: torch.tensor(v, requires_grad=v.dtype.kind == "f") for k, v in masks.items()}
    d_out = F.scaled_dot_product_attention(*d_in, **d_mask, **kwargs)
    t_out = TF.scaled_dot_product_attention(*t_in, **t_mask, **kwargs)
    weight = rand(*t_out.shape, seed=7)
    (d_out * dendrite.tensor(weight)).sum().backward()
    (t_out * torch.tensor(weight)).sum().backward()
    d_grads = [t.grad for t in d_in + list(d_mask.values()) if t.requires_grad]
    t_grads = [t.grad for t in t_in + list(t_mask.values()) if t.requires_grad]
    return d_out, t_out, d_grads, t_grads


def assert_same(d_out, t_out, d_grads=(), t_grads=()):
    assert tuple(d_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(d_out.detach().numpy(), t_out.detach().numpy(), **TOL)
    assert len(d_grads) == len(t_grads)
    for d, t in zip(d_grads, t_grads):
        np.testing.assert_allclose(d.numpy(), t.numpy(), **TOL)


SHAPES = [
    ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)),  # batch, heads, L != S, Ev != E
    ((4, 8), (6, 8), (6, 8)),  # no batch at all
    ((2, 3, 4, 8), (3, 6, 8), (1, 3, 6, 5)),  # batch dimensions broadcast
    ((2, 5, 8), (2, 3, 8), (2, 3, 8)),  # L > S
]


@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: "x".join(map(str, s[0])))
@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"scale": 0.3}],
                         ids=["plain", "causal", "scale"])
def test_matches_torch(shapes, kwargs):
    arrays = [rand(*shape, seed=i) for i, shape in enumerate(shapes)]
    assert_same(*run_both(arrays, **kwargs))


@pytest.mark.parametrize("mask_shape", [(4, 6), (3, 4, 6), (2, 1, 1, 6), (2, 3, 4, 6)])
def test_bool_mask_broadcasts_over_batch_and_heads(mask_shape):
    arrays = [rand(2, 3, 4, 8), rand(2, 3, 6, 8, seed=1), rand(2, 3, 6, 5, seed=2)]
    mask = np.random.default_rng(3).random(mask_shape) > 0.4
    assert_same(*run_both(arrays, {"attn_mask": mask}))


def test_float_mask_is_added_and_gets_a_gradient():
    arrays = [rand(2, 3, 4, 8), rand(2, 3, 6, 8, seed=1), rand(2, 3, 6, 5, seed=2)]
    mask = rand(3, 4, 6, seed=4)
    d_out, t_out, d_grads, t_grads = run_both(arrays, {"attn_mask": mask})
    assert len(d_grads) == 4  # q, k, v and the mask
    assert_same(d_out, t_out, d_grads, t_grads)


def test_fully_masked_query_gives_zeros_and_zero_gradient_as_torch():
    arrays = [rand(1, 4, 8), rand(1, 6, 8, seed=1), rand(1, 6, 5, seed=2)]
    mask = np.random.default_rng(5).random((4, 6)) > 0.3
    mask[2] = False  # query 2 may attend to nothing
    float_mask = np.where(mask, 0.0, -np.inf)
    for masks in ({"attn_mask": mask}, {"attn_mask": float_mask}):
        d_out, t_out, d_grads, t_grads = run_both(arrays, masks)
        assert np.all(d_out.detach().numpy()[0, 2] == 0)
        assert_same(d_out, t_out, d_grads[:3], t_grads[:3])


def test_gqa_shares_key_value_heads_among_query_heads():
    arrays = [rand(2, 6, 4, 8), rand(2, 2, 5, 8, seed=1), rand(2, 2, 5, 3, seed=2)]
    assert_same(*run_both(arrays, enable_gqa=True))
    assert_same(*run_both(arrays, enable_gqa=True, is_causal=True))


def test_gradients_match_finite_differences():
    q = dendrite.tensor(rand(2, 3, 4), requires_grad=True)
    k = dendrite.tensor(rand(2, 5, 4, seed=1), requires_grad=True)
    v = dendrite.tensor(rand(2, 5, 2, seed=2), requires_grad=True)
    mask = dendrite.tensor(rand(3, 5, seed=3), requires_grad=True)
    assert dendrite.autograd.gradcheck(
        lambda *t: F.scaled_dot_product_attention(t[0], t[1], t[2], attn_mask=t[3]), (q, k, v, mask))
    assert dendrite.autograd.gradcheck(
        lambda *t: F.scaled_dot_product_attention(*t, is_causal=True, scale=0.7), (q, k, v))


def test_composed_equals_the_formula_written_out():
    q, k, v = (dendrite.tensor(rand(2, 4, 3, seed=i)) for i in range(3))
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(3)
    expected = dendrite.softmax(scores, dim=-1) @ v
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).numpy(), expected.numpy(), **TOL)


def test_safe_softmax_backward_matches_finite_differences():
    x = dendrite.tensor(rand(3, 5), requires_grad=True)
    assert dendrite.autograd.gradcheck(lambda t: SafeSoftmax.apply(t), (x,))


def test_dropout_is_reproducible_under_manual_seed_and_unbiased():
    q, k, v = (dendrite.tensor(rand(1, 64, 8, seed=i)) for i in range(3))
    dendrite.manual_seed(3)
    first = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    dendrite.manual_seed(3)
    second = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    plain = F.scaled_dot_product_attention(q, k, v)
    assert not np.allclose(first.numpy(), plain.numpy())
    # Inverted dropout keeps the expectation: the mean over many draws approaches the plain output.
    dendrite.manual_seed(0)
    draws = np.mean([F.scaled_dot_product_attention(q, k, v, dropout_p=0.3).numpy() for _ in range(400)], 0)
    assert np.abs(draws - plain.numpy()).mean() < 0.1 * np.abs(plain.numpy()).mean()


def test_dropout_zero_draws_no_random_numbers():
    q = dendrite.tensor(rand(2, 3, 4))
    dendrite.manual_seed(1)
    F.scaled_dot_product_attention(q, q, q)
    after = dendrite.rand(3).numpy()
    dendrite.manual_seed(1)
    np.testing.assert_array_equal(after, dendrite.rand(3).numpy())


def test_float32_stays_float32():
    q = dendrite.randn(2, 3, 4)
    assert F.scaled_dot_product_attention(q, q, q).dtype == dendrite.float32


@pytest.mark.parametrize("case, error, words", [
    (dict(q=(4, 8), k=(6, 7), v=(6, 8)), RuntimeError, "same embedding size E"),
    (dict(q=(4, 8), k=(6, 8), v=(5, 8)), RuntimeError, "same number of positions S"),
    (dict(q=(8,), k=(8,), v=(8,)), RuntimeError, "at least 2-dimensional"),
    (dict(q=(2, 4, 8), k=(3, 6, 8), v=(3, 6, 8)), RuntimeError, "cannot be broadcast"),
    (dict(mask=(3, 6)), RuntimeError, "does not broadcast"),
    (dict(q=(1, 4, 8), k=(1, 6, 8), v=(1, 6, 8), mask=(2, 4, 6)), RuntimeError, "does not broadcast"),
    (dict(mask=(4, 6), is_causal=True), RuntimeError, "should not be set when is_causal=True"),
    (dict(mask_dtype=np.int64), RuntimeError, "bool"),
    (dict(dropout_p=1.5), RuntimeError, "between 0 and 1"),
    (dict(q=(2, 3, 4, 8), k=(2, 2, 6, 8), v=(2, 2, 6, 8), enable_gqa=True), RuntimeError, "must divide"),
])
def test_bad_input_gets_a_clear_error_as_torch(case, error, words):
    q, k, v = (rand(*case.get(n, d)) for n, d in (("q", (4, 8)), ("k", (6, 8)), ("v", (6, 8))))
    kwargs = {key: case[key] for key in ("is_causal", "dropout_p", "enable_gqa") if key in case}
    mask = None
    if "mask" in case or "mask_dtype" in case:
        mask = np.ones(case.get("mask", (4, 6)), dtype=case.get("mask_dtype", bool))
    with pytest.raises(error, match=words):
        F.scaled_dot_product_attention(dendrite.tensor(q), dendrite.tensor(k), dendrite.tensor(v),
                                       attn_mask=None if mask is None else dendrite.tensor(mask), **kwargs)
    with pytest.raises((RuntimeError, ValueError)):  # PyTorch refuses the same call
        TF.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v),
                                        attn_mask=None if mask is None else torch.tensor(mask), **kwargs)


def test_mask_dtype_rule_as_torch():
    q64 = dendrite.randn(2, 4, 8, dtype=dendrite.float64)
    out = F.scaled_dot_product_attention(q64, q64, q64, attn_mask=dendrite.zeros(4, 4))  # float32 mask
    assert out.dtype == dendrite.float64
    q32 = dendrite.randn(2, 4, 8)
    with pytest.raises(RuntimeError, match="float32 or the query's dtype"):
        F.scaled_dot_product_attention(q32, q32, q32, attn_mask=dendrite.zeros(4, 4, dtype=dendrite.float64))
    with pytest.raises(RuntimeError):
        TF.scaled_dot_product_attention(*[torch.randn(2, 4, 8)] * 3, attn_mask=torch.zeros(4, 4).double())


def test_gqa_needs_a_heads_dimension():
    q = dendrite.randn(2, 4, 8)
    with pytest.raises(RuntimeError, match="heads dimension"):
        F.scaled_dot_product_attention(q, q[0], q[0], enable_gqa=True)


def test_mixed_dtypes_are_refused():
    with pytest.raises(RuntimeError, match="same floating-point dtype"):
        F.scaled_dot_product_attention(dendrite.randn(2, 4), dendrite.randn(2, 4, dtype=dendrite.float64),
                                       dendrite.randn(2, 4))


@settings(max_examples=40, deadline=None)
@given(batch=mutually_broadcastable_shapes(num_shapes=3, max_dims=2, max_side=3),
       sizes=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3)),
       causal=st.booleans(), seed=st.integers(0, 2**16))
def test_broadcast_batches_and_masks_match_torch(batch, sizes, causal, seed):
    """Any broadcastable batch dimensions of q, k, v and the mask, causal or masked, L and S unrelated."""
    length, source, embed, value_embed = sizes
    q_batch, k_batch, v_batch = batch.input_shapes
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(q_batch + (length, embed)), rng.standard_normal(k_batch + (source, embed)),
              rng.standard_normal(v_batch + (source, value_embed))]
    if causal:
        assert_same(*run_both(arrays, is_causal=True))
    else:
        # The mask broadcasts to the scores (..., L, S) without growing them (PyTorch refuses that).
        scores_batch = np.broadcast_shapes(q_batch, k_batch)
        mask_batch = tuple(int(d) if rng.random() < 0.5 else 1 for d in scores_batch)
        mask = rng.random(mask_batch[rng.integers(0, len(mask_batch) + 1):] + (length, source)) > 0.3
        assert_same(*run_both(arrays, {"attn_mask": mask}))
