"""Callbacks with Keras's names: hook into ``Trainer.fit`` at train/epoch/batch boundaries.

History, the CSV/JSONL loggers and the progress bar are callbacks too; they live
beside the Trainer and are exported from :mod:`dendrite.train`.

Example:
    >>> from dendrite.train.callbacks import EarlyStopping, ModelCheckpoint
    >>> callbacks = [EarlyStopping(patience=3, restore_best_weights=True)]
    >>> callbacks[0].monitor, callbacks[0].mode
    ('val_loss', 'min')
"""

from dendrite.train.callbacks.base import Callback, CallbackList, LambdaCallback, MonitorCallback
from dendrite.train.callbacks.checkpoint import ModelCheckpoint, load_state_dict_file, save_state_dict
from dendrite.train.callbacks.control import GradientClipping, ReduceLROnPlateau, TerminateOnNaN
from dendrite.train.callbacks.doctor import Doctor
from dendrite.train.callbacks.early_stopping import EarlyStopping

__all__ = [
    "Callback", "CallbackList", "LambdaCallback", "MonitorCallback", "EarlyStopping", "ModelCheckpoint",
    "TerminateOnNaN", "GradientClipping", "ReduceLROnPlateau", "save_state_dict", "load_state_dict_file",
    "Doctor",
]
