"""Progress display for ``Trainer.fit``: a tqdm bar per epoch, or one summary line per epoch.

``Trainer(progress=...)`` chooses:

* ``True`` or ``"bar"``: a tqdm bar per epoch, the running loss and metrics in
  its postfix (needs tqdm: ``pip install "dendrite[train]"``);
* ``"epoch"``: no bar, one line per epoch (``Epoch 3/10 - 1.2s - loss: 0.31 - ...``),
  good for logs and CI;
* ``None`` (default): a bar when stdout is a terminal, silence otherwise;
* ``False``: nothing.
"""

from __future__ import annotations

import io
import os
import sys
import time
from typing import IO

from dendrite.train._optional import require
from dendrite.train.callbacks.base import Callback

__all__ = ["ProgressBar", "format_logs", "resolve_progress"]

_POSTFIX_INTERVAL = 0.2  # seconds between postfix refreshes: formatting every batch costs time


def format_value(key: str, value) -> str:
    """One logged number as the progress display shows it: learning rates to 3 significant digits.

    Example:
        >>> format_value("loss", 0.31241), format_value("lr", 0.00125), format_value("loss", 2e-05)
        ('0.3124', '0.00125', '2.000e-05')
    """
    if not isinstance(value, (int, float)):
        return str(value)
    if key == "lr" or key.endswith("_lr"):
        return f"{value:.3g}"
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def format_logs(logs: dict, skip: tuple = ("batch", "size")) -> str:
    """``'loss: 0.3124 - accuracy: 0.9100'`` from a logs dict.

    Example:
        >>> format_logs({"loss": 0.31241, "accuracy": 0.91, "lr": 0.001})
        'loss: 0.3124 - accuracy: 0.9100 - lr: 0.001'
    """
    return " - ".join(f"{key}: {format_value(key, value)}" for key, value in logs.items() if key not in skip)


def resolve_progress(progress, stream: IO | None = None) -> str | None:
    """``'bar'``, ``'epoch'`` or ``None`` for a ``Trainer(progress=...)`` setting.

    Example:
        >>> resolve_progress(False), resolve_progress("epoch")
        (None, 'epoch')
    """
    if progress is False:
        return None
    if progress is True or progress == "bar":
        require("tqdm", "Trainer(progress=True)")
        return "bar"
    if progress == "epoch":
        return "epoch"
    if progress is None:
        stream = stream or sys.stdout
        if not (hasattr(stream, "isatty") and stream.isatty()):
            return None
        try:
            require("tqdm", "progress bars")
        except ImportError:
            return "epoch"  # auto mode degrades gracefully: summary lines instead of a bar
        return "bar"
    raise ValueError(f"progress must be True, False, None, 'bar' or 'epoch', got {progress!r}")


def _terminal_width(stream: IO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return 0


class ProgressBar(Callback):
    """Shows training progress (attached by the Trainer; see the module docstring for the modes).

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = ProgressBar("epoch", file=out)
        >>> bar.set_params({"epochs": 2, "steps": 10})
        >>> bar.on_epoch_begin(0); bar.on_epoch_end(0, {"loss": 0.5})
        >>> out.getvalue().startswith("Epoch 1/2 - ")
        True
    """

    def __init__(self, mode: str = "bar", file: IO | None = None) -> None:
        if mode not in ("bar", "epoch"):
            raise ValueError(f"ProgressBar mode must be 'bar' or 'epoch', got {mode!r}")
        self.mode, self.file = mode, file
        self.bar = None
        self._started = 0.0
        self._last_postfix = 0.0

    @property
    def _stream(self) -> IO:
        return self.file if self.file is not None else sys.stdout

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._started = time.perf_counter()
        epochs = self.params.get("epochs")
        self._title = f"Epoch {epoch + 1}/{epochs}" if epochs else f"Epoch {epoch + 1}"
        if self.mode == "bar":
            tqdm = require("tqdm", "progress bars").tqdm
            # Follow the terminal's size; a pseudo-terminal that reports 0x0 (some CI and container
            # setups) makes tqdm hide the bar entirely, so fall back to 100 columns by 24 rows.
            sized = _terminal_width(self._stream) > 0
            self.bar = tqdm(total=self.params.get("steps"), desc=self._title, file=self._stream, unit="batch",
                            dynamic_ncols=sized, ncols=None if sized else 100, nrows=None if sized else 24,
                            leave=True)

    def on_batch_end(self, batch: int, logs=None) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        now = time.perf_counter()
        last = self.params.get("steps") is not None and batch + 1 >= self.params["steps"]
        if now - self._last_postfix >= _POSTFIX_INTERVAL or last:
            self._last_postfix = now
            running = self._running(logs)
            self.bar.set_postfix_str(format_logs(running), refresh=False)

    def _running(self, logs) -> dict:
        # The epoch's running averages when the trainer offers them, else this batch's values.
        if self.trainer is not None and hasattr(self.trainer, "running_logs"):
            return self.trainer.running_logs()
        return {key: value for key, value in (logs or {}).items() if key not in ("batch", "size")}

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        elapsed = time.perf_counter() - self._started
        if self.bar is not None:
            self.bar.set_postfix_str(format_logs(logs or {}), refresh=False)
            self.bar.close()
            self.bar = None
        else:
            line = f"{self._title} - {elapsed:.1f}s - {format_logs(logs or {})}"
            print(line, file=self._stream, flush=True)

    def on_train_end(self, logs=None) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
