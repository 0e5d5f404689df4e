"""Callbacks that steer a run: stop on NaN, clip gradients, lower the learning rate on a plateau."""

from __future__ import annotations

from dendrite.optim import lr_scheduler
from dendrite.train.callbacks.base import Callback, MonitorCallback
from dendrite.train.divergence import first_nonfinite_loss, record_divergence
from dendrite.train.gradients import clip_optimizer_gradients
from dendrite.train.monitor import Monitor

__all__ = ["TerminateOnNaN", "GradientClipping", "ReduceLROnPlateau"]


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite, and say where it happened.

    Every logged value whose name contains ``'loss'`` is checked (so a GAN's
    ``'d_loss'`` and ``'g_loss'`` are too). The message is printed, kept in
    ``self.message`` and in ``trainer.stop_reason``; ``trainer.divergence`` records where
    (see :mod:`dendrite.train.divergence`). Checkpoint callbacks skip the epoch-end save
    of a diverged run, whether they come before or after this one in the list.

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
        # The Trainer has usually noted the divergence already (before any on_batch_end);
        # record_divergence covers a value only a callback before this one logged.
        if self.trainer is not None:
            record_divergence(self.trainer, logs, batch)
        found = first_nonfinite_loss(logs)
        if found is None:
            return
        key, value = found
        epochs, steps = self.params.get("epochs"), self.params.get("steps")
        where = f"epoch {self.epoch + 1}" + (f"/{epochs}" if epochs else "")
        where += f", batch {batch + 1}" + (f"/{steps}" if steps else "")
        self.message = f"TerminateOnNaN: {key} became {value} at {where}; stopping training"
        if self.verbose:
            print(self.message)
        if self.trainer is not None:
            self.trainer.stop_training = True
            self.trainer.stop_reason = self.message


class GradientClipping(Callback):
    """Clip the total gradient norm to ``max_norm`` before every optimizer step.

    This is the one clipping mechanism: ``Trainer(grad_clip_norm=...)`` is a
    shortcut that installs this callback after the user's. The norm before
    clipping is logged per batch as ``'grad_norm'``. The norm is over every
    parameter of the optimizer that steps (each of a GAN's two optimizers is
    clipped on its own).

    Example:
        >>> import dendrite
        >>> w = dendrite.nn.Parameter(dendrite.zeros(2))
        >>> w.grad = dendrite.tensor([3.0, 4.0])
        >>> logs = {}
        >>> GradientClipping(max_norm=1.0).on_before_optimizer_step(dendrite.optim.SGD([w], lr=0.1), 0, logs)
        >>> logs["grad_norm"], [round(v, 4) for v in w.grad.tolist()]
        (5.0, [0.6, 0.8])
    """

    def __init__(self, max_norm: float, norm_type: float = 2.0) -> None:
        if not max_norm > 0:
            raise ValueError(f"GradientClipping: max_norm must be positive, got {max_norm}")
        self.max_norm, self.norm_type = float(max_norm), norm_type

    def on_before_optimizer_step(self, optimizer, batch: int, logs=None) -> None:
        norm = clip_optimizer_gradients(optimizer, self.max_norm, self.norm_type)
        if logs is not None:
            logs["grad_norm"] = norm


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate of every param group by ``factor`` when ``monitor`` plateaus.

    Keras's arguments and counting: after ``patience`` epochs without an
    improvement larger than ``min_delta``, ``lr = max(lr * factor, min_lr)``;
    then ``cooldown`` epochs pass before counting starts again (the epoch that
    ends the cooldown already counts). The optimizer is the trainer's unless one
    is given.

    A thin adapter: the plateau logic and the writing of the rates are
    :class:`dendrite.optim.lr_scheduler.ReduceLROnPlateau`'s (PyTorch's), fed
    ``logs[monitor]`` each epoch. Keras counts "``wait >= patience``" and lets
    the last cooldown epoch count, PyTorch counts "``bad > patience``" and skips
    every cooldown epoch, hence the ``- 1`` on both when the scheduler is built.

    Example:
        >>> import dendrite
        >>> opt = dendrite.optim.SGD([dendrite.nn.Parameter(dendrite.ones(1))], lr=1.0)
        >>> callback = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, optimizer=opt)
        >>> for epoch, value in enumerate([1.0, 1.0, 1.0]):
        ...     callback.on_epoch_end(epoch, {"val_loss": value})
        >>> callback.factor, callback.mode, opt.param_groups[0]["lr"]
        (0.5, 'min', 0.5)
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 optimizer=None, verbose: bool = False) -> None:
        if not 0.0 < factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be between 0 and 1 (exclusive), got {factor}")
        self.watch = Monitor(monitor, mode, min_delta)
        self.factor, self.patience, self.cooldown, self.min_lr = float(factor), patience, cooldown, min_lr
        self.optimizer, self.verbose = optimizer, verbose
        self.scheduler: lr_scheduler.ReduceLROnPlateau | None = None

    def on_train_begin(self, logs=None) -> None:
        super().on_train_begin(logs)
        self.scheduler = self._build_scheduler()

    def _build_scheduler(self) -> lr_scheduler.ReduceLROnPlateau:
        optimizer = self.optimizer or getattr(self.trainer, "optimizer", None)
        if optimizer is None:
            raise RuntimeError(
                "ReduceLROnPlateau has no optimizer: attach it to a Trainer or pass optimizer="
            )
        # threshold_mode='abs' is Keras's min_delta; eps=0 is Keras's "reduce whenever lr > min_lr".
        return lr_scheduler.ReduceLROnPlateau(
            optimizer, mode=self.mode, factor=self.factor, patience=max(self.patience - 1, 0),
            threshold=self.min_delta, threshold_mode="abs", cooldown=max(self.cooldown - 1, 0),
            min_lr=self.min_lr, eps=0.0,
        )

    @property
    def best(self) -> float:
        """The best monitored value so far (the scheduler's)."""
        return self.watch.worst if self.scheduler is None else self.scheduler.best

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        current = self.watch.value(logs, "ReduceLROnPlateau")
        if current is None:
            return
        if self.scheduler is None:  # used without a Trainer (on_train_begin never ran)
            self.scheduler = self._build_scheduler()
        before = [float(group["lr"]) for group in self.scheduler.optimizer.param_groups]
        self.scheduler.step(current)
        if self.verbose:
            for old, group in zip(before, self.scheduler.optimizer.param_groups):
                if float(group["lr"]) != old:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {group['lr']:.4g}")
