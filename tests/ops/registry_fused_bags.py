"""Registry entries for ``embedding_bag`` (bags of embedding rows reduced by sum, mean or max).

The reference is a plain loop over the bags in NumPy; ``fn`` takes ``per_sample_weights``
positionally so that the generic tests differentiate it like any floating input.
"""

from __future__ import annotations

import numpy as np

from tests.ops.registry import OpInfo, Sample, indices, randn


def embedding_bag_reference(index, weight, offsets=None, per_sample_weights=None, mode="mean",
                            include_last_offset=False, padding_idx=None):
    if index.ndim == 2:
        length = index.shape[1]
        starts, ends = np.arange(0, index.size, length), np.arange(1, index.shape[0] + 1) * length
        index = index.reshape(-1)
        per_sample_weights = None if per_sample_weights is None else per_sample_weights.reshape(-1)
    elif include_last_offset:
        starts, ends = offsets[:-1], offsets[1:]
    else:
        starts, ends = offsets, np.append(offsets[1:], index.size)
    out = np.zeros((len(starts), weight.shape[1]), weight.dtype)
    for bag, (start, end) in enumerate(zip(starts, ends)):
        chosen = [p for p in range(start, end) if index[p] != padding_idx]
        if not chosen:
            continue
        rows = weight[index[chosen]]
        if per_sample_weights is not None:
            rows = rows * per_sample_weights[chosen][:, None]
        out[bag] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0)}[mode]
    return out


def _embedding_bag(m, index, weight, offsets, per_sample_weights, **kwargs):
    bag = m.nn.functional.embedding_bag
    return bag(index, weight, offsets, per_sample_weights=per_sample_weights, **kwargs)


_BAGGED = np.array([0, 2, 2, 4, 1, 5, 5, 3])
_OFFSETS = np.array([0, 2, 2, 5])  # the second bag is empty

BAGS = [
    OpInfo(
        "embedding_bag",
        _embedding_bag,
        embedding_bag_reference,
        [
            Sample((_BAGGED, randn(6, 3), _OFFSETS, None), {"mode": "sum"}, name="sum"),
            Sample((_BAGGED, randn(6, 3), _OFFSETS, None), {"mode": "mean"}, name="mean"),
            Sample((_BAGGED, randn(6, 3), _OFFSETS, None), {"mode": "max"}, name="max"),
            Sample((indices(6, 3, 4), randn(6, 3), None, None), {"mode": "mean"}, name="2d"),
            Sample((indices(6, 2, 3), randn(6, 2), None, None), {"mode": "max"}, name="2d-max"),
            Sample((_BAGGED, randn(6, 3), _OFFSETS, randn(8)), {"mode": "sum"}, name="per-sample-weights"),
            Sample((indices(6, 2, 3), randn(6, 2), None, randn(2, 3)), {"mode": "sum"}, name="2d-weights"),
            Sample((_BAGGED, randn(6, 3), _OFFSETS, None), {"mode": "mean", "padding_idx": 2},
                   name="padding"),
            Sample((_BAGGED, randn(6, 3), _OFFSETS, None), {"mode": "max", "padding_idx": 5},
                   name="max-padding"),
            Sample((_BAGGED, randn(6, 3), np.array([0, 3, 3, 8]), None),
                   {"mode": "mean", "include_last_offset": True}, name="include-last-offset"),
            Sample((_BAGGED, randn(6, 3), _OFFSETS, None), {"mode": "sum"}, layout="transposed"),
        ],
    ),
]
