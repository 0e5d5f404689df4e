"""``torch.nn.utils.rnn``: padding and packing batches of sequences of different lengths.

The implementation is in :mod:`dendrite.nn.functional.packing` (below the modules, so that
``nn.RNN``/``nn.LSTM``/``nn.GRU`` can take a :class:`PackedSequence`); this is PyTorch's path to it.

Example:
    >>> import dendrite
    >>> from dendrite.nn.utils.rnn import pad_sequence
    >>> pad_sequence([dendrite.ones(2), dendrite.ones(1)]).shape
    (2, 2)
"""

from dendrite.nn.functional.packing import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence"]
