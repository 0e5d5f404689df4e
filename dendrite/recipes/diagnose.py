"""``dendrite doctor MODEL`` and ``dendrite train --doctor``: a built-in recipe's setup, examined.

The doctor (:func:`dendrite.doctor.examine`) needs what a training run would use:
the model as the recipe builds it, the training pairs, the held-out pairs, the loss
and the optimizer with the run's settings. :func:`doctor_setup` assembles exactly
those from a catalog row, so ``dendrite doctor mlp --lr 5`` examines the run that
``dendrite train mlp --lr 5`` would start.

Recipes the doctor examines: the classifiers (``mlp``, ``cnn``, ``resnet``,
``rnn``, ``lstm``, ``gru``), trained with cross-entropy on ``(inputs, class ids)``.
Other families train two networks against each other (GANs) or a loss of their
own (autoencoders, language and forecasting models); for those the message says
to use :func:`dendrite.doctor.watch` on their loop instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dendrite import backend, nn
from dendrite.recipes.base import ModelSpec, RunConfig
from dendrite.recipes.classification import build_classifier, run_classifier
from dendrite.recipes.sequence import run_sequence_classifier

__all__ = ["DoctorSetup", "doctor_setup", "examine_recipe"]

_CLASSIFIER_RECIPES = (run_classifier, run_sequence_classifier)


@dataclass
class DoctorSetup:
    """What ``examine`` receives for one recipe run.

    Shapes: ``data`` and ``val_data`` are ``(inputs (N, *input_shape), class ids (N,))`` pairs
    of NumPy arrays; ``model`` maps inputs to logits ``(N, num_classes)``.

    Example:
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.catalog import MODELS
        >>> setup = doctor_setup(MODELS["mlp"], load_dataset("spiral"), RunConfig("mlp", "spiral"))
        >>> setup.task, setup.data[0].shape[1:], type(setup.optimizer).__name__
        ('classification', (2,), 'Adam')
    """

    model: nn.Module
    data: tuple[Any, Any]
    val_data: tuple[Any, Any]
    loss_fn: Any
    optimizer: Any
    task: str
    batch_size: int


def doctor_setup(spec: ModelSpec, splits, config: RunConfig) -> DoctorSetup:
    """The model, data, loss and optimizer a run of ``spec`` on ``splits`` with ``config`` would use.

    Raises ``ValueError`` (one line, naming the model and what to do) for recipes the doctor
    does not examine. Shapes: see :class:`DoctorSetup`.

    Example:
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.catalog import MODELS
        >>> doctor_setup(MODELS["gan"], load_dataset("ring8"), RunConfig("gan", "ring8"))
        Traceback (most recent call last):
        ...
        ValueError: dendrite doctor examines the classifier recipes (...); 'gan' ...
    """
    if spec.recipe not in _CLASSIFIER_RECIPES:
        from dendrite.recipes.catalog import MODELS  # the table of rows, to name the examinable ones

        examinable = ", ".join(name for name, row in MODELS.items() if row.recipe in _CLASSIFIER_RECIPES)
        raise ValueError(
            f"dendrite doctor examines the classifier recipes ({examinable}); {spec.name!r} trains "
            f"with a loop of its own: wrap that loop in dendrite.doctor.watch(model, optimizer) instead"
        )
    reason = spec.accepts(splits)
    if reason:
        raise ValueError(f"model {spec.name!r} cannot train on dataset {splits.name!r}: {reason}")
    settings = config.resolved(spec.defaults(splits))
    backend.manual_seed(config.seed)  # the same initial weights as `dendrite train --seed`
    model, optimizer, loss_fn = build_classifier(spec, splits, settings)
    return DoctorSetup(model=model, data=(splits.x_train, splits.y_train),
                       val_data=(splits.x_test, splits.y_test), loss_fn=loss_fn, optimizer=optimizer,
                       task=splits.task, batch_size=int(settings["batch_size"]))


def examine_recipe(spec: ModelSpec, splits, config: RunConfig, *, budget_s: float = 60.0):
    """Run :func:`dendrite.doctor.examine` on the setup of ``spec`` trained on ``splits``.

    Shapes: see :func:`doctor_setup`; returns a :class:`dendrite.doctor.Report`.

    Example:
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.catalog import MODELS
        >>> report = examine_recipe(MODELS["mlp"], load_dataset("spiral"), RunConfig("mlp", "spiral"),
        ...                         budget_s=20)
        >>> report.ok
        True
    """
    from dendrite.data import DataLoader
    from dendrite.doctor import examine

    setup = doctor_setup(spec, splits, config)
    # splits.train_dataset(): arrays, memory-mapped tables and lazily decoded image folders alike
    loader = DataLoader(splits.train_dataset(), batch_size=setup.batch_size, shuffle=True)
    return examine(setup.model, loader, setup.loss_fn, setup.optimizer, val_data=setup.val_data,
                   task=setup.task, budget_s=budget_s, seed=config.seed)
