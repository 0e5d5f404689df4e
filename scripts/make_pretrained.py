"""Train the small pretrained models shipped in dendrite/models/pretrained/ and write their manifest.

Run once by a maintainer (a few minutes on 2 CPU cores):

    python scripts/make_pretrained.py                 # train all, write weights + manifest.json
    python scripts/make_pretrained.py --only digits-mlp
    python scripts/make_pretrained.py --check         # verify checksums and re-measure test accuracy

Each model is trained with dendrite on the built-in 8x8 digits (pixels scaled to [0, 1], the
``load_digits`` default), seeded, so a rerun on the same machine gives the same weights; the
weights are written as ``.npz`` with fixed zip timestamps, so the same weights give the same
bytes and the same SHA-256. The manifest records the architecture and constructor arguments,
the data, the training settings and the measured test accuracy (on the digits test split,
restricted to the classes the model was trained on).

Models:
    digits-cnn    LeNet on all ten digits
    digits-mlp    MLP (128, 128) on all ten digits
    digits04-cnn  LeNet on the digits 0-4 only: the starting point of examples/finetune_digits.py
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dendrite  # noqa: E402
from dendrite import nn  # noqa: E402
from dendrite.data import DataLoader, TensorDataset, load_dataset  # noqa: E402
from dendrite.models import create  # noqa: E402
from dendrite.models.zoo import _FORMAT, MANIFEST_NAME, ZOO_DIR, pretrained, sha256_of  # noqa: E402
from dendrite.optim import Adam  # noqa: E402
from dendrite.optim.lr_scheduler import CosineAnnealingLR  # noqa: E402
from dendrite.train import Trainer  # noqa: E402
from dendrite.utils.atomic import atomic_write_bytes, atomic_write_text  # noqa: E402

SPECS = {
    "digits-cnn": {
        "description": "LeNet-style CNN for the 8x8 digits (all ten classes)",
        "architecture": "cnn", "arguments": {"dropout": 0.25}, "classes": list(range(10)),
        "training": {"epochs": 20, "batch_size": 32, "optimizer": "adam", "lr": 1e-3, "schedule": "cosine",
                     "seed": 0},
    },
    "digits-mlp": {
        "description": "MLP (two hidden layers of 128) for the 8x8 digits (all ten classes)",
        "architecture": "mlp", "arguments": {"hidden": [128, 128], "dropout": 0.1},
        "classes": list(range(10)),
        "training": {"epochs": 30, "batch_size": 32, "optimizer": "adam", "lr": 2e-3, "schedule": "cosine",
                     "seed": 0},
    },
    "digits04-cnn": {
        "description": "LeNet-style CNN trained on the digits 0-4 only (for the fine-tuning example)",
        "architecture": "cnn", "arguments": {"dropout": 0.25}, "classes": [0, 1, 2, 3, 4],
        "training": {"epochs": 20, "batch_size": 32, "optimizer": "adam", "lr": 1e-3, "schedule": "cosine",
                     "seed": 0},
    },
}


def subset(x: np.ndarray, y: np.ndarray, classes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``classes``, relabelled 0..len(classes)-1 in the order given."""
    keep = np.isin(y, classes)
    mapping = {label: index for index, label in enumerate(classes)}
    return x[keep], np.array([mapping[int(label)] for label in y[keep]], dtype=np.int64)


def npz_bytes(state_dict: dict) -> bytes:
    """An ``.npz`` of the state_dict with fixed timestamps: same weights, same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, value in state_dict.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(value.numpy()), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with dendrite.no_grad():
        predicted = model(dendrite.tensor(x)).numpy().argmax(axis=1)
    return float((predicted == y).mean())


def train_one(name: str, spec: dict, digits) -> dict:
    settings = spec["training"]
    classes = spec["classes"]
    x_train, y_train = subset(digits.x_train, digits.y_train, classes)
    x_test, y_test = subset(digits.x_test, digits.y_test, classes)
    dendrite.manual_seed(settings["seed"])
    arguments = {"input_shape": list(digits.input_shape), "num_classes": len(classes), **spec["arguments"]}
    model = create(spec["architecture"], digits.input_shape, len(classes),
                   **{key: tuple(v) if isinstance(v, list) else v for key, v in spec["arguments"].items()})
    optimizer = Adam(model.parameters(), lr=settings["lr"])
    scheduler = CosineAnnealingLR(optimizer, T_max=settings["epochs"])
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=settings["batch_size"], shuffle=True)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, scheduler=scheduler, progress="epoch",
                      seed=settings["seed"])
    started = time.perf_counter()
    trainer.fit(loader, epochs=settings["epochs"])
    seconds = time.perf_counter() - started
    test_accuracy = accuracy(model, x_test, y_test)
    file_name = f"{name}.npz"
    atomic_write_bytes(ZOO_DIR / file_name, npz_bytes(model.state_dict()))
    print(f"{name}: test accuracy {test_accuracy:.4f} on {len(y_test)} images ({seconds:.0f} s)")
    return {
        "description": spec["description"], "file": file_name, "sha256": sha256_of(ZOO_DIR / file_name),
        "bytes": (ZOO_DIR / file_name).stat().st_size, "architecture": spec["architecture"],
        "arguments": arguments, "parameters": int(sum(p.numel() for p in model.parameters())),
        "data": {"dataset": "digits", "split": "train", "classes": classes, "n_train": int(len(y_train)),
                 "preprocessing": "pixels / 16 (load_digits default), shape (N, 8, 8); labels are the "
                                  "positions of the digits in 'classes'"},
        "training": {**settings, "loss": "cross_entropy", "made_by": "scripts/make_pretrained.py"},
        "test_accuracy": round(test_accuracy, 6), "n_test": int(len(y_test)),
    }


def check(digits) -> int:
    manifest = json.loads((ZOO_DIR / MANIFEST_NAME).read_text())["models"]
    failures = 0
    for name, entry in manifest.items():
        model = pretrained(name)  # verifies the checksum
        x_test, y_test = subset(digits.x_test, digits.y_test, entry["data"]["classes"])
        measured = accuracy(model, x_test, y_test)
        ok = abs(measured - entry["test_accuracy"]) < 1e-6
        failures += not ok
        print(f"{name}: sha256 ok, test accuracy {measured:.4f} (manifest {entry['test_accuracy']:.4f})"
              f"{'' if ok else '  MISMATCH'}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(SPECS), default=None)
    parser.add_argument("--check", action="store_true", help="verify the shipped files instead of training")
    args = parser.parse_args(argv)
    digits = load_dataset("digits")
    if args.check:
        return check(digits)
    ZOO_DIR.mkdir(parents=True, exist_ok=True)
    path = ZOO_DIR / MANIFEST_NAME
    models = json.loads(path.read_text())["models"] if path.is_file() else {}
    for name in args.only or SPECS:
        models[name] = train_one(name, SPECS[name], digits)
        # Rewritten after every model, so an interrupted run keeps what it finished.
        manifest = {"format": _FORMAT, "models": dict(sorted(models.items()))}
        atomic_write_text(path, json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
