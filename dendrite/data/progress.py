"""A progress bar for the long passes over user files (indexing a CSV, checking an image folder).

It is tqdm when tqdm is installed (the ``train`` extra) and asked for, and nothing
otherwise: reading data never needs it. ``dendrite.train`` has the training bars;
this module sits in the data layer, below it, so it imports tqdm itself.

Example:
    >>> with indexing_bar(total=3, description="indexing rows", enabled=False) as bar:
    ...     for _ in range(3):
    ...         bar.update(1)
    >>> bar.count
    3
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

__all__ = ["indexing_bar"]


class _Counter:
    """What the ``with`` block gets: ``update(n)`` advances the bar (if any) and ``count``."""

    def __init__(self, bar) -> None:
        self.bar, self.count = bar, 0

    def update(self, n: int = 1) -> None:
        self.count += n
        if self.bar is not None:
            self.bar.update(n)


@contextmanager
def indexing_bar(total: int | None, description: str, enabled: bool = True, unit: str = "it"):
    """A context giving a counter whose ``update(n)`` moves a tqdm bar on stderr (when enabled and installed).

    Args:
        total: the number of units expected (``None``: unknown), e.g. the file size in bytes.
        description: the bar's label, e.g. ``"indexing data.csv"``.
        enabled: ``False`` shows nothing (the count is still kept).
        unit: the bar's unit (``"B"`` counts bytes and scales them to kB/MB).

    Example:
        >>> with indexing_bar(total=None, description="reading", enabled=False) as bar:
        ...     bar.update(5)
        >>> bar.count
        5
    """
    bar = None
    if enabled:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            scale = unit == "B"
            bar = tqdm(total=total, desc=description, unit=unit, unit_scale=scale, unit_divisor=1024 if scale
                       else 1000, file=sys.stderr, leave=False, dynamic_ncols=True)
    counter = _Counter(bar)
    try:
        yield counter
    finally:
        if bar is not None:
            bar.close()
