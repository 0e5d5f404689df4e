"""Lookups by index: ``embedding`` (rows of a weight table) and ``one_hot``.

``embedding`` is fused: the forward takes rows, the backward adds each output
gradient back into the row it came from (``add.at``, so an index used twice
receives both gradients). The ``padding_idx`` row gets no gradient.
"""

from __future__ import annotations

import copy

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import linear_map
from dendrite.tensor import Tensor, wrap

__all__ = ["embedding", "one_hot"]


class Embedding(Function):
    def forward(self, weight, *, indices, padding_idx, scale_grad_by_freq):
        self.shape, self.indices = weight.shape, indices
        self.padding_idx, self.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return xp.take(weight, indices, axis=0)

    def backward(self, grad):
        # Y = W[indices]:  dW[k] = Σ_{positions p with indices[p] = k} dY[p]  (a scatter-add; the
        # padding_idx row gets 0; scale_grad_by_freq divides each row by its count in the batch)
        flat = self.indices.reshape(-1)
        rows = grad.reshape(flat.size, self.shape[1])
        if self.scale_grad_by_freq:  # divide by how often each index occurs in this batch
            counts = xp.bincount(flat, minlength=self.shape[0])
            rows = rows / counts[flat][:, None].astype(rows.dtype)
        if self.padding_idx is not None:
            rows = xp.where((flat == self.padding_idx)[:, None], 0, rows)
        result = xp.zeros(self.shape, grad.dtype)
        xp.add.at(result, flat, rows)
        return result

    def backward_graph(self, grad):
        # Linear in the weight: backward's scatter-add of rows, and its transpose (pick the same rows,
        # with the same per-row factors: 0 for padding_idx, 1 / count with scale_grad_by_freq).
        flat, rows_shape = self.indices.reshape(-1), self.indices.shape + (self.shape[1],)
        factor = xp.ones(flat.size)
        if self.scale_grad_by_freq:
            factor = factor / xp.bincount(flat, minlength=self.shape[0])[flat]
        if self.padding_idx is not None:
            factor = xp.where(flat == self.padding_idx, 0.0, factor)

        def pick(h):
            return (h[flat] * factor[:, None].astype(h.dtype)).reshape(rows_shape)
        return linear_map(grad, to=copy.copy(self).backward, back=pick)


def _index_array(name: str, input: Tensor, argument: str = "input"):
    data = input.array if isinstance(input, Tensor) else xp.asarray(input)
    if data.dtype.kind not in "iu":
        raise RuntimeError(
            f"{name}: {argument} must hold integer indices (int64 or int32), got dtype {data.dtype}"
        )
    return data


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by the integer indices in ``input``.

    Shapes: input (*) of int64/int32, weight (num_embeddings, embedding_dim) -> (*, embedding_dim).
    ``max_norm`` rescales (in place) the used rows whose ``norm_type``-norm exceeds it;
    ``sparse`` is accepted for compatibility, the gradient is always dense.

    Example:
        >>> import dendrite
        >>> table = dendrite.randn(10, 3)
        >>> embedding(dendrite.tensor([[1, 2], [4, 9]]), table).shape
        (2, 2, 3)
    """
    indices = _index_array("embedding", input)
    if weight.ndim != 2:
        raise RuntimeError(
            f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {tuple(weight.shape)}"
        )
    count = weight.shape[0]
    if padding_idx is not None:
        if not -count <= padding_idx < count:
            raise ValueError(
                f"embedding: padding_idx must be within num_embeddings ({count}), got {padding_idx}"
            )
        padding_idx = padding_idx % count
    if indices.size and (indices.min() < 0 or indices.max() >= count):
        bad = indices[(indices < 0) | (indices >= count)].reshape(-1)[0]
        raise IndexError(
            f"embedding: index {int(bad)} is out of range for a table of {count} rows "
            f"(weight of shape {tuple(weight.shape)}); indices must be in [0, {count - 1}]"
        )
    if max_norm is not None:
        _renormalize(weight.array, indices, max_norm, norm_type)
    return Embedding.apply(weight, indices=indices.astype(backend.int64, copy=False), padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)


def _renormalize(table, indices, max_norm: float, norm_type: float) -> None:
    """PyTorch's ``embedding_renorm_``: shrink used rows with norm > max_norm, in place, untracked."""
    rows = xp.unique(indices.reshape(-1))
    values = table[rows]
    if norm_type == 2:
        norms = xp.sqrt((values * values).sum(axis=1))
    elif norm_type == xp.inf:
        norms = xp.abs(values).max(axis=1)
    else:
        norms = (xp.abs(values) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    table[rows] = values * scale[:, None].astype(table.dtype)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding: shape (*) -> (*, num_classes); ``-1`` infers ``max + 1``.

    Example:
        >>> import dendrite
        >>> one_hot(dendrite.tensor([0, 2]), 3).tolist()
        [[1, 0, 0], [0, 0, 1]]
    """
    data = tensor.array if isinstance(tensor, Tensor) else xp.asarray(tensor)
    if data.dtype != backend.int64:
        raise RuntimeError(
            f"one_hot: expected an index tensor of dtype int64, got {data.dtype}; convert it with .long()"
        )
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("one_hot: can not infer the number of classes from an empty tensor; "
                               "pass num_classes")
        num_classes = int(data.max()) + 1
    if data.size and data.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {int(data.min())}")
    if data.size and data.max() >= num_classes:
        raise RuntimeError(
            f"one_hot: class values must be smaller than num_classes ({num_classes}), got {int(data.max())}"
        )
    result = (data[..., None] == xp.arange(num_classes)).astype(backend.int64)
    return wrap(result)
