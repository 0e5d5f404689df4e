"""Run a model in evaluation mode for a moment, then put every layer back exactly as it was."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def evaluating(model):
    """``model.eval()`` inside the block; afterwards each sub-module gets its own previous mode back.

    Works for dendrite and torch modules. ``model.train(previous)`` alone would flatten a model
    whose layers were in mixed modes; layers frozen by ``dendrite.freeze`` (``freeze_statistics``)
    keep following the model's mode, as they did before.

    Example:
        >>> import dendrite
        >>> model = dendrite.nn.Sequential(dendrite.nn.Linear(2, 2), dendrite.nn.Dropout())
        >>> _ = model[1].eval()
        >>> with evaluating(model):
        ...     model.training
        False
        >>> model.training, model[1].training
        (True, False)
    """
    was_training = model.training
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
        for module, mode in modes:
            if module.training != mode and not getattr(module, "freeze_statistics", False):
                object.__setattr__(module, "training", mode)
