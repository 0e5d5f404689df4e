"""ONNX forms of the attention operations (``nn.functional.attention``).

Attention itself is exported as what it is made of (MatMul, Mul, Where / Add,
softmax, MatMul: see ``scaled_dot_product_attention``); the one operation of its
own is :class:`SafeSoftmax`, softmax with zeros for a row whose scores are all
``-inf`` (a query that may attend to no key). ONNX's Softmax gives NaN there, so
the row is replaced by zeros where its maximum is ``-inf``.
"""

from __future__ import annotations

import math

from dendrite.interop.onnx_export.builder import handles
from dendrite.nn.functional.attention import SafeSoftmax


@handles(SafeSoftmax)
def _safe_softmax(b, node):
    x = b.input(node, 0)
    dtype = node.trace_dtypes[0]
    probabilities = b.add("Softmax", [x], axis=-1)
    peak = b.reduce("ReduceMax", x, [-1], True)
    empty = b.add("Equal", [peak, b.scalar_like(-math.inf, dtype)])
    b.add("Where", [empty, b.scalar_like(0.0, dtype), probabilities], [b.output(node)])
