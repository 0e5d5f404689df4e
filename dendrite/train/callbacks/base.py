"""``Callback``: code that runs at fixed points of training, with Keras's hook names.

The Trainer calls, in this order::

    on_train_begin(logs)
      on_epoch_begin(epoch, logs)                  # epoch counts from 0
        on_batch_begin(batch, logs)                # batch counts from 0 within the epoch
          on_before_optimizer_step(optimizer, batch, logs)   # after backward, before step
        on_batch_end(batch, logs)                  # logs: 'batch', 'size', 'loss', ...
      on_epoch_end(epoch, logs)                    # logs: 'loss', 'accuracy', 'val_loss', ..., 'lr'
    on_train_end(logs)

A callback reaches the run through ``self.trainer`` (and ``self.model``) and
stops it by setting ``self.trainer.stop_training = True``; the Trainer checks
the flag after every batch and every epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from dendrite.train.monitor import Monitor

__all__ = ["Callback", "CallbackList", "LambdaCallback", "MonitorCallback"]

HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_batch_begin", "on_batch_end", "on_before_optimizer_step",
)


class Callback:
    """Base class for callbacks: override the hooks you need; every hook does nothing by default.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(f"epoch {epoch}: loss {logs['loss']:.3f}")
        >>> PrintLoss().on_epoch_end(0, {"loss": 0.25})
        epoch 0: loss 0.250
    """

    trainer: Any = None
    # Read-only until set_params gives the instance its own dict: no state shared between callbacks.
    params: Mapping = MappingProxyType({})

    @property
    def model(self):
        """The model being trained (``None`` before the callback is attached to a Trainer)."""
        return None if self.trainer is None else self.trainer.model

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def set_params(self, params: dict) -> None:
        """Run facts the Trainer shares before training: ``epochs``, ``steps`` (batches per epoch or None)."""
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None:
        pass

    def on_train_end(self, logs: dict | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        pass

    def on_before_optimizer_step(self, optimizer, batch: int, logs: dict | None = None) -> None:
        pass


class CallbackList:
    """Calls one hook on every callback, in the order they were given.

    Example:
        >>> seen = []
        >>> callbacks = CallbackList([LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))])
        >>> callbacks.on_epoch_end(3, {})
        >>> seen
        [3]
    """

    def __init__(self, callbacks: Iterable[Callback] = (), trainer=None) -> None:
        self.callbacks = []
        for callback in callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks must be Callback objects, got {type(callback).__name__}; "
                    "wrap a function in LambdaCallback(on_epoch_end=...)"
                )
            self.callbacks.append(callback)
        if trainer is not None:
            for callback in self.callbacks:
                callback.set_trainer(trainer)

    def set_params(self, params: dict) -> None:
        for callback in self.callbacks:
            callback.set_params(params)

    def _call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def on_train_begin(self, logs=None) -> None:
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None) -> None:
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None) -> None:
        self._call("on_epoch_end", epoch, logs)

    def on_batch_begin(self, batch, logs=None) -> None:
        self._call("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None) -> None:
        self._call("on_batch_end", batch, logs)

    def on_before_optimizer_step(self, optimizer, batch, logs=None) -> None:
        self._call("on_before_optimizer_step", optimizer, batch, logs)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)


class LambdaCallback(Callback):
    """A callback made of plain functions, one per hook (Keras's ``LambdaCallback``).

    Each function takes the hook's arguments: ``on_epoch_end(epoch, logs)``,
    ``on_batch_end(batch, logs)``, ``on_train_begin(logs)``...

    Example:
        >>> losses = []
        >>> callback = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
        >>> callback.on_epoch_end(0, {"loss": 1.5}); losses
        [1.5]
    """

    def __init__(self, **hooks: Callable) -> None:
        for name, function in hooks.items():
            if name not in HOOKS:
                raise ValueError(f"LambdaCallback got unknown hook {name!r}; expected one of {list(HOOKS)}")
            if function is not None and not callable(function):
                raise TypeError(
                    f"LambdaCallback hook {name!r} must be callable, got {type(function).__name__}"
                )
            if function is not None:
                setattr(self, name, function)


class MonitorCallback(Callback):
    """A callback that watches one logged quantity through ``self.watch`` (a :class:`Monitor`).

    ``monitor``, ``mode`` and ``min_delta`` read through to the Monitor, so the
    three callbacks that watch a quantity keep one copy of those settings, and
    ``mode='auto'`` is settled against the trainer's metrics when training begins.

    Example:
        >>> class PrintBest(MonitorCallback):
        ...     def __init__(self): self.watch = Monitor("val_accuracy")
        >>> PrintBest().monitor, PrintBest().mode
        ('val_accuracy', 'max')
    """

    watch: Monitor

    @property
    def monitor(self) -> str:
        """The log key watched (``'val_loss'``, ``'val_accuracy'``...)."""
        return self.watch.name

    @property
    def mode(self) -> str:
        """``'min'`` or ``'max'``: the direction of an improvement."""
        return self.watch.mode

    @property
    def min_delta(self) -> float:
        """The smallest change that counts as an improvement."""
        return self.watch.min_delta

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.watch.resolve(self.trainer)
