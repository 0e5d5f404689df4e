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
from dendrite.train.divergence import NonFiniteStateError, check_finite_state, diverged_reason, refuse_save
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


def save_state_dict(state_dict: dict, path: str | os.PathLike, *, allow_nonfinite: bool = False) -> Path:
    """Save a state_dict to ``path`` atomically; return the path.

    A state with NaN or infinite float values is refused with
    :class:`~dendrite.train.divergence.NonFiniteStateError` (the previous file stays)
    unless ``allow_nonfinite=True``.

    Example:
        >>> import pathlib, dendrite
        >>> target = pathlib.Path("weights.npz")
        >>> save_state_dict({"weight": dendrite.ones(2)}, target).exists()
        True
    """
    path = Path(path)
    if not allow_nonfinite:
        check_finite_state(state_dict, repr(str(path)))
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

    A diverged run (a non-finite loss, see :mod:`dendrite.train.divergence`) or
    non-finite weights are never saved, so the last finite file is kept; this is
    said once per fit with a :class:`~dendrite.train.divergence.NonFiniteCheckpointWarning`.

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
        self.refused: str | None = None  # why the last save was skipped (a diverged run)

    def on_train_begin(self, logs=None) -> None:
        # The best value survives a second fit() on purpose: a resumed run saves only real improvements.
        self.watch.resolve(self.trainer)
        if self.best is None:
            self.best = self.watch.worst
        self.refused = None

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        reason = diverged_reason(self.trainer)  # set before any epoch-end callback, whatever the order
        if reason:
            refuse_save(self, reason)
            return
        if self.save_best_only:
            current = self.watch.value(logs, "ModelCheckpoint(save_best_only=True)",
                                       hint="; nothing is saved")
            if current is None:
                return
            if self.best is None:
                self.best = self.watch.worst
            if not self.watch.is_better(current, self.best):
                return
        path = self._format_path(epoch, logs)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.last_saved = save_state_dict(self.model.state_dict(), path)
        except NonFiniteStateError as error:
            refuse_save(self, str(error))  # and self.best stays: the refused weights were not the best
            return
        if self.save_best_only:
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5g} "
                      f"to {current:.5g}; saved model")
            self.best = current
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
