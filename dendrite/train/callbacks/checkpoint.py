"""``ModelCheckpoint``: save the model's ``state_dict`` during training, atomically.

Files are written with :mod:`dendrite.utils.atomic` (temporary file beside the
target, fsync, rename), so a crash or a full disk mid-save leaves the previous
checkpoint intact and no half-written file behind. The format is
``dendrite.save``'s when that function exists, otherwise a ``.npz`` of the
state_dict arrays (read back with ``numpy.load(path, allow_pickle=False)`` or
:func:`load_state_dict_file`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import dendrite
from dendrite.train.callbacks.base import MonitorCallback
from dendrite.train.metrics import to_numpy
from dendrite.train.monitor import Monitor
from dendrite.utils.atomic import atomic_path

__all__ = ["ModelCheckpoint", "save_state_dict", "load_state_dict_file"]


def _serialise(state_dict: dict, path: Path) -> None:
    """Write ``state_dict`` to ``path`` (a temporary file the caller renames into place)."""
    save = getattr(dendrite, "save", None)
    if save is not None:
        save(state_dict, path)
        return
    arrays = {key: to_numpy(value) for key, value in state_dict.items()}
    with open(path, "wb") as handle:  # a file object: numpy.savez would otherwise append '.npz'
        np.savez(handle, **arrays)


def save_state_dict(state_dict: dict, path: str | os.PathLike) -> Path:
    """Save a state_dict to ``path`` atomically; return the path.

    Example:
        >>> import pathlib, dendrite
        >>> target = pathlib.Path("weights.npz")
        >>> save_state_dict({"weight": dendrite.ones(2)}, target).exists()
        True
    """
    path = Path(path)
    with atomic_path(path) as temporary:
        _serialise(state_dict, temporary)
    return path


def load_state_dict_file(path: str | os.PathLike) -> dict:
    """Read a state_dict written by :func:`save_state_dict` (tensors keyed like ``model.state_dict()``).

    Example:
        >>> import pathlib, dendrite
        >>> target = save_state_dict({"bias": dendrite.zeros(3)}, pathlib.Path("w.npz"))
        >>> load_state_dict_file(target)["bias"].shape
        (3,)
    """
    load = getattr(dendrite, "load", None)
    if load is not None:
        return load(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: dendrite.tensor(archive[key]) for key in archive.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"could not read a state_dict from {str(path)!r}: {error}") from None


class ModelCheckpoint(MonitorCallback):
    """Save ``model.state_dict()`` at the end of epochs (every epoch, or only improvements).

    ``filepath`` may contain ``str.format`` fields filled from the epoch's logs
    and the 1-based epoch: ``"ckpt/epoch{epoch:03d}-{val_loss:.3f}.npz"``.
    With ``save_best_only=True`` a file is written only when ``monitor``
    improves (``mode='auto'``: min for losses, max for accuracy-like metrics).

    Example:
        >>> import pathlib
        >>> checkpoint = ModelCheckpoint(pathlib.Path("best.npz"), save_best_only=True)
        >>> checkpoint.monitor, checkpoint.mode
        ('val_loss', 'min')
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", verbose: bool = False) -> None:
        self.filepath, self.save_best_only = str(filepath), save_best_only
        self.watch, self.verbose = Monitor(monitor, mode), verbose
        self.best = None
        self.last_saved: Path | None = None

    def on_train_begin(self, logs=None) -> None:
        # The best value survives a second fit() on purpose: a resumed run saves only real improvements.
        self.watch.resolve(self.trainer)
        if self.best is None:
            self.best = self.watch.worst

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        if self.save_best_only:
            current = self.watch.value(logs, "ModelCheckpoint(save_best_only=True)",
                                       hint="; nothing is saved")
            if current is None:
                return
            if self.best is None:
                self.best = self.watch.worst
            if not self.watch.is_better(current, self.best):
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5g} "
                      f"to {current:.5g}; saving model")
            self.best = current
        path = self._format_path(epoch, logs)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        self.last_saved = save_state_dict(self.model.state_dict(), path)
        if self.verbose and not self.save_best_only:
            print(f"Epoch {epoch + 1}: saving model to {path}")

    def _format_path(self, epoch: int, logs: dict) -> Path:
        try:
            fields = {key: value for key, value in logs.items() if key != "epoch"}
            return Path(self.filepath.format(epoch=epoch + 1, **fields))
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"ModelCheckpoint: cannot fill the file name {self.filepath!r} from the logs "
                f"{sorted(logs)} (and 'epoch'): {error!r}"
            ) from None
