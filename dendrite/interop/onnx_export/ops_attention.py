"""ONNX forms of the attention operations (``nn.functional.attention``).

Attention itself is exported as what it is made of (MatMul, the softmax below,
MatMul: see ``scaled_dot_product_attention``); the one operation of its own is
:class:`AttentionSoftmax`, ``softmax(x * scale + bias)`` with masked keys left
out:

    z = x * scale + bias;  z = Where(blocked, -inf, z);  s = Softmax(z)
    s = Where(max(z) == -inf, 0, s)          (zero_empty: a query with no key left gets zeros)

ONNX's Softmax gives NaN for a row that is all ``-inf``; the last Where turns it
into zeros, as dendrite (and PyTorch's scaled_dot_product_attention) do.
"""

from __future__ import annotations

import math

import numpy as np

from dendrite.interop.onnx_export.builder import handles, onnx_dtype
from dendrite.nn.functional.attention import AttentionSoftmax
from dendrite.tensor import Tensor


@handles(AttentionSoftmax)
def _attention_softmax(b, node):
    options = node.trace_options
    dtype = node.trace_dtypes[0]
    z = b.input(node, 0)
    if options.get("scale", 1.0) != 1.0:
        z = b.add("Mul", [z, b.scalar_like(options["scale"], dtype)])
    bias = node.inputs[1] if len(node.inputs) > 1 else None
    if bias is not None:
        bias_name = b.input(node, 1)
        if np.dtype(bias.array.dtype if isinstance(bias, Tensor) else np.asarray(bias).dtype) != dtype:
            bias_name = b.add("Cast", [bias_name], to=onnx_dtype(dtype))
        z = b.add("Add", [z, bias_name])
    mask = node.inputs[2] if len(node.inputs) > 2 else None
    if mask is not None:
        blocked = b.input(node, 2)
        if not options.get("mask_blocks", True):
            blocked = b.add("Not", [blocked])
        z = b.add("Where", [blocked, b.scalar_like(-math.inf, dtype), z])
    if not options.get("zero_empty", True):
        b.add("Softmax", [z], [b.output(node)], axis=-1)
        return
    probabilities = b.add("Softmax", [z], axis=-1)
    empty = b.add("Equal", [b.reduce("ReduceMax", z, [-1], True), b.scalar_like(-math.inf, dtype)])
    b.add("Where", [empty, b.scalar_like(0.0, dtype), probabilities], [b.output(node)])
