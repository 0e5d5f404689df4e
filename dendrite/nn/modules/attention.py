"""``MultiheadAttention``: attention with several heads and learned projections (``torch.nn``).

The embedding of size E is split into ``num_heads`` heads of size E / heads; each
head attends on its own (``F.scaled_dot_product_attention``) and the heads are
joined again:

    q = query · Wqᵀ + bq,  k = key · Wkᵀ + bk,  v = value · Wvᵀ + bv     (..., E)
    heads_i = attention(q_i, k_i, v_i)        q_i: the i-th slice of E / heads features
    output  = concat(heads) · Woᵀ + bo

Parameters and their ``state_dict`` keys are PyTorch's: one packed
``in_proj_weight`` (3E, E) holding Wq, Wk, Wv (or ``q_proj_weight``,
``k_proj_weight``, ``v_proj_weight`` when ``kdim``/``vdim`` differ from E),
``in_proj_bias`` (3E,), ``bias_k``/``bias_v`` (1, 1, E) and ``out_proj``, a
Linear. Masks follow PyTorch's MultiheadAttention convention, the *opposite* of
``scaled_dot_product_attention``'s: a True in ``attn_mask`` or
``key_padding_mask`` means "do not attend"; float masks are added to the scores.
The gradient is that of the operations used (linear, reshape, matmul, softmax).
"""

from __future__ import annotations

import math

from dendrite import backend
from dendrite.backend import xp
from dendrite.nn import functional as F
from dendrite.nn import init
from dendrite.nn.functional.attention import attention_softmax
from dendrite.nn.modules.linear import Linear
from dendrite.nn.modules.module import Module
from dendrite.nn.parameter import Parameter
from dendrite.ops import cat, logical_or
from dendrite.tensor import Tensor, wrap

__all__ = ["MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """PyTorch's name for ``MultiheadAttention.out_proj``'s class: a plain Linear (kept for the repr).

    Example:
        >>> NonDynamicallyQuantizableLinear(4, 4).weight.shape
        (4, 4)
    """


def check_mask(mask: Tensor | None, name: str) -> Tensor | None:
    """``mask`` itself, after checking that it is a bool (True = may not attend) or float tensor.

    PyTorch turns a bool mask into a float one (-inf where True) to add it to the scores; dendrite
    keeps it bool and leaves those keys out inside the softmax: the same weights, and no -inf
    in any operation's output (``detect_anomaly`` stops at the first Inf).

    Example:
        >>> import dendrite
        >>> check_mask(dendrite.tensor([False, True]), "key_padding_mask")
        tensor([False,  True])
    """
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.array.dtype.kind not in "bf":
        raise TypeError(f"only bool and floating types of {name} are supported, got dtype {mask.dtype}")
    return mask


def _empty(shape: tuple, dtype) -> Parameter:
    dtype = backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)
    return Parameter(xp.empty(shape, dtype))


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads with learned input and output projections.

    Shapes (``batch_first=False``; with ``batch_first=True`` swap the first two dims):
    query ``(L, N, E)``, key ``(S, N, kdim)``, value ``(S, N, vdim)``, or unbatched ``(L, E)``,
    ``(S, kdim)``, ``(S, vdim)``. ``key_padding_mask`` ``(N, S)`` (or ``(S,)``): True marks a
    padding key to ignore. ``attn_mask`` ``(L, S)`` or ``(N * num_heads, L, S)``: True = may not
    attend (float masks are added). Returns ``(attn_output, attn_weights)``: the output has the
    query's shape, the weights are ``(N, L, S)`` (averaged over heads) or ``(N, num_heads, L, S)``
    with ``average_attn_weights=False``, or None with ``need_weights=False``.
    ``is_causal`` is a hint that ``attn_mask`` is the causal mask (it must still be given).

    Example:
        >>> import dendrite
        >>> attention = dendrite.nn.MultiheadAttention(embed_dim=16, num_heads=4, batch_first=True)
        >>> x = dendrite.randn(2, 5, 16)                       # (N, L, E)
        >>> output, weights = attention(x, x, x)
        >>> output.shape, weights.shape
        ((2, 5, 16), (2, 5, 5))
        >>> list(attention.state_dict())
        ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"MultiheadAttention: dendrite runs on the CPU; device {device!r} is not "
                               "available")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.batch_first, self.head_dim = batch_first, embed_dim // num_heads
        if self._qkv_same_embed_dim:
            self.in_proj_weight = _empty((3 * embed_dim, embed_dim), dtype)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = _empty((embed_dim, embed_dim), dtype)
            self.k_proj_weight = _empty((embed_dim, self.kdim), dtype)
            self.v_proj_weight = _empty((embed_dim, self.vdim), dtype)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = _empty((3 * embed_dim,), dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = _empty((1, 1, embed_dim), dtype)
            self.bias_v = _empty((1, 1, embed_dim), dtype)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # PyTorch's init: Glorot-uniform projections, zero biases, Glorot-normal bias_k / bias_v
        # (out_proj.weight keeps Linear's own init).
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None,
                average_attn_weights: bool = True, is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        batched = _check_shapes(self, query, key, value, key_padding_mask, attn_mask)
        key_padding_mask = check_mask(key_padding_mask, "key_padding_mask")
        attn_mask = check_mask(attn_mask, "attn_mask")
        if not batched:  # one sequence: a batch of one
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            key_padding_mask = None if key_padding_mask is None else key_padding_mask.unsqueeze(0)
        elif not self.batch_first:  # (L, N, E) -> (N, L, E): heads are split per sample below
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        output, weights = self._attend(query, key, value, key_padding_mask, need_weights, attn_mask,
                                       average_attn_weights, is_causal)
        if not batched:
            return output.squeeze(0), None if weights is None else weights.squeeze(0)
        return (output if self.batch_first else output.transpose(0, 1)), weights

    def _projections(self, query: Tensor, key: Tensor, value: Tensor) -> tuple:
        embed = self.embed_dim
        bias = self.in_proj_bias
        biases = (None, None, None)
        if bias is not None:
            biases = (bias[:embed], bias[embed:2 * embed], bias[2 * embed:])
        if self._qkv_same_embed_dim:
            weight = self.in_proj_weight
            if query is key and key is value:  # self-attention: one product with the packed weight
                packed = F.linear(query, weight, bias)
                return packed[..., :embed], packed[..., embed:2 * embed], packed[..., 2 * embed:]
            weights = (weight[:embed], weight[embed:2 * embed], weight[2 * embed:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(F.linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))

    def _attend(self, query, key, value, key_padding_mask, need_weights, attn_mask, average, is_causal):
        # All in the (N, L, E) layout. PyTorch's steps, in its order: project; append bias_k/bias_v
        # and a zero key/value (padding the masks with a column that lets them take part); merge
        # the padding mask into the attention mask; attend per head; join the heads; project out.
        batch, length, embed = query.shape
        heads, head_dim = self.num_heads, self.head_dim
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: need attn_mask if specifying the is_causal hint; you may "
                               "use nn.Transformer.generate_square_subsequent_mask(L) to create it")
        causal_hint = is_causal and key_padding_mask is None and not need_weights
        if causal_hint:
            attn_mask = None  # the hint alone: the causal mask is built below, as PyTorch's sdpa does
        q, k, v = self._projections(query, key, value)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(batch, 1, embed)], dim=1)
            v = cat([v, self.bias_v.expand(batch, 1, embed)], dim=1)
            attn_mask = _pad_column(attn_mask)
            key_padding_mask = _pad_column(key_padding_mask)
        q = q.reshape(batch, length, heads, head_dim).transpose(1, 2)  # (N, H, L, hd)
        k = k.reshape(batch, k.shape[1], heads, head_dim).transpose(1, 2)  # (N, H, S, hd)
        v = v.reshape(batch, v.shape[1], heads, head_dim).transpose(1, 2)
        if self.add_zero_attn:
            zeros = wrap(backend.namespace(k.array).zeros((batch, heads, 1, head_dim), k.array.dtype))
            k, v = cat([k, zeros], dim=2), cat([v, zeros], dim=2)
            attn_mask = _pad_column(attn_mask)
            key_padding_mask = _pad_column(key_padding_mask)
        if attn_mask is not None and attn_mask.ndim == 3:  # (N * H, L, S) -> (N, H, L, S)
            attn_mask = attn_mask.reshape(batch, heads, length, attn_mask.shape[-1])
        if key_padding_mask is not None:  # (N, S) -> (N, 1, 1, S)
            key_padding_mask = key_padding_mask.reshape(batch, 1, 1, key_padding_mask.shape[-1])
        # Float masks are added to the scores, bool ones leave keys out (PyTorch adds both as floats,
        # -inf for True: the same weights).
        bias, blocked = _merge(attn_mask, key_padding_mask)
        if causal_hint:
            blocked = xp.triu(backend.namespace(k.array).ones((length, k.shape[2]), dtype=bool), 1)
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            # PyTorch's explicit path: scores = (q / sqrt(hd)) kᵀ + mask; softmax (NaN for a query
            # with no key left); dropout; · v
            scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)
            weights = attention_softmax(scores, 1.0, bias, blocked, zero_empty=False)
        else:  # PyTorch's scaled_dot_product_attention path (zeros for a query with no key left)
            scores = q @ k.transpose(-2, -1)
            weights = attention_softmax(scores, 1.0 / math.sqrt(head_dim), bias, blocked)
        if dropout_p > 0.0:
            weights = F.dropout(weights, p=dropout_p)
        output = weights @ v
        if not need_weights:
            weights = None
        elif average:
            weights = weights.mean(dim=1)
        output = output.transpose(1, 2).reshape(batch, length, embed)  # join the heads
        return self.out_proj(output), weights


def _merge(attn_mask: Tensor | None, padding: Tensor | None) -> tuple:
    """(float bias or None, bool mask of the keys to leave out or None) from the two masks."""
    floats = [m for m in (attn_mask, padding) if m is not None and m.array.dtype.kind == "f"]
    bools = [m for m in (attn_mask, padding) if m is not None and m.array.dtype.kind == "b"]
    bias = floats[0] + floats[1] if len(floats) == 2 else (floats[0] if floats else None)
    blocked = logical_or(bools[0], bools[1]) if len(bools) == 2 else (bools[0] if bools else None)
    return bias, blocked


def _pad_column(mask: Tensor | None) -> Tensor | None:
    """The mask with one more key position at the end that everyone may attend to (0 added)."""
    return None if mask is None else F.pad(mask, (0, 1))


def _check_shapes(module: MultiheadAttention, query, key, value, key_padding_mask, attn_mask) -> bool:
    """PyTorch's shape rules for MultiheadAttention; True for a batched (3-D) query."""
    name = "MultiheadAttention"
    for label, item in (("query", query), ("key", key), ("value", value)):
        if not isinstance(item, Tensor):
            raise TypeError(f"{name}: {label} must be a Tensor, got {type(item).__name__}")
    if query.ndim not in (2, 3):
        raise ValueError(f"{name}: query should be unbatched 2-D (L, E) or batched 3-D (L, N, E) / (N, L, E) "
                         f"with batch_first, but got shape {tuple(query.shape)}")
    batched = query.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"{name}: for {kind} query, expected key and value to be {query.ndim}-D, got shapes "
                         f"{tuple(key.shape)} and {tuple(value.shape)}")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise ValueError(f"{name}: for {kind} query, expected key_padding_mask of shape "
                         f"{'(N, S)' if batched else '(S,)'}, got {tuple(key_padding_mask.shape)}")
    if query.shape[-1] != module.embed_dim:
        raise ValueError(f"{name}(embed_dim={module.embed_dim}) got query of shape {tuple(query.shape)}; "
                         f"expected the last dimension to be {module.embed_dim}")
    if key.shape[-1] != module.kdim or value.shape[-1] != module.vdim:
        raise ValueError(f"{name}: key {tuple(key.shape)} and value {tuple(value.shape)} must end in kdim="
                         f"{module.kdim} and vdim={module.vdim}")
    if key.shape[:-1] != value.shape[:-1]:
        raise ValueError(f"{name}: key's sequence and batch dims {tuple(key.shape[:-1])} do not match "
                         f"value's {tuple(value.shape[:-1])}")
    seq_axis = 1 if batched and module.batch_first else 0
    length, source = query.shape[seq_axis], key.shape[seq_axis]
    batch = query.shape[1 - seq_axis] if batched else 1
    if batched and key.shape[1 - seq_axis] != batch:
        raise ValueError(f"{name}: query {tuple(query.shape)} and key {tuple(key.shape)} have different "
                         f"batch sizes (batch_first={module.batch_first})")
    padding = (batch, source) if batched else (source,)
    if key_padding_mask is not None and tuple(key_padding_mask.shape) != padding:
        raise ValueError(f"{name}: expected key_padding_mask of shape {padding}, got "
                         f"{tuple(key_padding_mask.shape)}")
    if attn_mask is not None:
        expected = [(length, source), (batch * module.num_heads, length, source)]
        if tuple(attn_mask.shape) not in expected:
            raise RuntimeError(f"{name}: attn_mask of shape {tuple(attn_mask.shape)}; expected (L, S) = "
                               f"{expected[0]} or (N * num_heads, L, S) = {expected[1]}")
    return batched
