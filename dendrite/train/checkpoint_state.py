"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A *training state* is more than the weights. To make epochs 3 and 4 of a resumed
run bit-identical to epochs 3 and 4 of a run that never stopped, it holds:

* the weights of every model (``state_dict``, buffers such as BatchNorm's running statistics included);
* every optimizer's ``state_dict`` (Adam's moments and step counts, the groups' learning rates);
* every LR scheduler's ``state_dict`` (its position in the schedule);
* the number of finished epochs and optimizer steps, and the :class:`History` so far;
* dendrite's global random generator (``dendrite.backend.get_rng_state``), which drives
  dropout and every shuffle a ``DataLoader`` without its own seed derives per epoch, plus
  the state of any loader that owns a generator (``generators=``);
* ``extra``: whatever the caller adds (run settings, elapsed seconds) as numbers, strings,
  lists, dicts or arrays.

On disk it is **one** ``DIR/checkpoint.npz``: the arrays plus one ``uint8`` member holding the
rest as JSON. One file means one atomic write (temporary file, fsync, rename; see
:func:`dendrite.save`): a run killed mid-save leaves the previous checkpoint whole. Nothing is
pickled, so functions (a ``LambdaLR``'s lambda) cannot be stored -- saving such a state fails with
the name of the offending entry.

Loading trusts nothing in the file: the weights file's own checks (sizes, SHA-256; see
:func:`dendrite.load`) come first, then the record (:mod:`dendrite.train.checkpoint_record`); any
malformed record raises one :class:`CheckpointError` naming the file and what is wrong.

Several models (a GAN's generator and discriminator) are passed as dicts, ``models={"generator": G,
"discriminator": D}``, and the same names are used when loading.

Using it in a recipe::

    trainer = Trainer(model, loss_fn, optimizer, scheduler=scheduler)
    history, initial_epoch = None, 0
    if resume:
        state = load_training_state(out, model, optimizer, scheduler)
        trainer.global_step, history, initial_epoch = state.global_step, state.history, state.epoch
    checkpoint = TrainingCheckpoint(out, history=history)
    trainer.callbacks.append(checkpoint)
    trainer.fit(loader, epochs=epochs, initial_epoch=initial_epoch)
    checkpoint.history          # every epoch, those before the resume included
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dendrite import backend
from dendrite.interop.serialization import load, save
from dendrite.tensor import Tensor
from dendrite.train.callbacks.base import Callback
from dendrite.train.checkpoint_record import CheckpointError, _damaged, _decode, _Encoder, check_record
from dendrite.train.divergence import NonFiniteStateError, check_finite_state, diverged_reason, refuse_save
from dendrite.train.history import History

__all__ = ["CHECKPOINT_NAME", "CheckpointError", "TrainingState", "TrainingCheckpoint", "checkpoint_path",
           "has_checkpoint", "save_training_state", "load_training_state", "read_training_state",
           "discard_checkpoint"]

CHECKPOINT_NAME = "checkpoint.npz"
_FORMAT = "dendrite.training_state/1"
_META = "__training_state__"


@dataclass
class TrainingState:
    """What :func:`load_training_state` / :func:`read_training_state` found in a checkpoint.

    ``epoch``: finished epochs (the ``initial_epoch`` to continue from); ``global_step``:
    optimizer steps so far; ``extra``: the caller's own values; ``path``: the file read.

    Example:
        >>> state = TrainingState(epoch=2, global_step=40, history=History())
        >>> state.epoch, state.global_step, state.extra
        (2, 40, {})
    """

    epoch: int
    global_step: int
    history: History
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


def checkpoint_path(directory: str | os.PathLike) -> Path:
    """``directory/checkpoint.npz``: where a run's training state lives.

    Example:
        >>> checkpoint_path("runs/mnist").as_posix()
        'runs/mnist/checkpoint.npz'
    """
    return Path(directory) / CHECKPOINT_NAME


def has_checkpoint(directory: str | os.PathLike) -> bool:
    """Whether ``directory`` holds a training checkpoint.

    Example:
        >>> has_checkpoint("run")
        False
    """
    return checkpoint_path(directory).is_file()


def discard_checkpoint(directory: str | os.PathLike) -> None:
    """Remove ``directory``'s checkpoint, if any (a new run must not be resumed as an old one).

    Example:
        >>> import os
        >>> folder = "run"
        >>> os.mkdir(folder)
        >>> checkpoint_path(folder).write_bytes(b"old run")
        7
        >>> discard_checkpoint(folder); has_checkpoint(folder)
        False
    """
    checkpoint_path(directory).unlink(missing_ok=True)


def _named(value, default: str, what: str) -> dict:
    """``None`` -> ``{}``; a mapping as is; one object -> ``{default: object}``."""
    if value is None:
        return {}
    named = dict(value) if isinstance(value, Mapping) else {default: value}
    for name in named:
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"training state: {what} names must be non-empty strings without '/', "
                             f"got {name!r}")
    return {name: item for name, item in named.items() if item is not None}


def _generator_of(source) -> np.random.Generator | None:
    """The generator a loader, sampler or generator owns (``None``: it derives from the global one)."""
    if source is None or isinstance(source, np.random.Generator):
        return source
    for chain in (("generator",), ("sampler", "generator"), ("batch_sampler", "sampler", "generator")):
        item = source
        for attribute in chain:
            item = getattr(item, attribute, None)
        if isinstance(item, np.random.Generator):
            return item
    return None


# ----------------------------------------------------------------------------- save / load
def save_training_state(directory: str | os.PathLike, model, optimizer=None, scheduler=None, epoch: int = 0,
                        history: History | Mapping | None = None, extra: Mapping | None = None, *,
                        global_step: int = 0, generators: Mapping | None = None) -> Path:
    """Write ``directory/checkpoint.npz`` atomically; return its path.

    Non-finite model weights are refused with
    :class:`~dendrite.train.divergence.NonFiniteStateError`: the previous checkpoint stays.

    Arguments:
        model, optimizer, scheduler: one object each, or dicts ``{name: object}`` for several
            (a GAN); ``None`` for none.
        epoch: the number of epochs finished (the next run starts its ``fit`` at this epoch).
        history: the :class:`History` so far (or its ``to_dict()``).
        extra: anything else to keep: numbers, strings, lists, dicts, arrays.
        global_step: optimizer steps taken so far (``trainer.global_step``).
        generators: ``{name: DataLoader, sampler or numpy Generator}`` whose own random
            generators must be restored too (loaders without a seed need nothing: they
            derive each epoch's order from the global generator, which is always saved).

    Example:
        >>> import dendrite
        >>> model = dendrite.nn.Linear(2, 1)
        >>> folder = "run"
        >>> save_training_state(folder, model, epoch=3).name
        'checkpoint.npz'
        >>> load_training_state(folder, dendrite.nn.Linear(2, 1)).epoch
        3
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    encode = _Encoder()
    arrays: dict[str, Any] = {}
    models = {}
    for name, module in _named(model, "model", "model").items():
        state = module.state_dict()
        check_finite_state(state, f"{str(checkpoint_path(directory))!r} (model {name!r})")
        models[name] = list(state)
        arrays.update({f"models/{name}/{key}": value for key, value in state.items()})
    if isinstance(history, History):
        history = history.to_dict()
    generator_states = {}
    for name, source in _named(generators, "loader", "generator").items():
        generator = _generator_of(source)
        if generator is not None:
            generator_states[name] = generator.bit_generator.state
    meta = {
        "format": _FORMAT,
        "epoch": int(epoch),
        "global_step": int(global_step),
        "models": models,
        "optimizers": {name: encode(opt.state_dict(), f"optimizer {name!r}")
                       for name, opt in _named(optimizer, "optimizer", "optimizer").items()},
        "schedulers": {name: encode(sched.state_dict(), f"scheduler {name!r}")
                       for name, sched in _named(scheduler, "scheduler", "scheduler").items()},
        "rng": encode(backend.get_rng_state(), "rng"),
        "generators": encode(generator_states, "generators"),
        "history": encode(dict(history) if history is not None else {"epoch": [], "history": {}}, "history"),
        "extra": encode(dict(extra or {}), "extra"),
    }
    arrays.update(encode.arrays)
    text = json.dumps(meta, allow_nan=False)
    arrays[_META] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    return save(arrays, checkpoint_path(directory))


def _read(directory: str | os.PathLike, max_bytes: int | None) -> tuple[dict, dict[str, Tensor], Path]:
    path = checkpoint_path(directory)
    if not path.is_file():
        raise FileNotFoundError(f"no training checkpoint in {str(directory)!r} (expected {str(path)!r})")
    arrays = load(path, max_bytes=max_bytes)
    if _META not in arrays:
        raise CheckpointError(f"{str(path)!r} is a weights file, not a training checkpoint "
                              f"(no {_META!r} entry)")
    try:
        meta = json.loads(bytes(arrays.pop(_META).numpy()).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise CheckpointError(f"{str(path)!r}: the training-state record is damaged: {error}") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise CheckpointError(f"{str(path)!r}: unknown training-state format {found!r}; expected {_FORMAT!r}")
    check_record(meta, arrays, path)
    return meta, arrays, path


def _state(meta: dict, arrays: Mapping, path: Path) -> TrainingState:
    with _damaged(path, "the history or extra record is damaged"):
        record = _decode(meta["history"], arrays)
        history = History(record.get("history", {}), record.get("epoch", []))
        extra = _decode(meta["extra"], arrays)
    return TrainingState(epoch=meta["epoch"], global_step=meta["global_step"], history=history,
                         extra=extra, path=path)


def read_training_state(directory: str | os.PathLike, *, max_bytes: int | None = None) -> TrainingState:
    """The epoch, step count, history and ``extra`` of ``directory``'s checkpoint, changing nothing.

    Raises ``FileNotFoundError`` when there is no checkpoint and :class:`CheckpointError` (a
    ``ValueError``) when it is damaged.

    Example:
        >>> import dendrite
        >>> folder, model = "run", dendrite.nn.Linear(2, 1)
        >>> _ = save_training_state(folder, model, epoch=3, global_step=30, extra={"lr": 0.1})
        >>> state = read_training_state(folder)
        >>> state.epoch, state.global_step, state.extra
        (3, 30, {'lr': 0.1})
    """
    meta, arrays, path = _read(directory, max_bytes)
    return _state(meta, arrays, path)


def _match(kind: str, saved: Mapping, given: Mapping, path: Path) -> None:
    if sorted(saved) != sorted(given):
        raise CheckpointError(f"{str(path)!r} holds {kind} {sorted(saved)}, but {sorted(given)} were given "
                              f"to load into; pass the same {kind} (by name, as a dict) that were saved")


def load_training_state(directory: str | os.PathLike, model, optimizer=None, scheduler=None, *,
                        generators: Mapping | None = None, restore_rng: bool = True,
                        max_bytes: int | None = None) -> TrainingState:
    """Restore a checkpoint written by :func:`save_training_state` into live objects.

    Loads the weights into ``model``, the optimizer and scheduler states, the random
    generators (the global one unless ``restore_rng=False``, and those in ``generators``),
    and returns a :class:`TrainingState` with the epoch to continue from, the step count,
    the history and ``extra``. ``scheduler=None`` leaves a scheduler untouched (to rebuild
    a schedule for a different number of epochs, see ``dendrite.recipes``).
    Build the model and optimizer exactly as for the original run first. ``max_bytes`` raises the
    size limit for a checkpoint over 4 GiB (see :func:`dendrite.load`).

    Example:
        >>> import dendrite
        >>> folder = "run"
        >>> _ = save_training_state(folder, dendrite.nn.Linear(2, 1), epoch=1, extra={"note": "hi"})
        >>> load_training_state(folder, dendrite.nn.Linear(2, 1)).extra
        {'note': 'hi'}
    """
    meta, arrays, path = _read(directory, max_bytes)
    models = _named(model, "model", "model")
    optimizers = _named(optimizer, "optimizer", "optimizer")
    schedulers = _named(scheduler, "scheduler", "scheduler")
    _match("models", meta["models"], models, path)
    _match("optimizers", meta["optimizers"], optimizers, path)
    if schedulers:
        _match("schedulers", meta["schedulers"], schedulers, path)
    for name, module in models.items():
        state = {key: arrays[f"models/{name}/{key}"] for key in meta["models"][name]}
        try:
            module.load_state_dict(state)
        except RuntimeError as error:
            raise CheckpointError(f"{str(path)!r} does not fit model {name!r} ({type(module).__name__}): "
                                  f"{error}") from None
    for name, opt in optimizers.items():
        with _damaged(path, f"its state does not fit optimizer {name!r} ({type(opt).__name__})"):
            opt.load_state_dict(_decode(meta["optimizers"][name], arrays))
    for name, sched in schedulers.items():
        with _damaged(path, f"its state does not fit scheduler {name!r} ({type(sched).__name__})"):
            sched.load_state_dict(_decode(meta["schedulers"][name], arrays))
    if restore_rng:
        with _damaged(path, "the random generator state is damaged"):
            backend.set_rng_state(_decode(meta["rng"], arrays))
    with _damaged(path, "the loaders' generator states are damaged"):
        saved_generators = _decode(meta["generators"], arrays)
        if not isinstance(saved_generators, dict):
            raise TypeError(f"expected a dict, got {type(saved_generators).__name__}")
    for name, source in _named(generators, "loader", "generator").items():
        generator = _generator_of(source)
        if generator is None:
            continue
        if name not in saved_generators:
            raise CheckpointError(f"{str(path)!r} has no generator state for {name!r}; "
                                  f"saved: {sorted(saved_generators)}")
        with _damaged(path, f"the generator state of {name!r} is damaged"):
            generator.bit_generator.state = saved_generators[name]
    return _state(meta, arrays, path)


# ----------------------------------------------------------------------------- the callback
class TrainingCheckpoint(Callback):
    """Save the whole training state to ``directory/checkpoint.npz`` at the end of every epoch.

    It saves the Trainer's model, optimizer and scheduler unless ``models`` / ``optimizers`` /
    ``schedulers`` name others (dicts for several), and keeps its own :attr:`history`
    starting from ``history`` (the one a resumed run loaded), so after ``fit`` it holds
    every epoch of the run. ``extra`` is a dict or a function ``extra(trainer) -> dict``
    called at each save. ``every=k`` saves every k-th epoch (and always the last).
    A diverged run (``trainer.divergence``) or non-finite weights are never saved: the
    last finite checkpoint stays, and a
    :class:`~dendrite.train.divergence.NonFiniteCheckpointWarning` says so once.

    Example:
        >>> checkpoint = TrainingCheckpoint("run", extra={"model": "mlp"})
        >>> len(checkpoint.history)
        0
    """

    def __init__(self, directory: str | os.PathLike, history: History | None = None,
                 extra: Mapping | Callable[[Any], Mapping] | None = None, generators: Mapping | None = None,
                 models=None, optimizers=None, schedulers=None, every: int = 1) -> None:
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"TrainingCheckpoint: every must be a positive int, got {every!r}")
        self.directory = Path(directory)
        self.history = History(history.history, history.epoch) if history is not None else History()
        self.extra, self.generators, self.every = extra, generators, every
        self.models, self.optimizers, self.schedulers = models, optimizers, schedulers
        self.last_saved: Path | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.refused = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.history.on_epoch_end(epoch, logs)
        trainer = self.trainer
        reason = diverged_reason(trainer)  # set before any epoch-end callback, whatever the order
        if reason:
            refuse_save(self, reason)
            return
        last = epoch + 1 >= self.params.get("epochs", epoch + 1) or trainer.stop_training
        if (epoch + 1) % self.every and not last:
            return
        extra = self.extra(trainer) if callable(self.extra) else self.extra
        try:
            self.last_saved = save_training_state(
                self.directory,
                self.models if self.models is not None else trainer.model,
                self.optimizers if self.optimizers is not None else trainer.optimizer,
                self.schedulers if self.schedulers is not None else trainer.scheduler,
                epoch=epoch + 1, history=self.history, extra=extra, global_step=trainer.global_step,
                generators=self.generators,
            )
        except NonFiniteStateError as error:
            refuse_save(self, str(error))

