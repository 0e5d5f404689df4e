"""The built-in 8x8 digits written in every file format `dendrite train --data PATH` reads, then trained.

Each format holds the same 1,437 training and 360 test digits (real handwriting, the
package's own data), so the accuracies are comparable: a CSV of 64 pixel columns, a ``.npz``,
MNIST-style IDX files, CIFAR-10 binary and Python batches (each digit scaled up to 32x32 and
given three channels) and an image folder tree of PNGs. For each it runs ``dendrite train``
with the format's test part as the test set, then ``dendrite evaluate`` and ``dendrite
predict`` on that test part, and prints the test accuracy and the seconds each command took.

    PYTHONPATH=. python benchmarks/own_files.py [--epochs N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np

from dendrite.cli.main import main
from dendrite.data import load_dataset


def _pixels(x: np.ndarray) -> np.ndarray:
    return np.round(x * 255).astype(np.uint8)


def _idx(path: Path, array: np.ndarray) -> None:
    sizes = b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    path.write_bytes(bytes([0, 0, 8, array.ndim]) + sizes + array.astype(np.uint8).tobytes())


def _cifar(x: np.ndarray) -> np.ndarray:
    big = np.kron(_pixels(x), np.ones((4, 4), np.uint8))  # 8x8 -> 32x32
    return np.repeat(big[:, None], 3, axis=1)


def write_formats(root: Path) -> dict:
    """Write the digits in every format under ``root``; returns {format: (train path, test path, model)}."""
    from PIL import Image

    data = load_dataset("digits")
    parts = {"train": (data.x_train, data.y_train), "test": (data.x_test, data.y_test)}
    made = {}
    for part, (x, y) in parts.items():  # CSV: 64 pixel columns and the digit
        with open(root / f"digits-{part}.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([f"p{i}" for i in range(64)] + ["digit"])
            flat = x.reshape(len(x), -1)
            writer.writerows([*(f"{v:.4f}" for v in row), int(label)] for row, label in zip(flat, y))
        np.savez(root / f"digits-{part}.npz", x=_pixels(x), y=y)
    made["csv"] = (root / "digits-train.csv", root / "digits-test.csv", "mlp")
    made["npz"] = (root / "digits-train.npz", root / "digits-test.npz", "mlp")
    (root / "idx").mkdir()
    for part, prefix in (("train", "train"), ("test", "t10k")):
        x, y = parts[part]
        _idx(root / "idx" / f"{prefix}-images-idx3-ubyte", _pixels(x))
        _idx(root / "idx" / f"{prefix}-labels-idx1-ubyte", y)
    made["idx"] = (root / "idx", root / "idx", "cnn")
    for form in ("bin", "py"):
        folder = root / f"cifar-10-batches-{form}"
        folder.mkdir()
        for part, name in (("train", "data_batch_1"), ("test", "test_batch")):
            x, y = parts[part]
            images = _cifar(x)
            if form == "bin":
                records = np.concatenate([y[:, None].astype(np.uint8), images.reshape(len(y), -1)], axis=1)
                (folder / f"{name}.bin").write_bytes(records.tobytes())
            else:
                batch = {b"labels": y.tolist(), b"data": images.reshape(len(y), -1),
                         b"batch_label": b"digits"}
                (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        made[f"cifar10-{form}"] = (folder, folder, "cnn")
    for part, (x, y) in parts.items():
        for index, (image, label) in enumerate(zip(_pixels(x), y)):
            folder = root / "images" / part / str(label)
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image, mode="L").save(folder / f"{index:04d}.png")
    made["images"] = (root / "images", root / "images" / "test", "cnn")
    return made


def _timed(argv: list) -> tuple[int, float, str]:
    started = time.perf_counter()
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = main([str(word) for word in argv])
    return code, time.perf_counter() - started, output.getvalue()


def run(root: Path, epochs: int | None) -> list[dict]:
    rows = []
    for name, (train, test, model) in write_formats(root).items():
        out = root / "runs" / name
        options = ["--epochs", epochs] if epochs else []
        test_option = ["--test", test] if name in ("csv", "npz") else []
        code, train_s, _ = _timed(["train", model, "--data", train, *test_option, *options, "--quiet",
                                   "--out", out])
        assert code == 0, f"{name}: train exited {code}"
        final = json.loads((out / "metrics.json").read_text())["final"]
        code, evaluate_s, _ = _timed(["evaluate", out, "--data", test, "--out", out / "evaluation",
                                      "--quiet"])
        evaluated = json.loads((out / "evaluation" / "metrics.json").read_text())
        code, predict_s, _ = _timed(["predict", out, test, "--out", out / "predictions.csv", "--quiet"])
        rows.append({"format": name, "model": model, "test_accuracy": final["test_accuracy"],
                     "evaluate_accuracy": evaluated["accuracy"], "n_test": evaluated["n"],
                     "train_s": train_s, "evaluate_s": evaluate_s, "predict_s": predict_s})
    return rows


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: each model's own default")
    parser.add_argument("--keep", type=Path, default=None, help="write the files and runs here (kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        rows = run(root, args.epochs)
    print(f"{'format':<14}{'model':<7}{'test acc':>9}{'evaluate':>10}{'n':>6}{'train s':>9}{'evaluate s':>11}"
          f"{'predict s':>10}")
    for row in rows:
        print(f"{row['format']:<14}{row['model']:<7}{row['test_accuracy']:>9.4f}"
              f"{row['evaluate_accuracy']:>10.4f}{row['n_test']:>6}{row['train_s']:>9.1f}{row['evaluate_s']:>11.2f}{row['predict_s']:>10.2f}")


if __name__ == "__main__":
    main_cli()
