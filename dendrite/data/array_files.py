"""Arrays from the user's files: ``.npz`` archives, IDX image/label pairs, CIFAR-10 folders.

These are the formats whose samples are plain arrays (as opposed to CSV tables,
see :mod:`dendrite.data.csv_table`, and image folders, see
:mod:`dendrite.data.image_folder`). Each reader returns ``ArrayParts``: the
training arrays and, where the format carries one, its own test part.

* ``.npz``: arrays ``x`` and ``y`` (a test part may come from another file), or
  Keras's layout ``x_train``, ``y_train``, ``x_test``, ``y_test`` (``mnist.npz``);
  an optional ``classes`` array of names. Read with ``allow_pickle=False``.
* IDX: an MNIST-style folder (the four standard files) or one images file whose
  labels file is found by name (``...-images-idx3-ubyte`` beside ``...-labels-idx1-ubyte``).
* CIFAR-10: the binary (``data_batch_1.bin``...) or Python (``data_batch_1``...)
  batches, in the folder given or its ``cifar-10-batches-bin``/``-py`` sub-folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dendrite.data.file_errors import DataFileError
from dendrite.data.files import idx_file, load_cifar10, load_idx

# ArrayParts, find_idx_folder, find_cifar_folder, read_cifar10: user_data's machinery
__all__ = ["read_npz", "read_idx_pair", "idx_partner"]


@dataclass
class ArrayParts:
    """Training samples and targets, a test part when the source has its own, class names when known.

    Shapes: ``x (N, *input_shape)`` (uint8 pixels or floats as stored), ``y (N,)`` or ``(N, k)``;
    ``x_test``/``y_test`` likewise or ``None``.
    """

    x: np.ndarray
    y: np.ndarray | None
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    class_names: list | None = None


def _check_pair(path: Path, x: np.ndarray, y: np.ndarray | None, what: str) -> None:
    if x.dtype.kind not in "fiub":
        raise DataFileError(path, f"{what} holds {x.dtype} values; expected numbers")
    if x.ndim < 2 or len(x) == 0:
        raise DataFileError(path, f"{what} has shape {x.shape}; expected (N, ...) with N >= 1 samples")
    if y is not None:
        if y.dtype.kind not in "fiub":
            raise DataFileError(path, f"the targets of {what} are {y.dtype} values; expected numbers")
        if len(y) != len(x):
            raise DataFileError(path, f"{what} has {len(x)} samples but {len(y)} targets; expected one "
                                      "target per sample")
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
        if bad.any():
            raise DataFileError(path, f"{what} sample {int(np.flatnonzero(bad)[0])} holds NaN or infinity; "
                                      "expected finite numbers (dendrite does not guess missing values)")


def read_npz(path: str | Path, require_target: bool = True) -> ArrayParts:
    """The arrays of a ``.npz`` file: ``x``/``y`` or ``x_train``/``y_train`` (+ ``x_test``/``y_test``).

    Shapes: ``x (N, *input_shape)``, ``y (N,)`` class labels or ``(N,)``/``(N, k)`` regression targets.

    Example:
        >>> import tempfile, os
        >>> folder = tempfile.TemporaryDirectory()
        >>> path = os.path.join(folder.name, "points.npz")
        >>> np.savez(path, x=np.zeros((3, 2), np.float32), y=np.array([0, 1, 1]))
        >>> parts = read_npz(path)
        >>> parts.x.shape, parts.y.tolist(), parts.x_test
        ((3, 2), [0, 1, 1], None)
        >>> folder.cleanup()
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except ValueError as error:  # object arrays (pickles) are refused by allow_pickle=False
        raise DataFileError(path, f"cannot be read as plain arrays ({error}); expected numeric arrays x "
                                  "and y saved with numpy.savez") from None
    except (OSError, EOFError) as error:
        raise DataFileError(path, f"is not a readable .npz archive ({error})") from None
    if "x" in arrays:
        x, y, x_test, y_test = arrays["x"], arrays.get("y"), None, None
    elif "x_train" in arrays:
        x, y = arrays["x_train"], arrays.get("y_train")
        x_test, y_test = arrays.get("x_test"), arrays.get("y_test")
    else:
        raise DataFileError(path, f"holds arrays {sorted(arrays)}; expected x and y (or x_train, y_train, "
                                  "x_test, y_test)")
    if y is None and require_target:
        raise DataFileError(path, f"holds no targets (arrays {sorted(arrays)}); expected an array y "
                                  "(or y_train) beside x")
    _check_pair(path, x, y, "x" if "x" in arrays else "x_train")
    if x_test is not None:
        _check_pair(path, x_test, y_test, "x_test")
        if x_test.shape[1:] != x.shape[1:]:
            raise DataFileError(path, f"x_test samples have shape {x_test.shape[1:]}; expected "
                                      f"{x.shape[1:]} like x_train")
    names = arrays.get("classes")
    if names is not None and names.dtype.kind not in "US":
        raise DataFileError(path, f"its classes array holds {names.dtype}; expected strings (class names)")
    return ArrayParts(x, y, x_test, y_test, None if names is None else [str(n) for n in names.tolist()])


def idx_partner(images: Path) -> Path | None:
    """The labels file that goes with an IDX images file, found by name; ``None`` when absent.

    Example:
        >>> idx_partner(Path("no/train-images-idx3-ubyte")) is None
        True
    """
    name = images.name
    for old, new in (("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1"), ("images", "labels")):
        if old in name:
            candidate = images.with_name(name.replace(old, new))
            for option in (candidate, candidate.with_name(candidate.name + ".gz"),
                           candidate.with_name(candidate.name.removesuffix(".gz"))):
                if option != images and option.is_file():
                    return option
    return None


def _idx(path: Path) -> np.ndarray:
    try:
        return load_idx(path)
    except ValueError as error:  # load_idx's messages name the file already
        raise DataFileError(path, str(error).split(": ", 2)[-1]) from None


def read_idx_pair(images: str | Path, labels: str | Path | None = None,
                  require_target: bool = True) -> ArrayParts:
    """Images ``(N, rows, cols)`` uint8 and labels ``(N,)`` of an IDX pair (labels found by name if not given)

    Example:
        >>> read_idx_pair("no/such-images-idx3-ubyte")
        Traceback (most recent call last):
        ...
        FileNotFoundError: no/such-images-idx3-ubyte does not exist
    """
    images = Path(images)
    if not images.is_file():
        raise FileNotFoundError(f"{images} does not exist")
    x = _idx(images)
    if x.ndim != 3:
        raise DataFileError(images, f"holds an array of shape {x.shape}; expected images (N, rows, cols) "
                                    "(IDX magic 0x00000803)")
    labels = Path(labels) if labels is not None else idx_partner(images)
    if labels is None:
        if require_target:
            raise DataFileError(images, "has no labels file beside it; expected one named like it with "
                                        "'labels-idx1' in place of 'images-idx3'")
        return ArrayParts(x, None)
    y = _idx(labels)
    if y.ndim != 1:
        raise DataFileError(labels, f"holds an array of shape {y.shape}; expected labels (N,) (IDX magic "
                                    "0x00000801)")
    if len(y) != len(x):
        raise DataFileError(labels, f"has {len(y)} labels but {images.name} has {len(x)} images; expected "
                                    "one label per image")
    return ArrayParts(x, y.astype(np.int64))


def find_idx_folder(folder: Path) -> tuple | None:
    """``((train images, labels), (test images, labels) or None)`` of an MNIST-style folder, else None."""
    def pair(prefix):
        images = idx_file(folder, f"{prefix}-images-idx3-ubyte")
        return None if images is None else (images, idx_partner(images))

    train = pair("train")
    return None if train is None else (train, pair("t10k"))


def find_cifar_folder(folder: Path) -> Path | None:
    """The folder holding CIFAR-10 batches (``folder`` or its ``cifar-10-batches-bin``/``-py``), else None."""
    for candidate in (folder, folder / "cifar-10-batches-bin", folder / "cifar-10-batches-py"):
        if any((candidate / name).is_file() for name in ("data_batch_1.bin", "data_batch_1", "test_batch.bin",
                                                          "test_batch")):
            return candidate
    return None


def read_cifar10(folder: Path) -> ArrayParts:
    """Images ``(N, 3, 32, 32)`` uint8 and labels of a CIFAR-10 folder (binary or Python batches)."""
    splits = load_cifar10(folder, scale=False)
    return ArrayParts(splits.x_train, splits.y_train, splits.x_test, splits.y_test,
                      list(splits.info.get("classes") or ()) or None)
