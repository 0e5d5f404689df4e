"""Callbacks that steer a run: stop on NaN, clip gradients, lower the learning rate on a plateau."""

from __future__ import annotations

import math
import warnings

from dendrite.train.callbacks.base import Callback
from dendrite.train.callbacks.early_stopping import resolve_mode
from dendrite.train.gradients import clip_optimizer_gradients
from dendrite.train.streaming import is_better

__all__ = ["TerminateOnNaN", "GradientClipping", "ReduceLROnPlateau"]


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite, and say where it happened.

    Every logged value whose name contains ``'loss'`` is checked (so a GAN's
    ``'d_loss'`` and ``'g_loss'`` are too). The message is printed, kept in
    ``self.message`` and in ``trainer.stop_reason``.

    Example:
        >>> callback = TerminateOnNaN(verbose=False)
        >>> callback.on_epoch_begin(0)
        >>> callback.on_batch_end(4, {"loss": float("nan")})
        >>> callback.message
        'TerminateOnNaN: loss became nan at epoch 1, batch 5; stopping training'
    """

    def __init__(self, verbose: bool = True) -> None:
        self.verbose = verbose
        self.message: str | None = None
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs=None) -> None:
        for key, value in (logs or {}).items():
            if "loss" not in key or not isinstance(value, (int, float)) or math.isfinite(value):
                continue
            epochs, steps = self.params.get("epochs"), self.params.get("steps")
            where = f"epoch {self.epoch + 1}" + (f"/{epochs}" if epochs else "")
            where += f", batch {batch + 1}" + (f"/{steps}" if steps else "")
            self.message = f"TerminateOnNaN: {key} became {value} at {where}; stopping training"
            if self.verbose:
                print(self.message)
            if self.trainer is not None:
                self.trainer.stop_training = True
                self.trainer.stop_reason = self.message
            return


class GradientClipping(Callback):
    """Clip the total gradient norm to ``max_norm`` before every optimizer step.

    The same as ``Trainer(grad_clip_norm=...)``. The norm before clipping is
    logged per batch as ``'grad_norm'``.

    Example:
        >>> GradientClipping(max_norm=1.0).max_norm
        1.0
    """

    def __init__(self, max_norm: float, norm_type: float = 2.0) -> None:
        if not max_norm > 0:
            raise ValueError(f"GradientClipping: max_norm must be positive, got {max_norm}")
        self.max_norm, self.norm_type = float(max_norm), norm_type

    def on_before_optimizer_step(self, optimizer, batch: int, logs=None) -> None:
        norm = clip_optimizer_gradients(optimizer, self.max_norm, self.norm_type)
        if logs is not None:
            logs["grad_norm"] = norm


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate of every param group by ``factor`` when ``monitor`` plateaus.

    Keras semantics: after ``patience`` epochs without an improvement larger
    than ``min_delta``, ``lr = max(lr * factor, min_lr)``; then ``cooldown``
    epochs pass before counting starts again. The optimizer is the trainer's
    unless one is given.

    Example:
        >>> callback = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)
        >>> callback.factor, callback.mode
        (0.5, 'min')
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 optimizer=None, verbose: bool = False) -> None:
        if not 0.0 < factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be between 0 and 1 (exclusive), got {factor}")
        self.monitor, self.factor, self.patience = monitor, float(factor), patience
        self.mode_setting, self.min_delta, self.cooldown, self.min_lr = mode, abs(min_delta), cooldown, min_lr
        self.optimizer, self.verbose = optimizer, verbose
        self.mode = resolve_mode(mode, monitor)
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait, self.cooldown_counter = 0, 0
        self._warned = False

    def on_train_begin(self, logs=None) -> None:
        self.mode = resolve_mode(self.mode_setting, self.monitor, self.trainer)
        self._reset()

    def _optimizer(self):
        optimizer = self.optimizer or getattr(self.trainer, "optimizer", None)
        if optimizer is None:
            raise RuntimeError(
                "ReduceLROnPlateau has no optimizer: attach it to a Trainer or pass optimizer="
            )
        return optimizer

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        current = (logs or {}).get(self.monitor)
        if current is None:
            if not self._warned:
                warnings.warn(f"ReduceLROnPlateau is monitoring {self.monitor!r}, which is not in the logs "
                              f"(available: {sorted(logs or {})})", stacklevel=2)
                self._warned = True
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if is_better(float(current), self.best, self.mode, self.min_delta):
            self.best, self.wait = float(current), 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                for group in self._optimizer().param_groups:
                    old = float(group["lr"])
                    if old > self.min_lr:
                        group["lr"] = max(old * self.factor, self.min_lr)
                        if self.verbose:
                            print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                                  f"{group['lr']:.4g}")
                self.cooldown_counter, self.wait = self.cooldown, 0
