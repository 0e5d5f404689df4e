"""``DistributedTrainer``: the Trainer of ``dendrite.train`` over K ranks, agreeing on everything it reports.

It wraps the model in :class:`~dendrite.distributed.DistributedDataParallel` for the training
forward (``trainer.model`` stays the plain model, so checkpoints, ``predict`` and resuming
see the same keys as a single-process run) and makes the ranks agree:

* **losses and metrics**: each batch's loss (and a custom ``train_step``'s values) is
  averaged over the ranks' batches, weighted by their sizes, so the logs, the progress and
  divergence detection see the global batch's loss, the value a single process with the
  K·B batch would report; epoch metrics add up every rank's counts before they are computed;
  an evaluation adds up every rank's losses and counts (a validation loader that is not
  sharded gives the same numbers on every rank, and the same averages);
* **stopping**: after every batch and epoch ``stop_training`` is true on every rank as soon as
  it is true on one (early stopping, a NaN loss, a user callback), with ``stop_reason``
  telling the others which rank stopped;
* **files and output**: only rank 0 runs the callbacks that write files or print
  (``ModelCheckpoint``, ``TrainingCheckpoint``, ``CSVLogger``, ``JSONLLogger``, the progress bar,
  and any callback with ``rank_zero_only = True``);
* **uneven shares**: each rank's gradient is weighted by its batch size
  (``DistributedDataParallel.sample_count``), and a rank whose loader has fewer batches than
  another's runs its last batch again with weight 0 (no gradient, no loss, no metric), so every
  rank takes the same number of steps and a dataset that does not split evenly
  (``DistributedSampler(pad=False)``) still trains exactly like one process;
* **data order**: a training loader whose sampler has ``set_epoch`` (a
  :class:`~dendrite.distributed.DistributedSampler`) is told the epoch before each one (the
  plain Trainer does that too, so a one-process run reads the same orders).
"""

from __future__ import annotations

import copy

import numpy as np

from dendrite.distributed import communication
from dendrite.distributed.parallel import DistributedDataParallel, broadcast_optimizer_state
from dendrite.train.callbacks.checkpoint import ModelCheckpoint
from dendrite.train.checkpoint_state import TrainingCheckpoint
from dendrite.train.logging import CSVLogger, JSONLLogger
from dendrite.train.progress import ProgressBar
from dendrite.train.running_metrics import Metric
from dendrite.train.trainer import Trainer

__all__ = ["DistributedTrainer", "RANK_ZERO_ONLY", "is_rank_zero_only", "synchronise_metric"]

# Callbacks that write files or print: only rank 0 runs them.
RANK_ZERO_ONLY = (ModelCheckpoint, TrainingCheckpoint, CSVLogger, JSONLLogger, ProgressBar)


def is_rank_zero_only(callback) -> bool:
    """Whether only rank 0 runs ``callback`` (a file writer, the progress, or ``rank_zero_only = True``).

    Example:
        >>> from dendrite.train import CSVLogger, EarlyStopping
        >>> is_rank_zero_only(CSVLogger("log.csv")), is_rank_zero_only(EarlyStopping())
        (True, False)
    """
    return bool(getattr(callback, "rank_zero_only", isinstance(callback, RANK_ZERO_ONLY)))


def _state_names(metric: Metric) -> list[str]:
    """The attributes ``metric.reset()`` assigns: its accumulated state (settings are left out)."""
    assigned: set[str] = set()

    class Recorder(type(metric)):
        def __setattr__(self, name, value):
            assigned.add(name)
            object.__setattr__(self, name, value)

    probe = copy.copy(metric)
    probe.__class__ = Recorder
    probe.reset()
    return sorted(assigned)


def _sum_array(value, name: str) -> np.ndarray | None:
    """Sum an array (or ``None``) over the ranks, padding each to the largest shape first."""
    array = None if value is None else np.asarray(value)
    shape = np.full(9, -1, dtype=np.int64)  # [ndim, dims...]; -1 everywhere: this rank has none
    if array is not None:
        if array.ndim > 8:
            raise ValueError(f"cannot combine metric state {name!r} of {array.ndim} dimensions")
        shape[0] = array.ndim
        shape[1:1 + array.ndim] = array.shape
    communication.all_reduce(shape, "max")
    if shape[0] < 0:
        return None
    full = tuple(int(size) for size in shape[1:1 + shape[0]])
    dtype = np.float64 if array is None or array.dtype.kind == "f" else np.int64
    padded = np.zeros(full, dtype=dtype)
    if array is not None:
        if array.ndim != len(full):
            raise ValueError(f"metric state {name!r} has {array.ndim} dimensions here and {len(full)} on "
                             "another rank; expected the same on every rank")
        padded[tuple(slice(0, size) for size in array.shape)] = array
    communication.all_reduce(padded, "sum")
    return padded


def synchronise_metric(metric: Metric) -> None:
    """Replace ``metric``'s accumulated state by its sum over every rank (then ``compute()`` is global).

    The state is what ``reset()`` assigns (counts, sums, a confusion matrix); numbers and arrays
    are added, arrays of different shapes padded with zeros first (a confusion matrix that saw
    more classes on one rank). Every rank must call it, for the same metrics in the same order.

    Example:
        >>> from dendrite.distributed import init
        >>> from dendrite.train import Accuracy
        >>> init(); metric = Accuracy(); metric.update([1, 0], [1, 1])
        >>> synchronise_metric(metric); metric.compute()     # one rank: unchanged
        0.5
    """
    for name in _state_names(metric):
        value = getattr(metric, name)
        if isinstance(value, bool):
            raise TypeError(f"cannot combine the boolean metric state {name!r} of {metric!r} over ranks")
        if isinstance(value, (int, float, np.integer, np.floating)):
            total = np.array([value], dtype=np.int64 if isinstance(value, (int, np.integer)) else np.float64)
            communication.all_reduce(total, "sum")
            setattr(metric, name, type(value)(total[0]) if isinstance(value, (int, float)) else total[0])
        elif value is None or isinstance(value, np.ndarray):
            total = _sum_array(value, name)
            if total is not None and isinstance(value, np.ndarray):
                total = total.astype(value.dtype, copy=False)
            setattr(metric, name, total)
        else:
            raise TypeError(f"cannot combine metric state {name!r} of {metric!r} over ranks: a "
                            f"{type(value).__name__}; expected numbers or NumPy arrays")


def _batch_size(value) -> int:
    shape = getattr(value, "shape", None)
    return int(shape[0]) if shape else 1


class _EvenBatches:
    """A training loader made as long as the longest rank's: after its own batches, its last one again.

    The repeats are marked (``trainer._filler``) and count for nothing: weight 0 in the gradient
    average, size 0 in the loss averages, no metric update. They only keep the ranks' collectives in step.
    """

    def __init__(self, loader, trainer) -> None:
        self.loader, self.trainer = loader, trainer
        self.sampler = getattr(loader, "sampler", None)
        self.length = len(loader) if hasattr(loader, "__len__") else None
        if self.length is not None and trainer.world_size > 1:
            longest = np.array([self.length], dtype=np.int64)
            communication.all_reduce(longest, "max")
            self.length = int(longest[0])

    def __len__(self) -> int:
        if self.length is None:
            raise TypeError("this training loader has no length")
        return self.length

    def __iter__(self):
        trainer, seen, last = self.trainer, 0, None
        trainer._filler = False
        try:
            for batch in self.loader:
                seen, last = seen + 1, batch
                yield batch
            if self.length is not None and seen < self.length:
                if last is None:
                    raise ValueError(f"rank {trainer.rank} has no training batch while another rank has "
                                     f"{self.length}; give every rank at least one sample")
                trainer._filler = True
                for _ in range(self.length - seen):
                    yield last
        finally:
            trainer._filler = False


class DistributedTrainer(Trainer):
    """:class:`~dendrite.train.Trainer` for data-parallel training: same arguments, plus ``bucket_cap_mb``.

    Every rank runs the same script and builds the same model and optimizer (rank 0's weights
    are broadcast); give each rank its share of the data with a ``DataLoader`` over a
    :class:`~dendrite.distributed.DistributedSampler` and a per-rank batch size B: K ranks then
    train exactly like one process with batch K·B reading the sampler's order
    (``num_replicas=1``). ``trainer.ddp`` is the wrapped model; ``trainer.model`` the plain one.
    :meth:`broadcast_optimizer_state` gives every rank rank 0's optimizer state (after resuming).

    Example:
        >>> import dendrite, numpy as np
        >>> from dendrite import nn
        >>> from dendrite.data import DataLoader, TensorDataset
        >>> from dendrite.distributed import DistributedSampler, init
        >>> init()   # under `mpirun -n K`, every rank runs these lines
        >>> X = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
        >>> y = (X[:, 0] > 0).astype("int64")
        >>> data = TensorDataset(X, y)
        >>> loader = DataLoader(data, batch_size=16, sampler=DistributedSampler(data, seed=0))
        >>> model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> trainer = DistributedTrainer(model, nn.CrossEntropyLoss(), dendrite.optim.Adam(model.parameters(),
        ...                              lr=0.05), progress=False, seed=0)
        >>> trainer.fit(loader, epochs=20)["accuracy"][-1] > 0.9
        True
    """

    def __init__(self, model, *args, bucket_cap_mb: float | None = None, **kwargs) -> None:
        if not communication.is_initialized():
            communication.init()
        super().__init__(model, *args, **kwargs)
        self.rank, self.world_size = communication.get_rank(), communication.get_world_size()
        self.ddp = DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb)
        self._filler = False  # the batch in progress is a weight-0 repeat (see _EvenBatches)

    def broadcast_optimizer_state(self) -> None:
        """Copy rank 0's optimizer state (moments, step counts, learning rates) to every rank."""
        if self.optimizer is not None:
            broadcast_optimizer_state(self.optimizer, 0)

    # ------------------------------------------------------------------ what differs from one process
    def _forward(self, inputs: tuple):
        if not getattr(self.model, "training", True):
            return self.model(*(self._to_tensor(value) for value in inputs))
        inputs = tuple(self._to_tensor(value) for value in inputs)
        self.ddp.sample_count = 0 if self._filler else _batch_size(inputs[0])
        return self.ddp(*inputs)

    def _train_epoch(self, loader) -> dict:
        return super()._train_epoch(_EvenBatches(loader, self))

    def _update_metrics(self, output, target) -> None:
        if not self._filler:
            super()._update_metrics(output, target)

    def fit(self, train_loader, epochs: int = 1, val_loader=None, initial_epoch: int = 0):
        """As :meth:`Trainer.fit`; on ranks other than 0 without the file-writing and printing callbacks."""
        if self.rank == 0:
            return super().fit(train_loader, epochs, val_loader, initial_epoch)
        callbacks, progress = self.callbacks, self.progress
        self.callbacks = [callback for callback in callbacks if not is_rank_zero_only(callback)]
        self.progress = False
        try:
            return super().fit(train_loader, epochs, val_loader, initial_epoch)
        finally:
            self.callbacks, self.progress = callbacks, progress

    def _gather_batch(self, values: dict, size: int) -> tuple[dict, int]:
        if self._filler:
            size = 0
        if self.world_size == 1:
            return values, size
        keys = sorted(values)
        keys_seen = np.array([len(keys)], dtype=np.int64)
        communication.all_reduce(keys_seen, "max")
        if int(keys_seen[0]) != len(keys):
            raise RuntimeError(f"rank {self.rank} reports {keys} for this batch while another rank reports "
                               f"{int(keys_seen[0])} values; every rank's train step must return the same "
                               "keys")
        totals = np.array([values[key] * size for key in keys] + [size], dtype=np.float64)
        communication.all_reduce(totals, "sum")
        count = int(round(totals[-1]))
        return {key: float(totals[index] / count) for index, key in enumerate(keys)}, count

    def _agree_to_stop(self) -> None:
        if self.world_size == 1:
            return
        flag = np.array([self.rank if self.stop_training else self.world_size], dtype=np.int64)
        communication.all_reduce(flag, "min")  # the lowest rank that stopped, or world_size for none
        first = int(flag[0])
        if first < self.world_size and not self.stop_training:
            self.stop_training = True
            self.stop_reason = f"rank {first} stopped the run"

    def _gather_totals(self, total: float, count: int) -> tuple[float, int]:
        if self.world_size == 1:
            return total, count
        totals = np.array([total, count], dtype=np.float64)
        communication.all_reduce(totals, "sum")
        return float(totals[0]), int(round(totals[1]))

    def _synchronise_metrics(self, metrics: list[Metric]) -> None:
        if self.world_size > 1:
            for metric in metrics:
                synchronise_metric(metric)
