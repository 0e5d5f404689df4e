"""``dendrite.utils.data.dataloader``: PyTorch's ``torch.utils.data.dataloader`` (the same objects).

Scripts import from the submodule as often as from the package
(``from torch.utils.data.dataloader import ...``); both give :mod:`dendrite.data`'s.

Example:
    >>> import dendrite.data
    >>> from dendrite.utils.data import dataloader
    >>> all(getattr(dataloader, name) is getattr(dendrite.data, name) for name in dataloader.__all__)
    True
"""

from __future__ import annotations

from dendrite.data import DataLoader, default_collate, default_convert, get_worker_info

__all__ = [
    "DataLoader", "default_collate", "default_convert", "get_worker_info",
]
