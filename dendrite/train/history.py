"""``History``: what ``Trainer.fit`` returns, one list of values per logged quantity.

Keys follow Keras: ``'loss'``, ``'accuracy'``, ``'val_loss'``, ``'val_accuracy'``,
plus ``'lr'`` (the learning rate used during the epoch). A quantity missing in
some epoch (validation skipped, a metric added late) is stored as NaN there so
every list stays aligned with ``history.epoch``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from dendrite.train.callbacks.base import Callback
from dendrite.train.monitor import metric_mode
from dendrite.utils.atomic import atomic_write_text
from dendrite.utils.strict_json import dumps

__all__ = ["History"]


class History(Callback):
    """Per-epoch record of the training logs (a callback the Trainer always attaches, last).

    Example:
        >>> history = History()
        >>> history.on_epoch_end(0, {"loss": 0.9, "val_loss": 1.0})
        >>> history.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.7})
        >>> history["loss"], history.best("val_loss")
        ([0.9, 0.5], (1, 0.7))
        >>> list(history.keys()), history.last()
        (['loss', 'val_loss'], {'loss': 0.5, 'val_loss': 0.7})
        >>> history.to_dict()
        {'epoch': [0, 1], 'history': {'loss': [0.9, 0.5], 'val_loss': [1.0, 0.7]}}
        >>> History.load(history.save("history.json"))["val_loss"]
        [1.0, 0.7]
    """

    def __init__(self, history: dict | None = None, epoch: list | None = None) -> None:
        self.history: dict[str, list] = {key: list(values) for key, values in (history or {}).items()}
        self.epoch: list[int] = list(epoch) if epoch is not None else list(
            range(len(next(iter(self.history.values()), [])))
        )

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self.epoch.append(int(epoch))
        for key, value in logs.items():
            if key not in self.history:
                # A key that first appears now was missing in all earlier epochs.
                self.history[key] = [math.nan] * (len(self.epoch) - 1)
            self.history[key].append(_plain(value))
        for values in self.history.values():
            if len(values) < len(self.epoch):
                values.append(math.nan)

    # ------------------------------------------------------------------ reading
    def __getitem__(self, key: str) -> list:
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; recorded keys: {sorted(self.history)}")
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.epoch)

    def keys(self):
        """The recorded quantities (``'loss'``, ``'val_loss'``...), in the order they first appeared."""
        return self.history.keys()

    def last(self) -> dict:
        """The logs of the last recorded epoch (empty before the first)."""
        return {key: values[-1] for key, values in self.history.items() if values}

    def best(self, monitor: str = "val_loss", mode: str = "auto") -> tuple[int, float]:
        """``(epoch, value)`` of the best epoch for ``monitor`` (NaN epochs ignored)."""
        values = self[monitor]
        mode = metric_mode(monitor) if mode == "auto" else mode
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
        candidates = [(value, index) for index, value in enumerate(values) if not math.isnan(value)]
        if not candidates:
            raise ValueError(f"History: {monitor!r} has no finite value to choose the best epoch from")
        value, index = min(candidates) if mode == "min" else max(candidates, key=lambda pair: pair[0])
        return self.epoch[index], value

    def to_dict(self) -> dict:
        """``{"epoch": [...], "history": {key: [...]}}``: plain lists, copies of the record."""
        history = {key: list(values) for key, values in self.history.items()}
        return {"epoch": list(self.epoch), "history": history}

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the history as JSON (atomically; NaN written as ``null``) and return the path."""
        return atomic_write_text(path, dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        """Read a history written by :meth:`save`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            history = {key: [math.nan if v is None else v for v in values]
                       for key, values in data["history"].items()}
            return cls(history, data["epoch"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"{str(path)!r} is not a History file written by History.save: {error}"
            ) from None

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


def _plain(value):
    """A JSON-friendly Python number for a logged value (tensor, NumPy scalar or number)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return float(value)
