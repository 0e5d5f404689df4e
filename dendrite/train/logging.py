"""Epoch loggers: ``CSVLogger`` (one row per epoch) and ``JSONLLogger`` (one JSON object per line).

Both rewrite their whole file atomically at the end of every epoch, so the file
on disk is always complete: a crash never leaves half a line, and a column
that first appears later (validation starting at epoch 5) still gets a header.
Logs are tiny, so rewriting costs nothing measurable.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from dendrite.train.callbacks.base import Callback
from dendrite.utils.atomic import atomic_write_text
from dendrite.utils.strict_json import dumps

__all__ = ["CSVLogger", "JSONLLogger"]


def _row(epoch: int, logs: dict) -> dict:
    row = {"epoch": epoch}
    for key, value in logs.items():
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, (int, float, str, bool)) or value is None:
            row[key] = value
    return row


class _EpochFileLogger(Callback):
    """Shared machinery: keep the rows, reload them when appending, rewrite the file per epoch."""

    def __init__(self, filename: str | os.PathLike, append: bool = False) -> None:
        self.filename, self.append = Path(filename), append
        self.rows: list[dict] = []

    def on_train_begin(self, logs=None) -> None:
        self.rows = self._read() if self.append and self.filename.exists() else []

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.rows.append(_row(epoch, logs or {}))
        self.filename.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.filename, self._render())

    def _read(self) -> list[dict]:
        raise NotImplementedError

    def _render(self) -> str:
        raise NotImplementedError


class CSVLogger(_EpochFileLogger):
    """Write the epoch logs to a CSV file: a header row, then one row per epoch (Keras's ``CSVLogger``).

    Columns: ``epoch`` first (0-based, as in Keras), then the logged keys in
    sorted order. ``append=True`` continues an existing file (for resumed runs).

    Example:
        >>> import pathlib
        >>> path = pathlib.Path("log.csv")
        >>> logger = CSVLogger(path)
        >>> logger.on_train_begin()
        >>> logger.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75})
        >>> print(path.read_text().strip())
        epoch,accuracy,loss
        0,0.75,0.5
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        super().__init__(filename, append)
        self.separator = separator

    def _read(self) -> list[dict]:
        with open(self.filename, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter=self.separator))
        return [{key: _parse(value) for key, value in row.items()} for row in rows]

    def _render(self) -> str:
        keys = sorted({key for row in self.rows for key in row if key != "epoch"})
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["epoch", *keys], delimiter=self.separator,
                                lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(self.rows)
        return buffer.getvalue()


class JSONLLogger(_EpochFileLogger):
    """Write the epoch logs as JSON Lines: one object per epoch (NaN and infinities become ``null``).

    Example:
        >>> import pathlib
        >>> path = pathlib.Path("log.jsonl")
        >>> logger = JSONLLogger(path)
        >>> logger.on_train_begin()
        >>> logger.on_epoch_end(0, {"loss": 0.5})
        >>> path.read_text()
        '{"epoch": 0, "loss": 0.5}\\n'
    """

    def _read(self) -> list[dict]:
        with open(self.filename, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def _render(self) -> str:
        lines = []
        for row in self.rows:
            lines.append(dumps(row) + "\n")  # NaN as null: strict JSON
        return "".join(lines)


def _parse(text: str | None):
    """A CSV cell back as int, float or text (empty cells are missing values)."""
    if text is None or text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
