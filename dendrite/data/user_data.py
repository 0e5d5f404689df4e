"""The user's own data files as :class:`DataSplits`, and a record of how they were read.

``load_user_data(path)`` recognises the format (see :func:`detect_format`), reads
the training data, takes the test part from ``test=`` or the format's own test
files or else holds out a seeded, stratified 20 %, and returns the splits with a
:class:`DataSpec`: everything needed to read *new* files the same way later
(``dendrite predict`` and ``dendrite evaluate``): the format, the input shape,
the class names, the standardisation statistics and a CSV's column encoding.

What a model sees:

* CSV: numeric columns standardised with the training rows' mean and std,
  categorical columns one-hot (:mod:`dendrite.data.table_encoding`);
* ``.npz`` tables ``x (N, F)`` of floats: standardised per feature the same way;
* pictures (IDX, CIFAR-10, image folders, uint8 ``.npz`` arrays): pixels / 255,
  in [0, 1], shape ``(H, W)`` for grey and ``(3, H, W)`` for colour;
* class labels: the distinct training labels, sorted, become ids ``0..K-1``
  (``DataSpec.classes`` holds their names); regression targets are standardised
  and ``DataSpec.decode`` turns predictions back into the file's units.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dendrite.data.csv_scan import MAX_GUESSED_CLASSES
from dendrite.data.file_errors import DataFileError
from dendrite.data.splits import DataSplits, train_test_split

__all__ = ["DataSpec", "UserData", "detect_format", "load_user_data", "FORMATS"]

FORMATS = ("csv", "npz", "idx", "cifar10", "images")
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


def detect_format(path: str | Path) -> str:
    """Which reader a file or folder needs: one of :data:`FORMATS` (else FileNotFoundError/DataFileError).

    Files: ``.csv``/``.tsv``/``.txt`` are tables, ``.npz`` arrays, an IDX file (``...idx3-ubyte``,
    raw or ``.gz``) images; folders: MNIST's IDX files, CIFAR-10 batches, else a tree of image
    folders, one per class.

    Example:
        >>> import tempfile, os
        >>> folder = tempfile.TemporaryDirectory()
        >>> open(os.path.join(folder.name, "iris.csv"), "w").close()
        >>> detect_format(os.path.join(folder.name, "iris.csv"))
        'csv'
        >>> folder.cleanup()
    """
    from dendrite.data.array_files import find_cifar_folder, find_idx_folder

    path = Path(path).expanduser()
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in _TABLE_SUFFIXES:
            return "csv"
        if suffix == ".npz":
            return "npz"
        if "idx" in path.name.lower():
            return "idx"
        raise DataFileError(path, "is not a data file dendrite reads; expected a .csv/.tsv table, a .npz "
                                  "archive, an IDX file, or a folder (MNIST IDX files, CIFAR-10 batches, "
                                  "or one sub-folder of images per class)")
    if not path.is_dir():
        raise FileNotFoundError(f"{path} does not exist")
    if find_idx_folder(path):
        return "idx"
    if find_cifar_folder(path):
        return "cifar10"
    return "images"


@dataclass
class DataSpec:
    """How a run's data was read and encoded: enough to read new files the same way (saved as JSON).

    Attributes:
        format: one of :data:`FORMATS` (of the training data).
        task: ``'classification'`` or ``'regression'``.
        input_shape: one sample's shape as the model sees it, e.g. ``(28, 28)`` or ``(13,)``.
        classes: class names, index = class id (classification), else ``None``.
        label_values: the raw label of each class id as stored in array files (ints), else ``None``.
        mean, std: per-feature standardisation of a float table ``x (N, F)`` (``.npz``), else ``None``.
        target_mean, target_std: standardisation of regression targets, else ``None``.
        table: a CSV's :class:`~dendrite.data.table_encoding.TableEncoding` as JSON, else ``None``.
        source: the training path, for the record.

    Example:
        >>> spec = DataSpec("npz", "classification", (2,), classes=["0", "1"], label_values=[0, 1])
        >>> import json
        >>> DataSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
        True
    """

    format: str
    task: str
    input_shape: tuple
    classes: list | None = None
    label_values: list | None = None
    mean: list | None = None
    std: list | None = None
    target_mean: list | None = None
    target_std: list | None = None
    table: dict | None = None
    source: str = ""
    info: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON-ready dict (``format_version`` 1)."""
        return {"format_version": 1, **asdict(self), "input_shape": list(self.input_shape)}

    @classmethod
    def from_json(cls, data: Any) -> DataSpec:
        """The spec written by :meth:`to_json`; ``ValueError`` naming what is missing or wrong."""
        if not isinstance(data, dict) or data.get("format_version") != 1:
            raise ValueError("not a dendrite data description (expected a JSON object with format_version 1)")
        fields = {key: value for key, value in data.items() if key != "format_version"}
        if fields.get("format") not in FORMATS or fields.get("task") not in ("classification", "regression"):
            raise ValueError(f"data description has format {fields.get('format')!r} and task "
                             f"{fields.get('task')!r}; expected one of {FORMATS} and classification or "
                             "regression")
        try:
            spec = cls(**fields)
        except TypeError as error:
            raise ValueError(f"data description: {error}") from None
        spec.input_shape = tuple(spec.input_shape)
        return spec

    @property
    def num_classes(self) -> int | None:
        return None if self.classes is None else len(self.classes)

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        """Regression outputs ``(N, k)`` in the file's units (undoing the target standardisation).

        Example:
            >>> spec = DataSpec("csv", "regression", (3,), target_mean=[100.0], target_std=[20.0])
            >>> spec.decode(np.array([[0.0], [1.5]])).tolist()
            [[100.0], [130.0]]
        """
        if self.target_mean is None:
            return outputs
        return outputs * np.asarray(self.target_std) + np.asarray(self.target_mean)


@dataclass
class UserData:
    """What :func:`load_user_data` returns: the splits to train on and the spec to save with the run.

    Example:
        >>> import tempfile, os
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = os.path.join(folder.name, "pets.csv")
        >>> _ = open(path, "w").write("weight,pet\\n" + "".join(f"{w},{'dog' if w > 9 else 'cat'}\\n"
        ...                                                     for w in range(1, 21)))
        >>> data = load_user_data(path, target="pet")
        >>> data.splits.x_train.shape, data.splits.x_test.shape, data.spec.classes
        ((16, 1), (4, 1), ['cat', 'dog'])
        >>> folder.cleanup()
    """

    splits: DataSplits
    spec: DataSpec


# -- labels and targets -----------------------------------------------------------------------------


def _is_classification(y: np.ndarray) -> bool:
    if y.ndim != 1:
        return False
    if y.dtype.kind in "iub":
        return True
    whole = bool(np.all(y == np.round(y)))
    return whole and len(np.unique(y)) <= MAX_GUESSED_CLASSES  # the rule a CSV's target follows too


def label_ids(y: np.ndarray, values: list, path: Path) -> np.ndarray:
    """Class ids ``(N,)`` of raw labels ``y`` given the training labels ``values`` (sorted).

    A label that training never saw raises :class:`DataFileError` naming the record.
    """
    values_array = np.asarray(values)
    ids = np.searchsorted(values_array, y)
    ids = np.clip(ids, 0, len(values_array) - 1)
    unseen = values_array[ids] != y
    if unseen.any():
        record = int(np.flatnonzero(unseen)[0])
        shown = ", ".join(str(v) for v in values[:12]) + (", ..." if len(values) > 12 else "")
        label = np.asarray(y)[record].item()
        raise DataFileError(path, f"has label {label!r}, which was not seen in training; expected one of the "
                                  f"training labels ({shown})", record=record)
    return ids.astype(np.int64)


def _pixels(x: np.ndarray) -> np.ndarray:
    """uint8 pictures as float32 in [0, 1]; other arrays as float32."""
    return x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)


def _encode_targets(spec: DataSpec, y: np.ndarray, path: Path) -> np.ndarray:
    if spec.task == "classification":
        return label_ids(np.asarray(y), spec.label_values, path)  # 2.5 is no label 2: compared, not cast
    y = np.asarray(y, np.float32).reshape(len(y), -1)
    return ((y - np.asarray(spec.target_mean, np.float32)) / np.asarray(spec.target_std, np.float32)).astype(
        np.float32)


def _array_spec(fmt: str, x: np.ndarray, y: np.ndarray, source: Path, class_names: list | None) -> DataSpec:
    """The spec of array data (npz, IDX, CIFAR-10) fitted on the training arrays."""
    task = "classification" if _is_classification(y) else "regression"
    spec = DataSpec(fmt, task, tuple(x.shape[1:]), source=str(source))
    if task == "classification":
        values = np.unique(y)
        if len(values) < 2:
            raise DataFileError(source, f"holds only one class ({values[0]!r}); expected at least two")
        spec.label_values = [v.item() for v in values]
        if class_names is not None and y.dtype.kind in "iu" and values.max() < len(class_names):
            spec.classes = [str(class_names[v]) for v in values]
        else:
            spec.classes = [str(v) for v in spec.label_values]
    else:
        targets = np.asarray(y, np.float64).reshape(len(y), -1)
        spec.target_mean = targets.mean(axis=0).tolist()
        spec.target_std = [s if s > 0 else 1.0 for s in targets.std(axis=0).tolist()]
    if x.ndim == 2 and x.dtype.kind == "f":  # a table of floats: standardise each feature
        spec.mean = x.mean(axis=0, dtype=np.float64).tolist()
        spec.std = [s if s > 0 else 1.0 for s in x.std(axis=0, dtype=np.float64).tolist()]
    return spec


def encode_inputs(spec: DataSpec, x: np.ndarray) -> np.ndarray:
    """Raw array samples ``(N, *input_shape)`` as the model sees them (pixels / 255, standardised tables)."""
    x = _pixels(x)
    if spec.mean is not None:
        x = (x - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    return x.astype(np.float32, copy=False)


# -- reading each format ----------------------------------------------------------------------------


def _read_arrays(fmt: str, path: Path, require_target: bool = True):
    from dendrite.data import array_files

    if fmt == "npz":
        return array_files.read_npz(path, require_target)
    if fmt == "cifar10":
        return array_files.read_cifar10(array_files.find_cifar_folder(path))
    if path.is_dir():
        (train, test) = array_files.find_idx_folder(path)
        parts = array_files.read_idx_pair(*train)
        if test is not None:
            testing = array_files.read_idx_pair(*test)
            parts.x_test, parts.y_test = testing.x, testing.y
        return parts
    return array_files.read_idx_pair(path, require_target=require_target)


def _split_layout(root: Path) -> tuple | None:
    """``(train, val, test)`` folders when ``root`` is split as ``train/``, ``val/``, ``test/``; else None."""
    names = {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")}
    if "train" in names and names <= {"train", "val", "valid", "validation", "test"} and len(names) > 1:
        val = next((root / n for n in ("val", "valid", "validation") if n in names), None)
        return root / "train", val, (root / "test" if "test" in names else None)
    return None


def _image_folder(root: Path, classes: list | None, progress: bool, input_shape: tuple | None = None):
    from dendrite.data.image_folder import index_image_folder

    return index_image_folder(root, classes=classes, progress=progress, input_shape=input_shape)


def _check_shape(path: Path, shape: tuple, spec: DataSpec) -> None:
    if tuple(shape) != tuple(spec.input_shape):
        raise DataFileError(path, f"holds samples of shape {tuple(shape)}; expected "
                                  f"{tuple(spec.input_shape)} like the training data ({spec.source})")


def read_inputs(spec: DataSpec, path: str | Path, require_target: bool, progress: bool = False,
                memmap_dir: Path | None = None) -> tuple:
    """New data read and encoded as the training data was: ``(x, y or None, ids)``.

    ``ids`` names each sample for a predictions file: row numbers of a CSV or an array
    file, file names of images. Shapes: ``x (N, *spec.input_shape)`` float32 (an image
    folder gives a lazy array decoded per batch), ``y (N,)`` class ids or ``(N, k)``
    standardised targets. A target the training data did not have, a sample of another
    shape, a bad file: :class:`DataFileError`; no targets where ``require_target``: too.
    """
    path = Path(path).expanduser()
    kind = _input_kind(path)
    if spec.format == "csv" or kind == "csv":
        return _read_table(spec, path, kind, require_target, progress, memmap_dir)
    if kind == "images":
        return _read_images(spec, path, require_target, progress)
    parts = _read_arrays(kind, path, require_target)
    # a folder with its own test part (MNIST's t10k files, CIFAR's test_batch) is evaluated on that part
    own_test = parts.x_test is not None and (kind == "cifar10" or path.is_dir())
    x, y = (parts.x_test, parts.y_test) if own_test else (parts.x, parts.y)
    _check_shape(path, x.shape[1:], spec)
    if y is None and require_target:
        raise DataFileError(path, "holds no targets; expected labels to evaluate against")
    targets = _encode_targets(spec, y, path) if require_target else None  # a file to predict: not read
    return encode_inputs(spec, x), targets, np.arange(len(x))


def _input_kind(path: Path) -> str:
    """The format of a file or folder of new data; a lone image file is ``'images'``."""
    from dendrite.data.image_folder import IMAGE_SUFFIXES

    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
        return "images"
    return detect_format(path)


def _read_table(spec: DataSpec, path: Path, kind: str, require_target: bool, progress: bool,
                memmap_dir: Path | None) -> tuple:
    from dendrite.data.csv_table import encode_csv
    from dendrite.data.table_encoding import TableEncoding

    if spec.format != "csv":
        raise DataFileError(path, f"is a CSV table; the model was trained on {spec.format} data "
                                  f"({spec.source}) with samples of shape {tuple(spec.input_shape)}")
    if kind != "csv":
        raise DataFileError(path, f"is not a CSV table; the model was trained on one ({spec.source}), "
                                  "so new data must be a .csv/.tsv with the same columns")
    x, y = encode_csv(path, TableEncoding.from_json(spec.table), require_target=require_target,
                      progress=progress, memmap_dir=memmap_dir)
    return x, y, np.arange(1, len(x) + 1)


def _read_images(spec: DataSpec, path: Path, require_target: bool, progress: bool) -> tuple:
    from dendrite.data.image_folder import ImageArray, image_files

    if len(spec.input_shape) not in (2, 3):
        raise DataFileError(path, f"holds images; the model was trained on samples of shape "
                                  f"{tuple(spec.input_shape)} ({spec.source})")
    if path.is_dir() and require_target:  # labels from the class folders' names
        if spec.task != "classification":
            raise DataFileError(path, "is a folder of class folders; the model is a regression model")
        folder = _image_folder(path, spec.classes, progress, tuple(spec.input_shape))
        _check_shape(path, folder.input_shape, spec)
        return folder.images, folder.labels, np.asarray([str(p) for p in folder.paths])
    if require_target:
        raise DataFileError(path, "holds images without labels; expected a folder with one sub-folder of "
                                  "images per class to evaluate against")
    files = image_files(path)
    images = ImageArray(files, spec.input_shape)
    return images, None, np.asarray([str(p) for p in files])


# -- training data ----------------------------------------------------------------------------------


def load_user_data(path: str | Path, target: str | None = None, categorical: tuple = (),
                   val: str | Path | None = None, test: str | Path | None = None, test_fraction: float = 0.2,
                   seed: int = 0, memmap_dir: Path | None = None, progress: bool = False) -> UserData:
    """Read a user's training data (and optional validation/test files) into splits and a spec.

    Args:
        path: a CSV/TSV table, a ``.npz``, an IDX file or MNIST folder, a CIFAR-10 folder, or an
            image folder tree ``root/<class>/<images>`` (``root/train/<class>/...`` with ``test/``
            and ``val/`` beside it is split already).
        target: the CSV's target column (default: its last column); other formats ignore it.
        categorical: CSV columns to read as categories even when they hold numbers.
        val, test: files in the same format for validation and testing; without ``test``, the
            format's own test part or a seeded stratified ``test_fraction`` of ``path``.
        memmap_dir: where a large CSV's encoded rows go as memory-mapped ``.npy`` files.
        progress: show a bar while indexing large files.

    Shapes: see :class:`DataSplits`; ``splits.x_val``/``y_val`` are set when ``val`` is given.

    Example:
        >>> import tempfile, os
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = os.path.join(folder.name, "points.npz")
        >>> rng = np.random.default_rng(0)
        >>> np.savez(path, x=rng.normal(size=(50, 3)), y=np.arange(50) % 2)
        >>> data = load_user_data(path)
        >>> data.splits.x_train.shape, data.splits.num_classes, data.spec.classes
        ((40, 3), 2, ['0', '1'])
        >>> folder.cleanup()
    """
    path = Path(path).expanduser()
    fmt = detect_format(path)
    name = path.stem if path.is_file() else path.name
    if fmt == "csv":
        return _load_csv(path, name, target, categorical, val, test, test_fraction, seed, memmap_dir,
                         progress)
    if fmt == "images":
        return _load_images(path, name, val, test, test_fraction, seed, progress)
    parts = _read_arrays(fmt, path)
    x, y, x_test, y_test = parts.x, parts.y, parts.x_test, parts.y_test
    if test is None and x_test is None:  # hold out a part before fitting anything on the training rows
        x, y, x_test, y_test = train_test_split(x, y, test_fraction, seed=seed,
                                                stratify=_is_classification(y))
    spec = _array_spec(fmt, x, y, path, parts.class_names)
    x, y = encode_inputs(spec, x), _encode_targets(spec, y, path)
    if test is not None:
        x_test, y_test, _ = read_inputs(spec, test, require_target=True)
    else:
        x_test, y_test = encode_inputs(spec, x_test), _encode_targets(spec, y_test, path)
    validation = read_inputs(spec, val, require_target=True)[:2] if val is not None else (None, None)
    return UserData(_splits(name, spec, x, y, x_test, y_test, validation), spec)


def _splits(name: str, spec: DataSpec, x, y, x_test, y_test, validation: tuple) -> DataSplits:
    splits = DataSplits(name, spec.task, x, y, x_test, y_test, input_shape=spec.input_shape,
                        num_classes=spec.num_classes,
                        info={"description": f"{spec.format} data from {spec.source}",
                              "classes": spec.classes, "source": spec.source, "format": spec.format})
    if spec.target_mean is not None:  # predictions are reported in the target's units
        splits.info.update(target_mean=spec.target_mean, target_std=spec.target_std)
    splits.x_val, splits.y_val = validation
    return splits


def _load_csv(path, name, target, categorical, val, test, test_fraction, seed, memmap_dir, progress):
    from dendrite.data.csv_table import csv_splits, encode_csv

    encoding, x, y, x_test, y_test = csv_splits(path, target=target, categorical=tuple(categorical),
                                                test_fraction=0.0 if test is not None else test_fraction,
                                                seed=seed, memmap_dir=memmap_dir, progress=progress)
    spec = DataSpec("csv", encoding.task, (encoding.n_features,), classes=encoding.classes,
                    table=encoding.to_json(), source=str(path))
    if encoding.task == "regression":
        spec.target_mean, spec.target_std = [encoding.target_mean], [encoding.target_std]
    if test is not None:
        x_test, y_test = encode_csv(Path(test), encoding, require_target=True, progress=progress,
                                    memmap_dir=memmap_dir)
    validation = (None, None)
    if val is not None:
        validation = encode_csv(Path(val), encoding, require_target=True, progress=progress,
                                memmap_dir=memmap_dir)
    return UserData(_splits(name, spec, x, y, x_test, y_test, validation), spec)


def _load_images(path, name, val, test, test_fraction, seed, progress):
    from dendrite.data.image_folder import ImageArray

    layout = _split_layout(path)
    root, val_root, test_root = layout if layout else (path, None, None)
    val_root = Path(val) if val is not None else val_root
    test_root = Path(test) if test is not None else test_root
    folder = _image_folder(root, None, progress)
    spec = DataSpec("images", "classification", folder.input_shape, classes=list(folder.classes),
                    label_values=list(folder.classes), source=str(path))
    images, labels = folder.images, folder.labels
    if test_root is None:
        index = np.arange(len(labels))
        train_index, _, test_index, _ = train_test_split(index, labels, test_fraction, seed=seed,
                                                         stratify=True)
        paths = np.asarray([str(p) for p in folder.paths])
        images, x_test = (ImageArray(paths[part], folder.input_shape) for part in (train_index, test_index))
        labels, y_test = labels[train_index], labels[test_index]
    else:
        x_test, y_test, _ = _read_images(spec, test_root, True, progress)
    validation = _read_images(spec, val_root, True, progress)[:2] if val_root is not None else (None, None)
    return UserData(_splits(name, spec, images, labels, x_test, y_test, validation), spec)
