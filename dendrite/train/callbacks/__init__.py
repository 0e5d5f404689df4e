"""Callbacks with Keras's names: hook into ``Trainer.fit`` at train/epoch/batch boundaries.

Example:
    >>> from dendrite.train.callbacks import EarlyStopping, ModelCheckpoint
    >>> callbacks = [EarlyStopping(patience=3, restore_best_weights=True)]
"""

from dendrite.train.callbacks.base import Callback, CallbackList, LambdaCallback
from dendrite.train.callbacks.checkpoint import ModelCheckpoint, load_state_dict_file, save_state_dict
from dendrite.train.callbacks.control import GradientClipping, ReduceLROnPlateau, TerminateOnNaN
from dendrite.train.callbacks.early_stopping import EarlyStopping

# These live beside the Trainer (they import this package's base), so they are
# re-exported lazily to keep the import graph free of cycles.
_LAZY = {
    "History": "dendrite.train.history",
    "CSVLogger": "dendrite.train.logging",
    "JSONLLogger": "dendrite.train.logging",
    "ProgressBar": "dendrite.train.progress",
}

__all__ = [
    "Callback", "CallbackList", "LambdaCallback", "EarlyStopping", "ModelCheckpoint", "TerminateOnNaN",
    "GradientClipping", "ReduceLROnPlateau", "save_state_dict", "load_state_dict_file", *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dendrite.train.callbacks' has no attribute {name!r}")
