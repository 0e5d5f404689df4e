"""Transformers: encoder and decoder layers, their stacks, and the full ``Transformer`` (``torch.nn``).

An encoder layer is self-attention then a two-layer feed-forward network, each
wrapped in a residual connection and a LayerNorm:

    post-norm (default):  x = norm1(x + attention(x));       x = norm2(x + feedforward(x))
    pre-norm (norm_first): x = x + attention(norm1(x));       x = x + feedforward(norm2(x))
    feedforward(x) = linear2(dropout(activation(linear1(x))))

A decoder layer adds cross-attention to the encoder's output (``memory``)
between the two. Names, arguments, defaults and ``state_dict`` keys are
PyTorch's (``layers.0.self_attn.in_proj_weight``, ``layers.0.linear1.weight``,
``layers.0.norm1.weight``...), so PyTorch weights load as they are. Masks follow
``MultiheadAttention``: True (or -inf) = may not attend. ``*_is_causal`` are
hints that the given mask is the causal one (``generate_square_subsequent_mask``).

Not copied from PyTorch: its inference "fast path" and nested tensors
(``enable_nested_tensor`` is accepted and stored but changes nothing). PyTorch's
fast path (eval mode, no gradient) returns zeros at padded positions of an
encoder's output when ``src_key_padding_mask`` is given; dendrite returns the
same values as in training mode there (what PyTorch returns with gradients on).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from dendrite import backend
from dendrite.backend import xp
from dendrite.devices import resolve_device
from dendrite.nn import functional as F
from dendrite.nn import init
from dendrite.nn.modules.attention import MultiheadAttention, check_mask
from dendrite.nn.modules.container import ModuleList
from dendrite.nn.modules.dropout import Dropout
from dendrite.nn.modules.linear import Linear
from dendrite.nn.modules.module import Module
from dendrite.nn.modules.normalization import LayerNorm
from dendrite.tensor import Tensor, wrap

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer", "TransformerDecoder",
           "Transformer"]


def _activation(activation) -> Callable:
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise RuntimeError(f"activation should be relu/gelu, not {activation}")
    if not callable(activation):
        raise TypeError(f"activation should be 'relu', 'gelu' or a callable, got {type(activation).__name__}")
    return activation


def _square_subsequent_mask(size: int, dtype=None, module=xp) -> Tensor:
    dtype = backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)
    return wrap(xp.triu(module.full((size, size), -xp.inf, dtype=dtype), 1))


def _sequence_length(source: Tensor, batch_first: bool) -> int:
    if source.ndim == 2:  # unbatched (S, E)
        return source.shape[0]
    return source.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None, size: int) -> bool:
    """PyTorch's rule: an explicit ``is_causal`` wins; None means "is the mask the causal one?"."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    if mask.array.dtype.kind == "b":  # PyTorch compares it after turning True into -inf: the same test
        causal = xp.triu(backend.namespace(mask.array).ones((size, size), dtype=bool), 1)
    else:
        causal = _square_subsequent_mask(size, mask.dtype, backend.namespace(mask.array)).array
    return tuple(mask.shape) == causal.shape and bool(xp.array_equal(mask.array, causal))


class _Block(Module):
    """What the encoder and decoder layers share: the feed-forward block, the norms and the dropouts."""

    def _feedforward_parts(self, d_model, dim_feedforward, dropout, activation, layer_norm_eps, norm_first,
                           bias, norms, dtype) -> None:
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        for index in range(1, norms + 1):
            setattr(self, f"norm{index}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for index in range(1, norms + 1):
            setattr(self, f"dropout{index}", Dropout(dropout))
        self.activation = _activation(activation)

    def _ff_block(self, x: Tensor, dropout: Dropout) -> Tensor:
        return dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def _attention_block(self, attention: MultiheadAttention, x: Tensor, memory: Tensor, mask, padding_mask,
                         is_causal: bool, dropout: Dropout) -> Tensor:
        x = attention(x, memory, memory, attn_mask=mask, key_padding_mask=padding_mask, need_weights=False,
                      is_causal=is_causal)[0]
        return dropout(x)


class TransformerEncoderLayer(_Block):
    """Self-attention and a feed-forward network, each with a residual connection and a LayerNorm.

    Shapes: src ``(S, N, E)``, or ``(N, S, E)`` with ``batch_first=True``, or unbatched ``(S, E)``;
    the output has the same shape. ``src_mask`` ``(S, S)`` or ``(N * nhead, S, S)``,
    ``src_key_padding_mask`` ``(N, S)``: True (or -inf) = may not attend. ``activation``: "relu",
    "gelu" or a callable; ``norm_first=True`` normalises before each block (pre-norm).

    Example:
        >>> import dendrite
        >>> layer = dendrite.nn.TransformerEncoderLayer(16, nhead=4, dim_feedforward=32, batch_first=True)
        >>> layer(dendrite.randn(2, 5, 16)).shape
        (2, 5, 16)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = F.relu, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, device=device, dtype=dtype)
        self._feedforward_parts(d_model, dim_feedforward, dropout, activation, layer_norm_eps, norm_first,
                                bias, 2, dtype)

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:
        src_key_padding_mask = check_mask(src_key_padding_mask, "src_key_padding_mask")
        src_mask = check_mask(src_mask, "src_mask")
        x = src
        if self.norm_first:
            normed = self.norm1(x)
            x = x + self._attention_block(self.self_attn, normed, normed, src_mask, src_key_padding_mask,
                                          is_causal, self.dropout1)
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + self._attention_block(self.self_attn, x, x, src_mask, src_key_padding_mask,
                                                 is_causal, self.dropout1))
        return self.norm2(x + self._ff_block(x, self.dropout2))


class TransformerDecoderLayer(_Block):
    """Self-attention, cross-attention to ``memory``, and a feed-forward network (residuals, LayerNorms).

    Shapes: tgt ``(T, N, E)``, memory ``(S, N, E)`` (``(N, T, E)``, ``(N, S, E)`` with
    ``batch_first=True``; unbatched ``(T, E)``, ``(S, E)``); the output has tgt's shape.
    ``tgt_mask`` ``(T, T)``, ``memory_mask`` ``(T, S)``, padding masks ``(N, T)`` and ``(N, S)``.

    Example:
        >>> import dendrite
        >>> layer = dendrite.nn.TransformerDecoderLayer(d_model=16, nhead=4, dim_feedforward=32)
        >>> layer(dendrite.randn(3, 2, 16), dendrite.randn(7, 2, 16)).shape
        (3, 2, 16)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = F.relu, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, device=device, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, device=device, dtype=dtype)
        self._feedforward_parts(d_model, dim_feedforward, dropout, activation, layer_norm_eps, norm_first,
                                bias, 3, dtype)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        x = tgt
        if self.norm_first:
            normed = self.norm1(x)
            x = x + self._attention_block(self.self_attn, normed, normed, tgt_mask, tgt_key_padding_mask,
                                          tgt_is_causal, self.dropout1)
            x = x + self._attention_block(self.multihead_attn, self.norm2(x), memory, memory_mask,
                                          memory_key_padding_mask, memory_is_causal, self.dropout2)
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + self._attention_block(self.self_attn, x, x, tgt_mask, tgt_key_padding_mask,
                                                 tgt_is_causal, self.dropout1))
        x = self.norm2(x + self._attention_block(self.multihead_attn, x, memory, memory_mask,
                                                 memory_key_padding_mask, memory_is_causal, self.dropout2))
        return self.norm3(x + self._ff_block(x, self.dropout3))


def _clones(layer: Module, count: int) -> ModuleList:
    if not isinstance(count, int) or count < 0:
        raise ValueError(f"num_layers must be a non-negative int, got {count!r}")
    return ModuleList([copy.deepcopy(layer) for _ in range(count)])


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (deep copies), then ``norm`` if given.

    Shapes as :class:`TransformerEncoderLayer`. ``mask`` ``(S, S)``, ``src_key_padding_mask``
    ``(N, S)``. ``is_causal=None`` checks whether ``mask`` is the causal mask (PyTorch's rule).
    ``enable_nested_tensor`` and ``mask_check`` are accepted for PyTorch compatibility.

    Example:
        >>> import dendrite
        >>> layer = dendrite.nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True)
        >>> encoder = dendrite.nn.TransformerEncoder(layer, num_layers=2)
        >>> mask = dendrite.nn.Transformer.generate_square_subsequent_mask(5)
        >>> encoder(dendrite.randn(2, 5, 16), mask=mask).shape
        (2, 5, 16)
        >>> list(encoder.state_dict())[:2]
        ['layers.0.self_attn.in_proj_weight', 'layers.0.self_attn.in_proj_bias']
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor = self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        src_key_padding_mask = check_mask(src_key_padding_mask, "src_key_padding_mask")
        mask = check_mask(mask, "mask")
        batch_first = bool(self.layers) and getattr(self.layers[0].self_attn, "batch_first", False)
        is_causal = _detect_is_causal_mask(mask, is_causal, _sequence_length(src, batch_first))
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal,
                           src_key_padding_mask=src_key_padding_mask)
        return self.norm(output) if self.norm is not None else output


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer`` (deep copies), then ``norm`` if given.

    Shapes as :class:`TransformerDecoderLayer`; ``tgt_is_causal=None`` checks whether ``tgt_mask``
    is the causal mask.

    Example:
        >>> import dendrite
        >>> layer = dendrite.nn.TransformerDecoderLayer(16, 4, dim_feedforward=32)
        >>> decoder = dendrite.nn.TransformerDecoder(layer, num_layers=2)
        >>> decoder(dendrite.randn(3, 2, 16), dendrite.randn(7, 2, 16)).shape
        (3, 2, 16)
    """

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        batch_first = bool(self.layers) and getattr(self.layers[0].self_attn, "batch_first", False)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, _sequence_length(tgt, batch_first))
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                           memory_is_causal=memory_is_causal)
        return self.norm(output) if self.norm is not None else output


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need" (PyTorch's ``nn.Transformer``).

    Shapes: src ``(S, N, E)``, tgt ``(T, N, E)`` (``(N, S, E)``, ``(N, T, E)`` with
    ``batch_first=True``; unbatched ``(S, E)``, ``(T, E)``) -> output ``(T, N, E)``, E = d_model.
    Masks as the encoder (``src_*``) and decoder (``tgt_*``, ``memory_*``). Weights with more than one
    dimension start Glorot-uniform, as PyTorch.

    Example:
        >>> import dendrite
        >>> model = dendrite.nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
        ...                                 dim_feedforward=32)
        >>> tgt_mask = model.generate_square_subsequent_mask(3)
        >>> model(dendrite.randn(7, 2, 16), dendrite.randn(3, 2, 16), tgt_mask=tgt_mask).shape
        (3, 2, 16)
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = F.relu, custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        shared = dict(dropout=dropout, activation=activation, layer_norm_eps=layer_norm_eps,
                      batch_first=batch_first, norm_first=norm_first, bias=bias, device=device, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, **shared)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, **shared)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def _reset_parameters(self) -> None:
        for parameter in self.parameters():
            if parameter.ndim > 1:
                init.xavier_uniform_(parameter)

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_axis] != tgt.shape[batch_axis]:
            raise RuntimeError(f"Transformer: the batch number of src {tuple(src.shape)} and tgt "
                               f"{tuple(tgt.shape)} must be equal (batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src {tuple(src.shape)} and tgt "
                               f"{tuple(tgt.shape)} must be equal to d_model={self.d_model}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The causal mask ``(sz, sz)``: 0 on and below the diagonal, -inf above (no peeking ahead).

        Example:
            >>> import dendrite
            >>> dendrite.nn.Transformer.generate_square_subsequent_mask(3)
            tensor([[0., -inf, -inf],
                    [0., 0., -inf],
                    [0., 0., 0.]])
        """
        mask = _square_subsequent_mask(sz, dtype)
        return mask if device is None else mask.to(resolve_device(device, "generate_square_subsequent_mask"))
