"""``dendrite.train``: the Trainer (fit / evaluate / predict), callbacks, metrics, progress, plots.

Example:
    >>> from dendrite.train import Trainer, EarlyStopping, CSVLogger
    >>> from dendrite.train import metrics
    >>> metrics.accuracy([0, 1], [0, 1])
    1.0

Plotting (:mod:`dendrite.train.plots`) and tqdm progress bars need the optional
extra ``pip install "dendrite[train]"``; they are imported only when used.
"""

from dendrite.train import metrics, plots
from dendrite.train.callbacks import (
    Callback,
    CallbackList,
    Doctor,
    EarlyStopping,
    GradientClipping,
    LambdaCallback,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
    load_state_dict_file,
    save_state_dict,
)
from dendrite.train.history import History
from dendrite.train.logging import CSVLogger, JSONLLogger
from dendrite.train.progress import ProgressBar
from dendrite.train.running_metrics import (
    Accuracy,
    BitsPerCharacter,
    F1Score,
    MeanAbsoluteError,
    MeanMetric,
    MeanSquaredError,
    Metric,
    Perplexity,
    Precision,
    R2Score,
    Recall,
    TopKAccuracy,
    get_metric,
)
from dendrite.train.trainer import Trainer

__all__ = [
    "Trainer", "History", "Callback", "CallbackList", "LambdaCallback", "EarlyStopping", "ModelCheckpoint",
    "TerminateOnNaN", "GradientClipping", "ReduceLROnPlateau", "CSVLogger", "JSONLLogger", "ProgressBar",
    "Metric", "Accuracy", "TopKAccuracy", "Precision", "Recall", "F1Score", "MeanSquaredError",
    "MeanAbsoluteError", "R2Score", "Perplexity", "BitsPerCharacter", "MeanMetric", "get_metric",
    "save_state_dict", "load_state_dict_file", "metrics", "plots", "Doctor",
]
