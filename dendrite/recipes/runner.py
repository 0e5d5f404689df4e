"""``train(spec, splits, config)``: the one entry point behind ``dendrite train`` and the tour.

Resuming (``config.resume``, ``dendrite train ... --resume``): recipes that save a
training checkpoint (``DIR/checkpoint.npz``, see :mod:`dendrite.train.checkpoint_state`)
mark themselves with ``recipe.supports_resume = True``. Before such a recipe runs, this
module checks that the checkpoint in ``--out`` belongs to the same model, dataset, seed and
settings (only ``--epochs`` may change) and that there are epochs left to train. A new run
(without ``--resume``) first removes any old checkpoint from its folder, so a later resume
can never continue a different, older run.

Divergence: every recipe runs inside :func:`~dendrite.train.divergence.watch_divergence`,
so any Trainer it fits stops at the first NaN or infinite loss (a GAN's ``loss_d``/``loss_g``
included) and the run's result says so: ``metrics["diverged"]`` is true and
``metrics["diverged_at"]`` tells where. A diverged run's weights are not saved (an earlier
``model.safetensors`` and the last finite ``checkpoint.npz`` are kept), and a recipe step that
fails *after* the divergence (a judge choking on NaN samples) does not hide it: the run is
reported as diverged, with that error in ``metrics["error_after_divergence"]``.

Distributed (``config.distributed``, ``mpirun -n K dendrite train ... --distributed``): every rank
runs this function; the recipe (``recipe.supports_distributed = True``) trains with a
:class:`~dendrite.distributed.DistributedTrainer`, and only rank 0 touches ``out`` (the
checkpoint, the pictures, the weights, metrics.json). The other ranks return
``{"rank": r, "diverged": ..., "final": {...}}`` without writing anything.

Pictures: without Matplotlib (installed by the ``train`` extra) a run still trains and writes
its metrics and weights; it prints one note and draws no pictures
(:func:`~dendrite.train.plots.pictures_if_possible`).
"""

from __future__ import annotations

import json
from pathlib import Path

from dendrite import backend
from dendrite.recipes.base import (
    ModelSpec,
    RunConfig,
    RunResult,
    Stopwatch,
    ensure_dir,
    history_rows,
    save_weights,
    write_metrics,
)
from dendrite.train import plots
from dendrite.train.checkpoint_state import checkpoint_path, discard_checkpoint, read_training_state
from dendrite.train.divergence import Divergence, NonFiniteStateError, watch_divergence
from dendrite.utils.threads import blas_threads

__all__ = ["train", "run_record", "check_resumable"]


def run_record(config: RunConfig, splits, settings: dict) -> dict:
    """What identifies a run in its checkpoint: model, dataset, seed and the settings (as JSON sees them).

    Shapes: settings dict in (tuples become lists, non-JSON values are dropped), a plain dict out.

    Example:
        >>> from dendrite.data import load_dataset
        >>> run_record(RunConfig("mlp", "spiral"), load_dataset("spiral"), {"hidden": (8,), "lr": 0.1})
        {'model': 'mlp', 'dataset': 'spiral', 'seed': 0, 'settings': {'hidden': [8], 'lr': 0.1}}
    """
    simple = (int, float, str, bool, list, tuple, type(None))
    plain = {key: value for key, value in settings.items() if isinstance(value, simple)}
    plain = json.loads(json.dumps(plain))  # tuples become lists, as they come back from the checkpoint
    return {"model": config.model, "dataset": splits.name, "seed": config.seed, "settings": plain}


def check_resumable(out: Path, config: RunConfig, splits, settings: dict) -> dict:
    """The checkpoint's ``extra`` if ``out`` can be resumed with these settings; else ``ValueError``.

    Shapes: no arrays; the checkpoint's model, dataset, seed and settings (all but ``epochs``)
    must equal this run's, and ``settings['epochs']`` must exceed the epochs already trained — or equal
    them when the run stopped after its last checkpoint, before writing its results (then it is finished).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> from dendrite.data import load_dataset
        >>> check_resumable(Path(tmp.name), RunConfig("mlp", "spiral"), load_dataset("spiral"), {})
        Traceback (most recent call last):
        ...
        ValueError: cannot resume: no training checkpoint in ...
        >>> tmp.cleanup()
    """
    try:
        state = read_training_state(out)
    except FileNotFoundError:
        raise ValueError(f"cannot resume: no training checkpoint in {str(out)!r} (looked for "
                         f"{str(checkpoint_path(out))!r}); start the run without --resume") from None
    saved = state.extra.get("run") or {}
    current = run_record(config, splits, settings)
    for key in ("model", "dataset", "seed"):
        if saved.get(key) != current[key]:
            raise ValueError(f"cannot resume: the checkpoint in {str(out)!r} is a run of {key} "
                             f"{saved.get(key)!r}, not {current[key]!r}")
    old, new = saved.get("settings", {}), current["settings"]
    changed = sorted(key for key in set(old) | set(new) if key != "epochs" and old.get(key) != new.get(key))
    if changed:
        detail = ", ".join(f"{key} {old.get(key)!r} -> {new.get(key)!r}" for key in changed)
        raise ValueError(f"cannot resume: settings differ from the checkpointed run ({detail}); "
                         "only --epochs may change")
    if settings.get("epochs") is not None and settings["epochs"] <= state.epoch:
        if settings["epochs"] == state.epoch and not _finished(out, current, state.epoch):
            return state.extra  # stopped after its last checkpoint, before its results: finish it
        raise ValueError(f"cannot resume: the run in {str(out)!r} has already trained {state.epoch} epochs; "
                         f"pass --epochs N with N > {state.epoch} to train further")
    return state.extra


def _finished(out: Path, record: dict, epochs: int) -> bool:
    """Whether ``out`` holds this run's results: a metrics.json of the same model, data, seed and epochs.

    A run killed after writing its last checkpoint but before its weights and metrics.json
    (written last) is not finished, and ``--resume`` with the same ``--epochs`` completes it.
    """
    try:
        metrics = json.loads((Path(out) / "metrics.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(metrics, dict) and all(metrics.get(key) == record[key] for key in ("model", "seed")) \
        and metrics.get("epochs") == epochs


def _join_job(spec: ModelSpec) -> int:
    """Join the MPI job (``dendrite.distributed.init``) for a distributed run; this process's rank."""
    if not getattr(spec.recipe, "supports_distributed", False):
        raise ValueError(f"model {spec.name!r} ({spec.family}) cannot train distributed; the classifier "
                         "recipes can")
    from dendrite import distributed

    distributed.init()
    return distributed.get_rank()


def train(spec: ModelSpec, splits, config: RunConfig) -> dict:
    """Train ``spec`` on ``splits`` with ``config``; write the run's files; return metrics.json's content.

    Shapes: as the model's recipe (see :class:`~dendrite.recipes.base.ModelSpec`); returns metrics.json's
    content as a dict. ``metrics["diverged"]`` says whether a loss became NaN or infinite (then
    ``metrics["diverged_at"]`` says where: ``{"epoch", "batch", "key", "loss"}``).

    Example:
        >>> import tempfile
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.catalog import MODELS
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     metrics = train(MODELS["mlp"], load_dataset("spiral"),
        ...                     RunConfig("mlp", "spiral", epochs=1, quiet=True, out=Path(folder)))
        ...     files = sorted(path.name for path in Path(folder).iterdir())
        >>> files[:5]  # and model.safetensors (model.npz without safetensors)
        ['checkpoint.npz', 'confusion.png', 'curves.png', 'decision_boundary.png', 'metrics.json']
        >>> metrics["model"], metrics["epochs"], len(metrics["history"]), metrics["diverged"]
        ('mlp', 1, 1, False)
    """
    reason = spec.accepts(splits)
    if reason:
        raise ValueError(f"model {spec.name!r} cannot train on dataset {splits.name!r}: {reason}")
    settings = config.resolved(spec.defaults(splits))
    resumable = getattr(spec.recipe, "supports_resume", False)
    rank = _join_job(spec) if config.distributed else 0
    previous_seconds = 0.0
    if config.resume:
        if not resumable:
            raise ValueError(f"cannot resume: model {spec.name!r} ({spec.family}) does not save training "
                             "checkpoints yet; train it without --resume")
        extra = check_resumable(Path(config.out), config, splits, settings)
        previous_seconds = float(extra.get("seconds", 0.0))
    out = ensure_dir(config.out) if rank == 0 else Path(config.out)
    if not config.resume and resumable and rank == 0:
        discard_checkpoint(out)
    backend.manual_seed(config.seed)
    clock = Stopwatch()
    # Small matrices: BLAS threads cost more than they save (see utils.threads).
    # Without Matplotlib (a bare install) the run trains all the same, with one note instead of pictures.
    with blas_threads(1), plots.pictures_if_possible(), watch_divergence() as watch:
        try:
            result = spec.recipe(spec, splits, settings, config, out)
        except Exception as error:  # after a divergence, report the divergence, not its aftermath
            if not watch.diverged:
                raise
            result = RunResult(final={}, history=history_rows(watch.history) if watch.history else [],
                               extra={"error_after_divergence": f"{type(error).__name__}: {error}"})
    seconds = previous_seconds + clock.seconds  # a resumed run reports the time of all its parts
    result.divergence = watch.divergence
    if rank != 0:
        return {"rank": rank, "diverged": result.divergence is not None, "final": result.final,
                "seconds": seconds}
    if result.model is not None and result.divergence is None:  # a diverged run's weights are not kept
        try:
            save_weights(result.model, out)
        except NonFiniteStateError:  # NaN weights with finite losses: the last step blew up
            result.divergence = Divergence(len(result.history), None, "weights", float("nan"))
    n_test = len(splits.x_test)
    write_metrics(out, config, settings, seconds, len(splits.x_train), n_test, result)
    return json.loads((out / "metrics.json").read_text())
