"""The classification recipe: cross-entropy, a Trainer, and the pictures that explain the result.

Writes ``curves.png`` (loss and accuracy per epoch), ``confusion.png`` and, for
2-D inputs, ``decision_boundary.png``. The held-out test split is passed to
the trainer as its validation data so the curves show generalisation as it
happens; nothing is tuned on it.
"""

from __future__ import annotations

from pathlib import Path

from dendrite import nn, no_grad, tensor
from dendrite.backend import get_default_dtype, xp
from dendrite.data import DataLoader
from dendrite.recipes.base import RunResult, history_rows, make_optimizer
from dendrite.train import Trainer, metrics, plots


def build_schedule(optimizer, settings: dict):
    """The learning-rate schedule named in ``settings['schedule']`` (``None``, ``'cosine'``, ``'step'``)."""
    from dendrite.optim import lr_scheduler

    schedule = settings.get("schedule")
    if schedule in (None, "none"):
        return None
    if schedule == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings["epochs"])
    if schedule == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(1, settings["epochs"] // 3), gamma=0.3)
    raise ValueError(f"unknown schedule {schedule!r}; expected none, cosine or step")


def predict_logits(model: nn.Module, inputs, batch_size: int = 1024):
    """Model outputs for a NumPy array of inputs, in eval mode, without a graph."""
    model.eval()
    outputs = []
    with no_grad():
        for start in range(0, len(inputs), batch_size):
            batch = xp.asarray(inputs[start:start + batch_size], dtype=get_default_dtype())
            outputs.append(model(tensor(batch)).numpy())
    return xp.concatenate(outputs)


def run_classifier(spec, splits, settings: dict, config, out: Path) -> RunResult:
    """Train a classifier on ``splits`` and write its plots into ``out``."""
    model = spec.build(splits, settings)
    optimizer = make_optimizer(settings["optimizer"], model.parameters(), settings["lr"],
                               weight_decay=settings.get("weight_decay", 0.0))
    scheduler = build_schedule(optimizer, settings)
    train_loader = DataLoader(splits.train_dataset(), batch_size=settings["batch_size"], shuffle=True)
    test_loader = DataLoader(splits.test_dataset(), batch_size=1024)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=settings.get("label_smoothing", 0.0))
    trainer = Trainer(model, loss_fn, optimizer, scheduler=scheduler, metrics=["accuracy"],
                      progress=False if config.quiet else None, seed=config.seed)
    history = trainer.fit(train_loader, epochs=settings["epochs"], val_loader=test_loader)

    logits = predict_logits(model, splits.x_test)
    predicted = logits.argmax(axis=1)
    final = {
        "test_accuracy": metrics.accuracy(splits.y_test, predicted),
        "test_loss": float(nn.functional.cross_entropy(tensor(logits), tensor(splits.y_test)).item()),
        "test_macro_f1": metrics.f1_score(splits.y_test, predicted, num_classes=splits.num_classes),
        "train_accuracy": float(history["accuracy"][-1]),
    }
    plots.plot_history(history, out / "curves.png", title=f"{spec.name} on {splits.name}")
    plots.plot_confusion_matrix(metrics.confusion_matrix(splits.y_test, predicted, splits.num_classes),
                                out / "confusion.png", title=f"{spec.name} on {splits.name}: test confusion")
    if tuple(splits.input_shape) == (2,):
        plots.plot_decision_boundary(lambda points: predict_logits(model, points), splits.x_test, splits.y_test,
                                     out / "decision_boundary.png", title=f"{spec.name} on {splits.name}")
    return RunResult(final=final, history=history_rows(history), model=model)
