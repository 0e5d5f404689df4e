"""Small files of every format ``dendrite train --data PATH`` reads, with a pattern a model learns in seconds.

Pictures: class ``k`` of ``K`` is a bright horizontal band at rows ``k*H/K .. (k+1)*H/K`` plus
noise, so a small MLP or CNN separates them within a few epochs. Tables: the class is decided
by the sign of a numeric column plus a categorical column's value.
"""

from __future__ import annotations

import csv
import gzip
import pickle
from pathlib import Path

import numpy as np

CIFAR_RECORD = 1 + 3 * 32 * 32


def band_images(n: int, classes: int, size: int = 8, channels: int = 0, seed: int = 0) -> tuple:
    """``(uint8 images (n, [channels,] size, size), labels (n,))``: one bright band per class."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    rng.shuffle(labels)
    images = rng.integers(0, 60, size=(n, size, size))
    band = size // classes
    for index, label in enumerate(labels):
        images[index, label * band:(label + 1) * band, :] += 180
    images = images.clip(0, 255).astype(np.uint8)
    if channels:
        images = np.repeat(images[:, None], channels, axis=1)
    return images, labels.astype(np.int64)


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """An IDX file (uint8) of ``array``: magic 0x0000 08 ndim, the sizes big-endian, then the bytes."""
    sizes = b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    data = bytes([0, 0, 8, array.ndim]) + sizes + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def mnist_folder(root: Path, n_train: int = 240, n_test: int = 80) -> Path:
    """An MNIST-style folder of 12x12 band images in 4 classes (the four standard IDX files)."""
    root.mkdir(parents=True, exist_ok=True)
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = band_images(n, 4, size=12, seed=seed)
        write_idx(root / f"{prefix}-images-idx3-ubyte", images, compress=prefix == "t10k")
        write_idx(root / f"{prefix}-labels-idx1-ubyte", labels, compress=prefix == "t10k")
    return root


def cifar_images(n: int, seed: int) -> tuple:
    """``(uint8 (n, 3, 32, 32), labels (n,))``: 4 classes of bands in 32x32 colour pictures."""
    return band_images(n, 4, size=32, channels=3, seed=seed)


def cifar_binary_folder(root: Path, n_train: int = 200, n_test: int = 60) -> Path:
    """CIFAR-10's binary form: ``data_batch_1.bin`` and ``test_batch.bin`` (label byte + 3,072 pixels)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, n, seed in (("data_batch_1.bin", n_train, 0), ("test_batch.bin", n_test, 1)):
        images, labels = cifar_images(n, seed)
        records = np.concatenate([labels[:, None].astype(np.uint8), images.reshape(n, -1)], axis=1)
        (root / name).write_bytes(records.tobytes())
    return root


def cifar_python_folder(root: Path, n_train: int = 200, n_test: int = 60) -> Path:
    """CIFAR-10's Python form (pickled dicts, as the real files are; dendrite parses, never unpickles)."""
    root.mkdir(parents=True, exist_ok=True)
    for name, n, seed in (("data_batch_1", n_train, 0), ("test_batch", n_test, 1)):
        images, labels = cifar_images(n, seed)
        batch = {b"batch_label": b"testing", b"labels": labels.tolist(), b"data": images.reshape(n, -1),
                 b"filenames": [f"{i}.png".encode() for i in range(n)]}
        (root / name).write_bytes(pickle.dumps(batch, protocol=2))
    names = [name.encode() for name in ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                        "horse", "ship", "truck")]
    (root / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}, protocol=2))
    return root


def image_tree(root: Path, n: int = 120, classes=("down", "middle", "up"), size: int = 8, seed: int = 0,
               colour: bool = False) -> Path:
    """``root/<class>/<i>.png``: band images, one folder per class (written with Pillow)."""
    from PIL import Image

    images, labels = band_images(n, len(classes), size=size, seed=seed)
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
    for index, (image, label) in enumerate(zip(images, labels)):
        picture = Image.fromarray(image, mode="L")
        if colour:
            picture = picture.convert("RGB")
        picture.save(root / classes[label] / f"{index:04d}.png")
    return root


def table_rows(n: int, seed: int = 0) -> list:
    """Rows ``[x1, colour, x2, size, label]``: the label follows x1's sign and the colour."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        x1, x2 = rng.normal(), rng.normal()
        colour = rng.choice(["red", "green", "blue"])
        size = int(rng.integers(1, 4))
        if colour == "blue":
            label = "cat"
        else:
            label = "dog" if x1 > 0 else "bird"
        rows.append([f"{x1:.4f}", colour, f"{x2:.4f}", size, label])
    return rows


def write_table(path: Path, rows: list, header=("x1", "colour", "x2", "size", "animal"),
                columns: list | None = None) -> Path:
    """A CSV of ``rows`` under ``header``; ``columns`` reorders the columns by name."""
    order = list(range(len(header))) if columns is None else [header.index(name) for name in columns]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([header[i] for i in order])
        for row in rows:
            writer.writerow([row[i] for i in order])
    return path
