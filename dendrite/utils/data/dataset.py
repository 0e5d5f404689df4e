"""``dendrite.utils.data.dataset``: PyTorch's ``torch.utils.data.dataset`` (the same objects).

Scripts import from the submodule as often as from the package
(``from torch.utils.data.dataset import ...``); both give :mod:`dendrite.data`'s.

Example:
    >>> import dendrite.data
    >>> from dendrite.utils.data import dataset
    >>> all(getattr(dataset, name) is getattr(dendrite.data, name) for name in dataset.__all__)
    True
"""

from __future__ import annotations

from dendrite.data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset", "random_split",
]
