"""CIFAR-10's "python version" (``cifar-10-batches-py``), read as data and never unpickled.

The folder holds ``data_batch_1`` .. ``data_batch_5``, ``test_batch`` and ``batches.meta`` (no
suffix), each a pickle of a dict written by Python 2's ``cPickle``:

* a batch: ``{b'batch_label': ..., b'labels': [N ints 0..9], b'data': uint8 array (N, 3072),
  b'filenames': [...]}``, each row 1,024 red, then green, then blue bytes (row-major 32x32);
* ``batches.meta``: ``{b'label_names': [b'airplane', ...], b'num_cases_per_batch': 10000, ...}``.

``read_pickle_data`` parses the pickles without running them; this module checks that what they
hold is a CIFAR-10 batch (keys as bytes or str) and names the file, and the record, in each error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dendrite.data.file_errors import DataFileError
from dendrite.data.pickle_data import brief_repr, read_pickle_data
from dendrite.data.splits import DataSplits

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

__all__ = ["CIFAR10_CLASSES", "cifar10_splits", "load_cifar10_python", "read_cifar10_python_batch",
           "read_cifar10_python_meta"]

_PIXELS = 3 * 32 * 32


def _entry(path: Path, table: object, key: str, what: str) -> object:
    """``table[b'key']`` or ``table['key']`` (Python 2 wrote bytes keys; a Python 3 copy has str)."""
    if not isinstance(table, dict):
        raise DataFileError(path, f"holds {brief_repr(table)}; expected a dict ({what})")
    for candidate in (key.encode(), key):
        if candidate in table:
            return table[candidate]
    keys = sorted(brief_repr(k.decode("latin-1") if isinstance(k, bytes) else k, 30) for k in table)
    keys = ", ".join(keys[:12]) + (f", ... ({len(keys)} keys)" if len(keys) > 12 else "")
    hint = " (a CIFAR-100 batch has 'fine_labels'; this reader is for CIFAR-10)" \
        if key == "labels" and "fine_labels" in keys else ""
    raise DataFileError(path, f"has no {key!r} entry (keys: [{keys}]); expected {what}{hint}")


def read_cifar10_python_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch: ``(images (N, 3, 32, 32) uint8, labels (N,) int64)``.

    Raises:
        DataFileError: the file is not a pickle of plain data, or not a dict with ``data`` (uint8,
            ``(N, 3072)``) and ``labels`` (``N`` ints 0..9).

    Example (a two-record batch, pickled here by the stdlib; it is only parsed when read):
        >>> import pickle
        >>> batch = {b"labels": [6, 9], b"data": np.zeros((2, 3072), np.uint8)}
        >>> _ = open("data_batch_1", "wb").write(pickle.dumps(batch, protocol=2))
        >>> images, labels = read_cifar10_python_batch("data_batch_1")
        >>> images.shape, images.dtype, labels.tolist()
        ((2, 3, 32, 32), dtype('uint8'), [6, 9])
    """
    path = Path(path)
    batch = read_pickle_data(path)
    expected = "a CIFAR-10 python batch with 'data' and 'labels'"
    data = _entry(path, batch, "data", expected)
    labels = _entry(path, batch, "labels", expected)
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == _PIXELS):
        raise DataFileError(path, f"holds 'data' as {brief_repr(data)}; expected a uint8 array of shape "
                                  f"(N, {_PIXELS}) (3 x 32 x 32 pixels per row)")
    if isinstance(labels, np.ndarray) and labels.ndim == 1 and labels.dtype.kind in "iu":
        labels = labels.tolist()
    if not isinstance(labels, list):
        raise DataFileError(path, f"holds 'labels' as a {type(labels).__name__}; expected a list of "
                                  "ints 0..9")
    if len(labels) != len(data):
        raise DataFileError(path, f"has {len(data)} images but {len(labels)} labels; expected one "
                                  "label per row of 'data'")
    for record, label in enumerate(labels):
        if not isinstance(label, (int, np.integer)) or isinstance(label, bool) or not 0 <= label <= 9:
            raise DataFileError(path, f"has label {brief_repr(label)}; expected an int 0..9 (CIFAR-10)",
                                record=record)
    images = np.ascontiguousarray(data).reshape(len(data), 3, 32, 32)
    return images, np.asarray(labels, dtype=np.int64).reshape(len(labels))


def read_cifar10_python_meta(path: str | Path) -> list[str]:
    """The class names in a ``batches.meta`` file (``label_names``), decoded to ``str``.

    Example:
        >>> import pickle
        >>> meta = {b"label_names": [b"airplane", b"automobile"], b"num_vis": 3072}
        >>> _ = open("batches.meta", "wb").write(pickle.dumps(meta, protocol=2))
        >>> read_cifar10_python_meta("batches.meta")
        ['airplane', 'automobile']
    """
    path = Path(path)
    names = _entry(path, read_pickle_data(path), "label_names", "a CIFAR-10 batches.meta with 'label_names'")
    if not isinstance(names, list) or not all(isinstance(n, (bytes, str)) for n in names):
        raise DataFileError(path, f"holds 'label_names' as {brief_repr(names)}; expected a list of names")
    try:
        return [n.decode("utf-8") if isinstance(n, bytes) else n for n in names]
    except UnicodeDecodeError:
        raise DataFileError(path, "holds a label name that is not UTF-8 text; expected class names") \
            from None


def load_cifar10_python(directory: str | Path, scale: bool = True) -> DataSplits:
    """CIFAR-10 from the python batches ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``.

    Mirrors ``files.load_cifar10`` (which hands a folder of python batches to this function):
    training batches that are missing are skipped (at least one is needed); ``test_batch`` is
    required; the class names come from ``batches.meta`` when it is there. Shapes: ``x (N, 3, 32,
    32)`` float32 in [0, 1] (``scale=False``: uint8), ``y (N,)`` int64.

    Example (one training batch and the test batch, two records each):
        >>> import os, pickle
        >>> os.mkdir("cifar-10-batches-py")
        >>> batch = {b"labels": [3, 8], b"data": np.full((2, 3072), 255, np.uint8)}
        >>> for name in ("data_batch_1", "test_batch"):
        ...     _ = open(f"cifar-10-batches-py/{name}", "wb").write(pickle.dumps(batch, protocol=2))
        >>> data = load_cifar10_python("cifar-10-batches-py")
        >>> data.x_train.shape, float(data.x_train.max()), data.y_test.tolist(), data.info["classes"][8]
        ((2, 3, 32, 32), 1.0, [3, 8], 'ship')
    """
    directory = Path(directory).expanduser()
    train_paths = [directory / f"data_batch_{i}" for i in range(1, 6)]
    train_paths = [p for p in train_paths if p.is_file()]
    if not train_paths:
        raise FileNotFoundError(f"load_cifar10_python: no data_batch_1 .. data_batch_5 in {directory}")
    test_path = directory / "test_batch"
    if not test_path.is_file():
        raise FileNotFoundError(f"load_cifar10_python: no test_batch in {directory}")
    meta_path = directory / "batches.meta"
    classes = CIFAR10_CLASSES
    if meta_path.is_file():
        names = read_cifar10_python_meta(meta_path)
        if len(names) != 10:
            raise DataFileError(meta_path, f"lists {len(names)} label names; expected the 10 of CIFAR-10")
        classes = tuple(names)
    batches = [read_cifar10_python_batch(p) for p in train_paths]
    files = [p.name for p in train_paths] + [test_path.name] + [meta_path.name] * meta_path.is_file()
    return cifar10_splits(batches, read_cifar10_python_batch(test_path), scale, classes,
                          f"CIFAR-10 (python batches) from {directory}", files)


def cifar10_splits(batches: list, test: tuple, scale: bool, classes: tuple, description: str,
                   files: list) -> DataSplits:
    """The training ``batches`` (``(images, labels)`` pairs) and the ``test`` batch as CIFAR-10 splits.

    Shapes: images ``(N, 3, 32, 32)`` uint8 in, float32 in [0, 1] out when ``scale``; labels ``(N,)``.

    Example:
        >>> batch = (np.zeros((2, 3, 32, 32), np.uint8), np.array([3, 5]))
        >>> splits = cifar10_splits([batch, batch], batch, True, CIFAR10_CLASSES, "two batches", [])
        >>> splits.x_train.shape, splits.x_test.dtype, splits.y_train.tolist()
        ((4, 3, 32, 32), dtype('float32'), [3, 5, 3, 5])
    """
    x_train = np.concatenate([images for images, _ in batches])
    y_train = np.concatenate([labels for _, labels in batches])
    x_test, y_test = test
    if scale:
        x_train, x_test = x_train.astype(np.float32) / 255.0, x_test.astype(np.float32) / 255.0
    return DataSplits(
        "cifar10", "classification", x_train, y_train, x_test, y_test, input_shape=(3, 32, 32),
        num_classes=10, info={"description": description, "classes": classes, "files": files},
    )
