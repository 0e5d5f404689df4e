"""Pretrained models shipped with dendrite: ``dendrite.models.pretrained("digits-cnn")``.

The weights live in ``dendrite/models/pretrained/`` as ``.npz`` files (read with
``allow_pickle=False``; nothing is ever unpickled), next to ``manifest.json``,
which records for each model:

* ``file`` and its ``sha256`` -- checked before loading, so a damaged or replaced
  file fails loudly instead of giving quietly wrong predictions;
* ``architecture`` (a name in :data:`dendrite.models.registry.REGISTRY`) and ``arguments`` --
  how to build the network the weights belong to;
* ``data`` -- what it was trained on (dataset, split, classes, preprocessing);
* ``test_accuracy`` on that dataset's test split (restricted to the same classes),
  measured by ``scripts/make_pretrained.py``, which made every file here.

The module is called ``zoo`` because ``pretrained/`` is the data folder beside it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from dendrite.interop.serialization import load
from dendrite.models.registry import create

__all__ = ["pretrained", "list_pretrained", "pretrained_info", "PretrainedChecksumError", "ZOO_DIR",
           "MANIFEST_NAME", "sha256_of"]

ZOO_DIR = Path(__file__).resolve().parent / "pretrained"
MANIFEST_NAME = "manifest.json"
_FORMAT = "dendrite.pretrained/1"


class PretrainedChecksumError(ValueError):
    """A pretrained weights file does not have the SHA-256 its manifest promises.

    A ``ValueError``, raised by :func:`pretrained` before any weight is loaded (no shapes involved).

    Example:
        >>> issubclass(PretrainedChecksumError, ValueError)
        True
    """


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 hex digest of a file's bytes (read in 1 MiB blocks).

    Shapes: a path in, a 64-character hex string out.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile() as handle:
        ...     _ = handle.write(b"abc"); handle.flush()
        ...     sha256_of(handle.name)[:16]
        'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(directory: str | os.PathLike | None) -> tuple[dict, Path]:
    folder = ZOO_DIR if directory is None else Path(directory)
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no pretrained-model manifest at {str(path)!r}; the shipped one is made by "
                                "scripts/make_pretrained.py")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"{str(path)!r} is not valid JSON: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT or \
            not isinstance(manifest.get("models"), dict):
        raise ValueError(f"{str(path)!r} is not a dendrite pretrained-model manifest (format {_FORMAT!r})")
    return manifest["models"], folder


def list_pretrained(directory: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """One row per pretrained model: name, architecture, data, test accuracy, file size.

    Shapes: no arrays; one dict per model (``classes`` a list or ``None``, ``bytes`` an int).

    Example:
        >>> import dendrite.models
        >>> "digits-cnn" in [row["name"] for row in dendrite.models.list_pretrained()]
        True
    """
    models, folder = _manifest(directory)
    rows = []
    for name, entry in sorted(models.items()):
        file = folder / entry["file"]
        rows.append({"name": name, "architecture": entry["architecture"],
                     "description": entry.get("description", ""),
                     "dataset": entry["data"]["dataset"], "classes": entry["data"].get("classes"),
                     "test_accuracy": entry["test_accuracy"],
                     "bytes": file.stat().st_size if file.is_file() else None})
    return rows


def pretrained_info(name: str, directory: str | os.PathLike | None = None) -> dict[str, Any]:
    """The manifest entry of the pretrained model ``name`` (a copy).

    Shapes: no arrays; the entry's ``arguments`` give ``input_shape`` and ``num_classes``.

    Example:
        >>> import dendrite.models
        >>> dendrite.models.pretrained_info("digits-cnn")["architecture"]
        'cnn'
    """
    models, _ = _manifest(directory)
    if not isinstance(name, str) or name not in models:
        raise KeyError(f"no pretrained model {name!r}; available: {', '.join(sorted(models)) or 'none'}")
    return copy.deepcopy(models[name])


def pretrained(name: str, *, directory: str | os.PathLike | None = None, verify: bool = True):
    """Build the pretrained model ``name``, check its file's SHA-256, load its weights; return it (eval mode).

    ``directory`` reads another zoo folder (a ``manifest.json`` plus weight files) instead of
    the shipped one. Raises :class:`PretrainedChecksumError` when the file is not the one the
    manifest describes and ``KeyError`` (listing the names) for an unknown name.

    Shapes: as the architecture's (``digits-cnn``: input ``(N, 8, 8)`` pixels in [0, 1] ->
    logits ``(N, 10)``).

    Example:
        >>> import dendrite, dendrite.models
        >>> from dendrite.data import load_dataset
        >>> model = dendrite.models.pretrained("digits-cnn")
        >>> images = load_dataset("digits").x_test[:4]
        >>> model(dendrite.tensor(images)).shape
        (4, 10)
    """
    entry = pretrained_info(name, directory)
    folder = ZOO_DIR if directory is None else Path(directory)
    path = folder / entry["file"]
    if not path.is_file():
        raise FileNotFoundError(f"pretrained model {name!r}: weights file {str(path)!r} is missing; "
                                "reinstall dendrite or rebuild it with scripts/make_pretrained.py")
    if verify:
        actual = sha256_of(path)
        if actual != entry["sha256"]:
            raise PretrainedChecksumError(
                f"pretrained model {name!r}: {str(path)!r} is damaged or not the published file: SHA-256 "
                f"{actual}, expected {entry['sha256']}. Reinstall dendrite or rebuild it with "
                "scripts/make_pretrained.py"
            )
    arguments = dict(entry["arguments"])
    input_shape, num_classes = tuple(arguments.pop("input_shape")), arguments.pop("num_classes")
    arguments = {key: tuple(value) if isinstance(value, list) else value for key, value in arguments.items()}
    model = create(entry["architecture"], input_shape, num_classes, **arguments)
    model.load_state_dict(load(path))
    return model.eval()
