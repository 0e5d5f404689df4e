"""Which logged quantity a callback watches, which direction is better, and by how much.

EarlyStopping, ModelCheckpoint and ReduceLROnPlateau all answer the same three
questions about ``logs[monitor]``; :class:`Monitor` answers them once. The
plain functions underneath (:func:`metric_mode`, :func:`resolve_mode`,
:func:`is_better`) are also what :class:`~dendrite.train.History` uses.

Example:
    >>> watch = Monitor("val_accuracy")
    >>> watch.mode, watch.is_better(0.91, 0.90)
    ('max', True)
"""

from __future__ import annotations

import math
import warnings

__all__ = ["Monitor", "metric_mode", "resolve_mode", "is_better"]

_LOWER_IS_BETTER = ("loss", "mse", "mae", "error", "perplexity", "bpc", "bits_per_character")


def metric_mode(monitor: str) -> str:
    """``'min'`` or ``'max'``: which direction is an improvement for a logged quantity, from its name.

    Example:
        >>> metric_mode("val_loss"), metric_mode("val_accuracy")
        ('min', 'max')
    """
    name = monitor.removeprefix("val_").lower()
    if any(part in name for part in _LOWER_IS_BETTER):
        return "min"
    return "max"


def resolve_mode(mode: str, monitor: str, trainer=None) -> str:
    """``'min'`` or ``'max'`` for ``monitor``; ``'auto'`` asks the trainer's metric, then the name.

    Example:
        >>> resolve_mode("auto", "val_mse"), resolve_mode("max", "val_loss")
        ('min', 'max')
    """
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    name = monitor.removeprefix("val_")
    for metric in getattr(trainer, "metrics", ()) or ():
        if getattr(metric, "name", None) == name:
            return "max" if metric.higher_is_better else "min"
    return metric_mode(monitor)


def is_better(current: float, best: float, mode: str, min_delta: float = 0.0) -> bool:
    """True when ``current`` improves on ``best`` by more than ``min_delta`` (NaN never improves).

    Example:
        >>> is_better(0.5, 0.6, "min"), is_better(0.59, 0.6, "min", min_delta=0.05)
        (True, False)
    """
    if current is None or math.isnan(current):
        return False
    if mode == "min":
        return current < best - abs(min_delta)
    return current > best + abs(min_delta)


class Monitor:
    """One watched quantity: its log key, its direction (``mode``) and the smallest change that counts.

    ``mode='auto'`` is settled from the name at construction and again by
    :meth:`resolve` once the trainer (and so its metrics' ``higher_is_better``)
    is known. :meth:`value` reads the quantity from an epoch's logs and warns
    once when it is missing.

    Example:
        >>> watch = Monitor("val_loss", min_delta=0.01)
        >>> best = watch.worst
        >>> watch.is_better(0.8, best), watch.is_better(0.795, 0.8)
        (True, False)
        >>> watch.value({"val_loss": 0.5}, owner="Demo")
        0.5
        >>> Monitor("val_accuracy").resolve()   # settled from the name: accuracy rises
        'max'
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", min_delta: float = 0.0) -> None:
        self.name, self.mode_setting, self.min_delta = monitor, mode, abs(min_delta)
        self.mode = resolve_mode(mode, monitor)  # validate now, not at the end of the first epoch
        self.warned = False

    def resolve(self, trainer=None) -> str:
        """Settle ``mode='auto'`` with the trainer's metrics; forget an earlier missing-key warning."""
        self.mode = resolve_mode(self.mode_setting, self.name, trainer)
        self.warned = False
        return self.mode

    @property
    def worst(self) -> float:
        """The starting ``best``: every finite value improves on it."""
        return math.inf if self.mode == "min" else -math.inf

    def is_better(self, current: float, best: float) -> bool:
        """True when ``current`` beats ``best`` by more than ``min_delta`` in this monitor's direction."""
        return is_better(current, best, self.mode, self.min_delta)

    def value(self, logs: dict | None, owner: str, hint: str = "") -> float | None:
        """``float(logs[name])``, or ``None`` (with one warning naming ``owner``) when it is not logged."""
        current = (logs or {}).get(self.name)
        if current is not None:
            return float(current)
        if not self.warned:
            warnings.warn(f"{owner} is monitoring {self.name!r}, which is not in the logs "
                          f"(available: {sorted(logs or {})}){hint}", stacklevel=3)
            self.warned = True
        return None
