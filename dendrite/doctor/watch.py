"""``watch(model, optimizer)``: look over *your own* training loop from the outside.

Inside ``with watch(model, optimizer) as w:`` the doctor wraps, on your objects
and only for the duration of the block, ``optimizer.step``,
``optimizer.zero_grad`` and ``model.zero_grad``, adds a forward hook on the
model and observes every ``backward()``. Afterwards everything is exactly as
before (also when the block raises). ``w.report()`` then says what it saw:

* ``missing-zero-grad``: a backward added onto the gradient the previous step had already used;
* ``no-gradient``: optimized parameters whose ``.grad`` stayed ``None``/zero at every step;
* ``params-not-in-optimizer``: trainable model parameters that the optimizer does not hold;
* ``eval-mode``: steps taken while ``model.training`` was False in a model with Dropout/BatchNorm;
* ``nan-loss``: the first NaN/Inf loss, gradient or weight, and what made it (an optimizer step,
  the data, the model's forward, the loss);
* ``lr-too-high``: the loss rises 10x, or each step moves the weights by more than 0.3 of their norm;
* ``loss-plateau``: the loss flat (< 1 % change) over 50+ steps while not near zero.

The loss is read at the root of each ``backward()`` when it is a scalar; call
``w.log_loss(loss)`` to pass it yourself (then only the given losses count).
The watch costs about one copy of the parameters per step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from dendrite.autograd import AnomalyError, is_grad_enabled, set_detect_anomaly
from dendrite.autograd.anomaly import is_anomaly_enabled, user_frame
from dendrite.autograd.engine import add_backward_observer
from dendrite.doctor.nan_origin import StepSnapshot
from dendrite.doctor.report import Report
from dendrite.doctor.watch_checks import CHECKS, LoopRecord, skipped_checks

__all__ = ["watch", "Watch"]

_MODE_LAYERS = ("Dropout", "BatchNorm")


def _check_arguments(model, optimizer) -> None:
    if isinstance(optimizer, str) or not isinstance(getattr(optimizer, "param_groups", None), list) \
            or not callable(getattr(optimizer, "step", None)):
        raise TypeError(
            f"watch: optimizer must be a dendrite.optim optimizer (with param_groups and step()), got "
            f"{type(optimizer).__name__} {optimizer!r:.60}; e.g. watch(model, dendrite.optim.Adam("
            "model.parameters(), lr=1e-3))")
    if model is not None and not callable(getattr(model, "named_parameters", None)):
        raise TypeError(f"watch: model must be a dendrite.nn.Module (or None), got {type(model).__name__} "
                        f"{model!r:.60}")


def _value(loss) -> float:
    array = getattr(loss, "array", loss)
    if isinstance(array, (str, bytes, bool)) or not isinstance(array, (int, float, np.ndarray, np.generic)):
        raise TypeError(f"log_loss: expected a loss tensor or a number, got {type(loss).__name__}")
    if np.size(array) != 1:
        raise ValueError(f"log_loss: expected a scalar loss (one element), got shape {np.shape(array)}")
    return float(np.asarray(array, dtype=np.float64).reshape(()))


class Watch:
    """The watch over one training loop; made by :func:`watch`, used as a context manager.

    Attributes:
        record: the :class:`~dendrite.doctor.watch_checks.LoopRecord` of everything seen so far.

    Example:
        >>> import dendrite
        >>> from dendrite import nn
        >>> model = nn.Linear(2, 1)
        >>> optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
        >>> x, y = dendrite.randn(8, 2), dendrite.randn(8, 1)
        >>> with watch(model, optimizer) as w:
        ...     for _ in range(5):  # forgot optimizer.zero_grad()
        ...         nn.functional.mse_loss(model(x), y).backward()
        ...         optimizer.step()
        >>> "missing-zero-grad" in w.report().codes()
        True
    """

    def __init__(self, model, optimizer, anomaly: bool = False,
                 alive: Callable[[], bool] | None = None) -> None:
        _check_arguments(model, optimizer)
        self.model, self.optimizer, self.anomaly = model, optimizer, anomaly
        self.record = LoopRecord()
        self._alive = alive
        self._patches: list = []
        self._undo: list = []
        self._active = False
        self._started = 0.0
        self._elapsed = 0.0
        self._names: dict = {}
        self._reset_interval()
        self._stepped_grads: dict = {}
        self._last_forward_training: bool | None = None

    # ------------------------------------------------------------------ start / stop
    def __enter__(self) -> Watch:
        self.start()
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if isinstance(exc, AnomalyError) and exc.origin is not None and self.record.nan_origin is None:
            self.record.nan_origin = exc.origin
            self.record.first_nan = {"step": self.record.steps}
        self.stop()
        return False  # never swallow the loop's exception

    @property
    def active(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._active

    def start(self) -> None:
        """Install the wrappers and hooks (``with`` does this).

        Example:
            >>> import dendrite
            >>> from dendrite import nn
            >>> model = nn.Linear(2, 1)
            >>> optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
            >>> w = Watch(model, optimizer)  # what `with watch(model, optimizer) as w:` starts
            >>> w.active
            False
            >>> w.start(); w.active
            True
            >>> w.stop()
        """
        if self._active:
            raise RuntimeError("watch: this watch is already running; use one `with watch(...)` per loop")
        self._active, self._started = True, time.perf_counter()
        model, optimizer = self.model, self.optimizer
        try:
            self._patch(optimizer, "step", self._wrap_step)
            self._patch(optimizer, "zero_grad", self._wrap_zero_grad)
            if model is not None:
                self._names = {id(param): name for name, param in model.named_parameters()}
                self._patch(model, "zero_grad", self._wrap_zero_grad)
                if callable(getattr(model, "register_forward_hook", None)):
                    self._undo.append(model.register_forward_hook(self._on_forward).remove)
                self._inspect_model(model)
            self._undo.append(add_backward_observer(self._on_backward))
            if self.anomaly:
                previous = is_anomaly_enabled()
                set_detect_anomaly(True)
                self._undo.append(lambda: set_detect_anomaly(previous))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Remove everything :meth:`start` installed, restoring your objects exactly.

        Example:
            >>> import dendrite
            >>> from dendrite import nn
            >>> model = nn.Linear(2, 1)
            >>> optimizer = dendrite.optim.SGD(model.parameters(), lr=0.1)
            >>> step = optimizer.step
            >>> w = Watch(model, optimizer); w.start()
            >>> optimizer.step == step  # wrapped while watching
            False
            >>> w.stop(); optimizer.step == step
            True
        """
        if not self._active:
            return
        self._active = False
        self._elapsed += time.perf_counter() - self._started
        for obj, name, had, previous, wrapper in reversed(self._patches):
            attributes = vars(obj)
            if attributes.get(name) is wrapper:  # leave alone anything the loop itself put there
                if had:
                    attributes[name] = previous
                else:
                    del attributes[name]
        for undo in reversed(self._undo):
            undo()
        self._patches, self._undo = [], []

    def _patch(self, obj, name: str, make_wrapper) -> None:
        attributes = vars(obj)
        had, previous = name in attributes, attributes.get(name)
        original = getattr(obj, name)
        wrapper = make_wrapper(original)
        attributes[name] = wrapper
        self._patches.append((obj, name, had, previous, wrapper))

    def _live(self) -> bool:
        """False once the watched run is over without ``stop()`` (the Trainer callback after an error)."""
        if self._active and self._alive is not None and not self._alive():
            self.stop()
        return self._active

    # ------------------------------------------------------------------ what the loop does
    def _wrap_step(self, original):
        def step(*args, **kwargs):
            if not self._live():
                return original(*args, **kwargs)
            snapshot = self._before_step()
            with np.errstate(all="ignore"):
                result = original(*args, **kwargs)
            self._after_step(snapshot)
            return result

        return step

    def _wrap_zero_grad(self, original):
        def zero_grad(*args, **kwargs):
            if not self._live():
                return original(*args, **kwargs)
            self.record.zero_grad_calls += 1
            self._zeroed_after_backward = self._backwards_since_step > 0
            result = original(*args, **kwargs)
            self._clear_stale_if_zeroed()  # judged by the gradients, not by the call: it may do nothing
            return result

        return zero_grad

    def _on_forward(self, module, args, output) -> None:
        if not self._live() or not is_grad_enabled():
            return  # evaluation under no_grad is not a training forward
        self.record.forward_seen += 1
        self._last_forward_training = bool(getattr(module, "training", True))
        if self.record.first_nan is None:
            for value in args:
                array = getattr(value, "array", None)
                if array is not None and array.dtype.kind == "f" and not np.isfinite(array).all():
                    self._nan("data", f"The batch given to the model at step {self.record.steps + 1} holds "
                              f"{int(np.isnan(array).sum())} NaN / {int(np.isinf(array).sum())} Inf",
                              "Clean the data before training (drop or impute non-finite rows, "
                              "np.nan_to_num); check with np.isfinite(X).all().", code_hint="nan-in-data")
                    return

    def _on_backward(self, outputs) -> None:
        if not self._live():
            return
        record = self.record
        record.backward_calls += 1
        self._clear_stale_if_zeroed()
        if self._stepped_grads and self._backwards_since_step == 0:
            for param, grad in self._stepped_grads.values():
                if param.grad is grad and grad.array.any():
                    self._stale = param  # this backward adds onto the gradient the last step used
                    break
        self._stepped_grads = {}
        self._backwards_since_step += 1
        self._zeroed_after_backward = False
        if len(outputs) == 1 and getattr(outputs[0].array, "size", 0) == 1:
            value = float(outputs[0].array.reshape(()))
            record.inferred_losses.append((record.steps, value))
            if not record.losses and not math.isfinite(value):
                self._loss_not_finite(value)

    def log_loss(self, loss) -> None:
        """Tell the watch this step's loss (a scalar tensor or a number); then only given losses count.

        Example:
            >>> import dendrite
            >>> w = watch(dendrite.nn.Linear(1, 1), dendrite.optim.SGD(dendrite.nn.Linear(1, 1).parameters()))
            >>> w.log_loss(dendrite.tensor(0.5)); w.record.losses
            [(0, 0.5)]
        """
        value = _value(loss)
        self.record.losses.append((self.record.steps, value))
        if not math.isfinite(value):
            self._loss_not_finite(value)

    # ------------------------------------------------------------------ around each step
    def _reset_interval(self) -> None:
        self._zeroed_after_backward = False
        self._backwards_since_step = 0
        self._stale = None

    def _clear_stale_if_zeroed(self) -> None:
        """A stale gradient stops counting once it is cleared (``zero_grad``, ``p.grad = None``)."""
        stale = self._stale
        if stale is not None and (stale.grad is None or not stale.grad.array.any()):
            self._stale = None

    def _before_step(self) -> StepSnapshot:
        record = self.record
        record.steps += 1
        if self._last_forward_training is False:
            record.eval_steps += 1
        if self._zeroed_after_backward:
            record.zeroed_between += 1
        self._clear_stale_if_zeroed()
        if self._stale is not None:
            record.stale_steps.append(record.steps)
        snapshot = StepSnapshot.take(self.optimizer, copy=True)
        total = 0.0
        for index, param in enumerate(snapshot.params):
            if not param.requires_grad:
                continue
            name = self._names.get(id(param), f"param {index}")
            grad = param.grad
            if grad is None:
                record.missing_grad[name] = record.missing_grad.get(name, 0) + 1
                continue
            array = grad.array
            if not array.any():
                record.zero_grad_only[name] = record.zero_grad_only.get(name, 0) + 1
            if snapshot.grad_finite[index]:
                flat = array.ravel().astype(np.float64)
                total += float(flat @ flat)
        if all(snapshot.grad_finite):
            record.grad_norms.append(math.sqrt(total))
        elif record.first_nan is None and all(snapshot.finite):
            self._nan("gradients", f"backward() made NaN/Inf gradients at step {record.steps} from finite "
                      "weights", "Run one step under dendrite.doctor.trace_nan(step) to name the operation "
                      "and the kind (log of 0, sqrt at 0, 0/0...).")
        groups = getattr(self.optimizer, "param_groups", [])
        if groups and "lr" in groups[0]:
            record.lrs.append(groups[0]["lr"])
        return snapshot

    def _after_step(self, snapshot: StepSnapshot) -> None:
        record = self.record
        if record.first_nan is None:
            origin = snapshot.origin_after(type(self.optimizer).__name__, self._names, user_frame())
            if origin is not None:
                record.nan_origin = origin
                record.first_nan = {"step": record.steps}
        moved = norm = 0.0
        for param, before in zip(snapshot.params, snapshot.weights):
            after = param.array
            if before.shape != after.shape or not np.isfinite(after).all() or not np.isfinite(before).all():
                continue
            delta = (after - before).ravel().astype(np.float64)
            weights = before.ravel().astype(np.float64)
            moved, norm = moved + float(delta @ delta), norm + float(weights @ weights)
        if norm > 0:
            record.update_ratios.append(math.sqrt(moved / norm))
        self._stepped_grads = {id(param): (param, param.grad) for param in snapshot.params
                               if param.grad is not None}
        self._reset_interval()

    # ------------------------------------------------------------------ NaN events
    def _nan(self, what: str, title: str, fix: str, code_hint: str = "nan-loss", **evidence: Any) -> None:
        if self.record.first_nan is None:
            self.record.first_nan = {"step": self.record.steps, "what": what, **evidence,
                                     "title": title, "fix": fix, "code": code_hint}

    def _loss_not_finite(self, value: float) -> None:
        if self.record.first_nan is not None:
            return
        weights_finite = all(bool(np.isfinite(p.array).all()) for g in self.optimizer.param_groups
                             for p in g["params"])
        cause = "the loss function" if weights_finite else "non-finite weights"
        self._nan("loss", f"The loss became {value} after {self.record.steps} step(s) ({cause}, weights "
                  f"{'finite' if weights_finite else 'not finite'})",
                  "Run that step under dendrite.doctor.trace_nan(step) (or the loop inside "
                  "watch(..., anomaly=True)) to name the operation and the kind (log of 0, exp overflow, "
                  "0/0...); for a diverging loss lower the learning rate or clip gradients.",
                  value=value, weights_finite=weights_finite)

    def _inspect_model(self, model) -> None:
        optimized = {id(p) for group in self.optimizer.param_groups for p in group["params"]}
        self.record.not_in_optimizer = [name for name, param in model.named_parameters()
                                        if param.requires_grad and id(param) not in optimized]
        modules = model.modules() if callable(getattr(model, "modules", None)) else ()
        self.record.mode_layers = [type(m).__name__ for m in modules
                                   if any(kind in type(m).__name__ for kind in _MODE_LAYERS)]

    # ------------------------------------------------------------------ the verdict
    def report(self) -> Report:
        """The findings so far (callable during or after the loop), most likely root cause first."""
        findings, passed = [], []
        skipped = skipped_checks(self.record)
        for name, check in CHECKS.items():
            finding = check(self.record)
            if finding is not None:
                findings.append(finding)
            elif name not in skipped:  # a check that could not judge did not pass either
                passed.append(name)
        elapsed = self._elapsed + (time.perf_counter() - self._started if self._active else 0.0)
        return Report(findings, passed=passed, skipped=skipped, elapsed_s=elapsed)


def watch(model, optimizer, *, anomaly: bool = False) -> Watch:
    """Watch your own training loop: ``with watch(model, optimizer) as w: ...`` then ``w.report()``.

    Arguments:
        model: the ``dendrite.nn.Module`` being trained (``None``: only the optimizer is watched).
        optimizer: its ``dendrite.optim`` optimizer.
        anomaly: also run the loop under ``detect_anomaly`` (slow): the first NaN/Inf then stops
            the loop with ``AnomalyError`` and the report names the operation that made it.

    Example:
        >>> import dendrite
        >>> from dendrite import nn
        >>> _ = dendrite.manual_seed(0)
        >>> model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
        >>> optimizer = dendrite.optim.Adam(model.parameters(), lr=1e-2)
        >>> x, y = dendrite.randn(32, 2), dendrite.randn(32, 1)
        >>> with watch(model, optimizer) as w:
        ...     for _ in range(20):
        ...         optimizer.zero_grad()
        ...         nn.functional.mse_loss(model(x), y).backward()
        ...         optimizer.step()
        >>> w.report().ok, w.record.steps
        (True, 20)
    """
    return Watch(model, optimizer, anomaly=anomaly)
