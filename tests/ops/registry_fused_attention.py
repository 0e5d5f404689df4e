"""Registry entries for attention (``nn.functional.scaled_dot_product_attention``).

The NumPy reference is the formula, ``softmax(q kᵀ * scale + mask) v``, with
PyTorch's rule for a query whose keys are all masked (zeros). The samples reach
every path of its one Function, ``AttentionSoftmax``: scale, a float mask
(differentiated, broadcast over the batch), a bool mask, the causal mask.
"""

from __future__ import annotations

import numpy as np

from tests.ops.registry import OpInfo, Sample, randn


def _reference(q, k, v, attn_mask=None, is_causal=False, scale=None, **_):
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    length, source = scores.shape[-2:]
    if is_causal:
        attn_mask = np.tril(np.ones((length, source), dtype=bool))
    if attn_mask is not None and attn_mask.dtype == bool:
        scores = np.where(attn_mask, scores, -np.inf)
    elif attn_mask is not None:
        scores = scores + attn_mask
    peak = scores.max(axis=-1, keepdims=True)
    empty = np.isneginf(peak)
    exps = np.exp(scores - np.where(empty, 0, peak))
    weights = exps / np.where(empty, 1, exps.sum(axis=-1, keepdims=True))
    return weights @ v


def _sdpa(m, q, k, v, attn_mask=None, **kwargs):
    return m.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, **kwargs)


def _bool_mask(*shape, empty_row=False):
    mask = np.random.default_rng(7).random(shape) > 0.4
    mask[..., 0] = True
    if empty_row:
        mask[..., 1, :] = False  # query 1 may attend to nothing: zeros, zero gradient
    return mask


ATTENTION = [
    OpInfo(
        "scaled_dot_product_attention",
        _sdpa,
        _reference,
        [
            Sample((randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 2))),
            Sample((randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 2)), {"is_causal": True, "scale": 0.8},
                   name="causal"),
            Sample((randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 2), randn(3, 5)), name="float-mask"),
            Sample((randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 2), _bool_mask(2, 3, 5, empty_row=True)),
                   name="bool-mask"),
            Sample((randn(4, 3), randn(6, 3), randn(6, 3)), name="unbatched"),
            Sample((randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 2)), layout="transposed"),
        ],
    ),
]
