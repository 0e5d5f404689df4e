"""Scaled dot-product attention (PyTorch's ``F.scaled_dot_product_attention``).

Each query position takes a weighted average of the values; the weights say how
well the query matches each key:

    scores  = Q · Kᵀ · scale                 (..., L, S)    scale = 1 / sqrt(E) unless given
    scores += mask                           -inf where a key may not be attended to
    weights = softmax(scores, over S)        each row sums to 1
    output  = dropout(weights) · V           (..., L, Ev)

The backward is the chain rule through those steps, each an operation with its
own backward beside its forward:

    dV = weightsᵀ · dOut                     (MatMul)
    dW = dOut · Vᵀ;  dScores = W ⊙ (dW - Σ_S dW ⊙ W)   (MatMul, then SafeSoftmax below)
    dQ = dScores · K · scale;  dK = dScoresᵀ · Q · scale

It is composed from those primitives rather than fused: a fused version would
save a few temporaries, but the composed one already spends its time in the two
batched matrix products (BLAS), and every piece of it exports to ONNX as is.

The one new operation is :class:`SafeSoftmax`: a row in which *every* key is
masked (all scores -inf) has no meaningful average; ``softmax`` would give NaN
there, and PyTorch's ``scaled_dot_product_attention`` returns zeros instead
(and a zero gradient). So does this one.
"""

from __future__ import annotations

import math

from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.nn.functional.dropout import dropout
from dendrite.ops import where
from dendrite.tensor import Tensor, wrap

__all__ = ["scaled_dot_product_attention"]


class SafeSoftmax(Function):
    """Softmax over the last axis; a row whose scores are all ``-inf`` gives zeros, not NaN."""

    def forward(self, x):
        if x.size == 0:  # no keys (S = 0) or no queries: nothing to normalise
            self.result = x.copy()
            return self.result
        peak = x.max(axis=-1, keepdims=True)
        empty = peak == -xp.inf  # every key masked in this row
        # Shift by the row's maximum (no overflow); an empty row is shifted by 0, so exp gives zeros.
        # One (..., L, S) array is allocated and then worked on in place: this runs on every score.
        exps = x - xp.where(empty, 0, peak)
        xp.exp(exps, out=exps)
        sums = exps.sum(axis=-1, keepdims=True)
        exps /= xp.where(empty, 1, sums)
        self.result = exps
        return exps

    def backward(self, grad):
        # s = softmax(x):  dX = s ⊙ (dS - Σ_S dS ⊙ s);  a fully masked row has s = 0, so dX = 0 there
        s = self.result
        grad_x = grad - (grad * s).sum(axis=-1, keepdims=True)
        grad_x *= s
        return grad_x


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
    scores = (query @ key.transpose(-2, -1)) * scale_factor
    if is_causal:  # query i sees keys 0..i (the top-left triangle when L != S), as PyTorch
        allowed = wrap(xp.tril(xp.ones((length, source), dtype=bool)))
        scores = where(allowed, scores, -math.inf)
    elif attn_mask is not None:
        if not _broadcasts(_shape(attn_mask), _shape(scores)) \
                or xp.broadcast_shapes(_shape(attn_mask), _shape(scores)) != _shape(scores):
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask of shape {_shape(attn_mask)} does not broadcast "
                f"to the attention scores of shape {_shape(scores)} (..., L, S)"
            )
        if attn_mask.array.dtype.kind == "b":
            scores = where(attn_mask, scores, -math.inf)
        else:  # a float32 mask on other queries adds in the query's dtype, as PyTorch
            scores = scores + (attn_mask if attn_mask.dtype == scores.dtype else attn_mask.to(scores.dtype))
    weights = SafeSoftmax.apply(scores)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value
