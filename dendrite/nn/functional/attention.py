"""Scaled dot-product attention (PyTorch's ``F.scaled_dot_product_attention``).

Each query position takes a weighted average of the values; the weights say how
well the query matches each key:

    scores  = Q · Kᵀ                         (..., L, S)
    weights = softmax(scores · scale + mask, over S)    each row sums to 1; scale = 1 / sqrt(E)
    output  = dropout(weights) · V           (..., L, Ev)

The mask is a float tensor added to the scores and/or a bool mask of the keys a
query may not attend to (their weight is exactly 0). The backward is the chain
rule through those steps, each an operation with its backward beside its forward:

    dV = weightsᵀ · dOut                     (MatMul)
    dW = dOut · Vᵀ                           (MatMul)
    dZ = W ⊙ (dW - Σ_S dW ⊙ W)               (AttentionSoftmax, Z = scores · scale + mask)
    dScores = dZ · scale;  dMask = dZ summed over the dimensions the mask was broadcast along
    dQ = dScores · K;  dK = dScoresᵀ · Q      (MatMul)

The matrix products are the library's own; the one operation of this file is
:class:`AttentionSoftmax`, which scales, masks and normalises the scores in one
pass over the (..., L, S) array. Keeping the masking inside it means that the
``-inf`` of a mask never appears in any operation's output, so attention runs
clean under ``detect_anomaly`` (which stops at the first Inf); it also saves two
(..., L, S) temporaries, though measured on a 2-core CPU that is within the noise
of the composed form (``benchmarks/bench_attention.py``). A fully fused attention
(both products inside one Function) was measured no faster either: the time is in
the two batched matrix products, which are BLAS calls in every form.

A row in which *every* key is masked has no meaningful average: PyTorch's
``scaled_dot_product_attention`` returns zeros there (and a zero gradient), and
so does ``AttentionSoftmax`` (``zero_empty=True``); ``MultiheadAttention``'s
weights are NaN there in PyTorch, and ``zero_empty=False`` gives that.
"""

from __future__ import annotations

import math

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.dropout import dropout
from dendrite.ops.graph_operands import sum_to
from dendrite.ops.operands import unbroadcast
from dendrite.tensor import Tensor

__all__ = ["scaled_dot_product_attention"]


class AttentionSoftmax(Function):
    """``softmax(x * scale + bias)`` over the last axis, masked positions left out (weight 0).

    ``mask`` (bool, broadcast to x): the positions to leave out when ``mask_blocks``, else the
    positions to keep. A row with nothing left gives zeros (``zero_empty``) or NaN (PyTorch's
    MultiheadAttention weights).
    """

    def forward(self, x, bias=None, mask=None, *, scale=1.0, mask_blocks=True, zero_empty=True):
        # One (..., L, S) array is allocated and then worked on in place: this runs on every score.
        z = x * scale if scale != 1.0 else x.copy()
        if bias is not None:
            self.bias_shape = bias.shape
            z += bias
        if mask is not None:  # -inf added, not written: a NaN score stays NaN, as PyTorch's float mask
            xp.add(z, -xp.inf, out=z, where=mask if mask_blocks else ~mask)
        self.scale = scale
        self.mask_blocks, self.zero_empty = mask_blocks, zero_empty
        if z.size == 0:  # no keys (S = 0) or no queries: nothing to normalise
            self.result = z
            return z
        peak = z.max(axis=-1, keepdims=True)
        empty = peak == -xp.inf  # every key masked in this row
        # Shift by the row's maximum (no overflow); an empty row is shifted by 0, so exp gives zeros.
        z -= xp.where(empty, 0, peak)
        xp.exp(z, out=z)
        sums = z.sum(axis=-1, keepdims=True)
        with xp.errstate(invalid="ignore", divide="ignore"):  # 0 / 0 = NaN rows when not zero_empty
            z /= xp.where(empty, 1, sums) if zero_empty else sums
        self.result = z
        return z

    def backward(self, grad):
        # s = softmax(z), z = x·scale + bias:  dZ = s ⊙ (dS - Σ_S dS ⊙ s);  dX = dZ · scale;
        # dBias = dZ summed over its broadcast dimensions. Masked keys have s = 0, so dZ = 0 there.
        s = self.result
        grad_z = grad - (grad * s).sum(axis=-1, keepdims=True)
        grad_z *= s
        needs = self.needs_input_grad
        grad_bias = None
        if len(needs) > 1 and needs[1]:
            grad_bias = unbroadcast(grad_z, self.bias_shape)
        grad_x = grad_z * self.scale if self.scale != 1.0 else grad_z
        return grad_x, grad_bias, None

    def backward_graph(self, grad):
        # The same formula on tensors, with s recomputed as a node of x (and bias): the gradient
        # then has a graph back to x, bias and grad, so it can be differentiated again.
        x, bias, mask = self.inputs
        s = AttentionSoftmax.apply(x, bias, mask, scale=self.scale, mask_blocks=self.mask_blocks,
                                   zero_empty=self.zero_empty)
        grad_z = (grad - (grad * s).sum(dim=-1, keepdim=True)) * s
        needs = self.needs_input_grad
        grad_bias = sum_to(grad_z, tuple(bias.shape)) if bias is not None and needs[1] else None
        grad_x = grad_z * self.scale if self.scale != 1.0 else grad_z
        return grad_x, grad_bias, None


def attention_softmax(scores: Tensor, scale: float = 1.0, bias: Tensor | None = None,
                      mask: Tensor | None = None, mask_blocks: bool = True,
                      zero_empty: bool = True) -> Tensor:
    """``softmax(scores * scale + bias)`` over the last dimension with ``mask``'s positions left out.

    Shapes: scores ``(..., L, S)``; ``bias`` (float) and ``mask`` (bool) broadcast to it. ``mask``
    marks the keys to leave out (``mask_blocks=True``, MultiheadAttention's convention) or to keep
    (``False``, scaled_dot_product_attention's). A query with no key left gets zeros, or NaN with
    ``zero_empty=False``.

    Example:
        >>> import dendrite
        >>> blocked = dendrite.tensor([False, True])
        >>> attention_softmax(dendrite.tensor([[1.0, 5.0]]), mask=blocked)
        tensor([[1., 0.]])
    """
    return AttentionSoftmax.apply(scores, bias, mask, scale=scale, mask_blocks=mask_blocks,
                                  zero_empty=zero_empty)


def _shape(tensor: Tensor) -> tuple:
    return tuple(tensor.shape)


def _check_operands(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa) -> None:
    name = "scaled_dot_product_attention"
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(
            f"{name}: expected query, key and value to be at least 2-dimensional (..., L, E), (..., S, E), "
            f"(..., S, Ev), got shapes {_shape(query)}, {_shape(key)} and {_shape(value)}"
        )
    if not query.dtype == key.dtype == value.dtype or query.array.dtype.kind != "f":
        raise RuntimeError(
            f"{name}: expected query, key and value to have the same floating-point dtype, got "
            f"{query.dtype}, {key.dtype} and {value.dtype}"
        )
    if key.shape[-1] != query.shape[-1]:
        raise RuntimeError(
            f"{name}: query {_shape(query)} and key {_shape(key)} must have the same embedding size E "
            f"in their last dimension (got {query.shape[-1]} and {key.shape[-1]})"
        )
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"{name}: key {_shape(key)} and value {_shape(value)} must have the same number of positions S "
            f"in dimension -2 (got {key.shape[-2]} and {value.shape[-2]})"
        )
    if enable_gqa:
        if min(query.ndim, key.ndim, value.ndim) < 3:
            raise RuntimeError(
                f"{name}(enable_gqa=True): expected query, key and value with a heads dimension, "
                f"(..., heads, L or S, E), got shapes {_shape(query)}, {_shape(key)} and {_shape(value)}"
            )
        heads = query.shape[-3]
        if heads % key.shape[-3] or heads % value.shape[-3]:
            raise RuntimeError(
                f"{name}(enable_gqa=True): the number of heads in key ({key.shape[-3]}) and value "
                f"({value.shape[-3]}) must divide the number of heads in query ({heads}), dimension -3"
            )
    elif not _broadcasts(_shape(query)[:-2], _shape(key)[:-2], _shape(value)[:-2]):
        raise RuntimeError(
            f"{name}: the batch dimensions of query {_shape(query)}, key {_shape(key)} and value "
            f"{_shape(value)} (all but the last two) cannot be broadcast together"
        )
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"{name}: dropout probability has to be between 0 and 1, but got {dropout_p}")
    if attn_mask is None:
        return
    if is_causal:
        raise RuntimeError(f"{name}: an explicit attn_mask should not be set when is_causal=True; "
                           "pass one or the other")
    if not isinstance(attn_mask, Tensor):
        raise TypeError(f"{name}: attn_mask must be a Tensor or None, got {type(attn_mask).__name__}")
    mask_dtype = attn_mask.array.dtype
    if mask_dtype.kind != "b" and mask_dtype != query.array.dtype and mask_dtype != xp.float32:
        raise RuntimeError(
            f"{name}: expected attn_mask to be bool (True = take part in attention), float32 or the query's "
            f"dtype {query.dtype} (added to the scores), got dtype {attn_mask.dtype}"
        )


def _broadcasts(*shapes) -> bool:
    try:
        xp.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def _repeat_heads(tensor: Tensor, heads: int) -> Tensor:
    """(..., Hk, S, E) -> (..., heads, S, E), each head repeated heads // Hk times in a row."""
    shape = _shape(tensor)
    group = heads // shape[-3]
    if group == 1:
        return tensor
    expanded = tensor.unsqueeze(-3).expand(*shape[:-2], group, *shape[-2:])
    return expanded.reshape(*shape[:-3], heads, *shape[-2:])


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value``: attention of each query over all keys.

    Shapes: query ``(..., L, E)``, key ``(..., S, E)``, value ``(..., S, Ev)`` -> ``(..., L, Ev)``;
    the leading dimensions (batch, heads) broadcast. ``attn_mask`` broadcasts to ``(..., L, S)``:
    a bool mask says which keys each query may attend to (True = take part), a float mask is added
    to the scores. ``is_causal=True`` lets query ``i`` see keys ``0..i`` only (no ``attn_mask``
    then). ``scale`` defaults to ``1 / sqrt(E)``. ``dropout_p`` drops attention weights (always,
    as PyTorch: pass 0.0 when evaluating). ``enable_gqa`` shares each key/value head among a group
    of query heads (dimension -3). A query whose keys are all masked gets zeros.

    Example:
        >>> import dendrite
        >>> q = k = v = dendrite.randn(2, 4, 5, 8)          # (batch, heads, positions, E)
        >>> scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (2, 4, 5, 8)
        >>> v = dendrite.tensor([[1.0], [3.0]])
        >>> scaled_dot_product_attention(dendrite.zeros(1, 2), dendrite.zeros(2, 2), v)   # equal scores
        tensor([[2.]])
    """
    _check_operands(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa)
    length, source = query.shape[-2], key.shape[-2]
    scale_factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa:
        key = _repeat_heads(key, query.shape[-3])
        value = _repeat_heads(value, query.shape[-3])
    scores = query @ key.transpose(-2, -1)
    bias = mask = None
    mask_blocks = True
    if is_causal:  # query i sees keys 0..i (the top-left triangle when L != S), as PyTorch
        mask = xp.triu(backend.namespace(scores.array).ones((length, source), dtype=bool), 1)
    elif attn_mask is not None:
        if not _broadcasts(_shape(attn_mask), _shape(scores)) \
                or xp.broadcast_shapes(_shape(attn_mask), _shape(scores)) != _shape(scores):
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask of shape {_shape(attn_mask)} does not broadcast "
                f"to the attention scores of shape {_shape(scores)} (..., L, S)"
            )
        if attn_mask.array.dtype.kind == "b":
            mask, mask_blocks = attn_mask, False  # True = take part
        else:  # a float32 mask on other queries adds in the query's dtype, as PyTorch
            bias = attn_mask if attn_mask.dtype == scores.dtype else attn_mask.to(scores.dtype)
    weights = AttentionSoftmax.apply(scores, bias, mask, scale=scale_factor, mask_blocks=mask_blocks)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value
