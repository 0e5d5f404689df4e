"""``Trainer``: the training loop written once — fit, evaluate, predict — with Keras-style callbacks.

The loop is the one every PyTorch user writes by hand::

    for inputs, target in loader:
        output = model(inputs)
        loss = loss_fn(output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

plus what makes training visible and safe: per-epoch averages of the loss and
metrics for training and validation (Keras names: ``loss``, ``accuracy``,
``val_loss``, ``val_accuracy``, ``lr``), ``model.train()`` / ``model.eval()``
switching, ``no_grad`` evaluation, learning-rate schedules stepped per epoch or
per batch, gradient clipping, progress bars and callbacks that can stop the run.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

import dendrite
from dendrite.devices import resolve_device
from dendrite.optim import lr_scheduler
from dendrite.train.callbacks.base import Callback, CallbackList
from dendrite.train.callbacks.control import GradientClipping
from dendrite.train.divergence import Divergence, record_divergence
from dendrite.train.history import History
from dendrite.train.metrics import to_numpy
from dendrite.train.progress import ProgressBar, resolve_progress
from dendrite.train.running_metrics import Metric, get_metric

__all__ = ["Trainer", "FitState"]

_CLASSIFICATION_LOSSES = (
    "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
)


def _loss_name(loss_fn) -> str:
    return type(loss_fn).__name__ if not hasattr(loss_fn, "__name__") else loss_fn.__name__


def _is_plateau_scheduler(scheduler) -> bool:
    # ReduceLROnPlateau.step needs the monitored value; every other scheduler steps blindly.
    return isinstance(scheduler, lr_scheduler.ReduceLROnPlateau)


@dataclass
class FitState:
    """What one ``fit()`` call is doing right now: its callbacks and the batch in progress.

    The Trainer keeps it in ``trainer.fit_state`` while ``fit`` runs (``None``
    otherwise), so :meth:`Trainer.optimizer_step`, called from a custom
    ``train_step``, reaches the run's callbacks and the batch's logs.

    Example:
        >>> state = FitState(CallbackList([]))
        >>> state.batch_index, state.batch_logs
        (0, {})
    """

    callbacks: CallbackList
    batch_index: int = 0
    batch_logs: dict = field(default_factory=dict)
    running: dict = field(default_factory=dict)  # the epoch's averages so far, for progress displays


def _split_batch(batch) -> tuple[tuple, object]:
    """``(inputs tuple, target or None)``: ``(x, y)``, ``(x1, x2, y)``, ``(x,)`` or a bare ``x``."""
    if isinstance(batch, (tuple, list)):
        if len(batch) == 0:
            raise ValueError("the data loader produced an empty batch tuple; expected (inputs, target)")
        if len(batch) == 1:
            return (batch[0],), None
        return tuple(batch[:-1]), batch[-1]
    return (batch,), None


def _batch_size(value) -> int:
    shape = getattr(value, "shape", None)
    if shape:
        return int(shape[0])
    return len(value) if hasattr(value, "__len__") else 1


class Trainer:
    """Fits a model with a loss and an optimizer; returns a :class:`History` of per-epoch logs.

    Arguments:
        model: a ``dendrite.nn.Module`` (anything callable with ``train()``/``eval()``/``parameters()``).
        loss_fn: ``loss_fn(output, target) -> scalar Tensor`` (e.g. ``nn.CrossEntropyLoss()``).
        optimizer: a ``dendrite.optim`` optimizer over the model's parameters.
        scheduler: an LR scheduler, stepped every epoch (``scheduler_interval='epoch'``) or
            every batch (``'step'``). ``ReduceLROnPlateau`` is given ``scheduler_monitor``'s
            value (default ``'val_loss'`` when there is validation data, else ``'loss'``).
        metrics: names (``'accuracy'``, ``'f1'``, ``'mse'``...), Metric objects or functions
            ``f(y_true, y_pred) -> float``. ``'auto'`` (default): accuracy for
            classification losses, nothing otherwise.
        callbacks: :class:`~dendrite.train.callbacks.Callback` objects, called in order.
        grad_clip_norm: clip the total gradient norm before every optimizer step; a shortcut for
            ``callbacks=[..., GradientClipping(grad_clip_norm)]`` (installed after the user's callbacks).
        train_step: replaces the default step: ``train_step(trainer, batch) -> dict of floats``
            (GANs, custom losses). It does its own backward and steps (use
            :meth:`optimizer_step` to get clipping and callbacks). Its values are
            averaged per epoch, weighted by batch size; metrics are not computed.
        progress: ``True`` (tqdm bar), ``'epoch'`` (a line per epoch), ``False``, or ``None``
            (a bar only when stdout is a terminal).
        seed: if given, ``dendrite.manual_seed(seed)`` now, so shuffling and dropout repeat.
        device: where to train (``"cuda"`` needs CuPy and a GPU, see docs/cuda.md): the model is
            moved there now (build the optimizer before or after: it holds the same parameters),
            and every batch is moved there as it is used. ``None``: leave the model and the
            batches where they are.

    Example:
        >>> import dendrite, numpy as np
        >>> from dendrite import nn
        >>> from dendrite.data import DataLoader, TensorDataset
        >>> _ = dendrite.manual_seed(0)
        >>> X = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
        >>> y = (X[:, 0] > 0).astype("int64")
        >>> loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
        >>> model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> trainer = Trainer(model, nn.CrossEntropyLoss(), dendrite.optim.Adam(model.parameters(), lr=0.05),
        ...                   progress=False, seed=0)
        >>> history = trainer.fit(loader, epochs=20)
        >>> history["accuracy"][-1] > 0.9
        True
        >>> trainer.evaluate(loader)["accuracy"] > 0.9, list(trainer.running_logs())
        (True, ['accuracy'])
        >>> trainer.predict(X[:3]).shape, trainer.current_lr()   # (N, 2) logits
        ((3, 2), 0.05)
    """

    def __init__(self, model, loss_fn=None, optimizer=None, scheduler=None, scheduler_interval: str = "epoch",
                 scheduler_monitor: str | None = None, metrics: str | Sequence = "auto",
                 callbacks: Iterable[Callback] = (), grad_clip_norm: float | None = None,
                 train_step: Callable | None = None, progress: bool | str | None = None,
                 seed: int | None = None, device=None) -> None:
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
        if scheduler is not None and scheduler_interval == "step" and _is_plateau_scheduler(scheduler):
            raise ValueError("ReduceLROnPlateau needs an epoch-level value to monitor; "
                             "use scheduler_interval='epoch'")
        if grad_clip_norm is not None and not grad_clip_norm > 0:
            raise ValueError(f"grad_clip_norm must be a positive number or None, got {grad_clip_norm}")
        if train_step is not None and not callable(train_step):
            raise TypeError(f"train_step must be a function (trainer, batch) -> dict, got {type(train_step)}")
        self.device = None if device is None else resolve_device(device, "Trainer")
        if self.device is not None and hasattr(model, "to"):
            model.to(self.device)
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.scheduler = scheduler
        self.scheduler_interval, self.scheduler_monitor = scheduler_interval, scheduler_monitor
        self.metrics: list[Metric] = self._resolve_metrics(metrics)
        self.callbacks = list(callbacks)
        CallbackList(self.callbacks)  # type-check them now rather than at fit()
        self.grad_clip_norm, self.train_step = grad_clip_norm, train_step
        self.progress = progress
        resolve_progress(progress)  # fail now if progress=True and tqdm is missing
        self.seed = seed
        if seed is not None:
            dendrite.manual_seed(seed)
        self.stop_training = False
        self.stop_reason: str | None = None
        # The first non-finite training loss of the current/last fit (see dendrite.train.divergence).
        self.divergence: Divergence | None = None
        self.epoch = 0
        self.global_step = 0
        self.history: History | None = None
        self.fit_state: FitState | None = None

    # ------------------------------------------------------------------ setup helpers
    def _resolve_metrics(self, metrics) -> list[Metric]:
        if metrics == "auto":
            metrics = ["accuracy"] if _loss_name(self.loss_fn) in _CLASSIFICATION_LOSSES else []
        if isinstance(metrics, (str, Metric)) or callable(metrics):
            metrics = [metrics]
        resolved = []
        for spec in metrics:
            metric = get_metric(spec)
            # Binary metrics read logits when the loss takes logits: the decision threshold is 0.
            if isinstance(spec, str) and hasattr(metric, "threshold") and \
                    _loss_name(self.loss_fn) in ("BCEWithLogitsLoss", "binary_cross_entropy_with_logits"):
                metric.threshold = 0.0
            resolved.append(metric)
        names = [metric.name for metric in resolved]
        if len(set(names)) != len(names) or "loss" in names:
            raise ValueError(f"metric names must be unique and not 'loss', got {names}")
        return resolved

    def _to_tensor(self, value):
        """Tensors pass through; NumPy arrays become tensors (floats in the model's dtype); on ``device``."""
        if isinstance(value, dendrite.Tensor):
            return value if self.device is None else value.to(self.device)
        if not isinstance(value, np.ndarray):
            return value
        if value.dtype.kind == "f":
            parameters = list(self.model.parameters()) if hasattr(self.model, "parameters") else []
            dtype = parameters[0].dtype if parameters else dendrite.get_default_dtype()
            return dendrite.tensor(value, dtype=dtype, device=self.device)
        return dendrite.tensor(value, device=self.device)

    def _forward(self, inputs: tuple):
        return self.model(*(self._to_tensor(value) for value in inputs))

    def _loss(self, output, target):
        if self.loss_fn is None:
            raise ValueError("this Trainer has no loss_fn; pass one to train or evaluate")
        if target is None:
            raise ValueError("the batch has no target: expected (inputs, target) batches. For an autoencoder "
                             "make the dataset return (x, x), or pass a custom train_step")
        return self.loss_fn(output, self._to_tensor(target))

    @staticmethod
    def _first_output(output):
        return output[0] if isinstance(output, (tuple, list)) else output

    def current_lr(self) -> float | None:
        """The learning rate of the optimizer's first param group (``None`` without an optimizer)."""
        if self.optimizer is None or not getattr(self.optimizer, "param_groups", None):
            return None
        return float(self.optimizer.param_groups[0]["lr"])

    def _step_callbacks(self) -> list[Callback]:
        """The built-in callbacks that act before each optimizer step (``grad_clip_norm``'s clipping)."""
        return [] if self.grad_clip_norm is None else [GradientClipping(self.grad_clip_norm)]

    # ------------------------------------------------------------------ one step
    def optimizer_step(self, optimizer=None, batch: int | None = None, logs: dict | None = None) -> None:
        """Run ``on_before_optimizer_step`` callbacks (clipping among them), then ``optimizer.step()``.

        Custom ``train_step`` functions call this instead of ``optimizer.step()``
        to keep clipping and callbacks working, once per optimizer. Outside
        ``fit`` only the ``grad_clip_norm`` clipping runs.

        Example:
            >>> import dendrite
            >>> model = dendrite.nn.Linear(2, 1)
            >>> optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
            >>> trainer = Trainer(model, dendrite.nn.MSELoss(), optimizer, grad_clip_norm=1.0, progress=False)
            >>> trainer.loss_fn(model(dendrite.ones(4, 2)), dendrite.full((4, 1), 100.0)).backward()
            >>> trainer.optimizer_step()   # clips the total gradient norm to 1, then steps
            >>> round(float(dendrite.nn.utils.get_total_norm([p.grad for p in model.parameters()])), 4)
            1.0
        """
        optimizer = optimizer or self.optimizer
        if optimizer is None:
            raise ValueError("optimizer_step: this Trainer has no optimizer; pass one")
        state = self.fit_state
        if state is None:
            state = FitState(CallbackList(self._step_callbacks(), trainer=self))
        logs = state.batch_logs if logs is None else logs
        batch = state.batch_index if batch is None else batch
        state.callbacks.on_before_optimizer_step(optimizer, batch, logs)
        optimizer.step()

    def _default_train_step(self, batch) -> dict:
        inputs, target = _split_batch(batch)
        output = self._forward(inputs)
        loss = self._loss(output, target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer_step()
        self._update_metrics(output, target)
        return {"loss": float(loss.item())}

    def _update_metrics(self, output, target) -> None:
        if self.metrics:
            host_output, host_target = to_numpy(self._first_output(output)), to_numpy(target)
            for metric in self.metrics:
                metric.update(host_target, host_output)

    # ------------------------------------------------------------------ fit
    def fit(self, train_loader, epochs: int = 1, val_loader=None, initial_epoch: int = 0) -> History:
        """Train for ``epochs`` epochs (counting from ``initial_epoch``); return the History.

        ``train_loader`` yields ``(inputs, target)`` batches (a ``DataLoader``);
        ``val_loader`` likewise, evaluated after every epoch into ``val_*`` keys.
        The first non-finite training loss is kept in ``trainer.divergence`` (a
        :class:`~dendrite.train.divergence.Divergence`), set before the batch's callbacks run.
        """
        if self.optimizer is None and self.train_step is None:
            raise ValueError("Trainer.fit needs an optimizer (or a custom train_step)")
        if not isinstance(epochs, numbers.Integral) or isinstance(epochs, bool) or epochs < initial_epoch:
            raise ValueError(f"epochs must be an int >= initial_epoch ({initial_epoch}), got {epochs!r}")
        self.history = History()
        # As in Keras, the built-in callbacks run after the user's, so they see (and record)
        # anything a user callback adds to the epoch logs; clipping comes after any user
        # on_before_optimizer_step, so the step always sees clipped gradients.
        callbacks = list(self.callbacks) + self._step_callbacks()
        mode = resolve_progress(self.progress)
        if mode is not None:
            callbacks.append(ProgressBar(mode))
        callbacks.append(self.history)
        callback_list = CallbackList(callbacks, trainer=self)
        self.fit_state = FitState(callback_list)
        steps = len(train_loader) if hasattr(train_loader, "__len__") else None
        callback_list.set_params({"epochs": epochs, "steps": steps, "initial_epoch": initial_epoch})
        self.stop_training, self.stop_reason, self.divergence = False, None, None
        try:
            self._fit_epochs(callback_list, train_loader, epochs, val_loader, initial_epoch)
        finally:
            self.fit_state = None
        return self.history

    def _fit_epochs(self, callback_list: CallbackList, train_loader, epochs: int, val_loader,
                    initial_epoch: int) -> None:
        callback_list.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            self.epoch = epoch
            callback_list.on_epoch_begin(epoch, {})
            logs = self._train_epoch(train_loader)
            if val_loader is not None and not self.stop_training:
                logs.update({f"val_{key}": value for key, value in self.evaluate(val_loader).items()})
            lr = self.current_lr()
            if lr is not None:
                logs["lr"] = lr  # the rate used during this epoch (before the scheduler moves it)
            self._step_scheduler_for_epoch(logs)
            callback_list.on_epoch_end(epoch, logs)
            self._agree_to_stop()
            if self.stop_training:
                break
        callback_list.on_train_end(self.history.last())

    def _train_epoch(self, loader) -> dict:
        state = self.fit_state
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):  # a DistributedSampler: this epoch's order (PyTorch users call it)
            sampler.set_epoch(self.epoch)
        self.model.train()
        for metric in self.metrics:
            metric.reset()
        sums, count = {}, 0
        state.running = {}
        for index, batch in enumerate(loader):
            size = _batch_size(_split_batch(batch)[0][0])
            state.batch_index, state.batch_logs = index, {"batch": index, "size": size}
            state.callbacks.on_batch_begin(index, state.batch_logs)
            if self.train_step is not None:
                values = self.train_step(self, batch)
                if not isinstance(values, dict):
                    raise TypeError(f"train_step must return a dict of floats, got {type(values).__name__}")
                values = {key: float(value) for key, value in values.items()}
            else:
                values = self._default_train_step(batch)
            values, size = self._gather_batch(values, size)
            for key, value in values.items():
                sums[key] = sums.get(key, 0.0) + value * size
            count += size
            state.running = {key: total / count for key, total in sums.items()}
            state.batch_logs.update(values)
            record_divergence(self, values, index)  # before any callback sees the batch
            self.global_step += 1
            if self.scheduler is not None and self.scheduler_interval == "step":
                self.scheduler.step()
            state.callbacks.on_batch_end(index, state.batch_logs)
            self._agree_to_stop()
            if self.stop_training:
                break
        if count == 0:
            raise ValueError("the training loader produced no batches; is the dataset empty, or "
                             "drop_last=True with fewer samples than batch_size?")
        logs = {key: total / count for key, total in sums.items()}
        if self.train_step is None:
            self._synchronise_metrics(self.metrics)
            logs.update(self._compute_metrics(self.metrics))
        return logs

    # ------------------------------------------------------------------ where ranks agree (distributed)
    def _gather_batch(self, values: dict, size: int) -> tuple[dict, int]:
        """One batch's values and size as the epoch averages count them: here this process's own.

        ``dendrite.distributed.DistributedTrainer`` returns the means over every rank's batch.
        """
        return values, size

    def _agree_to_stop(self) -> None:
        """Make ``stop_training`` the same everywhere the run trains: a no-op in one process."""

    def _gather_totals(self, total: float, count: int) -> tuple[float, int]:
        """An evaluation's summed loss and sample count: here this process's own."""
        return total, count

    def _synchronise_metrics(self, metrics: list[Metric]) -> None:
        """Make metrics count every rank's samples before they are computed: a no-op in one process."""

    def running_logs(self) -> dict:
        """The current epoch's averages so far (loss and metrics), for progress displays.

        Outside ``fit``: the metrics as they stand (the last epoch's, until they are reset).
        """
        logs = dict(self.fit_state.running) if self.fit_state is not None else {}
        if self.train_step is None:
            logs.update(self._compute_metrics(self.metrics, quiet=True))
        return logs

    @staticmethod
    def _compute_metrics(metrics: list[Metric], quiet: bool = False) -> dict:
        values = {}
        for metric in metrics:
            try:
                values[metric.name] = float(metric.compute())
            except ValueError:
                if not quiet:
                    raise
        return values

    def _step_scheduler_for_epoch(self, logs: dict) -> None:
        if self.scheduler is None or self.scheduler_interval != "epoch":
            return
        if _is_plateau_scheduler(self.scheduler):
            monitor = self.scheduler_monitor or ("val_loss" if "val_loss" in logs else "loss")
            if monitor not in logs:
                raise KeyError(f"ReduceLROnPlateau monitors {monitor!r}, which is not in the logs "
                               f"{sorted(logs)}; set scheduler_monitor= or pass a val_loader")
            self.scheduler.step(logs[monitor])
        else:
            self.scheduler.step()

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(self, loader) -> dict:
        """Mean loss and metrics over ``loader`` in eval mode without gradients: ``{'loss': ..., ...}``.

        ``loader`` yields ``(inputs, target)`` batches, as for :meth:`fit`; the means are weighted by
        batch size.
        """
        metrics = [metric.clone() for metric in self.metrics]
        was_training = getattr(self.model, "training", True)
        self.model.eval()
        total, count = 0.0, 0
        try:
            with dendrite.no_grad():
                for batch in loader:
                    inputs, target = _split_batch(batch)
                    output = self._forward(inputs)
                    size = _batch_size(inputs[0])
                    if self.loss_fn is not None:
                        total += float(self._loss(output, target).item()) * size
                    count += size
                    if metrics and target is not None:
                        host_output, host_target = to_numpy(self._first_output(output)), to_numpy(target)
                        for metric in metrics:
                            metric.update(host_target, host_output)
        finally:
            self.model.train(was_training)
        total, count = self._gather_totals(total, count)
        if count == 0:
            raise ValueError("the evaluation loader produced no batches")
        logs = {"loss": total / count} if self.loss_fn is not None else {}
        self._synchronise_metrics(metrics)
        logs.update(self._compute_metrics(metrics))
        return logs

    def predict(self, data, batch_size: int = 256) -> np.ndarray:
        """Model outputs for every sample, as one NumPy array (eval mode, no gradients).

        ``data``: a loader (its batches' inputs are used, targets ignored), or an
        array / tensor of inputs cut into batches of ``batch_size``. A model
        returning a tuple contributes its first element. Shape: ``(N, *output_shape)``.
        """
        if isinstance(data, (np.ndarray, dendrite.Tensor)):
            array = data
            batches = ((array[start:start + batch_size],) for start in range(0, len(array), batch_size))
        else:
            batches = (_split_batch(batch)[0] for batch in data)
        was_training = getattr(self.model, "training", True)
        self.model.eval()
        outputs = []
        try:
            with dendrite.no_grad():
                for inputs in batches:
                    outputs.append(to_numpy(self._first_output(self._forward(inputs))))
        finally:
            self.model.train(was_training)
        if not outputs:
            raise ValueError("predict got no data")
        return np.concatenate(outputs, axis=0)

    def __repr__(self) -> str:
        return (f"Trainer(model={type(self.model).__name__}, loss_fn={_loss_name(self.loss_fn)}, "
                f"optimizer={type(self.optimizer).__name__}, metrics={[m.name for m in self.metrics]})")
