"""``nn.RNN``/``nn.LSTM``/``nn.GRU`` on a :class:`PackedSequence`: each sequence stops at its own end.

PyTorch runs a packed batch with fewer rows at each step as sequences end. Here the sequences
are grouped by length, and each group runs through the layer as an ordinary padded-free batch of
its own length (``x[:L, group]``): the final state of a sequence is the state after its last
real element, a bidirectional layer's backward direction starts there, and no padding ever enters
a state. The outputs are then gathered back into the packed order. The cost is one layer call per
distinct length in the batch (sorting a dataset into buckets of equal length makes that one).

Shapes: packed data ``(sum of lengths, H_in)``; ``hx`` ``(D*num_layers, B, H)`` in the batch's
original order, as in PyTorch; the output is packed like the input (``(sum of lengths, D*H)``)
and the final states ``(D*num_layers, B, H)`` are in the original order.
"""

from __future__ import annotations

from dendrite.backend import xp
from dendrite.nn.functional.packing import (
    PackedSequence,
    _index,  # an int64 index tensor on a tensor's device
    pad_packed_sequence,
)
from dendrite.ops.joining import cat
from dendrite.tensor import Tensor

__all__ = ["packed_forward"]


def packed_forward(module, packed: PackedSequence, hx=None):
    """Run the recurrent ``module`` over ``packed``; ``(output PackedSequence, final state(s))``.

    Example:
        >>> import dendrite
        >>> from dendrite.nn.utils.rnn import pack_sequence
        >>> gru = dendrite.nn.GRU(2, 3)
        >>> packed = pack_sequence([dendrite.ones(4, 2), dendrite.ones(1, 2)])
        >>> output, h = gru(packed)
        >>> output.data.shape, h.shape, output.batch_sizes
        ((5, 3), (1, 2, 3), tensor([2, 1, 1, 1]))
    """
    name = module._get_name()
    n_states = 2 if module.mode == "LSTM" else 1
    padded, lengths = pad_packed_sequence(packed)  # (T, B, H_in), original order
    lengths = xp.asarray(lengths.tolist())
    batch = len(lengths)
    directions = 2 if module.bidirectional else 1
    states = module._states_of(hx)
    if states is not None:
        expected = (module.num_layers * directions, batch, module.hidden_size)
        for k, state in enumerate(states):
            if not isinstance(state, Tensor) or tuple(state.shape) != expected:
                shape = tuple(state.shape) if isinstance(state, Tensor) else type(state).__name__
                which = f"[{k}]" if n_states == 2 else ""
                raise RuntimeError(f"{name}: Expected hidden{which} size {expected} "
                                   f"for a packed batch of {batch} sequences, got {shape}")
    outputs, finals = [], [[] for _ in range(n_states)]
    for length in xp.unique(lengths)[::-1]:
        group = xp.flatnonzero(lengths == length)
        rows = _index(group, padded)
        x = padded[:int(length)].index_select(1, rows)
        if module.batch_first:
            x = x.transpose(0, 1)
        start = None if states is None else tuple(state.index_select(1, rows) for state in states)
        output, last = module(x, start if start is None or n_states == 2 else start[0])
        if module.batch_first:
            output = output.transpose(0, 1)
        outputs.append((output, group))
        for k, state in enumerate(last if n_states == 2 else (last,)):
            finals[k].append(state)
    # the packed output: row (t, k-th longest) comes from its group's (t, position in group)
    order = (xp.arange(batch) if packed.sorted_indices is None
             else xp.asarray(packed.sorted_indices.tolist()))
    where, offset = {}, 0
    for output, group in outputs:
        for position, b in enumerate(group):
            where[int(b)] = (offset, position, len(group))
        offset += output.shape[0] * output.shape[1]
    batch_sizes = xp.asarray(packed.batch_sizes.tolist())
    source = []
    for t, size in enumerate(batch_sizes):
        for b in order[:size]:
            start, position, width = where[int(b)]
            source.append(start + t * width + position)
    flat = cat([output.reshape(-1, output.shape[-1]) for output, _ in outputs])
    data = flat.index_select(0, _index(source, flat))
    concatenated = xp.concatenate([group for _, group in outputs])
    back = _index(xp.argsort(concatenated), flat)  # concatenated groups -> original order
    hidden = [cat(states, dim=1).index_select(1, back) for states in finals]
    result = PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
    return result, (tuple(hidden) if n_states == 2 else hidden[0])
