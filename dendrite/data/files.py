"""Loaders for data files users bring: MNIST-style IDX, CIFAR-10 binary batches, CSV.

Nothing here downloads. Each loader reads plain bytes (never a pickle), checks
the format as it goes and names the file in every error.

* IDX (MNIST, Fashion-MNIST): a big-endian header ``0x00 0x00 <type> <ndim>``
  and ``ndim`` 4-byte sizes, then the values; labels are 2049 (0x00000801),
  images 2051 (0x00000803). Raw or gzip-compressed (detected from the bytes).
* CIFAR-10 binary: ``data_batch_1.bin`` .. ``data_batch_5.bin`` and
  ``test_batch.bin``, records of 1 label byte + 3,072 pixel bytes (1,024 red,
  then green, then blue, row-major 32x32).
* CSV: numeric feature columns and one label column chosen by name or index.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dendrite.data.cifar_python import CIFAR10_CLASSES, cifar10_splits, load_cifar10_python
from dendrite.data.splits import DataSplits, train_test_split

# IDX type byte -> big-endian dtype.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path, who: str) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"{who}: {path} does not exist")
    data = path.read_bytes()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise ValueError(f"{who}: {path} is a damaged gzip file: {error}") from None
    return data


def load_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file (raw or ``.gz``), in its native dtype.

    Shapes: labels ``(N,)`` uint8, images ``(N, rows, cols)`` uint8.

    Example (a three-label file: magic 0x00000801, size 3, then the bytes):
        >>> _ = open("labels-idx1-ubyte", "wb").write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
        >>> load_idx("labels-idx1-ubyte")
        array([7, 2, 1], dtype=uint8)
    """
    path = Path(path)
    data = _read_bytes(path, "load_idx")
    if len(data) < 4:
        raise ValueError(f"load_idx: {path} is too short to be an IDX file ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    type_code, ndim = data[2], data[3]
    if data[:2] != b"\x00\x00" or type_code not in _IDX_TYPES or ndim == 0:
        raise ValueError(
            f"load_idx: {path} is not an IDX file: magic number 0x{magic:08x}, expected 0x00000801 "
            "(labels) or 0x00000803 (images), or another 0x0000TTDD IDX header"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"load_idx: {path} is truncated inside its header ({len(data)} bytes)")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"load_idx: {path} has {len(data) - header} bytes of data but its header says shape {shape} "
            f"of {dtype.name} ({expected} bytes); the file is truncated or not what it claims"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def idx_file(directory: Path, stem: str) -> Path | None:
    """The IDX file ``stem`` in ``directory``, named as MNIST's are: raw or ``.gz``, ``-idx`` or ``.idx``.

    Example:
        >>> idx_file(Path("."), "train-images-idx3-ubyte") is None
        True
    """
    dotted = stem.replace("-idx", ".idx")
    return next((directory / name for name in (stem, stem + ".gz", dotted, dotted + ".gz")
                 if (directory / name).is_file()), None)


def _find(directory: Path, stem: str, who: str) -> Path:
    path = idx_file(directory, stem)
    if path is None:
        raise FileNotFoundError(f"{who}: no {stem}[.gz] in {directory}")
    return path


def load_mnist(directory: str | Path, name: str = "mnist", scale: bool = True) -> DataSplits:
    """MNIST or Fashion-MNIST from the four standard IDX files in ``directory``.

    Expects ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
    and ``t10k-labels-idx1-ubyte`` (each raw or ``.gz``).

    Shapes: ``x_train (60000, 28, 28)`` float32 in [0, 1] (``scale=False``: uint8), ``y_train
    (60000,)`` int64; the test part has 10,000. The ``name`` (``'mnist'``, ``'fashion-mnist'``)
    only labels the result.

    Example (two blank images per part, written as IDX files):
        >>> import os
        >>> def write_idx(path, array):   # header: 0, 0, type 0x08 (uint8), ndim; then the sizes
        ...     sizes = b"".join(size.to_bytes(4, "big") for size in array.shape)
        ...     _ = open(path, "wb").write(bytes([0, 0, 8, array.ndim]) + sizes + array.tobytes())
        >>> os.mkdir("mnist")
        >>> for prefix in ("train", "t10k"):
        ...     write_idx(f"mnist/{prefix}-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
        ...     write_idx(f"mnist/{prefix}-labels-idx1-ubyte", np.array([3, 1], np.uint8))
        >>> data = load_mnist("mnist")
        >>> data.x_train.shape, data.x_train.dtype, data.y_test.tolist()
        ((2, 28, 28), dtype('float32'), [3, 1])
    """
    directory = Path(directory).expanduser()
    arrays = {}
    for part, prefix in (("train", "train"), ("test", "t10k")):
        images_path = _find(directory, f"{prefix}-images-idx3-ubyte", "load_mnist")
        labels_path = _find(directory, f"{prefix}-labels-idx1-ubyte", "load_mnist")
        images, labels = load_idx(images_path), load_idx(labels_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(
                f"load_mnist: {images_path} holds {images.dtype} of shape {images.shape}; expected uint8 "
                "images of shape (N, rows, cols) (magic 0x00000803)"
            )
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise ValueError(
                f"load_mnist: {labels_path} holds {labels.dtype} of shape {labels.shape}; expected uint8 "
                "labels of shape (N,) (magic 0x00000801)"
            )
        if len(images) != len(labels):
            raise ValueError(
                f"load_mnist: {images_path} has {len(images)} images but {labels_path} has {len(labels)} "
                "labels; expected one label per image"
            )
        arrays[part] = (images.astype(np.float32) / 255.0 if scale else images, labels.astype(np.int64))
    (x_train, y_train), (x_test, y_test) = arrays["train"], arrays["test"]
    return DataSplits(
        name, "classification", x_train, y_train, x_test, y_test, input_shape=x_train.shape[1:],
        num_classes=10,
        info={"description": f"{name} from IDX files in {directory}", "directory": str(directory)},
    )


_CIFAR_RECORD = 1 + 3 * 32 * 32


def load_cifar10_batch(path: str | Path) -> tuple:
    """One CIFAR-10 binary batch: ``(images (N, 3, 32, 32) uint8, labels (N,) int64)``.

    Example (two records: label 6, then 3,072 pixel bytes each):
        >>> _ = open("test_batch.bin", "wb").write((bytes([6]) + bytes(3072)) * 2)
        >>> images, labels = load_cifar10_batch("test_batch.bin")
        >>> images.shape, labels.tolist()
        ((2, 3, 32, 32), [6, 6])
    """
    path = Path(path)
    data = _read_bytes(path, "load_cifar10_batch")
    if len(data) == 0 or len(data) % _CIFAR_RECORD:
        raise ValueError(
            f"load_cifar10_batch: {path} has {len(data)} bytes, not a whole number of {_CIFAR_RECORD}-byte "
            "records (1 label byte + 3072 pixel bytes); the file is truncated or not a CIFAR-10 batch"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, _CIFAR_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        bad = int(np.flatnonzero(labels > 9)[0])
        raise ValueError(
            f"load_cifar10_batch: {path} record {bad} has label {labels[bad]}; expected 0..9 (CIFAR-10)"
        )
    return records[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


def load_cifar10(directory: str | Path, scale: bool = True) -> DataSplits:
    """CIFAR-10 from ``data_batch_1.bin`` .. ``data_batch_5.bin`` and ``test_batch.bin`` in ``directory``.

    Training batches that are missing are skipped (at least one is needed); ``test_batch.bin`` is
    required. A folder of the "python version" instead (``data_batch_1`` .., ``test_batch``, no
    suffix) goes to ``cifar_python.load_cifar10_python``, which parses those pickles as data.
    Shapes: ``x (N, 3, 32, 32)`` float32 in [0, 1] (``scale=False``: uint8), ``y (N,)`` int64.

    Example (one training batch and the test batch, two records each):
        >>> import os
        >>> os.mkdir("cifar")
        >>> for name in ("data_batch_1.bin", "test_batch.bin"):
        ...     _ = open(f"cifar/{name}", "wb").write((bytes([3]) + bytes(3072)) * 2)
        >>> data = load_cifar10("cifar")
        >>> data.x_train.shape, data.y_test.tolist(), data.info["classes"][3]
        ((2, 3, 32, 32), [3, 3], 'cat')
    """
    directory = Path(directory).expanduser()
    train_paths = [directory / f"data_batch_{i}.bin" for i in range(1, 6)]
    train_paths = [p for p in train_paths if p.is_file()]
    python_names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    if not train_paths and not (directory / "test_batch.bin").is_file() and \
            any((directory / name).is_file() for name in python_names):
        return load_cifar10_python(directory, scale)
    if not train_paths:
        raise FileNotFoundError(f"load_cifar10: no data_batch_1.bin .. data_batch_5.bin in {directory}")
    test_path = directory / "test_batch.bin"
    if not test_path.is_file():
        raise FileNotFoundError(f"load_cifar10: no test_batch.bin in {directory}")
    batches = [load_cifar10_batch(p) for p in train_paths]
    return cifar10_splits(batches, load_cifar10_batch(test_path), scale, CIFAR10_CLASSES,
                          f"CIFAR-10 from {directory}", [p.name for p in train_paths] + [test_path.name])


@dataclass
class CsvData:
    """Features and labels read from a CSV file; unpacks as ``x, y = load_csv(...)``.

    ``x`` is float32 ``(N, F)``; ``y`` is int64 when the labels are whole numbers or text (text
    labels become ids into ``classes``, sorted), float32 otherwise.

    Example:
        >>> table = CsvData(np.zeros((10, 2), np.float32), np.arange(10) % 2, ["a", "b"], "label")
        >>> x, y = table
        >>> splits = table.splits(test_fraction=0.2)
        >>> x.shape, splits.task, splits.x_train.shape, splits.x_test.shape
        ((10, 2), 'classification', (8, 2), (2, 2))
    """

    x: np.ndarray
    y: np.ndarray
    feature_names: list
    label_name: str
    classes: list | None = None

    def __iter__(self):
        return iter((self.x, self.y))

    def splits(self, name: str = "csv", test_fraction: float = 0.2, seed: int = 0,
               stratify: bool | None = None) -> DataSplits:
        """A seeded train/test split (stratified by default for integer labels).

        Shapes: ``x_train (N_train, F)``, ``x_test (N_test, F)``; integer labels stay ``(N,)``,
        regression targets become ``(N, 1)``.
        """
        classify = self.y.dtype.kind == "i" and bool(self.y.min() >= 0)
        stratify = classify if stratify is None else stratify
        x_train, y_train, x_test, y_test = train_test_split(
            self.x, self.y, test_fraction, seed=seed, stratify=stratify
        )
        if not classify:  # regression targets as (N, 1), matching a model's (N, 1) output
            y_train = y_train.reshape(-1, 1).astype(np.float32)
            y_test = y_test.reshape(-1, 1).astype(np.float32)
        return DataSplits(
            name, "classification" if classify else "regression", x_train, y_train, x_test, y_test,
            input_shape=(self.x.shape[1],), num_classes=int(self.y.max()) + 1 if classify else None,
            info={"description": f"CSV features {self.feature_names} -> {self.label_name}",
                  "classes": self.classes},
        )


def _looks_like_header(row: list) -> bool:
    def numeric(cell: str) -> bool:
        try:
            float(cell)
        except ValueError:
            return False
        return True

    return bool(row) and not any(numeric(cell) for cell in row)


def load_csv(path: str | Path, label_column: int | str = -1, header: bool | None = None,
             delimiter: str = ",") -> CsvData:
    """Read a CSV of numeric features and one label column.

    Args:
        label_column: the label's column index (negative counts from the end) or header name.
        header: whether the first row holds column names; ``None`` guesses (a first row with no
            numeric cell is a header).
        delimiter: the field separator.

    Shapes: ``x (N, F)`` float32 (every column but the label), ``y (N,)``.

    Example:
        >>> _ = open("iris.csv", "w").write("length,width,species\\n5.1,3.5,setosa\\n7.0,3.2,versicolor\\n")
        >>> x, y = load_csv("iris.csv", label_column="species")
        >>> x.shape, y.tolist(), load_csv("iris.csv", "species").classes
        ((2, 2), [0, 1], ['setosa', 'versicolor'])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_csv: {path} does not exist")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle, delimiter=delimiter) if row and any(c.strip() for c in row)]
    if not rows:
        raise ValueError(f"load_csv: {path} is empty")
    if header is None:
        header = _looks_like_header(rows[0])
    names = [c.strip() for c in rows[0]] if header else [f"column_{i}" for i in range(len(rows[0]))]
    body = rows[1:] if header else rows
    if not body:
        raise ValueError(f"load_csv: {path} has a header but no data rows")
    width = len(names)
    if isinstance(label_column, str):
        if label_column not in names:
            raise ValueError(f"load_csv: {path} has no column named {label_column!r}; columns are {names}")
        label_index = names.index(label_column)
    else:
        if not -width <= label_column < width:
            raise ValueError(
                f"load_csv: label_column {label_column} is out of range for {width} columns in {path}"
            )
        label_index = label_column % width
    first_line = 2 if header else 1
    features, labels = [], []
    for offset, row in enumerate(body):
        line = first_line + offset
        if len(row) != width:
            raise ValueError(f"load_csv: {path} line {line} has {len(row)} fields, expected {width}")
        values = []
        for column, cell in enumerate(row):
            if column == label_index:
                continue
            try:
                values.append(float(cell))
            except ValueError:
                raise ValueError(
                    f"load_csv: {path} line {line} column {names[column]!r} holds {cell!r}, which is not a "
                    "number; feature columns must be numeric"
                ) from None
        features.append(values)
        labels.append(row[label_index].strip())
    y, classes = _labels(labels)
    feature_names = [n for i, n in enumerate(names) if i != label_index]
    return CsvData(np.asarray(features, dtype=np.float32).reshape(len(body), width - 1), y,
                   feature_names, names[label_index], classes)


def _labels(cells: list) -> tuple:
    """Numeric labels stay numbers (int64 when whole); text labels become sorted class ids."""
    try:
        values = np.asarray([float(cell) for cell in cells])
    except ValueError:
        classes = sorted(set(cells))
        lookup = {name: i for i, name in enumerate(classes)}
        return np.asarray([lookup[cell] for cell in cells], dtype=np.int64), classes
    if np.all(np.isfinite(values)) and np.all(values == np.round(values)):
        return values.astype(np.int64), None
    return values.astype(np.float32), None
