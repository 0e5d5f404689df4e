"""The 8x8 handwritten digits, shipped inside the package.

Origin and licence: the UCI ML hand-written digits data set (E. Alpaydin and
C. Kaynak, 1998; "Optical Recognition of Handwritten Digits", test part),
1,797 images of 8x8 pixels with values 0..16 in 10 classes, licensed CC BY 4.0
(https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits).

Why a copy in ``dendrite/data/files/digits.npz`` (uint8, 49 KB)? dendrite has
no runtime dependency on scikit-learn and never uses the network, yet the
examples, tests and the doctor need a real image task that trains in seconds.
The file was made once by ``scripts/make_digits.py`` from scikit-learn's
bundled copy; it stores a fixed stratified 80/20 split (exactly 360 test
images) so the split does not depend on any random-number algorithm. Its
SHA-256 is checked on every load, so a damaged or replaced file fails loudly
instead of training on wrong data. The file is read with ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from dendrite.data.splits import DataSplits

DIGITS_PATH = Path(__file__).resolve().parent / "files" / "digits.npz"
DIGITS_SHA256 = "ab12f7d384b27e6d0795ff9b6ab8f0242a318f725b31570c0f683d2c842e1502"
_EXPECTED = {"x_train": (1437, 8, 8), "y_train": (1437,), "x_test": (360, 8, 8), "y_test": (360,)}


class ChecksumError(ValueError):
    """A shipped data file does not have the SHA-256 it was published with.

    Example:
        >>> _ = open("digits.npz", "wb").write(b"not the digits")
        >>> load_digits("digits.npz")
        Traceback (most recent call last):
        ...
        dendrite.data.digits.ChecksumError: load_digits: digits.npz is damaged or not the shipped file: ...
    """


def sha256_of(path: str | Path) -> str:
    """The SHA-256 hex digest of a file's bytes.

    Example:
        >>> _ = open("abc.txt", "wb").write(b"abc")
        >>> sha256_of("abc.txt")
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_digits(path: str | Path | None = None, scale: bool = True, verify: bool = True) -> DataSplits:
    """The digits as train/test splits: 1,437 training and 360 test images.

    Args:
        path: the ``.npz`` to read (default: the copy shipped with dendrite).
        scale: pixel values as float32 in [0, 1] (raw / 16); ``False`` keeps uint8 0..16.
        verify: check the file's SHA-256 first (raises :class:`ChecksumError` on mismatch).

    Shapes: ``x_train (1437, 8, 8)``, ``y_train (1437,)`` int64 labels 0..9, ``x_test (360, 8, 8)``,
    ``y_test (360,)``. Images have no channel axis; add one with ``x[:, None]`` for a CNN.

    Example:
        >>> data = load_digits()
        >>> data.x_train.shape, data.x_test.shape, float(data.x_train.max())
        ((1437, 8, 8), (360, 8, 8), 1.0)
    """
    path = DIGITS_PATH if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"load_digits: {path} does not exist; the package copy is made by scripts/make_digits.py"
        )
    if verify:
        actual = sha256_of(path)
        if actual != DIGITS_SHA256:
            raise ChecksumError(
                f"load_digits: {path} is damaged or not the shipped file: SHA-256 {actual}, expected "
                f"{DIGITS_SHA256}. Reinstall dendrite or rebuild it with scripts/make_digits.py"
            )
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in _EXPECTED}
    except (KeyError, ValueError, OSError, zipfile.BadZipFile) as error:
        raise ValueError(f"load_digits: {path} is not a readable digits archive: {error}") from None
    for name, shape in _EXPECTED.items():
        if arrays[name].shape != shape:
            raise ValueError(
                f"load_digits: {path} holds {name} of shape {arrays[name].shape}, expected {shape}"
            )
    images = {part: arrays[f"x_{part}"] for part in ("train", "test")}
    if scale:
        images = {part: (array.astype(np.float32) / 16.0) for part, array in images.items()}
    return DataSplits(
        "digits", "classification",
        images["train"], arrays["y_train"].astype(np.int64),
        images["test"], arrays["y_test"].astype(np.int64),
        input_shape=(8, 8), num_classes=10,
        info={
            "description": "8x8 handwritten digits (UCI), stratified 80/20 split",
            "source": "UCI ML hand-written digits (Alpaydin & Kaynak 1998) via scikit-learn",
            "licence": "CC BY 4.0",
            "pixel_range": (0.0, 1.0) if scale else (0, 16),
        },
    )
