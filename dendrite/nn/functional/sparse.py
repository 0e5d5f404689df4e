"""Lookups by index: ``embedding`` (rows of a weight table), ``embedding_bag`` and ``one_hot``.

``embedding`` is fused: the forward takes rows, the backward adds each output
gradient back into the row it came from (``add.at``, so an index used twice
receives both gradients). The ``padding_idx`` row gets no gradient.

``embedding_bag`` is fused too: each bag (a run of positions) is reduced to one
row by a sum, a mean or a max without building the ``(positions, dim)`` rows
as a graph node. Its gradient scatters each bag's gradient back to the rows the
bag used (sum, mean) or to the row that won each column (max).
"""

from __future__ import annotations

import copy

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.graph_operands import constant, linear_map
from dendrite.tensor import Tensor, wrap

__all__ = ["embedding", "embedding_bag", "one_hot"]


def _scatter_add_rows(shape: tuple, flat, rows):
    """A zero ``shape`` array with ``rows[p]`` added into row ``flat[p]`` for every p.

    Sorted by index and summed per run of equal indices (``add.reduceat``): a few times faster than
    ``add.at``, which adds one row at a time.
    """
    result = backend.namespace(rows).zeros(shape, rows.dtype)
    if backend.on_device(rows):  # the sorted form is a NumPy speed-up; a device adds with its own add.at
        xp.add.at(result, flat, rows)
        return result
    if flat.size == 0:
        return result
    order = xp.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = xp.flatnonzero(xp.concatenate([[True], ordered[1:] != ordered[:-1]]))
    result[ordered[starts]] = xp.add.reduceat(rows[order], starts, axis=0)
    return result


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
        return _scatter_add_rows(self.shape, flat, rows)

    def backward_graph(self, grad):
        # Linear in the weight: backward's scatter-add of rows, and its transpose (pick the same rows,
        # with the same per-row factors: 0 for padding_idx, 1 / count with scale_grad_by_freq).
        flat, rows_shape = self.indices.reshape(-1), self.indices.shape + (self.shape[1],)
        factor = backend.namespace(flat).ones(flat.size)
        if self.scale_grad_by_freq:
            factor = factor / xp.bincount(flat, minlength=self.shape[0])[flat]
        if self.padding_idx is not None:
            factor = xp.where(flat == self.padding_idx, 0.0, factor)

        def pick(h):
            return (h[flat] * factor[:, None].astype(h.dtype)).reshape(rows_shape)
        return linear_map(grad, to=copy.copy(self).backward, back=pick)


def _index_array(name: str, input: Tensor, argument: str = "input"):
    data = input.array if isinstance(input, Tensor) else backend.asarray(input)
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


class EmbeddingBag(Function):
    """Bag reductions of weight rows; ``bags[p]`` is position p's bag, ``factor[p]`` its share.

    ``factor`` is 0 where position p holds ``padding_idx``, else 1 (sum, max) or 1 / (the
    bag's count) for the mean; ``per_sample_weights``, when given, is the second input.
    """
    def forward(self, weight, per_sample_weights=None, *, indices, bags, factor, num_bags, mode,
                scale_grad_by_freq):
        self.shape, self.indices, self.bags, self.num_bags = weight.shape, indices, bags, num_bags
        self.mode, self.valid = mode, factor > 0
        rows = xp.take(weight, indices, axis=0)
        if mode == "max":
            # Y[b, d] = max_{p in bag b} W[i_p, d]; the first position reaching the max wins (as PyTorch)
            masked = xp.where(self.valid[:, None], rows, -xp.inf)
            out = backend.namespace(weight).full((num_bags, weight.shape[1]), -xp.inf, dtype=weight.dtype)
            xp.maximum.at(out, bags, masked)
            module = backend.namespace(weight)
            positions = module.arange(indices.size)[:, None]
            candidate = xp.where((masked == out[bags]) & self.valid[:, None], positions, indices.size)
            first = module.full(out.shape, indices.size)
            xp.minimum.at(first, bags, candidate)
            self.nonempty = first < indices.size
            self.winners = indices[xp.minimum(first, max(indices.size - 1, 0))] if indices.size else first
            filled = xp.bincount(bags[self.valid], minlength=num_bags) > 0  # (a NaN row stays NaN)
            return xp.where(filled[:, None], out, 0).astype(weight.dtype, copy=False)
        # Y[b] = Σ_{p in bag b} factor_p · s_p · W[i_p]  (s = per_sample_weights, or 1)
        self.factor = factor.astype(weight.dtype)
        self.scale = self.factor  # the weight gradient's per-position factor
        if scale_grad_by_freq:  # divide by how often each index occurs in this batch
            self.scale = self.scale / xp.bincount(indices, minlength=weight.shape[0])[indices]
        self.rows = None
        share = self.factor
        if per_sample_weights is not None:
            self.rows, self.sample_shape = rows, per_sample_weights.shape
            self.sample_weights = per_sample_weights.reshape(-1)[:indices.size]  # positions in a bag
            share = share * self.sample_weights
        return self._bag_sum(rows * share[:, None])

    def backward(self, grad):
        if self.mode == "max":  # dW[winner(b, d), d] += dY[b, d]
            return self._scatter_winners(grad)
        # dW[k] = Σ_{p: i_p = k} dY[bag_p] · factor_p · s_p (/ count of k)
        # ds_p = factor_p · <dY[bag_p], W[i_p]>
        spread = grad[self.bags]
        if self.rows is None:
            return self._scatter_rows(spread * self.scale[:, None])
        weight_grad = self._scatter_rows(spread * (self.scale * self.sample_weights)[:, None])
        sample_grad = self.factor * (spread * self.rows).sum(axis=1)
        return weight_grad, self._to_samples(sample_grad)

    def backward_graph(self, grad):
        # Linear in dY for a fixed s: the same scatters as linear maps (their transposes pick rows
        # and sum bags); with per_sample_weights, bilinear in (dY, s) and (dY, W).
        if self.mode == "max":
            return linear_map(grad, to=self._scatter_winners, back=self._pick_winners)
        spread = linear_map(grad, to=lambda g: g[self.bags], back=self._bag_sum)
        if self.rows is None:
            return linear_map(spread * constant(self.scale[:, None], grad), to=self._scatter_rows,
                              back=self._gather_rows)
        weight, sample_weights = self.inputs
        flat = sample_weights.reshape(-1)[:self.indices.size]
        scaled = spread * (flat * constant(self.scale, grad)).reshape(-1, 1)
        weight_grad = linear_map(scaled, to=self._scatter_rows, back=self._gather_rows)
        rows = linear_map(weight, to=self._gather_rows, back=self._scatter_rows)
        sample_grad = (spread * rows).sum(dim=1) * constant(self.factor, grad)
        positions = self.indices.size
        sample_grad = linear_map(sample_grad, to=self._to_samples, back=lambda h: h.reshape(-1)[:positions])
        return weight_grad, sample_grad

    def _to_samples(self, per_position):  # (positions in a bag,) -> per_sample_weights' shape, 0 elsewhere
        result = backend.namespace(per_position).zeros(
            int(xp.prod(backend.asarray(self.sample_shape))), per_position.dtype)
        result[:per_position.size] = per_position
        return result.reshape(self.sample_shape)

    def _bag_sum(self, per_position):  # (positions, dim) -> (bags, dim)
        result = backend.namespace(per_position).zeros(
            (self.num_bags, per_position.shape[1]), per_position.dtype)
        xp.add.at(result, self.bags, per_position)
        return result

    def _gather_rows(self, table):  # (num_embeddings, dim) -> (positions, dim)
        return xp.take(table, self.indices, axis=0)

    def _scatter_rows(self, per_position):  # (positions, dim) -> (num_embeddings, dim)
        result = backend.namespace(per_position).zeros(
            (self.shape[0], per_position.shape[1]), per_position.dtype)
        xp.add.at(result, self.indices, per_position)
        return result

    def _scatter_winners(self, grad):
        result = backend.namespace(grad).zeros(self.shape, grad.dtype)
        columns = xp.broadcast_to(backend.namespace(grad).arange(self.shape[1]), grad.shape)
        xp.add.at(result, (self.winners[self.nonempty], columns[self.nonempty]), grad[self.nonempty])
        return result

    def _pick_winners(self, table):
        columns = xp.broadcast_to(backend.namespace(self.winners).arange(self.shape[1]), self.winners.shape)
        return xp.where(self.nonempty, table[self.winners, columns], 0).astype(table.dtype, copy=False)


def _bags_of(name: str, indices, offsets, include_last_offset: bool):
    """(flat indices of the positions in a bag, the bag of each, the number of bags) of a 1-D or 2-D input."""
    if indices.ndim == 2:
        if offsets is not None:
            shape = tuple(xp.shape(_index_array(name, offsets, "offsets")))
            raise ValueError(f"{name}: if input is 2-D (bags of equal length), offsets has to be None; "
                             f"got offsets of shape {shape}")
        count, length = indices.shape
        return indices.reshape(-1), xp.repeat(backend.namespace(indices).arange(count), length), count
    if indices.ndim != 1:
        raise ValueError(f"{name}: input has to be 1-D (with offsets) or 2-D, got shape {indices.shape}")
    if offsets is None:
        raise ValueError(f"{name}: a 1-D input needs offsets (a 1-D tensor of bag starts), got None")
    given = _index_array(name, offsets, "offsets").astype(backend.int64)
    if given.ndim != 1:
        raise ValueError(f"{name}: offsets has to be a 1-D tensor, got shape {given.shape}")
    if include_last_offset and given.size == 0:
        raise ValueError(f"{name}: include_last_offset=True needs at least one offset (the end)")
    size = indices.size
    if given.size and int(given[0]) != 0:
        raise RuntimeError(f"{name}: offsets[0] has to be 0 (the first bag starts at position 0), "
                           f"got {int(given[0])}")
    if given.size and int(given.max()) > size:
        raise RuntimeError(f"{name}: offsets can not be greater than input's length {size}, "
                           f"got {int(given.max())}")
    if given.size > 1 and xp.diff(given).min() < 0:
        raise RuntimeError(f"{name}: offsets must be non-decreasing, got {given.tolist()}")
    starts = given[:-1] if include_last_offset else given
    # As PyTorch, the last bag runs to the end of input (include_last_offset's last entry is only checked).
    module = backend.namespace(starts)
    bounds = xp.concatenate([starts, module.asarray([size], starts.dtype)]) if starts.size \
        else module.asarray([0])  # no bags: none
    end = int(bounds[-1])
    bags = xp.repeat(module.arange(starts.size), xp.diff(bounds).tolist())
    return indices[:end], bags[:end], starts.size


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sum, mean or max of bags of ``weight`` rows, without the intermediate ``(*, dim)`` rows.

    Shapes: input (B, L) of int64/int32 (B bags of L ids, ``offsets`` None) or input (N,) with
    ``offsets`` (B,) of bag starts, bag b running up to the next start (the last one up to N); with
    ``include_last_offset=True`` offsets is (B + 1,), its last entry N (CSR style; as in PyTorch,
    the last bag runs to the end of input whatever that entry says, once checked to be <= N).
    weight (num_embeddings, embedding_dim) -> output (B, embedding_dim).
    An empty bag gives zeros; ``padding_idx`` positions are left out of the bag (and of the mean's
    count). ``per_sample_weights`` (input's shape) scales each row, ``mode='sum'`` only. ``sparse``
    is accepted for compatibility: dendrite has no sparse gradients, the weight's gradient is dense.

    Example:
        >>> import dendrite
        >>> table = dendrite.arange(10.0).reshape(5, 2)
        >>> embedding_bag(dendrite.tensor([0, 1, 4]), table, dendrite.tensor([0, 2]), mode="sum").tolist()
        [[2.0, 4.0], [8.0, 9.0]]
    """
    name = "embedding_bag"
    indices = _index_array(name, input)
    if weight.ndim != 2:
        raise ValueError(f"{name}: weight has to be 2-D (num_embeddings, embedding_dim), "
                         f"got shape {tuple(weight.shape)}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{name}: mode has to be one of 'sum', 'mean' or 'max', got {mode!r}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"{name}: per_sample_weights is only supported for mode='sum' "
                                      f"(got mode={mode!r}), as in PyTorch")
        if tuple(per_sample_weights.shape) != indices.shape:
            raise ValueError(f"{name}: per_sample_weights has shape {tuple(per_sample_weights.shape)}; "
                             f"it must have the input's shape {indices.shape}")
        if per_sample_weights.dtype != weight.dtype:
            raise RuntimeError(f"{name}: per_sample_weights has dtype {per_sample_weights.dtype}; "
                               f"expected the weight's dtype {weight.dtype}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError(f"{name}: mode='max' does not support scale_grad_by_freq=True")
    flat, bags, num_bags = _bags_of(name, indices, offsets, include_last_offset)
    count = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= count):
        bad = int(indices[(indices < 0) | (indices >= count)].reshape(-1)[0])
        raise RuntimeError(f"{name}: index {bad} is not in the valid range [0, {count}) of a table of "
                           f"shape {tuple(weight.shape)}")
    valid = backend.namespace(flat).ones(flat.size, bool)
    if padding_idx is not None:
        if not -count <= padding_idx < count:
            raise RuntimeError(f"{name}: padding_idx must be within the number of embeddings, "
                               f"-{count} through {count - 1}, but got {padding_idx}")
        valid = valid & (flat != padding_idx % count)
    factor = valid.astype(backend.float64)
    if mode == "mean":
        sizes = xp.bincount(bags[valid], minlength=num_bags)
        factor = factor / xp.maximum(sizes, 1)[bags]
    if max_norm is not None:
        _renormalize(weight.array, flat, max_norm, norm_type)
    extra = () if per_sample_weights is None else (per_sample_weights,)
    return EmbeddingBag.apply(weight, *extra, indices=flat.astype(backend.int64, copy=False), bags=bags,
                              factor=factor, num_bags=num_bags, mode=mode,
                              scale_grad_by_freq=scale_grad_by_freq)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding: shape (*) -> (*, num_classes); ``-1`` infers ``max + 1``.

    Example:
        >>> import dendrite
        >>> one_hot(dendrite.tensor([0, 2]), 3).tolist()
        [[1, 0, 0], [0, 0, 1]]
    """
    data = tensor.array if isinstance(tensor, Tensor) else backend.asarray(tensor)
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
    result = (data[..., None] == backend.namespace(data).arange(num_classes)).astype(backend.int64)
    return wrap(result)
