"""Divergence: the moment a training loss stops being a finite number, and what must not follow it.

A run *diverges* when a loss (any logged value whose name contains ``'loss'``:
``loss``, a GAN's ``loss_d``/``loss_g``) becomes NaN or infinite. From then on
the weights are usually non-finite too, and nothing the run produces is worth
keeping. Three rules follow, and this module holds the pieces they share:

* the :class:`~dendrite.train.Trainer` records the first non-finite loss of a
  ``fit`` as ``trainer.divergence`` (a :class:`Divergence`) *before* any
  ``on_batch_end`` callback runs, so every callback (a checkpoint saved at the
  end of that epoch included) knows, whatever the order of the callback list;
* checkpoint writers refuse states with non-finite float tensors
  (:func:`check_finite_state` raises :class:`NonFiniteStateError`), so the last
  finite checkpoint is never overwritten;
* inside :func:`watch_divergence` (the recipe runner uses it) every Trainer
  stops at the first non-finite loss and reports it to the watch, so the run's
  result can say it diverged, whichever recipe trained it.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dendrite import backend
from dendrite.tensor import Tensor
from dendrite.utils.strict_json import nonfinite_name

__all__ = [
    "Divergence", "DivergenceWatch", "NonFiniteStateError", "NonFiniteCheckpointWarning",
    "first_nonfinite_loss",
    "nonfinite_entries", "check_finite_state", "record_divergence", "refuse_save", "diverged_reason",
    "watch_divergence", "active_watch",
]


@dataclass(frozen=True)
class Divergence:
    """Where a run's loss first became non-finite: 1-based ``epoch`` and ``batch``, log ``key``, value.

    Shapes: no arrays. ``batch`` is ``None`` when only the weights were found non-finite.

    Example:
        >>> where = Divergence(epoch=1, batch=7, key="loss", value=float("nan"))
        >>> where.describe()
        'the loss became nan at epoch 1, batch 7'
        >>> where.to_json()
        {'epoch': 1, 'batch': 7, 'key': 'loss', 'loss': 'nan'}
    """

    epoch: int
    batch: int | None
    key: str
    value: float

    def describe(self) -> str:
        """One phrase for messages: ``"the loss became nan at epoch 1, batch 7"``."""
        where = f"epoch {self.epoch}" + ("" if self.batch is None else f", batch {self.batch}")
        subject = "the loss" if self.key == "loss" else f"the {self.key}"
        return f"{subject} became {nonfinite_name(self.value)} at {where}"

    def to_json(self) -> dict:
        """A strict-JSON record (the value spelled ``"nan"``, ``"inf"`` or ``"-inf"``)."""
        return {"epoch": self.epoch, "batch": self.batch, "key": self.key, "loss": nonfinite_name(self.value)}


def first_nonfinite_loss(logs: Mapping | None) -> tuple[str, float] | None:
    """The first ``(key, value)`` in ``logs`` whose key contains ``'loss'`` and whose value is NaN or ±inf.

    Example:
        >>> first_nonfinite_loss({"loss_d": 0.7, "loss_g": float("inf"), "grad_norm": float("nan")})
        ('loss_g', inf)
        >>> first_nonfinite_loss({"loss": 0.5}) is None
        True
    """
    for key, value in (logs or {}).items():
        if "loss" not in str(key) or isinstance(value, bool):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if not math.isfinite(number):
            return str(key), number
    return None


class NonFiniteStateError(ValueError):
    """A checkpoint writer was given weights or state with NaN or infinite values; nothing was written.

    Example:
        >>> issubclass(NonFiniteStateError, ValueError)
        True
    """


class NonFiniteCheckpointWarning(RuntimeWarning):
    """A checkpoint callback skipped a save because the run diverged (the previous file is kept).

    Example:
        >>> issubclass(NonFiniteCheckpointWarning, RuntimeWarning)  # hidden with numpy's overflow warnings
        True
    """


def _host_array(value) -> np.ndarray | None:
    """A tensor's or array's values on the host; ``None`` for anything else."""
    if isinstance(value, Tensor):
        return backend.to_host(value.array)
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    return None


def nonfinite_entries(state: Mapping[str, Any]) -> list[str]:
    """Names of the float tensors/arrays in ``state`` (a state_dict, nested dicts allowed) holding NaN or inf.

    Shapes: values of any shape; integer and boolean arrays are skipped.

    Example:
        >>> import dendrite
        >>> nonfinite_entries({"weight": dendrite.ones(2), "bias": dendrite.tensor([float("nan")])})
        ['bias']
    """
    found = []
    for name, value in state.items():
        if isinstance(value, Mapping):
            found += [f"{name}.{inner}" for inner in nonfinite_entries(value)]
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                found.append(str(name))
            continue
        array = _host_array(value)
        if array is not None and array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
            found.append(str(name))
    return found


def check_finite_state(state: Mapping[str, Any], what: str) -> None:
    """Raise :class:`NonFiniteStateError` naming the entries of ``state`` that are NaN or infinite.

    Example:
        >>> import dendrite
        >>> check_finite_state({"weight": dendrite.tensor([float("inf")])}, "model.npz")
        Traceback (most recent call last):
        ...
        dendrite.train.divergence.NonFiniteStateError: not writing model.npz: weight holds NaN or infinite ...
    """
    bad = nonfinite_entries(state)
    if bad:
        shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        raise NonFiniteStateError(f"not writing {what}: {shown} holds NaN or infinite values (the run "
                                  "diverged); the previous file, if any, is kept")


def record_divergence(trainer, logs: Mapping | None, batch: int) -> Divergence | None:
    """Note the first non-finite loss of ``trainer``'s fit in ``trainer.divergence``; return it (or ``None``).

    Called by the Trainer after every training batch, before the ``on_batch_end`` callbacks,
    and by :class:`~dendrite.train.callbacks.TerminateOnNaN`. Only the first divergence of a
    fit is kept. Inside :func:`watch_divergence` it is reported to the watch, which (with
    ``stop=True``) stops the trainer. ``batch`` is 0-based; the record is 1-based.

    Example:
        >>> from types import SimpleNamespace
        >>> trainer = SimpleNamespace(divergence=None, epoch=0, history=None, stop_training=False)
        >>> record_divergence(trainer, {"loss": float("nan")}, batch=6).describe()
        'the loss became nan at epoch 1, batch 7'
    """
    if getattr(trainer, "divergence", None) is not None:
        return None
    found = first_nonfinite_loss(logs)
    if found is None:
        return None
    trainer.divergence = Divergence(int(getattr(trainer, "epoch", 0)) + 1, batch + 1, *found)
    watch = active_watch()
    if watch is not None:
        watch.report(trainer.divergence, getattr(trainer, "history", None))
        if watch.stop:
            trainer.stop_training = True
            if getattr(trainer, "stop_reason", None) is None:
                trainer.stop_reason = f"diverged: {trainer.divergence.describe()}"
    return trainer.divergence


def refuse_save(callback, reason: str) -> None:
    """Say (once per fit, as a :class:`NonFiniteCheckpointWarning`) that ``callback`` skipped a save.

    The reason is kept in ``callback.refused``; a checkpoint callback resets it to ``None``
    in ``on_train_begin``.

    Example:
        >>> import warnings
        >>> from types import SimpleNamespace
        >>> callback = SimpleNamespace(refused=None)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     refuse_save(callback, "the loss became nan"); refuse_save(callback, "again")
        >>> len(caught), callback.refused
        (1, 'again')
    """
    if getattr(callback, "refused", None) is None:
        warnings.warn(f"{type(callback).__name__}: {reason}", NonFiniteCheckpointWarning, stacklevel=3)
    callback.refused = reason


def diverged_reason(trainer) -> str | None:
    """Why a checkpoint callback must not save now (``trainer.divergence`` is set), else ``None``.

    Example:
        >>> from types import SimpleNamespace
        >>> diverged_reason(SimpleNamespace(divergence=Divergence(1, 2, "loss", float("inf"))))
        'not saving: the loss became inf at epoch 1, batch 2; the last finite checkpoint is kept'
    """
    divergence = getattr(trainer, "divergence", None)
    if divergence is None:
        return None
    return f"not saving: {divergence.describe()}; the last finite checkpoint is kept"


@dataclass
class DivergenceWatch:
    """Collects the first divergence of every Trainer fitted inside :func:`watch_divergence`.

    ``stop``: Trainers stop at the first non-finite loss (as if ``TerminateOnNaN`` were
    installed). ``divergence`` is the first one reported; ``history`` that Trainer's History.

    Example:
        >>> watch = DivergenceWatch()
        >>> watch.report(Divergence(2, 3, "loss", float("inf")), history=None)
        >>> watch.divergence.epoch, watch.diverged
        (2, True)
    """

    stop: bool = True
    divergence: Divergence | None = None
    history: Any = None
    reports: list = field(default_factory=list)

    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    def report(self, divergence: Divergence, history=None) -> None:
        self.reports.append(divergence)
        if self.divergence is None:
            self.divergence, self.history = divergence, history


_ACTIVE: contextvars.ContextVar[DivergenceWatch | None] = contextvars.ContextVar("dendrite_divergence",
                                                                                  default=None)


def active_watch() -> DivergenceWatch | None:
    """The :class:`DivergenceWatch` of the innermost :func:`watch_divergence` block (``None`` outside).

    Example:
        >>> active_watch() is None
        True
    """
    return _ACTIVE.get()


@contextlib.contextmanager
def watch_divergence(stop: bool = True) -> Iterator[DivergenceWatch]:
    """Within the block, every ``Trainer.fit`` reports its first non-finite loss to the yielded watch.

    ``stop=True``: that Trainer also stops there (sets ``stop_training``), as if
    ``TerminateOnNaN`` were installed. The recipe runner wraps every recipe in one.

    Example:
        >>> from types import SimpleNamespace
        >>> trainer = SimpleNamespace(divergence=None, epoch=0, stop_training=False, stop_reason=None)
        >>> with watch_divergence() as watch:  # Trainer.fit calls record_divergence after every batch
        ...     _ = record_divergence(trainer, {"loss": float("inf")}, batch=0)
        >>> watch.divergence.describe(), trainer.stop_training
        ('the loss became inf at epoch 1, batch 1', True)
    """
    watch = DivergenceWatch(stop=stop)
    token = _ACTIVE.set(watch)
    try:
        yield watch
    finally:
        _ACTIVE.reset(token)
