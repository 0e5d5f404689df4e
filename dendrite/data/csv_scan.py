"""Pass 1 over a table, one chunk of columns at a time: kinds, categories, statistics, labels.

:class:`TableScanner` is fed each chunk's columns (tuples of text cells) by the CSV reader
(:mod:`dendrite.data.csv_table`) and at the end gives the :class:`TableEncoding` and every row's
class id. It holds no rows: per column only counts, a pooled mean/variance and, for text
columns, the set of categories.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dendrite.data.file_errors import DataFileError
from dendrite.data.table_encoding import MISSING_HINT, CellError, ColumnEncoding, TableEncoding, class_order

__all__ = ["MAX_GUESSED_CLASSES", "PooledStats"]  # TableScanner, check_header: csv_table's machinery

MAX_GUESSED_CLASSES = 50
"""A numeric target of whole numbers with at most this many distinct values is guessed to be classes."""


class PooledStats:
    """Count, mean and population standard deviation pooled over chunks (float64).

    Each chunk's own mean and sum of squared deviations are merged with Chan et al.'s formula,
    which never subtracts two large sums (sound for values far from zero, e.g. timestamps).

    Example:
        >>> stats = PooledStats()
        >>> for chunk in (np.array([1e9 + 1, 1e9 + 2]), np.array([1e9 + 3])):
        ...     stats.add(chunk)
        >>> stats.count, stats.mean - 1e9, round(stats.std ** 2, 12)
        (3, 2.0, 0.666666666667)
    """

    def __init__(self) -> None:
        self.count, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: np.ndarray) -> None:
        n = len(values)
        if n == 0:
            return
        mean = float(values.mean())
        m2 = float(np.square(values - mean).sum())
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.count * n / total
        self.count = total

    @property
    def std(self) -> float:
        """The population standard deviation; 1.0 for a (numerically) constant column."""
        std = math.sqrt(self.m2 / self.count) if self.count else 0.0
        return std if std > 1e-12 * max(1.0, abs(self.mean)) else 1.0


def check_header(path: Path, row: list[str], line: int) -> list[str]:
    """The column names of a header row; error when it names nothing, repeats a name or holds numbers."""
    names = [cell.strip() for cell in row]
    if all(_is_number(name) for name in names):
        raise DataFileError(path, f"the first row holds numbers ({', '.join(row[:4])}); dendrite needs a "
                            "header row naming the columns: add one, e.g. 'x1,x2,label'", line=line)
    for i, name in enumerate(names):
        if not name:
            raise DataFileError(path, f"column {i + 1} of the header row has no name; every column needs one",
                                line=line)
        if name in names[:i]:
            raise DataFileError(path, f"the header names column {name!r} twice (columns "
                                f"{names.index(name) + 1} and {i + 1}); column names must be unique",
                                line=line)
    if len(names) < 2:
        raise DataFileError(path, f"has one column ({names[0]!r}); expected feature columns and a target "
                            "column (is the delimiter right? '.tsv' files are read tab-separated)", line=line)
    return names


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


class _ColumnScan:
    """One column's pass-1 state: cells of each kind, where each kind first appeared, stats, categories."""

    def __init__(self, name: str, forced: bool) -> None:
        self.name, self.forced = name, forced
        self.counts = {"number": 0, "text": 0}
        self.first: dict = {}   # kind -> (row, cell) of its first cell
        self.stats, self.categories = PooledStats(), set()

    def _seen(self, kind: str, n: int, row: int, cell: str) -> None:
        self.counts[kind] += n
        self.first.setdefault(kind, (row, cell))

    def _check_missing(self, uniques: set, cells, start: int) -> None:
        if any(not cell.strip() for cell in uniques):
            row = next(i for i, cell in enumerate(cells) if not cell.strip())
            raise CellError(start + row, f"column {self.name!r} is empty; {MISSING_HINT}")

    def add(self, cells: tuple, start: int) -> np.ndarray | None:
        """Take a chunk's cells (first row index ``start``); the float64 values when all are numbers."""
        if self.forced:
            uniques = set(cells)
            self._check_missing(uniques, cells, start)
            self.categories |= uniques
            return None
        if not self.counts["text"]:
            try:    # the fast path: the whole chunk parsed in C
                values = np.array(cells, dtype=np.float64)
            except ValueError:
                values = None
            if values is not None:
                finite = np.isfinite(values)
                if not finite.all():
                    row = int(np.argmin(finite))
                    raise CellError(start + row, f"column {self.name!r} holds {cells[row]!r}; {MISSING_HINT}")
                self.stats.add(values)
                self._seen("number", len(cells), start, cells[0])
                return values
        uniques = set(cells)   # the slow path classifies each distinct cell once
        self._check_missing(uniques, cells, start)
        numbers = {cell for cell in uniques if _is_number(cell)}
        if not numbers or len(numbers) == len(uniques):
            self._seen("number" if numbers else "text", len(cells), start, cells[0])
            if not numbers and not self.counts["number"]:
                self.categories |= uniques
            return None
        is_number = [cell in numbers for cell in cells]
        for kind, flag in (("number", True), ("text", False)):
            row = is_number.index(flag)
            self._seen(kind, is_number.count(flag), start + row, cells[row])
        return None

    @property
    def kind(self) -> str:
        if self.forced or not self.counts["number"]:
            return "categorical"
        return "numeric" if not self.counts["text"] else "mixed"

    def mixed_error(self, path: Path, line_of, target: bool) -> DataFileError:
        numbers, texts = self.counts["number"], self.counts["text"]
        if numbers != texts:
            rare = "number" if numbers < texts else "text"
        else:   # a tie: the kind that appeared later is the odd one
            rare = max(self.first, key=lambda kind: self.first[kind][0])
        row, cell = self.first[rare]
        fix = ("pass task='classification' to read its values as class names" if target else
               f"pass it as categorical (--categorical {self.name})")
        return DataFileError(path, f"column {self.name!r} holds {cell!r}, the first {rare} in a column of "
                             f"{numbers} numbers and {texts} text cells; make the column all numbers or "
                             f"{fix}", line=line_of(row))


class TableScanner:
    """Pass 1's accumulated state for one table; see :func:`dendrite.data.csv_table.scan_csv`."""

    def __init__(self, path: Path, header: list[str], header_line: int, target: str | None,
                 categorical, task: str | None) -> None:
        categorical = (categorical,) if isinstance(categorical, str) else tuple(categorical)
        target = header[-1] if target is None else target
        for name, what in [(target, "target")] + [(name, "categorical") for name in categorical]:
            if name not in header:
                raise DataFileError(path, f"has no {what} column {name!r}; its columns are "
                                    f"{', '.join(map(repr, header))}", line=header_line)
        if task == "regression" and target in categorical:
            raise ValueError(f"scan_csv: target {target!r} cannot be categorical and a regression target")
        self.path, self.header, self.header_line, self.task = path, header, header_line, task
        as_classes = task == "classification"
        self.columns = [_ColumnScan(name, name in categorical or (name == target and as_classes))
                        for name in header]
        self.target = self.columns[header.index(target)]
        self.tracking = task != "regression"   # still collecting class ids
        self.lookup: dict = {}
        self.label_chunks: list = []
        self.distinct: set = set()
        self.rows = 0

    def add(self, start: int, columns: list) -> None:
        """Take one chunk: ``columns[j]`` holds the text cells of column ``j`` for rows ``start...``."""
        for scan, cells in zip(self.columns, columns):
            values = scan.add(cells, start)
            if scan is self.target and self.tracking:
                self._labels(cells, values)
        self.rows += len(columns[0])

    def _labels(self, cells: tuple, values: np.ndarray | None) -> None:
        if self.task is None and values is not None:   # a numeric target: still possibly classes?
            whole = bool(np.all(values == np.round(values)))
            if whole:
                self.distinct.update(np.unique(values).tolist())
            if not whole or len(self.distinct) > MAX_GUESSED_CLASSES:
                self.tracking, self.lookup, self.label_chunks = False, {}, []
                return
        lookup = self.lookup
        for cell in set(cells):
            lookup.setdefault(cell, len(lookup))
        self.label_chunks.append(np.fromiter(map(lookup.__getitem__, cells), np.int32, len(cells)))

    def finish(self, line_of) -> tuple[TableEncoding, np.ndarray | None]:
        """The encoding (all rows' statistics) and every row's class id (``None`` for regression).

        ``line_of(row)`` gives the line of a data row, for error messages.
        """
        if not self.rows:
            raise DataFileError(self.path, "is the header row, and no data rows follow it",
                                line=self.header_line)
        for scan in self.columns:
            if scan.kind == "mixed":
                raise scan.mixed_error(self.path, line_of, scan is self.target)
        target = self.target
        if target.kind == "categorical" and self.task == "regression":
            row, cell = target.first["text"]
            raise DataFileError(self.path, f"target {target.name!r} holds {cell!r}; a regression target must "
                                "be numbers", line=line_of(row))
        classification = target.kind == "categorical" or (self.task != "regression" and self.tracking)
        features = []
        for scan in self.columns:
            if scan is target:
                continue
            if scan.kind == "numeric":
                features.append(ColumnEncoding(scan.name, "numeric", scan.stats.mean, scan.stats.std))
            else:
                features.append(ColumnEncoding(scan.name, "categorical", categories=sorted(scan.categories)))
        if not classification:
            return TableEncoding(features, target.name, "regression", None, target.stats.mean,
                                 target.stats.std), None
        classes, ids = class_order(list(self.lookup))
        if len(classes) < 2:
            raise DataFileError(self.path, f"target {target.name!r} holds one class only ({classes[0]!r}); "
                                "classification needs at least 2", line=self.header_line)
        labels = np.asarray(ids, np.int32)[np.concatenate(self.label_chunks)]
        return TableEncoding(features, target.name, "classification", classes), labels
