"""``EarlyStopping``: stop when a monitored quantity has stopped improving."""

from __future__ import annotations

import dendrite
from dendrite.train.callbacks.base import MonitorCallback
from dendrite.train.monitor import Monitor

__all__ = ["EarlyStopping", "snapshot_state", "restore_state"]


def snapshot_state(model) -> dict:
    """A deep copy of ``model.state_dict()`` (parameters and buffers), safe from later updates.

    Example:
        >>> import dendrite
        >>> model = dendrite.nn.Linear(2, 1)
        >>> snapshot = snapshot_state(model)
        >>> _ = model.weight.array.fill(0.0)
        >>> bool((snapshot["weight"].numpy() == 0).all())
        False
    """
    return {key: dendrite.tensor(value.detach() if hasattr(value, "detach") else value)
            for key, value in model.state_dict().items()}


def restore_state(model, state: dict) -> None:
    """Load a snapshot taken by :func:`snapshot_state` back into ``model``.

    Example:
        >>> import dendrite
        >>> model = dendrite.nn.Linear(2, 1)
        >>> snapshot = snapshot_state(model)
        >>> _ = model.weight.array.fill(0.0)
        >>> restore_state(model, snapshot)
        >>> bool((model.weight.detach().numpy() == snapshot["weight"].numpy()).all())
        True
    """
    model.load_state_dict(state)


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras semantics).

    An improvement is a change of more than ``min_delta`` in the right direction
    (``mode='auto'`` picks min for losses and errors, max for accuracy-like
    metrics). With ``restore_best_weights=True`` the model gets the weights of
    its best epoch back when training ends, whether it stopped early or not.
    ``baseline``: training stops unless the monitor beats it within ``patience``
    epochs. ``start_from_epoch``: epochs of warm-up before stopping is considered.

    Example:
        >>> stopper = EarlyStopping(monitor="val_loss", patience=2)
        >>> for epoch, value in enumerate([1.0, 0.8, 0.9, 0.85]):
        ...     stopper.on_epoch_end(epoch, {"val_loss": value})
        >>> stopper.stopped_epoch, stopper.best_epoch, stopper.best
        (3, 1, 0.8)
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0, verbose: bool = False) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.watch = Monitor(monitor, mode, min_delta)
        self.patience, self.baseline = patience, baseline
        self.restore_best_weights, self.start_from_epoch, self.verbose = (
            restore_best_weights, start_from_epoch, verbose
        )
        self._reset()

    def _reset(self) -> None:
        self.wait, self.stopped_epoch, self.best_epoch = 0, None, None
        self.watch.resolve(self.trainer)
        self.best = self.watch.worst
        self.best_weights = None

    def on_train_begin(self, logs=None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        current = self.watch.value(logs, "EarlyStopping", hint="; did you pass a val_loader?")
        if current is None:
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None and self.model is not None:
            # Until something improves, the first monitored epoch's weights are the best seen.
            self.best_weights, self.best_epoch = snapshot_state(self.model), epoch
        self.wait += 1
        if self.watch.is_better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights and self.model is not None:
                self.best_weights = snapshot_state(self.model)
            # Only a value that also beats the baseline restarts the patience count.
            if self.baseline is None or self.watch.is_better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            if self.trainer is not None:
                best_epoch = "-" if self.best_epoch is None else self.best_epoch + 1
                self.trainer.stop_training = True
                self.trainer.stop_reason = (
                    f"EarlyStopping: {self.monitor} did not improve for {self.wait} epochs "
                    f"(best {self.best:.6g} at epoch {best_epoch})"
                )

    def on_train_end(self, logs=None) -> None:
        if self.stopped_epoch is not None and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping ({self.monitor} stopped improving)")
        if self.restore_best_weights and self.best_weights is not None and self.model is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}")
            restore_state(self.model, self.best_weights)
