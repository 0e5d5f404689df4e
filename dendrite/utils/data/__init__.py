"""``dendrite.utils.data``: PyTorch's import path (``torch.utils.data``) to :mod:`dendrite.data`.

The same classes and functions, not copies: ``dendrite.utils.data.DataLoader is
dendrite.data.DataLoader``. They load on first use (this module's
``__getattr__``), so ``import dendrite`` does not pay for the data package.

Example:
    >>> import dendrite
    >>> from dendrite.utils.data import DataLoader, TensorDataset
    >>> data = TensorDataset(dendrite.arange(6.0).reshape(3, 2), dendrite.tensor([0, 1, 0]))
    >>> [tuple(x.shape) for x, y in DataLoader(data, batch_size=2)]
    [(2, 2), (1, 2)]
    >>> dendrite.utils.data.DataLoader is dendrite.data.DataLoader
    True
"""

from __future__ import annotations

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset",
           "random_split",
           "DataLoader", "default_collate", "default_convert", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "get_worker_info"]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module 'dendrite.utils.data' has no attribute {name!r}; it offers "
                             f"{', '.join(__all__)} (more in dendrite.data)")
    from dendrite import data

    value = getattr(data, name)
    globals()[name] = value  # found once, then an ordinary attribute
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(__all__))
