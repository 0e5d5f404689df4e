"""Batches of sequences of different lengths: padding and packing (``torch.nn.utils.rnn``).

A batch of sequences of lengths ``[3, 1, 2]`` can be stored two ways:

* **padded**, ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``): every sequence filled up to the
  longest with ``padding_value``;
* **packed**, a :class:`PackedSequence`: the sequences sorted by decreasing length, then their
  elements time step by time step, only the real ones::

      data        = [a0, c0, b0,   a1, c1,   a2]      (sum of lengths, *)
      batch_sizes = [3,            2,        1]       sequences still running at each step

  Packing is what lets a recurrent layer stop each sequence at its own end: its final state is
  the state after the sequence's last real element, not after the padding.

Every function here moves rows with gathers (``index_select``), so gradients flow through packing
and unpacking. Lengths are host integers (a list, a NumPy array or an integer tensor), as in
PyTorch, where they live on the CPU.
"""

from __future__ import annotations

from typing import NamedTuple

from dendrite import creation
from dendrite.backend import xp
from dendrite.ops.joining import cat
from dendrite.tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence"]


class PackedSequence(NamedTuple):
    """Sequences of different lengths packed time step by time step (see the module docstring).

    ``data`` (sum of lengths, *); ``batch_sizes`` (T,) int64, how many sequences run at each step;
    ``sorted_indices`` (B,) the batch order by decreasing length (``None`` when the input was
    already sorted); ``unsorted_indices`` its inverse.

    Example:
        >>> import dendrite
        >>> packed = pack_sequence([dendrite.tensor([1., 2., 3.]), dendrite.tensor([4.])])
        >>> packed.data, packed.batch_sizes
        (tensor([1., 4., 2., 3.]), tensor([2, 1, 1]))
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same packing with ``data.to(*args, **kwargs)`` (dtype or device); the indices stay.

        Example:
            >>> import dendrite
            >>> pack_sequence([dendrite.ones(2)]).to(dendrite.float64).data.dtype
            dtype('float64')
        """
        return self._replace(data=self.data.to(*args, **kwargs))

    def float(self) -> PackedSequence:
        """``data`` as float32.

        Example:
            >>> import dendrite
            >>> pack_sequence([dendrite.ones(2, dtype=dendrite.float64)]).float().data.dtype
            dtype('float32')
        """
        return self._replace(data=self.data.float())

    def double(self) -> PackedSequence:
        """``data`` as float64.

        Example:
            >>> import dendrite
            >>> pack_sequence([dendrite.ones(2)]).double().data.dtype
            dtype('float64')
        """
        return self._replace(data=self.data.double())

    def cpu(self) -> PackedSequence:
        """``data`` on the CPU.

        Example:
            >>> import dendrite
            >>> pack_sequence([dendrite.ones(2)]).cpu().is_cuda
            False
        """
        return self._replace(data=self.data.cpu())

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def _host_lengths(lengths, batch: int, what: str) -> xp.ndarray:
    """``lengths`` as a 1-D int64 NumPy array of ``batch`` positive values, or a clear error."""
    if isinstance(lengths, Tensor):
        if lengths.is_floating_point():
            raise TypeError(f"{what}: lengths must be integers, got a tensor of {lengths.dtype}")
        lengths = xp.asarray(lengths.tolist())
    values = xp.asarray(lengths)
    if values.ndim != 1 or not (values.dtype.kind in "iu" or values.size == 0):
        raise TypeError(f"{what}: lengths must be a 1-D list or tensor of integers, got {lengths!r}")
    if len(values) != batch:
        raise ValueError(f"{what}: Expected `len(lengths)` to be equal to batch_size, but got {len(values)} "
                         f"(batch_size={batch})")
    if (values <= 0).any():
        raise RuntimeError(f"{what}: Length of all samples has to be greater than 0, but found an element "
                           f"in 'lengths' that is <= 0 (lengths {values.tolist()})")
    return values.astype(xp.int64)


def _index(values, like: Tensor) -> Tensor:
    """An int64 index tensor on ``like``'s device."""
    return creation.tensor(xp.asarray(values, dtype=xp.int64)).to(like.device)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences of ``lengths``.

    With ``enforce_sorted`` the lengths must be decreasing; otherwise the batch is sorted here and
    the order kept in ``sorted_indices``/``unsorted_indices`` (a recurrent layer's final states come
    back in the original order).

    Example:
        >>> import dendrite
        >>> padded = dendrite.tensor([[1., 2., 3.], [4., 0., 0.]])           # (B=2, T=3)
        >>> pack_padded_sequence(padded, [3, 1], batch_first=True).data
        tensor([1., 4., 2., 3.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: expected a padded Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: input must be (T, B, *) or (B, T, *) with batch_first, "
                         f"got shape {tuple(input.shape)}")
    time_dim, batch_dim = (1, 0) if batch_first else (0, 1)
    steps, batch = input.shape[time_dim], input.shape[batch_dim]
    lengths = _host_lengths(lengths, batch, "pack_padded_sequence")
    if (lengths > steps).any():
        raise ValueError(f"pack_padded_sequence: a length ({lengths.max()}) exceeds the padded sequences' "
                         f"length {steps}")
    sorted_indices = unsorted_indices = None
    if enforce_sorted:
        if (xp.diff(lengths) > 0).any():
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can "
                "pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this "
                f"requirement if you do not need ONNX exportability (lengths {lengths.tolist()})")
        order = xp.arange(batch)
    else:
        order = xp.argsort(-lengths, kind="stable")
        sorted_indices = _index(order, input)
        unsorted_indices = _index(xp.argsort(order), input)
    ordered = lengths[order]
    batch_sizes = (ordered[None, :] > xp.arange(ordered[0])[:, None]).sum(axis=1)  # (T,)
    # row of (t, k-th longest sequence) in the (T * B, *) flattening of the time-major input
    time = xp.repeat(xp.arange(len(batch_sizes)), batch_sizes)
    rank = xp.concatenate([xp.arange(size) for size in batch_sizes])
    if batch_first:
        rows = order[rank] * steps + time
    else:
        rows = time * batch + order[rank]
    flat = input.reshape(steps * batch, *input.shape[2:])
    data = flat.index_select(0, _index(rows, input))
    batch_sizes = creation.tensor(batch_sizes.astype(xp.int64))
    return PackedSequence(data, batch_sizes, sorted_indices, unsorted_indices)


def _starts(counts: xp.ndarray) -> xp.ndarray:
    """Where each of consecutive runs of ``counts`` rows starts: 0, counts[0], counts[0] + counts[1], ..."""
    return xp.concatenate([[0], xp.cumsum(counts)[:-1]])


def _rows_or_padding(data: Tensor, index: xp.ndarray, padding_value: float) -> Tensor:
    """Rows of ``data`` (N, *) gathered into ``index.shape + *``; an index of N reads ``padding_value``.

    A gather, so the gradient of each row flows back to the row it came from.
    """
    padding = creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    rows = cat([data, padding]).index_select(0, _index(index.reshape(-1), data))
    return rows.reshape(*index.shape, *data.shape[1:])


def _sorted_lengths(batch_sizes: xp.ndarray) -> xp.ndarray:
    """The lengths of the packed sequences, longest first, from how many run at each step."""
    return (batch_sizes[None, :] > xp.arange(batch_sizes[0])[:, None]).sum(axis=1)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: ``(padded (T, B, *), lengths (B,) int64)``, in the original order.

    ``total_length`` pads to that many steps instead of the longest sequence's.

    Example:
        >>> import dendrite
        >>> packed = pack_sequence([dendrite.tensor([1., 2.]), dendrite.tensor([3.])])
        >>> padded, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=-1.0)
        >>> padded, lengths
        (tensor([[ 1.,  2.],
                [ 3., -1.]]), tensor([2, 1]))
    """
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    data = sequence.data
    batch_sizes = xp.asarray(sequence.batch_sizes.tolist()).astype(xp.int64)
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in "
                             f"input, but got total_length={total_length} and max sequence length being "
                             f"{steps}")
        steps = int(total_length)
    # source row of each (t, b) of the time-major result: the packed row, or the padding row
    index = xp.full((steps, batch), len(data), dtype=xp.int64)
    for t, (start, size) in enumerate(zip(_starts(batch_sizes), batch_sizes)):
        index[t, :size] = start + xp.arange(size)
    padded = _rows_or_padding(data, index, padding_value)
    lengths = _sorted_lengths(batch_sizes)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[xp.asarray(sequence.unsorted_indices.tolist())]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, creation.tensor(lengths.astype(xp.int64))


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes ``(L_i, *)`` into ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``), padded.

    ``padding_side="left"`` puts the padding before each sequence instead of after it.

    Example:
        >>> import dendrite
        >>> pad_sequence([dendrite.tensor([1, 2, 3]), dendrite.tensor([4])], batch_first=True)
        tensor([[1, 2, 3],
                [4, 0, 0]])
    """
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences or not all(isinstance(item, Tensor) for item in sequences):
        raise TypeError("pad_sequence: expected a non-empty list of tensors, got "
                        f"{[type(item).__name__ for item in sequences] or 'an empty list'}")
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    trailing = tuple(sequences[0].shape[1:])
    for position, item in enumerate(sequences):
        if item.ndim == 0 or tuple(item.shape[1:]) != trailing:
            raise ValueError(f"pad_sequence: every sequence must be (L, {', '.join(map(str, trailing)) or ''}"
                             f"{'' if trailing else '*'}); sequence {position} has shape {tuple(item.shape)}")
    lengths = xp.array([item.shape[0] for item in sequences], dtype=xp.int64)
    steps, batch = int(lengths.max()), len(sequences)
    data = cat(sequences)
    index = xp.full((steps, batch), len(data), dtype=xp.int64)
    for b, (start, length) in enumerate(zip(_starts(lengths), lengths)):
        first = 0 if padding_side == "right" else steps - length
        index[first:first + length, b] = start + xp.arange(length)
    return _rows_or_padding(data, index.T if batch_first else index, padding_value)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors ``(L_i, *)``: :func:`pad_sequence` then :func:`pack_padded_sequence`.

    Example:
        >>> import dendrite
        >>> pack_sequence([dendrite.tensor([1.]), dendrite.tensor([2., 3.])], enforce_sorted=False).data
        tensor([2., 1., 3.])
    """
    sequences = list(sequences)
    lengths = [item.shape[0] if isinstance(item, Tensor) and item.ndim else 0 for item in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The inverse of :func:`pad_sequence`: a list of ``(L_i, *)`` tensors.

    Example:
        >>> import dendrite
        >>> unpad_sequence(dendrite.tensor([[1, 2], [3, 0]]), [2, 1], batch_first=True)
        [tensor([1, 2]), tensor([3])]
    """
    if batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lengths = _host_lengths(lengths, padded_sequences.shape[1], "unpad_sequence")
    return [padded_sequences[:int(length), b] for b, length in enumerate(lengths)]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The inverse of :func:`pack_sequence`: a list of ``(L_i, *)`` tensors, in the original order.

    Example:
        >>> import dendrite
        >>> unpack_sequence(pack_sequence([dendrite.tensor([1.]), dendrite.tensor([2., 3.])], False))
        [tensor([1.]), tensor([2., 3.])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
