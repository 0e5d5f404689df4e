"""Recurrent sequence classifiers ``rnn``, ``lstm`` and ``gru``: an image read one row per time step.

On ``digits`` each 8x8 image becomes 8 time steps of 8 pixels; the class is read
from the last step's output. Training is the classification recipe's (cross-entropy,
a Trainer, ``curves.png`` and ``confusion.png``); this recipe adds what is particular
to recurrent networks: **how much each time step's input still moves the loss**.

For a batch of test inputs ``x`` (N, T, F) it measures ``|dL/dx_t|`` per step ``t``,
at initialisation and after training, writes ``gradient_flow.png`` and stores the
numbers in ``metrics.json`` under ``"input_grad_norm_per_step"``. In a plain tanh RNN
the gradient reaching step ``t`` is a product of ``T - t`` Jacobians and shrinks
geometrically towards the first steps (vanishing gradients); the LSTM's additive cell
path and the GRU's gated update keep it alive.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from dendrite import nn, tensor
from dendrite.models.recurrent import SequenceClassifier
from dendrite.recipes.base import RunResult
from dendrite.recipes.classification import needs_classification, run_classifier

__all__ = ["input_gradient_per_step", "run_sequence_classifier", "sequence_defaults", "needs_sequences",
           "as_steps", "build_sequence_classifier", "plot_gradient_flow"]


def needs_sequences(splits) -> str | None:
    """``None`` when ``splits`` is classification data with samples ``(T, F)`` or ``(T,)``, else why not.

    Shapes: ``splits.input_shape`` (T, F) or (T,) with T >= 2.

    Example:
        >>> from dendrite.data import load_dataset
        >>> needs_sequences(load_dataset("digits")) is None  # 8 steps of 8 pixels
        True
        >>> needs_sequences(load_dataset("ring8"))
        "it is a classifier, and 'ring8' is a generative dataset"
    """
    reason = needs_classification(splits)
    if reason:
        return reason
    if len(splits.input_shape) not in (1, 2) or splits.input_shape[0] < 2:
        return (f"it reads sequences of shape (T, F) or (T,) with T >= 2, got inputs of shape "
                f"{splits.input_shape}")
    return None


def sequence_defaults(cell: str, splits) -> dict:
    """Defaults that reach a real result on ``digits`` in well under a minute on 2 cores.

    Shapes: the cell name and splits (unused) in, a settings dict out.

    Example:
        >>> sequence_defaults("rnn", None)["lr"], sequence_defaults("gru", None)["lr"]
        (0.001, 0.003)
    """
    # The exponential schedule does not depend on the epoch count (as for the other classifiers),
    # so a run extended with --resume equals a straight run of the new length.
    settings = {"epochs": 50, "batch_size": 32, "lr": 3e-3, "optimizer": "adam", "schedule": "exponential",
                "lr_decay": 0.93, "label_smoothing": 0.1, "cell": cell, "hidden_size": 128, "num_layers": 1,
                "dropout": 0.0, "features_per_step": None}
    if cell == "rnn":
        settings["lr"] = 1e-3  # a tanh RNN diverges more easily at the gated cells' rate
    return settings


def build_sequence_classifier(cell: str, splits, settings: dict) -> SequenceClassifier:
    """A :class:`SequenceClassifier` with the ``cell`` of the model's name.

    Shapes: the model maps (N, T, F) to logits (N, splits.num_classes).

    Example:
        >>> import dendrite
        >>> from dendrite.data import load_dataset
        >>> settings = {**sequence_defaults("gru", None), "hidden_size": 8}
        >>> build_sequence_classifier("gru", load_dataset("digits"), settings)(dendrite.zeros(2, 8, 8)).shape
        (2, 10)
    """
    if settings.get("cell", cell) != cell:
        raise ValueError(f"model {cell!r} always uses the {cell} cell; for a {settings['cell']} network "
                         f"train the model {settings['cell']!r} instead of passing --cell")
    return SequenceClassifier(splits.input_shape, splits.num_classes, cell=cell,
                              hidden_size=int(settings["hidden_size"]),
                              num_layers=int(settings["num_layers"]), dropout=float(settings["dropout"]))


def input_gradient_per_step(model: nn.Module, x: np.ndarray, y: np.ndarray) -> list[float]:
    """Mean over samples of ``|dL_i/dx_it|`` (L_i: sample i's cross-entropy) for every time step ``t``.

    Shapes: ``x`` (N, T, F) or (N, T) floats, ``y`` (N,) class ids -> a list of T numbers.
    Dropout is off (eval mode) so the numbers measure the network, not the noise.

    Example:
        >>> import numpy as np
        >>> model = SequenceClassifier((5, 3), 4, cell="rnn", hidden_size=8)
        >>> len(input_gradient_per_step(model, np.ones((2, 5, 3), np.float32), np.array([0, 1])))
        5
    """
    was_training = model.training
    model.eval()
    try:
        inputs = tensor(np.asarray(x, dtype=np.float32), requires_grad=True)
        targets = tensor(np.asarray(y, dtype=np.int64))
        loss = nn.functional.cross_entropy(model(inputs), targets, reduction="sum")
        loss.backward()
        grad = inputs.grad.numpy()
    finally:
        model.train(was_training)
        model.zero_grad()
    grad = grad.reshape(grad.shape[0], grad.shape[1], -1)
    return [float(value) for value in np.linalg.norm(grad, axis=2).mean(axis=0)]


def plot_gradient_flow(norms: dict[str, list[float]], path: Path, title: str) -> Path:
    """``|dL/dx_t|`` per time step, one line per moment (initial, trained), on a log scale.

    Shapes: ``norms`` {label: list of T numbers}.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     plot_gradient_flow({"initial": [1e-3, 1.0]}, Path(folder) / "g.png", "x").name
        'g.png'
    """
    from dendrite.train.plots import _figure, _save

    figure = _figure(6.0, 3.5)
    axis = figure.subplots()
    for index, (label, values) in enumerate(norms.items()):
        steps = np.arange(1, len(values) + 1)
        axis.plot(steps, np.maximum(values, 1e-30), "o-", color=f"C{index}", label=label)
    axis.set_yscale("log")
    axis.set_xlabel("time step t (the class is read after the last)")
    axis.set_ylabel("mean |dL/dx_t|")
    axis.grid(alpha=0.3)
    axis.legend()
    axis.set_title(title)
    return _save(figure, path, dpi=100)


def as_steps(splits, features_per_step: int | None):
    """``splits`` with every sample re-read (row-major) as time steps of ``features_per_step`` values.

    ``None`` keeps the data's own ``(T, F)``. On ``digits``, 1 gives 64 steps of one pixel:
    a long sequence, where a plain RNN's vanishing gradient shows.

    Example:
        >>> from dendrite.data import load_dataset
        >>> as_steps(load_dataset("digits"), 2).input_shape
        (32, 2)
    """
    if not features_per_step:
        return splits
    size, width = math.prod(splits.input_shape), int(features_per_step)
    if width < 1 or size % width:
        raise ValueError(f"features_per_step={features_per_step} must divide the {size} values of one sample "
                         f"(shape {splits.input_shape})")
    shape = (size // width, width)
    return dataclasses.replace(splits, x_train=splits.x_train.reshape(-1, *shape),
                               x_test=splits.x_test.reshape(-1, *shape), input_shape=shape)


def run_sequence_classifier(spec, splits, settings: dict, config, out: Path) -> RunResult:
    """Train with the classification recipe, then measure and draw the gradient per time step.

    Shapes: sequences (N, T, F) -> logits (N, classes); ``input_grad_norm_per_step`` holds two
    lists of T numbers (initial, trained). Writes ``gradient_flow.png`` besides the classifier's files.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.catalog import MODELS
        >>> from dendrite.recipes.runner import train
        >>> from dendrite.recipes.base import RunConfig
        >>> config = RunConfig("gru", "digits", epochs=1, quiet=True, out=Path(tmp.name),
        ...                    options={"hidden_size": 8})
        >>> metrics = train(MODELS["gru"], load_dataset("digits"), config)
        >>> len(metrics["input_grad_norm_per_step"]["trained"])
        8
        >>> tmp.cleanup()
    """
    splits = as_steps(splits, settings.get("features_per_step"))
    model = spec.build(splits, settings)
    probe = min(len(splits.x_test), 256)
    x_probe, y_probe = splits.x_test[:probe], splits.y_test[:probe]
    initial = input_gradient_per_step(model, x_probe, y_probe)
    # The classification recipe builds its model through spec.build: hand it this one.
    result = run_classifier(dataclasses.replace(spec, build=lambda *_: model), splits, settings, config, out)
    trained = input_gradient_per_step(model, x_probe, y_probe)
    norms = {"initial": initial, "trained": trained}
    plot_gradient_flow(norms, out / "gradient_flow.png",
                       f"{spec.name} on {splits.name}: gradient reaching each input step")
    # first / last step: how much weaker the earliest input's influence on the loss is.
    result.final["grad_first_over_last"] = trained[0] / trained[-1] if trained[-1] > 0 else float("nan")
    result.extra["input_grad_norm_per_step"] = norms
    return result


# run_classifier checkpoints every epoch; the gradient probe uses no randomness, so a resumed
# run still ends identical to one that never stopped (dendrite.recipes.runner reads this flag).
run_sequence_classifier.supports_resume = True

