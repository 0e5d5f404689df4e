"""A user's CSV table of any size, read in two streaming passes into ``x``/``y`` arrays.

Pass 1 (:func:`scan_csv`) reads the file chunk by chunk and decides each column's kind
(numeric or categorical), the category sets, the row count, the task and every row's class id,
and accumulates means and standard deviations (float64, pooled chunk by chunk). Pass 2
(:func:`encode_csv`, :func:`csv_splits`) encodes the rows straight into their output arrays,
which are memory-mapped ``.npy`` files when they are larger than :data:`IN_MEMORY_BYTES` and a
folder for them is given: a file larger than memory never has to be held whole.

:func:`csv_splits` standardises with the *training* rows' statistics only, still in two passes:
pass 2 writes values standardised with pass 1's all-row statistics (well scaled for float32),
accumulates the training rows' exact statistics as it goes, and then corrects the output arrays
in place, chunk by chunk, with one multiply-add per numeric column (no second parse).

Every bad cell, row or header is a :class:`~dendrite.data.file_errors.DataFileError` naming the
file and the line. Missing values are never guessed.
"""

from __future__ import annotations

import csv
import struct
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dendrite.data.csv_scan import PooledStats, TableScanner, check_header
from dendrite.data.file_errors import DataFileError
from dendrite.data.progress import indexing_bar
from dendrite.data.splits import train_test_split
from dendrite.data.table_encoding import CellError, TableEncoding, parse_numbers

__all__ = ["IN_MEMORY_BYTES", "CsvScan", "scan_csv", "encode_csv", "csv_splits"]

IN_MEMORY_BYTES = 256 * 2**20
"""Encoded ``x`` larger than this goes to a memory-mapped ``.npy`` (when a folder is given)."""

CHUNK_CELLS = 500_000
"""Cells per chunk (rows = this / columns): bounds the Python strings held at once (~40 MB)."""


@dataclass
class CsvScan:
    """What pass 1 learned about a file besides its encoding.

    Attributes:
        path: the file.
        rows: the number of data rows (blank lines are skipped).
        labels: ``(rows,)`` int32 class id of every row (classification), else ``None``.
        header: the column names in file order.

    Example:
        >>> import tempfile, os
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = os.path.join(folder.name, "pets.csv")
        >>> _ = open(path, "w").write("weight,pet\\n4.0,cat\\n30.0,dog\\n5.0,cat\\n")
        >>> _, scan = scan_csv(path)
        >>> scan.rows, scan.header, scan.labels.tolist()
        (3, ['weight', 'pet'], [0, 1, 0])
        >>> folder.cleanup()
    """

    path: Path
    rows: int
    labels: np.ndarray | None
    header: list[str]


def _delimiter(path: Path, delimiter: str | None) -> str:
    return delimiter if delimiter is not None else "\t" if path.suffix.lower() == ".tsv" else ","


class _Rows:
    """A CSV file's header, then its data rows in chunks ``(first_row_index, rows)``; errors name lines."""

    def __init__(self, path: Path, delimiter: str) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist")
        self.path, self.delimiter = path, delimiter
        self.handle = open(path, newline="", encoding="utf-8-sig")
        self.reader = csv.reader(self.handle, delimiter=delimiter)
        row = self._next()
        while row == []:   # blank lines before the header
            row = self._next()
        if row is None:
            raise DataFileError(path, "is empty; expected a header row naming the columns, then data rows")
        self.header_line = self.reader.line_num
        self.header = check_header(path, row, self.header_line)

    def _next(self):
        try:
            return next(self.reader, None)
        except UnicodeDecodeError:
            raise DataFileError(self.path, "is not UTF-8 text; expected a CSV file",
                                line=self.reader.line_num + 1) from None
        except csv.Error as error:
            raise DataFileError(self.path, f"is not readable as CSV: {error}",
                                line=self.reader.line_num) from None

    def chunks(self):
        width = len(self.header)
        size = max(1, CHUNK_CELLS // width)
        start = 0
        while True:
            rows = []
            while len(rows) < size:
                row = self._next()
                if row is None:
                    break
                if row:   # a blank line is no row
                    rows.append(row)
            if not rows:
                return
            if any(len(row) != width for row in rows):
                bad = next(i for i, row in enumerate(rows) if len(row) != width)
                raise DataFileError(self.path, f"has {len(rows[bad])} fields; expected {width} like the "
                                    "header", line=self.line_of(start + bad))
            yield start, rows
            start += len(rows)

    def line_of(self, row_index: int) -> int:
        """The line where data row ``row_index`` starts (re-reads the file: for error messages only)."""
        with open(self.path, newline="", encoding="utf-8-sig", errors="replace") as handle:
            reader, seen, previous = csv.reader(handle, delimiter=self.delimiter), -2, 0
            for row in reader:
                if row:
                    seen += 1
                    if seen == row_index:
                        return previous + 1
                previous = reader.line_num
        return previous

    def fail(self, error: CellError, start: int = 0):
        raise DataFileError(self.path, error.problem, line=self.line_of(start + error.row)) from None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()


def scan_csv(path: str | Path, target: str | None = None, categorical=(), task: str | None = None,
             delimiter: str | None = None, progress: bool = False) -> tuple[TableEncoding, CsvScan]:
    """Pass 1: each column's kind, categories and statistics, the task, every row's class id.

    Args:
        path: a CSV (``,``) or ``.tsv`` (tab) file whose first row names the columns.
        target: the target column's name (default: the last column).
        categorical: names of numeric-looking columns to one-hot instead (e.g. zip codes).
        task: ``"classification"``, ``"regression"`` or ``None`` to guess: classification when
            the target holds text, or only whole numbers with at most 50 distinct values;
            regression otherwise.
        delimiter: the field separator (default: tab for ``.tsv``, else comma).
        progress: show a progress bar (tqdm) on stderr.

    A column of numbers is numeric (standardised with its mean and population standard
    deviation, a constant column with std 1); a column of text is categorical; a column mixing
    both is an error naming the first cell of the rarer kind.

    Shapes: ``CsvScan.labels`` ``(rows,)`` int32 or ``None``.

    Example:
        >>> _ = open("t.csv", "w").write("width,color,species\\n1,red,b\\n3,blue,a\\n")
        >>> encoding, scan = scan_csv("t.csv")
        >>> encoding.feature_names, encoding.classes, scan.rows, scan.labels.tolist()
        (['width', 'color=blue', 'color=red'], ['a', 'b'], 2, [1, 0])
        >>> encoding.columns[0].mean, encoding.columns[0].std
        (2.0, 1.0)
    """
    path = Path(path).expanduser()
    if task not in (None, "classification", "regression"):
        raise ValueError(f"scan_csv: task must be 'classification', 'regression' or None, got {task!r}")
    delimiter = _delimiter(path, delimiter)
    with _Rows(path, delimiter) as rows, indexing_bar(None, f"scanning {path.name}", progress, "rows") as bar:
        scanner = TableScanner(path, rows.header, rows.header_line, target, categorical, task)
        for start, chunk in rows.chunks():
            try:
                scanner.add(start, list(zip(*chunk)))
            except CellError as error:
                rows.fail(error)
            bar.update(len(chunk))
        encoding, labels = scanner.finish(rows.line_of)
    encoding.delimiter = delimiter
    return encoding, CsvScan(path, scanner.rows, labels, list(rows.header))


class _GrowingNpy:
    """Rows appended to a float32 ``.npy`` whose row count is written when it is closed."""

    HEADER = 128   # bytes: the 10-byte preamble and the header dict padded with spaces (NPY format 1.0)

    def __init__(self, path: Path, width: int) -> None:
        self.path, self.width, self.rows = path, width, 0
        self.handle = open(path, "wb")
        self.handle.write(self._header(0))

    def _header(self, rows: int) -> bytes:
        text = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {self.width}), }}"
        text = text.ljust(self.HEADER - 11) + "\n"
        return np.lib.format.magic(1, 0) + struct.pack("<H", len(text)) + text.encode("latin1")

    def append(self, x: np.ndarray) -> None:
        self.handle.write(np.ascontiguousarray(x, "<f4").tobytes())
        self.rows += len(x)

    def close(self) -> np.ndarray:
        self.handle.seek(0)
        self.handle.write(self._header(self.rows))
        self.handle.close()
        return np.load(self.path, mmap_mode="r")


def encode_csv(path: str | Path, encoding: TableEncoding, require_target: bool = True,
               progress: bool = False, memmap_dir: str | Path | None = None,
               delimiter: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Pass 2 over any file with the encoding's feature columns: ``(x, y)``.

    Columns are matched by name, in any order; columns the encoding does not use are ignored,
    a missing feature column is an error. A category or class not seen in training is an error.

    Args:
        encoding: from :func:`scan_csv` / :func:`csv_splits` or ``TableEncoding.from_json``.
        require_target: ``False`` reads features only (a file to predict): the target column may
            be absent, and is not read when present (``y`` is ``None``).
        memmap_dir: where ``x`` goes as ``<file stem>_x.npy`` when it exceeds
            :data:`IN_MEMORY_BYTES` (returned opened read-only, memory-mapped).
        delimiter: default: tab for ``.tsv``, else comma.

    Shapes: ``x (N, n_features)`` float32; ``y (N,)`` int64 class ids or ``(N, 1)`` float32.

    Example:
        >>> _ = open("train.csv", "w").write("width,color,species\\n1,red,b\\n3,blue,a\\n")
        >>> _ = open("new.csv", "w").write("color,width\\nblue,2\\n")
        >>> encoding, _ = scan_csv("train.csv")
        >>> x, y = encode_csv("new.csv", encoding, require_target=False)
        >>> x.tolist(), y
        ([[0.0, 1.0, 0.0]], None)
    """
    path = Path(path).expanduser()
    with _Rows(path, _delimiter(path, delimiter)) as rows:
        index = {name: i for i, name in enumerate(rows.header)}
        missing = [c.name for c in encoding.columns if c.name not in index]
        if missing:
            raise DataFileError(path, f"has no column {', '.join(map(repr, missing))}; the model was trained "
                                f"on columns {[c.name for c in encoding.columns]}", line=rows.header_line)
        has_target = require_target and encoding.target is not None and encoding.target in index
        if require_target and not has_target:
            raise DataFileError(path, f"has no target column {encoding.target!r}; columns: {rows.header}",
                                line=rows.header_line)
        chunks, ys, held, sink = [], [], 0, None
        with indexing_bar(None, f"encoding {path.name}", progress, "rows") as bar:
            for start, chunk in rows.chunks():
                columns = list(zip(*chunk))
                try:
                    x = encoding.encode_features({c.name: columns[index[c.name]] for c in encoding.columns})
                    if has_target:
                        ys.append(encoding.encode_target(columns[index[encoding.target]]))
                except CellError as error:
                    rows.fail(error, start)
                if sink is None and memmap_dir is not None and held + x.nbytes > IN_MEMORY_BYTES:
                    sink = _GrowingNpy(Path(memmap_dir) / f"{path.stem}_x.npy", encoding.n_features)
                    for earlier in chunks:
                        sink.append(earlier)
                    chunks = []
                if sink is not None:
                    sink.append(x)
                else:
                    chunks.append(x)
                    held += x.nbytes
                bar.update(len(chunk))
    if sink is None and not chunks:
        raise DataFileError(path, "has a header row but no data rows", line=rows.header_line + 1)
    x = sink.close() if sink is not None else np.concatenate(chunks)
    return x, (np.concatenate(ys) if has_target else None)


def _output(rows: int, width: int, memmap: bool, folder: Path | None, name: str) -> np.ndarray:
    if memmap:
        return np.lib.format.open_memmap(folder / f"{name}.npy", mode="w+", dtype=np.float32,
                                         shape=(rows, width))
    return np.empty((rows, width), np.float32)


def _restandardise(x: np.ndarray, columns: list[int], scale: np.ndarray, shift: np.ndarray) -> None:
    """``x[:, columns] = x[:, columns] * scale + shift`` in place, chunk by chunk (memmaps too)."""
    if not columns or len(x) == 0:
        return
    step = max(1, CHUNK_CELLS // max(1, x.shape[1]))
    for a in range(0, len(x), step):
        block = x[a:a + step, columns].astype(np.float64)
        x[a:a + step, columns] = (block * scale + shift).astype(np.float32)


def csv_splits(path: str | Path, target: str | None = None, categorical=(), task: str | None = None,
               test_fraction: float = 0.2, seed: int = 0, memmap_dir: str | Path | None = None,
               progress: bool = False):
    """A CSV file as ``(encoding, x_train, y_train, x_test, y_test)``, statistics from training rows only.

    The test rows are chosen from pass 1's row count (stratified by class for classification,
    seeded), then pass 2 writes each row into its part, in file order (a data loader shuffles).
    Categories are those of the whole file (a test row may not hold an unknown category).

    Args:
        target, categorical, task: as for :func:`scan_csv`.
        test_fraction: share of rows in the test part (rounded to the nearest row).
        seed: the split's randomness.
        memmap_dir: where ``x_train.npy``/``x_test.npy`` go when the two together exceed
            :data:`IN_MEMORY_BYTES` (returned opened read-only, memory-mapped).

    Shapes: ``x_* (N_*, n_features)`` float32; ``y_*`` ``(N_*,)`` int64 or ``(N_*, 1)`` float32.

    Example:
        >>> _ = open("t.csv", "w").write("size,kind\\n" + "".join(f"{i},{'ab'[i % 2]}\\n" for i in range(10)))
        >>> encoding, x_train, y_train, x_test, y_test = csv_splits("t.csv", test_fraction=0.2)
        >>> x_train.shape, x_test.shape, np.bincount(y_test).tolist()
        ((8, 1), (2, 1), [1, 1])
        >>> round(float(x_train.mean()), 6), round(float(x_train.std()), 6)
        (0.0, 1.0)
    """
    path = Path(path).expanduser()
    encoding, scan = scan_csv(path, target, categorical, task, progress=progress)
    classification = encoding.task == "classification"
    _, _, test_rows, _ = train_test_split(np.arange(scan.rows), scan.labels, test_fraction, seed,
                                          stratify=classification)
    is_test = np.zeros(scan.rows, bool)
    is_test[test_rows] = True
    del test_rows
    n_test = int(is_test.sum())
    width = encoding.n_features
    memmap = memmap_dir is not None and scan.rows * width * 4 > IN_MEMORY_BYTES
    folder = Path(memmap_dir) if memmap else None
    x_parts = [_output(scan.rows - n_test, width, memmap, folder, "x_train"),
               _output(n_test, width, memmap, folder, "x_test")]
    y_parts = [np.empty((len(x), 1), np.float32) for x in x_parts] if not classification else None
    numeric = [c.name for c in encoding.columns if c.kind == "numeric"]
    stats = {name: PooledStats() for name in numeric + ([encoding.target] if y_parts else [])}
    at = [0, 0]
    with _Rows(path, encoding.delimiter) as rows, \
            indexing_bar(scan.rows, f"encoding {path.name}", progress, "rows") as bar:
        index = {name: i for i, name in enumerate(rows.header)}
        for start, chunk in rows.chunks():
            columns, raw = list(zip(*chunk)), {}
            test = is_test[start:start + len(chunk)]
            if len(test) < len(chunk) or rows.header != scan.header:
                raise DataFileError(path, "changed while it was being read", line=rows.line_of(start))
            try:
                x = encoding.encode_features({c.name: columns[index[c.name]] for c in encoding.columns}, raw)
                if y_parts:
                    raw[encoding.target] = parse_numbers(columns[index[encoding.target]], encoding.target)
            except CellError as error:
                rows.fail(error, start)
            for name, values in raw.items():
                stats[name].add(values[~test])
            for part, keep in ((0, ~test), (1, test)):
                k = int(keep.sum())
                x_parts[part][at[part]:at[part] + k] = x[keep]
                if y_parts:
                    y_parts[part][at[part]:at[part] + k, 0] = (
                        (raw[encoding.target][keep] - encoding.target_mean) / encoding.target_std)
                at[part] += k
            bar.update(len(chunk))
    if at != [len(x_parts[0]), len(x_parts[1])]:
        raise DataFileError(path, f"changed while it was being read: {sum(at)} rows, then {scan.rows}")
    # Correct the all-row standardisation to the training rows' statistics, in place.
    final = [replace(c, mean=stats[c.name].mean, std=stats[c.name].std) if c.kind == "numeric" else c
             for c in encoding.columns]
    where = [start for c, start in zip(encoding.columns, encoding.offsets()) if c.kind == "numeric"]
    old_mean = np.array([c.mean for c in encoding.columns if c.kind == "numeric"])
    old_std = np.array([c.std for c in encoding.columns if c.kind == "numeric"])
    new_mean = np.array([c.mean for c in final if c.kind == "numeric"])
    new_std = np.array([c.std for c in final if c.kind == "numeric"])
    for x in x_parts:
        _restandardise(x, where, old_std / new_std, (old_mean - new_mean) / new_std)
    trained = replace(encoding, columns=final)
    if y_parts:
        pooled = stats[encoding.target]
        trained.target_mean, trained.target_std = pooled.mean, pooled.std
        for y in y_parts:
            _restandardise(y, [0], np.array([encoding.target_std / pooled.std]),
                           np.array([(encoding.target_mean - pooled.mean) / pooled.std]))
        y_train, y_test = y_parts
    else:
        y_train, y_test = (scan.labels[~is_test].astype(np.int64), scan.labels[is_test].astype(np.int64))
    if memmap:
        for x in x_parts:
            x.flush()
        x_parts = [np.load(folder / f"{name}.npy", mmap_mode="r") for name in ("x_train", "x_test")]
    return trained, x_parts[0], y_train, x_parts[1], y_test
