"""``dendrite.utils.data.sampler``: PyTorch's ``torch.utils.data.sampler`` (the same objects).

Scripts import from the submodule as often as from the package
(``from torch.utils.data.sampler import ...``); both give :mod:`dendrite.data`'s.

Example:
    >>> import dendrite.data
    >>> from dendrite.utils.data import sampler
    >>> all(getattr(sampler, name) is getattr(dendrite.data, name) for name in sampler.__all__)
    True
"""

from __future__ import annotations

from dendrite.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
    "BatchSampler",
]
