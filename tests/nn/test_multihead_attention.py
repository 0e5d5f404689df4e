"""MultiheadAttention: PyTorch's parameters, state_dict keys, init, outputs and gradients (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite

TOL = dict(rtol=1e-10, atol=1e-12)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def twins(**kwargs):
    """The same MultiheadAttention in torch and dendrite (float64, torch's weights copied over)."""
    torch.manual_seed(0)
    reference = torch.nn.MultiheadAttention(**kwargs).double()
    module = dendrite.nn.MultiheadAttention(**kwargs).double()
    assert list(module.state_dict()) == list(reference.state_dict())
    module.load_state_dict({k: dendrite.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    return module, reference


def compare(module, reference, arrays, masks=None, self_attention=False, **forward):
    """Run both modules on the same inputs; compare outputs, weights and every gradient."""
    masks = masks or {}
    d_in = [dendrite.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    if self_attention:
        d_in, t_in = d_in * 3, t_in * 3
    d_masks = {k: dendrite.tensor(v) for k, v in masks.items()}
    t_masks = {k: torch.tensor(v) for k, v in masks.items()}
    d_out, d_weights = module(*d_in, **d_masks, **forward)
    t_out, t_weights = reference(*t_in, **t_masks, **forward)
    np.testing.assert_allclose(d_out.detach().numpy(), t_out.detach().numpy(), **TOL)
    if t_weights is None:
        assert d_weights is None
    else:  # NaN where every key is masked (softmax of -inf), exactly where PyTorch has them
        np.testing.assert_allclose(d_weights.detach().numpy(), t_weights.detach().numpy(), equal_nan=True,
                                   **TOL)
    weight = rand(*t_out.shape, seed=9)
    (d_out * dendrite.tensor(weight)).sum().backward()
    (t_out * torch.tensor(weight)).sum().backward()
    for d, t in zip(d_in, t_in):
        np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), **TOL)
    d_params = dict(module.named_parameters())
    for name, parameter in reference.named_parameters():
        np.testing.assert_allclose(d_params[name].grad.numpy(), parameter.grad.numpy(), err_msg=name, **TOL)


L, S, N, E, H = 4, 5, 3, 8, 2


def layout(batch_first, length, features=E):
    return (N, length, features) if batch_first else (length, N, features)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("forward", [{}, {"need_weights": False}, {"average_attn_weights": False}],
                         ids=["weights", "no-weights", "per-head"])
def test_self_attention_matches_torch(batch_first, forward):
    module, reference = twins(embed_dim=E, num_heads=H, batch_first=batch_first)
    compare(module, reference, [rand(*layout(batch_first, L))], self_attention=True, **forward)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_cross_attention_with_masks_matches_torch(batch_first, need_weights):
    module, reference = twins(embed_dim=E, num_heads=H, batch_first=batch_first)
    rng = np.random.default_rng(1)
    masks = {"attn_mask": rng.random((L, S)) > 0.7, "key_padding_mask": rng.random((N, S)) > 0.7}
    arrays = [rand(*layout(batch_first, L)), rand(*layout(batch_first, S), seed=1),
              rand(*layout(batch_first, S), seed=2)]
    compare(module, reference, arrays, masks, need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
def test_float_masks_per_head_match_torch(need_weights):
    module, reference = twins(embed_dim=E, num_heads=H)
    masks = {"attn_mask": rand(N * H, L, S, seed=3), "key_padding_mask": rand(N, S, seed=4)}
    arrays = [rand(L, N, E), rand(S, N, E, seed=1), rand(S, N, E, seed=2)]
    compare(module, reference, arrays, masks, need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
def test_causal_hint_with_its_mask_matches_torch(need_weights):
    module, reference = twins(embed_dim=E, num_heads=H, batch_first=True)
    causal = np.triu(np.full((L, L), -np.inf), 1)
    compare(module, reference, [rand(N, L, E)], {"attn_mask": causal}, self_attention=True,
            need_weights=need_weights, is_causal=True)


@pytest.mark.parametrize("need_weights", [True, False])
def test_bias_kv_zero_attn_and_separate_kdim_vdim_match_torch(need_weights):
    module, reference = twins(embed_dim=E, num_heads=H, add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=5)
    assert list(module.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias",
                                         "bias_k", "bias_v", "out_proj.weight", "out_proj.bias"]
    rng = np.random.default_rng(2)
    masks = {"attn_mask": rng.random((L, S)) > 0.7, "key_padding_mask": rng.random((N, S)) > 0.7}
    arrays = [rand(L, N, E), rand(S, N, 3, seed=1), rand(S, N, 5, seed=2)]
    compare(module, reference, arrays, masks, need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
def test_unbatched_input_without_bias_matches_torch(need_weights):
    module, reference = twins(embed_dim=E, num_heads=H, bias=False)
    padding = np.array([False, True, False, False, True])
    masks = {"attn_mask": rand(H, L, S, seed=5), "key_padding_mask": padding}
    arrays = [rand(L, E), rand(S, E, seed=1), rand(S, E, seed=2)]
    compare(module, reference, arrays, masks, need_weights=need_weights)


def test_fully_masked_query_as_torch():
    """Weights are NaN for a query with no key (softmax of all -inf); without weights the output row is
    the output projection of zeros (attention's safe softmax), as PyTorch."""
    module, reference = twins(embed_dim=E, num_heads=H)
    mask = np.zeros((L, S), dtype=bool)
    mask[1] = True
    for need_weights in (True, False):
        d_out, _ = module(dendrite.tensor(rand(L, N, E)), dendrite.tensor(rand(S, N, E, seed=1)),
                          dendrite.tensor(rand(S, N, E, seed=1)), attn_mask=dendrite.tensor(mask),
                          need_weights=need_weights)
        t_out, _ = reference(torch.tensor(rand(L, N, E)), torch.tensor(rand(S, N, E, seed=1)),
                             torch.tensor(rand(S, N, E, seed=1)), attn_mask=torch.tensor(mask),
                             need_weights=need_weights)
        np.testing.assert_allclose(d_out.detach().numpy(), t_out.detach().numpy(), equal_nan=True, **TOL)


def test_parameters_and_init_as_torch():
    dendrite.manual_seed(0)
    module = dendrite.nn.MultiheadAttention(64, 4, add_bias_kv=True)
    reference = torch.nn.MultiheadAttention(64, 4, add_bias_kv=True)
    for name, parameter in reference.named_parameters():
        assert tuple(dict(module.named_parameters())[name].shape) == tuple(parameter.shape)
    assert isinstance(module.out_proj, dendrite.nn.Linear)
    assert np.all(module.in_proj_bias.detach().numpy() == 0)
    assert np.all(module.out_proj.bias.detach().numpy() == 0)
    bound = (6 / (64 + 3 * 64)) ** 0.5  # xavier_uniform_ of the packed (3E, E) weight, as torch
    weight = module.in_proj_weight.detach().numpy()
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    assert abs(weight.std() - bound / 3 ** 0.5) < 0.05 * bound
    assert sum(p.numel() for p in module.parameters()) == sum(p.numel() for p in reference.parameters())


def test_dropout_only_in_training_and_reproducible():
    module, reference = twins(embed_dim=E, num_heads=H, dropout=0.5)
    x = rand(L, N, E)
    module.eval()
    reference.eval()
    compare(module, reference, [x], self_attention=True)
    module.train()
    dendrite.manual_seed(4)
    first, weights = module(*[dendrite.tensor(x)] * 3, average_attn_weights=False)
    dendrite.manual_seed(4)
    second, _ = module(*[dendrite.tensor(x)] * 3)
    np.testing.assert_array_equal(first.detach().numpy(), second.detach().numpy())
    dropped = weights.detach().numpy()
    assert 0.3 < np.mean(dropped == 0) < 0.7  # about half of the weights dropped, the rest scaled by 2
    np.testing.assert_allclose(dropped.sum(-1).mean(), 1.0, atol=0.2)


@pytest.mark.parametrize("call, words", [
    (lambda m: m(*[dendrite.randn(4, 3, 7)] * 3), "expected the last"),
    (lambda m: m(dendrite.randn(4, 3, 8), dendrite.randn(4, 8), dendrite.randn(4, 8)), "3-D"),
    (lambda m: m(dendrite.randn(3, 4, 3, 8), dendrite.randn(4, 3, 8), dendrite.randn(4, 3, 8)), "unbatched"),
    (lambda m: m(dendrite.randn(4, 3, 8), dendrite.randn(5, 3, 8), dendrite.randn(4, 3, 8)), "do not match"),
    (lambda m: m(dendrite.randn(4, 3, 8), dendrite.randn(5, 2, 8), dendrite.randn(5, 2, 8)), "batch sizes"),
    (lambda m: m(*[dendrite.randn(4, 3, 8)] * 3, attn_mask=dendrite.zeros(4, 5)), "attn_mask of shape"),
    (lambda m: m(*[dendrite.randn(4, 3, 8)] * 3, key_padding_mask=dendrite.zeros(3, 5)), "key_padding_mask"),
    (lambda m: m(*[dendrite.randn(4, 3, 8)] * 3, key_padding_mask=dendrite.zeros(3, 4, dtype=dendrite.int64)),
     "only bool and floating"),
    (lambda m: m(*[dendrite.randn(4, 3, 8)] * 3, is_causal=True), "need attn_mask"),
])
def test_bad_input_gets_a_clear_error(call, words):
    with pytest.raises((ValueError, RuntimeError, TypeError), match=words):
        call(dendrite.nn.MultiheadAttention(8, 2))


def test_embed_dim_must_divide_into_heads():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        dendrite.nn.MultiheadAttention(10, 3)
