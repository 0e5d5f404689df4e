"""ONNX export of attention and Transformers, run by onnxruntime against dendrite."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite.interop.onnx_export import OnnxExportError

ort = pytest.importorskip("onnxruntime")
F = dendrite.nn.functional
TOLERANCE = 1e-5
E, HEADS, FF, LENGTH = 16, 4, 32, 6


def run(proto, **inputs) -> list:
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


def expected(model, *arrays) -> list:
    with dendrite.no_grad():
        result = model(*[dendrite.tensor(a) for a in arrays])
    return [r.numpy() for r in (result if isinstance(result, tuple) else (result,))]


def assert_same(got: list, want: list) -> None:
    assert len(got) == len(want)
    for mine, reference in zip(got, want):
        assert mine.shape == reference.shape
        np.testing.assert_allclose(mine, reference, rtol=0, atol=TOLERANCE)


class CausalEncoder(dendrite.nn.Module):
    """A GPT-style stack: a TransformerEncoder under a fixed causal mask (a buffer)."""

    def __init__(self, batch_first: bool) -> None:
        super().__init__()
        layer = dendrite.nn.TransformerEncoderLayer(E, HEADS, FF, batch_first=batch_first, activation="gelu",
                                                    norm_first=True)
        self.encoder = dendrite.nn.TransformerEncoder(layer, 2, norm=dendrite.nn.LayerNorm(E))
        mask = dendrite.nn.Transformer.generate_square_subsequent_mask(LENGTH)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        return self.encoder(x, mask=self.mask)


def test_causal_transformer_encoder_batch_first_with_a_dynamic_batch():
    dendrite.manual_seed(0)
    model = CausalEncoder(batch_first=True).eval()
    proto = dendrite.onnx.export(model, dendrite.randn(2, LENGTH, E), None)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    rng = np.random.default_rng(0)
    for batch in (1, 2, 5):  # other batch sizes than the example's
        x = rng.standard_normal((batch, LENGTH, E)).astype(np.float32)
        assert_same(run(proto, input=x), expected(model, x))


def test_causal_transformer_encoder_sequence_first():
    """batch_first=False puts the batch on axis 1; the exporter's dynamic axis is axis 0, so this one is
    exported with fixed shapes (dynamic_batch=False)."""
    dendrite.manual_seed(1)
    model = CausalEncoder(batch_first=False).eval()
    proto = dendrite.onnx.export(model, dendrite.randn(LENGTH, 3, E), None, dynamic_batch=False)
    x = np.random.default_rng(1).standard_normal((LENGTH, 3, E)).astype(np.float32)
    assert_same(run(proto, input=x), expected(model, x))


class Padded(dendrite.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = dendrite.nn.TransformerEncoder(
            dendrite.nn.TransformerEncoderLayer(E, HEADS, FF, batch_first=True), 2)

    def forward(self, x, padding):
        return self.encoder(x, src_key_padding_mask=padding)


def test_key_padding_mask_as_a_graph_input():
    dendrite.manual_seed(2)
    model = Padded().eval()
    padding = np.zeros((2, LENGTH), dtype=bool)
    padding[0, 4:] = True
    proto = dendrite.onnx.export(model, (dendrite.randn(2, LENGTH, E), dendrite.tensor(padding)), None,
                                 input_names=["x", "padding"])
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, LENGTH, E)).astype(np.float32)
    padding = rng.random((4, LENGTH)) > 0.6
    padding[:, 0] = False
    assert_same(run(proto, x=x, padding=padding), expected(model, x, padding))


class WithWeights(dendrite.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attention = dendrite.nn.MultiheadAttention(E, HEADS, batch_first=True, add_bias_kv=True)

    def forward(self, x):
        return self.attention(x, x, x)  # (output, weights averaged over the heads)


def test_multihead_attention_with_its_weights():
    dendrite.manual_seed(3)
    model = WithWeights().eval()
    proto = dendrite.onnx.export(model, dendrite.randn(2, LENGTH, E), None,
                                 output_names=["output", "weights"])
    x = np.random.default_rng(3).standard_normal((3, LENGTH, E)).astype(np.float32)
    assert_same(run(proto, input=x), expected(model, x))


class MaskedRows(dendrite.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        allowed = np.tril(np.ones((LENGTH, LENGTH), dtype=bool))
        allowed[2] = False  # query 2 may attend to nothing: zeros, not NaN
        self.register_buffer("allowed", dendrite.tensor(allowed), persistent=False)

    def forward(self, x):
        heads = x.reshape(x.shape[0], LENGTH, HEADS, E // HEADS).transpose(1, 2)
        return F.scaled_dot_product_attention(heads, heads, heads, attn_mask=self.allowed)


def test_fully_masked_query_exports_as_zeros():
    model = MaskedRows()
    proto = dendrite.onnx.export(model, dendrite.randn(2, LENGTH, E), None)
    x = np.random.default_rng(4).standard_normal((3, LENGTH, E)).astype(np.float32)
    got = run(proto, input=x)
    assert np.all(got[0][:, :, 2] == 0) and np.isfinite(got[0]).all()
    assert_same(got, expected(model, x))


def test_attention_dropout_is_refused_with_a_reason():
    class Dropping(dendrite.nn.Module):
        def forward(self, x):
            return F.scaled_dot_product_attention(x, x, x, dropout_p=0.5)

    with pytest.raises(OnnxExportError, match="dropout"):
        dendrite.onnx.export(Dropping(), dendrite.randn(2, LENGTH, E), None)


def test_safe_softmax_is_listed():
    assert "attention.SafeSoftmax" in dendrite.onnx.supported_operations()
