"""Transformer layers and stacks: PyTorch parity (float64 outputs and gradients), keys, masks, dropout."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import dendrite

TOL = dict(rtol=1e-9, atol=1e-11)
S, T, N, E, HEADS, FF = 5, 4, 3, 8, 2, 16


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def twins(name, *args, torch_kwargs=None, dendrite_kwargs=None, **kwargs):
    """The same module in torch and dendrite (float64, torch's weights copied over, keys checked)."""
    torch.manual_seed(0)
    reference = getattr(torch.nn, name)(*args, **kwargs, **(torch_kwargs or {})).double()
    module = getattr(dendrite.nn, name)(*args, **kwargs, **(dendrite_kwargs or {})).double()
    assert list(module.state_dict()) == list(reference.state_dict())
    module.load_state_dict({k: dendrite.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    return module, reference


def compare(module, reference, arrays, masks=None, **forward):
    """Same inputs to both; outputs, input gradients and every parameter gradient must agree."""
    masks = masks or {}
    d_in = [dendrite.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    d_out = module(*d_in, **{k: dendrite.tensor(v) for k, v in masks.items()}, **forward)
    t_out = reference(*t_in, **{k: torch.tensor(v) for k, v in masks.items()}, **forward)
    np.testing.assert_allclose(d_out.detach().numpy(), t_out.detach().numpy(), **TOL)
    weight = rand(*t_out.shape, seed=11)
    (d_out * dendrite.tensor(weight)).sum().backward()
    (t_out * torch.tensor(weight)).sum().backward()
    for d, t in zip(d_in, t_in):
        np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), **TOL)
    d_params = dict(module.named_parameters())
    for name, parameter in reference.named_parameters():
        np.testing.assert_allclose(d_params[name].grad.numpy(), parameter.grad.numpy(), err_msg=name, **TOL)


def shape(batch_first, length):
    return (N, length, E) if batch_first else (length, N, E)


def causal(length):
    return np.triu(np.full((length, length), -np.inf), 1)


def padding(length, seed):
    mask = np.random.default_rng(seed).random((N, length)) > 0.7
    mask[:, 0] = False  # every sequence keeps at least one position
    return mask


LAYER_CASES = [
    dict(batch_first=False, norm_first=False, activation="relu"),
    dict(batch_first=True, norm_first=False, activation="gelu"),
    dict(batch_first=False, norm_first=True, activation="gelu"),
    dict(batch_first=True, norm_first=True, activation="relu", bias=False),
]


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("masks", ["none", "causal+padding", "bool"])
def test_encoder_layer_matches_torch(case, masks):
    module, reference = twins("TransformerEncoderLayer", E, HEADS, FF, **case)
    module.eval(), reference.eval()  # dropout off in both: eval mode must be identical
    given = {}
    if masks == "causal+padding":
        given = {"src_mask": causal(S), "src_key_padding_mask": padding(S, 1)}
    elif masks == "bool":
        given = {"src_mask": np.triu(np.ones((S, S), dtype=bool), 1),
                 "src_key_padding_mask": padding(S, 2)}
    compare(module, reference, [rand(*shape(case["batch_first"], S))], given)


def test_encoder_layer_causal_hint_and_callable_activation_match_torch():
    module, reference = twins("TransformerEncoderLayer", E, HEADS, FF, dropout=0.0,
                              torch_kwargs={"activation": torch.tanh},
                              dendrite_kwargs={"activation": dendrite.tanh})
    compare(module, reference, [rand(S, N, E)], {"src_mask": causal(S)}, is_causal=True)
    compare(module, reference, [rand(S, E)], {"src_mask": causal(S)})  # unbatched


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_matches_torch(batch_first, norm_first):
    layer_kwargs = dict(dim_feedforward=FF, batch_first=batch_first, norm_first=norm_first)
    torch.manual_seed(0)
    reference = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, HEADS, **layer_kwargs), 2,
                                            norm=torch.nn.LayerNorm(E), enable_nested_tensor=False).double()
    module = dendrite.nn.TransformerEncoder(dendrite.nn.TransformerEncoderLayer(E, HEADS, **layer_kwargs), 2,
                                            norm=dendrite.nn.LayerNorm(E)).double()
    assert list(module.state_dict()) == list(reference.state_dict())
    assert "layers.1.self_attn.in_proj_weight" in module.state_dict()
    module.load_state_dict({k: dendrite.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    module.eval(), reference.eval()
    compare(module, reference, [rand(*shape(batch_first, S))],
            {"mask": causal(S), "src_key_padding_mask": padding(S, 3)})


def test_encoder_layers_are_independent_copies():
    layer = dendrite.nn.TransformerEncoderLayer(E, HEADS, FF)
    encoder = dendrite.nn.TransformerEncoder(layer, 3)
    weights = [encoder.layers[i].linear1.weight for i in range(3)]
    assert len({id(w) for w in weights}) == 3 and weights[0] is not layer.linear1.weight
    np.testing.assert_array_equal(weights[0].detach().numpy(), weights[2].detach().numpy())


@pytest.mark.parametrize("case", LAYER_CASES[:3], ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_decoder_layer_matches_torch(case):
    module, reference = twins("TransformerDecoderLayer", E, HEADS, FF, **case)
    module.eval(), reference.eval()
    masks = {"tgt_mask": causal(T), "memory_mask": np.random.default_rng(4).random((T, S)) > 0.8,
             "tgt_key_padding_mask": padding(T, 5), "memory_key_padding_mask": padding(S, 6)}
    arrays = [rand(*shape(case["batch_first"], T)), rand(*shape(case["batch_first"], S), seed=1)]
    compare(module, reference, arrays, masks)


def test_decoder_stack_matches_torch():
    torch.manual_seed(0)
    reference = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(E, HEADS, FF), 2,
                                            norm=torch.nn.LayerNorm(E)).double()
    module = dendrite.nn.TransformerDecoder(dendrite.nn.TransformerDecoderLayer(E, HEADS, FF), 2,
                                            norm=dendrite.nn.LayerNorm(E)).double()
    assert list(module.state_dict()) == list(reference.state_dict())
    module.load_state_dict({k: dendrite.tensor(v.numpy()) for k, v in reference.state_dict().items()})
    module.eval(), reference.eval()
    compare(module, reference, [rand(T, N, E), rand(S, N, E, seed=1)], {"tgt_mask": causal(T)})


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(batch_first):
    module, reference = twins("Transformer", E, HEADS, 1, 2, FF, batch_first=batch_first, activation="gelu")
    module.eval(), reference.eval()
    masks = {"tgt_mask": causal(T), "src_key_padding_mask": padding(S, 7),
             "memory_key_padding_mask": padding(S, 7), "tgt_key_padding_mask": padding(T, 8)}
    compare(module, reference, [rand(*shape(batch_first, S)), rand(*shape(batch_first, T), seed=1)], masks)


def test_transformer_init_is_glorot_for_matrices():
    dendrite.manual_seed(0)
    model = dendrite.nn.Transformer(64, 4, 1, 1, 128)
    weight = model.encoder.layers[0].linear1.weight.detach().numpy()  # (128, 64)
    bound = (6 / (64 + 128)) ** 0.5
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.95 * bound
    assert np.all(model.encoder.layers[0].norm1.weight.detach().numpy() == 1)


def test_generate_square_subsequent_mask_as_torch():
    for size in (1, 4):
        expected = torch.nn.Transformer.generate_square_subsequent_mask(size).numpy()
        actual = dendrite.nn.Transformer.generate_square_subsequent_mask(size)
        assert actual.dtype == dendrite.float32
        np.testing.assert_array_equal(actual.numpy(), expected)
    mask = dendrite.nn.Transformer.generate_square_subsequent_mask(3, dtype=dendrite.float64)
    assert mask.dtype == dendrite.float64


def test_train_mode_dropout_is_sane_and_reproducible():
    layer = dendrite.nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.5).double()
    x = dendrite.tensor(rand(S, N, E))
    dendrite.manual_seed(2)
    first = layer(x).detach().numpy()
    dendrite.manual_seed(2)
    np.testing.assert_array_equal(layer(x).detach().numpy(), first)
    evaluated = layer.eval()(x).detach().numpy()
    assert not np.allclose(first, evaluated)
    # Post-norm: the output is LayerNorm'd, so each position has mean 0 and variance 1 in both modes.
    np.testing.assert_allclose(first.mean(-1), 0, atol=1e-9)
    np.testing.assert_allclose(first.var(-1), 1, atol=1e-3)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), evaluated)  # eval is deterministic


def test_torch_weights_file_loads_into_the_dendrite_encoder(tmp_path):
    torch.manual_seed(0)
    torch_layer = torch.nn.TransformerEncoderLayer(E, HEADS, FF, batch_first=True)
    reference = torch.nn.TransformerEncoder(torch_layer, 2, enable_nested_tensor=False).eval()
    torch.save(reference.state_dict(), tmp_path / "encoder.pt")
    layer = dendrite.nn.TransformerEncoderLayer(E, HEADS, FF, batch_first=True)
    module = dendrite.nn.TransformerEncoder(layer, 2)
    module.load_state_dict(dendrite.load(tmp_path / "encoder.pt"))
    x = rand(N, S, E).astype(np.float32)
    difference = dendrite.interop.torch_compat.compare_with_torch(module, reference, dendrite.tensor(x))
    assert difference < 1e-5


def test_copy_weights_from_torch_fills_a_whole_transformer():
    torch.manual_seed(0)
    reference = torch.nn.Transformer(E, HEADS, 1, 1, FF, batch_first=True).eval()
    model = dendrite.nn.Transformer(E, HEADS, 1, 1, FF, batch_first=True)
    dendrite.interop.torch_compat.copy_weights_from_torch(model, reference)
    src, tgt = rand(N, S, E).astype(np.float32), rand(N, T, E, seed=1).astype(np.float32)
    mask = dendrite.nn.Transformer.generate_square_subsequent_mask(T)
    with torch.no_grad():
        expected = reference(torch.tensor(src), torch.tensor(tgt), tgt_mask=torch.tensor(mask.numpy()))
    actual = model.eval()(dendrite.tensor(src), dendrite.tensor(tgt), tgt_mask=mask)
    np.testing.assert_allclose(actual.detach().numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("build, words", [
    (lambda: dendrite.nn.TransformerEncoderLayer(E, HEADS, activation="tanh"), "relu/gelu"),
    (lambda: dendrite.nn.TransformerEncoderLayer(E, 3), "divisible"),
    (lambda: dendrite.nn.TransformerEncoder(dendrite.nn.TransformerEncoderLayer(E, HEADS), -1),
     "non-negative"),
])
def test_bad_construction_is_refused(build, words):
    with pytest.raises((RuntimeError, ValueError), match=words):
        build()


def test_transformer_checks_batch_and_feature_sizes():
    model = dendrite.nn.Transformer(E, HEADS, 1, 1, FF)
    with pytest.raises(RuntimeError, match="batch number"):
        model(dendrite.randn(S, 2, E), dendrite.randn(T, 3, E))
    with pytest.raises(RuntimeError, match="d_model"):
        model(dendrite.randn(S, 2, E + 1), dendrite.randn(T, 2, E))
