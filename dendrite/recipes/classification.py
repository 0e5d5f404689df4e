"""The classification recipe: cross-entropy, a Trainer, and the pictures that explain the result.

Writes ``curves.png`` (loss and accuracy per epoch), ``confusion.png`` and, for
2-D inputs, ``decision_boundary.png``. The validation part (``--val``) is passed
to the trainer as its validation data; data without one passes its held-out test
split instead, so the curves show generalisation as it happens (nothing is tuned
on it), and the curves then call that line "test". The held-out line is plain
cross-entropy, the loss reported as ``test_loss``, even when training minimises
a label-smoothed one: without ``--val`` its last point is the printed test loss.

The same recipe trains a regression model (``splits.task == 'regression'``, e.g. a
CSV with a numeric target, or the ``plane`` dataset): mean squared error instead of
cross-entropy, and test RMSE, MAE and R² (in the target's units when the data was
standardised, ``splits.info['target_mean'/'target_std']``) instead of accuracy.

Every epoch also saves the whole training state to ``checkpoint.npz``, so
``dendrite train ... --resume`` continues the run exactly: a run interrupted
after epoch 2 of 4 and resumed ends bit-identical to one that never stopped.
Resuming with a larger ``--epochs`` than the run was started with continues
too; with the default ``exponential`` schedule it equals a straight run of the new
length. A schedule that depends on the total (``cosine``, ``step``) is then
rebuilt for the new total from the resume point on: those runs cannot equal a
straight run (its first epochs used other learning rates), and a note says so.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

from dendrite import nn, no_grad, tensor
from dendrite.backend import get_default_dtype, xp
from dendrite.data import DataLoader
from dendrite.distributed import DistributedSampler, DistributedTrainer, broadcast_parameters
from dendrite.optim.lr_scheduler.base import set_group_value
from dendrite.recipes.base import RunResult, Stopwatch, history_rows, make_optimizer
from dendrite.recipes.runner import run_record
from dendrite.train import Trainer, metrics, plots
from dendrite.train.checkpoint_state import TrainingCheckpoint, load_training_state, read_training_state

__all__ = ["needs_supervised", "needs_classification", "build_classifier", "build_schedule",
           "restart_schedule", "predict_logits", "classification_scores", "regression_scores",
           "run_classifier", "curve_labels"]

PLANNED_SCHEDULES = ("cosine", "step")  # schedules whose rates depend on the total number of epochs


def needs_supervised(splits) -> str | None:
    """``None`` for a classification or regression dataset (inputs with targets), else why not.

    Example:
        >>> from dendrite.data import load_dataset
        >>> needs_supervised(load_dataset("plane")) is None, needs_supervised(load_dataset("ring8"))
        (True, "it learns classes or numbers from inputs, and 'ring8' is a generative dataset")
    """
    if splits.task not in ("classification", "regression"):
        return f"it learns classes or numbers from inputs, and {splits.name!r} is a {splits.task} dataset"
    return None


def needs_classification(splits) -> str | None:
    """``None`` when ``splits`` is a classification dataset, else the reason a classifier cannot take it.

    Shapes: any ``splits.input_shape``; only ``splits.task`` is checked.

    Example:
        >>> from dendrite.data import load_dataset
        >>> needs_classification(load_dataset("spiral")) is None
        True
        >>> needs_classification(load_dataset("ring8"))
        "it is a classifier, and 'ring8' is a generative dataset"
    """
    if splits.task != "classification":
        return f"it is a classifier, and {splits.name!r} is a {splits.task} dataset"
    return None


def build_schedule(optimizer, settings: dict):
    """The learning-rate schedule named in ``settings['schedule']``.

    ``'exponential'`` (the default of the built-in classifiers) multiplies the rate by
    ``settings['lr_decay']`` after every epoch; it does not depend on the number of
    epochs, so a run extended with ``--resume`` equals a straight run of the new length.
    ``'cosine'`` and ``'step'`` are planned over ``settings['epochs']``; ``'none'`` gives ``None``.
    Shapes: no arrays; an optimizer and a settings dict in, a scheduler (or ``None``) out.

    Example:
        >>> from dendrite.recipes.base import make_optimizer
        >>> optimizer = make_optimizer("sgd", nn.Linear(2, 1).parameters(), lr=1.0)
        >>> scheduler = build_schedule(optimizer, {"schedule": "exponential", "lr_decay": 0.5})
        >>> optimizer.step(); scheduler.step(); optimizer.param_groups[0]["lr"]
        0.5
    """
    from dendrite.optim import lr_scheduler

    schedule = settings.get("schedule")
    if schedule in (None, "none"):
        return None
    if schedule == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=settings.get("lr_decay", 0.95))
    if schedule == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings["epochs"])
    if schedule == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(1, settings["epochs"] // 3), gamma=0.3)
    raise ValueError(f"unknown schedule {schedule!r}; expected none, exponential, cosine or step")


def restart_schedule(optimizer, settings: dict, epoch: int):
    """A fresh schedule for ``settings['epochs']`` advanced to ``epoch``, as a straight run would have it.

    Used when a run is resumed with a different number of epochs than it was planned
    for: the learning rates from ``epoch`` on follow the schedule for the new total.
    Shapes: no arrays; an optimizer, settings and an epoch count in, a scheduler out.

    Example:
        >>> from dendrite.recipes.base import make_optimizer
        >>> optimizer = make_optimizer("sgd", nn.Linear(2, 1).parameters(), lr=1.0)
        >>> settings = {"schedule": "step", "epochs": 6}
        >>> _ = build_schedule(optimizer, settings)
        >>> _ = restart_schedule(optimizer, settings, epoch=2)  # step_size 2: one decay by 0.3 so far
        >>> round(optimizer.param_groups[0]["lr"], 6)
        0.3
    """
    for group in optimizer.param_groups:
        set_group_value(group, "lr", group["initial_lr"])  # the one writer of a group's rate
    scheduler = build_schedule(optimizer, settings)
    with warnings.catch_warnings():  # "scheduler.step() before optimizer.step()": intended here
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(epoch):
            scheduler.step()
    return scheduler


class _HeldOutTrainer(Trainer):
    """A Trainer that scores held-out data with ``held_out_loss`` instead of the training objective.

    The training objective may include label smoothing; the held-out curve uses plain
    cross-entropy so that it measures the same thing as the reported test loss.
    """

    def __init__(self, *args, held_out_loss, **kwargs):
        super().__init__(*args, **kwargs)
        self.held_out_loss = held_out_loss

    def evaluate(self, loader) -> dict:
        training_loss, self.loss_fn = self.loss_fn, self.held_out_loss
        try:
            return super().evaluate(loader)
        finally:
            self.loss_fn = training_loss


class _DistributedHeldOutTrainer(_HeldOutTrainer, DistributedTrainer):
    """The held-out Trainer over the MPI job's ranks (``dendrite train ... --distributed``)."""


def _loaders(splits, settings: dict, config):
    """The training and held-out loaders; distributed: this rank's share, ``settings['batch_size']`` per rank.

    Every run reads the :class:`~dendrite.distributed.DistributedSampler`'s order, a permutation
    drawn from (the run's seed, the epoch): a plain run as a job of one rank. So a plain run with
    batch K·B reads, batch by batch, what K ranks with ``--distributed`` and B read
    (docs/distributed.md), and the order takes nothing from the global generator (dropout's).
    """
    dataset = splits.train_dataset()
    if config.distributed:
        sampler = DistributedSampler(dataset, seed=config.seed, pad=False)  # uneven shares: exact
    else:
        sampler = DistributedSampler(dataset, num_replicas=1, rank=0, seed=config.seed)
    train_loader = DataLoader(dataset, batch_size=settings["batch_size"], sampler=sampler)
    return train_loader, DataLoader(splits.val_dataset(), batch_size=1024)  # the test part without val


def curve_labels(splits, settings: dict) -> dict:
    """Legend text per history key: which split each line is and which loss it plots.

    Without a validation part the held-out line is the test split, and is called so.
    Shapes: no arrays; splits and settings in, ``{history key: label}`` out.

    Example:
        >>> from dendrite.data import load_dataset
        >>> curve_labels(load_dataset("digits"), {"label_smoothing": 0.1})["val_loss"]
        'test: plain CE (= test_loss)'
    """
    held_out = "validation" if splits.has_validation else "test"
    if splits.task == "regression":
        return {"loss": "train: mean squared error", "val_loss": f"{held_out}: mean squared error",
                "mae": "train", "val_mae": held_out}
    smoothing = settings.get("label_smoothing", 0.0)
    # Short: the legend sits inside a small panel; the tour's captions say the rest.
    objective = f"train: CE, smoothing {smoothing:g}" if smoothing else "train: CE"
    printed = " (= test_loss)" if held_out == "test" else ""
    return {"loss": objective, "val_loss": f"{held_out}: plain CE{printed}",
            "accuracy": "train (epoch mean)", "val_accuracy": held_out}


def predict_logits(model: nn.Module, inputs, batch_size: int = 1024):
    """Model outputs for a NumPy array of inputs, in eval mode, without a graph.

    Shapes: inputs (N, *input_shape) -> a NumPy array (N, *output_shape), computed ``batch_size`` at a time.

    Example:
        >>> import numpy as np
        >>> predict_logits(nn.Linear(2, 3), np.zeros((5, 2), np.float32)).shape
        (5, 3)
    """
    model.eval()
    outputs = []
    with no_grad():
        for start in range(0, len(inputs), batch_size):
            batch = xp.asarray(inputs[start : start + batch_size], dtype=get_default_dtype())
            outputs.append(model(tensor(batch)).numpy())
    return xp.concatenate(outputs)


def _resume(trainer: Trainer, out: Path, settings: dict, quiet: bool):
    """Load ``out``'s checkpoint into the trainer's objects; return the TrainingState."""
    planned = read_training_state(out).extra["run"]["settings"].get("epochs")
    scheduler = trainer.scheduler
    same_plan = (
        scheduler is None
        or planned == settings["epochs"]
        or settings.get("schedule") not in PLANNED_SCHEDULES
    )
    state = load_training_state(out, trainer.model, trainer.optimizer, scheduler if same_plan else None)
    if not same_plan:
        trainer.scheduler = restart_schedule(trainer.optimizer, settings, state.epoch)
        print(
            f"dendrite: note: the run was planned for {planned} epochs; its {settings['schedule']!r} "
            f"learning-rate schedule now runs over {settings['epochs']} epochs from epoch "
            f"{state.epoch + 1} on, so results will differ from a straight run of that length",
            file=sys.stderr,
        )
    trainer.global_step = state.global_step
    if not quiet:
        print(f"resuming {out} after epoch {state.epoch}")
    return state


def build_classifier(spec, splits, settings: dict):
    """The model, optimizer and loss a classifier run trains with (also what ``dendrite doctor`` examines).

    Shapes: the model maps (N, *splits.input_shape) to logits (N, splits.num_classes); the loss
    takes those logits and class ids (N,).

    Example:
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.catalog import MODELS
        >>> splits = load_dataset("spiral")
        >>> settings = MODELS["mlp"].defaults(splits)
        >>> model, optimizer, loss_fn = build_classifier(MODELS["mlp"], splits, settings)
        >>> type(optimizer).__name__, type(loss_fn).__name__
        ('Adam', 'CrossEntropyLoss')
    """
    model = spec.build(splits, settings)
    optimizer = make_optimizer(settings["optimizer"], model.parameters(), settings["lr"],
                               weight_decay=settings.get("weight_decay", 0.0))
    if splits.task == "regression":
        return model, optimizer, nn.MSELoss()
    loss_fn = nn.CrossEntropyLoss(label_smoothing=settings.get("label_smoothing", 0.0))
    return model, optimizer, loss_fn


def run_classifier(spec, splits, settings: dict, config, out: Path) -> RunResult:
    """Train a classifier on ``splits`` and write its plots into ``out`` (``config.resume``: continue it).

    Shapes: ``spec.build`` maps (N, *splits.input_shape) to logits (N, splits.num_classes);
    labels are class ids (N,). Writes ``curves.png``, ``confusion.png``, ``checkpoint.npz``
    (and ``decision_boundary.png`` for 2-D inputs); returns a :class:`RunResult`.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.catalog import MODELS
        >>> from dendrite.recipes.runner import train
        >>> from dendrite.recipes.base import RunConfig
        >>> config = RunConfig("mlp", "spiral", epochs=1, quiet=True, out=Path(tmp.name))
        >>> metrics = train(MODELS["mlp"], load_dataset("spiral"), config)  # train() calls run_classifier
        >>> 0.0 <= metrics["final"]["test_accuracy"] <= 1.0, (Path(tmp.name) / "confusion.png").exists()
        (True, True)
        >>> tmp.cleanup()
    """
    clock = Stopwatch()
    model, optimizer, loss_fn = build_classifier(spec, splits, settings)
    scheduler = build_schedule(optimizer, settings)
    train_loader, val_loader = _loaders(splits, settings, config)
    held_out_loss = loss_fn if splits.task == "regression" else nn.CrossEntropyLoss()
    trainer = (_DistributedHeldOutTrainer if config.distributed else _HeldOutTrainer)(
        model,
        loss_fn,
        optimizer,
        held_out_loss=held_out_loss,
        scheduler=scheduler,
        metrics=["accuracy"] if splits.task == "classification" else ["mae"],
        progress=False if config.quiet else None,
        seed=config.seed,
    )
    quiet = config.quiet or (config.distributed and trainer.rank != 0)  # rank 0 speaks for the job
    state = _resume(trainer, out, settings, quiet) if config.resume else None
    if config.distributed and state is not None:  # every rank read the checkpoint; rank 0's copy rules
        broadcast_parameters(model)
        trainer.broadcast_optimizer_state()
    previous_seconds = float(state.extra.get("seconds", 0.0)) if state else 0.0
    record = run_record(config, splits, settings)
    # The training order comes from (seed, epoch) (_loaders); dropout draws from the global generator,
    # which the checkpoint restores.
    checkpoint = TrainingCheckpoint(
        out,
        history=state.history if state else None,
        extra=lambda _: {"run": record, "seconds": previous_seconds + clock.seconds},
    )
    trainer.callbacks.append(checkpoint)
    trainer.fit(
        train_loader,
        epochs=settings["epochs"],
        val_loader=val_loader,
        initial_epoch=state.epoch if state else 0,
    )
    history = checkpoint.history  # every epoch, including those before a resume
    if config.distributed and trainer.rank != 0:  # rank 0 scores the model and draws the pictures
        return RunResult(final={}, history=history_rows(trainer.history), model=model)

    if splits.task == "regression":
        final = _regression_results(model, splits, history, spec, out, curve_labels(splits, settings))
    else:
        final = _classification_results(model, splits, history, spec, out, curve_labels(splits, settings))
    extra = {"resumed_from_epoch": state.epoch} if state else {}
    return RunResult(final=final, history=history_rows(history), model=model, extra=extra)


def classification_scores(logits, labels, num_classes: int) -> tuple[dict, object]:
    """``({"accuracy", "loss", "macro_f1"}, confusion matrix)`` of logits against class ids.

    What a classifier run reports for its test part and ``dendrite evaluate`` for any labelled
    file: one definition, so the two agree. ``loss`` is the mean cross-entropy in nats.
    Shapes: logits (N, K), labels (N,) -> the matrix (K, K), rows true classes.

    Example:
        >>> import numpy as np
        >>> scores, matrix = classification_scores(np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]]),
        ...                                        np.array([0, 1, 1]), num_classes=2)
        >>> round(scores["accuracy"], 4), round(scores["macro_f1"], 4), matrix.tolist()
        (0.6667, 0.6667, [[1, 0], [1, 1]])
    """
    matrix = metrics.confusion_matrix(labels, np.asarray(logits).argmax(axis=1), num_classes)
    scores = {
        "accuracy": float(np.trace(matrix) / matrix.sum()),
        "loss": float(nn.functional.cross_entropy(tensor(logits), tensor(labels)).item()),
        "macro_f1": metrics.scores_from_confusion(matrix, "f1", "macro"),
    }
    return scores, matrix


def regression_scores(truth, predicted) -> dict:
    """``{"rmse", "mae", "r2"}`` of predictions against targets, both in the target's units.

    Shapes: truth and predicted (N, k).

    Example:
        >>> import numpy as np
        >>> scores = regression_scores(np.array([[1.0], [3.0]]), np.array([[2.0], [3.0]]))
        >>> round(scores["rmse"], 4), scores["mae"], scores["r2"]
        (0.7071, 0.5, 0.5)
    """
    return {"rmse": float(np.sqrt(metrics.mse(truth, predicted))), "mae": metrics.mae(truth, predicted),
            "r2": metrics.r2_score(truth, predicted)}


def _classification_results(model, splits, history, spec, out: Path, labels: dict) -> dict:
    """Test accuracy, loss and macro F1; curves, confusion matrix and (2-D inputs) the decision boundary."""
    scores, matrix = classification_scores(predict_logits(model, splits.x_test), splits.y_test,
                                           splits.num_classes)
    final = {f"test_{key}": value for key, value in scores.items()}
    final["train_accuracy"] = float(history["accuracy"][-1])
    plots.plot_history(history, out / "curves.png", title=f"{spec.name} on {splits.name}", labels=labels)
    plots.plot_confusion_matrix(
        matrix,
        out / "confusion.png",
        class_names=splits.info.get("classes"),
        title=f"{spec.name} on {splits.name}: test confusion",
    )
    if tuple(splits.input_shape) == (2,):
        plots.plot_decision_boundary(
            lambda points: predict_logits(model, points),
            splits.x_test,
            splits.y_test,
            out / "decision_boundary.png",
            title=f"{spec.name} on {splits.name}",
        )
    return final


def _regression_results(model, splits, history, spec, out: Path, labels: dict) -> dict:
    """Test RMSE, MAE and R² in the target's units; the curves."""
    scale = np.asarray(splits.info.get("target_std", 1.0), np.float64)
    shift = np.asarray(splits.info.get("target_mean", 0.0), np.float64)
    predicted = np.asarray(predict_logits(model, splits.x_test), np.float64) * scale + shift
    truth = np.asarray(splits.y_test, np.float64).reshape(predicted.shape) * scale + shift
    plots.plot_history(history, out / "curves.png", title=f"{spec.name} on {splits.name}", labels=labels)
    final = {f"test_{key}": value for key, value in regression_scores(truth, predicted).items()}
    return {**final, "train_mse": float(history["loss"][-1])}


run_classifier.supports_resume = True  # dendrite.recipes.runner: this recipe writes checkpoint.npz
run_classifier.supports_distributed = True  # ... and trains over MPI ranks (dendrite train --distributed)
