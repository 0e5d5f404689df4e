"""``Embedding``: a lookup table from integer ids to learned vectors; ``EmbeddingBag``: bags of them."""

from __future__ import annotations

from dendrite import backend
from dendrite.backend import xp
from dendrite.devices import resolve_device
from dendrite.nn import functional as F
from dendrite.nn import init
from dendrite.nn.modules.module import Module
from dendrite.nn.parameter import Parameter
from dendrite.tensor import Tensor

__all__ = ["Embedding", "EmbeddingBag"]


class Embedding(Module):
    """Map integer ids to rows of ``weight`` (``(num_embeddings, embedding_dim)``, init ``N(0, 1)``).

    Shapes: input ``(*)`` of integers in ``[0, num_embeddings)`` -> output ``(*, embedding_dim)``.
    The row ``padding_idx`` starts at zero and gets no gradient.

    Example:
        >>> import dendrite
        >>> embed = dendrite.nn.Embedding(1000, 64, padding_idx=0)
        >>> embed(dendrite.tensor([[1, 2, 0]])).shape
        (1, 3, 64)
        >>> float(embed.weight[0].abs().sum())
        0.0
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Tensor | None = None, _freeze: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__()
        device = resolve_device(device, "Embedding")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding(num_embeddings={num_embeddings}): padding_idx {padding_idx} "
                                 f"must be within [-{num_embeddings}, {num_embeddings})")
            if padding_idx < 0:
                padding_idx += num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            dtype = backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)
            array = xp.empty((num_embeddings, embedding_dim), dtype)
            self.weight = Parameter(array, requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {tuple(_weight.shape)}; expected "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        if device.type != "cpu":  # made on the CPU, then moved (PyTorch: made there)
            self.to(device)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        if input.dtype.kind not in "iu":
            raise TypeError(
                f"Embedding(num_embeddings={self.num_embeddings}) expects integer ids, "
                f"got dtype {input.dtype}. Convert with .long()"
            )
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        if self.sparse:
            text += ", sparse=True"
        return text

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False) -> Embedding:
        """An Embedding whose weight is ``embeddings`` (2-D); frozen unless ``freeze=False``.

        Example:
            >>> import dendrite
            >>> embed = dendrite.nn.Embedding.from_pretrained(dendrite.eye(3))
            >>> embed(dendrite.tensor([2])).tolist()
            [[0.0, 0.0, 1.0]]
        """
        if embeddings.ndim != 2:
            shape = tuple(embeddings.shape)
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {shape}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of rows of ``weight`` (``(num_embeddings, embedding_dim)``, ``N(0, 1)``).

    Shapes: ``forward(input, offsets=None, per_sample_weights=None)`` with input ``(B, L)`` (B bags of
    L ids) or input ``(N,)`` and ``offsets`` ``(B,)`` of bag starts (``(B + 1,)`` with
    ``include_last_offset=True``) -> output ``(B, embedding_dim)``; an empty bag gives zeros. The
    ``padding_idx`` row starts at zero and is left out of every bag (and of the mean's count).
    ``per_sample_weights`` (input's shape) scales each row, ``mode='sum'`` only. ``sparse=True`` is
    accepted for compatibility, but dendrite has no sparse gradients: the weight's gradient is dense.

    Example:
        >>> import dendrite
        >>> bag = dendrite.nn.EmbeddingBag(100, 8, mode="mean")
        >>> bag(dendrite.tensor([4, 7, 1, 9, 9]), dendrite.tensor([0, 2])).shape
        (2, 8)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight: Tensor | None = None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device=None, dtype=None) -> None:
        super().__init__()
        device = resolve_device(device, "EmbeddingBag")
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of 'sum', 'mean' or 'max', got {mode!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"EmbeddingBag(num_embeddings={num_embeddings}): padding_idx {padding_idx} "
                                 f"must be within [-{num_embeddings}, {num_embeddings})")
            if padding_idx < 0:
                padding_idx += num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        if _weight is None:
            dtype = backend.get_default_dtype() if dtype is None else backend.as_dtype(dtype)
            self.weight = Parameter(xp.empty((num_embeddings, embedding_dim), dtype))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"EmbeddingBag: _weight has shape {tuple(_weight.shape)}; expected "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight)
        if device.type != "cpu":  # made on the CPU, then moved (PyTorch: made there)
            self.to(device)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                               self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag whose weight is ``embeddings`` (2-D); frozen unless ``freeze=False``.

        Example:
            >>> import dendrite
            >>> bag = dendrite.nn.EmbeddingBag.from_pretrained(dendrite.eye(3), mode="sum")
            >>> bag(dendrite.tensor([[0, 2]])).tolist()
            [[1.0, 0.0, 1.0]]
        """
        if embeddings.ndim != 2:
            shape = tuple(embeddings.shape)
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D, got shape {shape}")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, _weight=embeddings,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
