"""The dataset registry: every dataset by name, for ``load_dataset`` and ``dendrite datasets``.

Built-in (fully offline): the TensorFlow Playground sets ``circle``, ``xor``,
``gaussian``, ``spiral``, ``moons`` (classification) and ``plane``,
``multigauss`` (regression); ``digits``; ``ring8``; ``mackey-glass`` and
``sine``; ``pytext``. From files the user brings: ``mnist``,
``fashion-mnist``, ``cifar10`` (option ``directory=``) and ``csv`` (option
``path=``).

Names are case-insensitive and ``_`` equals ``-`` (``mackey_glass`` works).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dendrite.data import digits, files, series, text, toy2d
from dendrite.data.splits import TASKS, DataSplits


@dataclass(frozen=True)
class DatasetEntry:
    """One registered dataset: its loader and what ``dendrite datasets`` shows without loading.

    Example:
        >>> entry = get_dataset_entry("sine")
        >>> entry.task, entry.needs_files, entry.options()["window"]
        ('sequence', False, 20)
    """

    name: str
    loader: Callable[..., DataSplits]
    task: str
    description: str
    needs_files: bool = False

    def options(self) -> dict[str, Any]:
        """The loader's keyword options and their defaults (``inspect.Parameter.empty``: required)."""
        return {name: p.default for name, p in inspect.signature(self.loader).parameters.items()}


_REGISTRY: dict[str, DatasetEntry] = {}
_SUMMARIES: dict[str, dict] = {}


def _key(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"dataset names are strings, got {type(name).__name__}")
    return name.strip().lower().replace("_", "-")


def register_dataset(name: str, loader: Callable[..., DataSplits], task: str, description: str,
                     needs_files: bool = False, replace: bool = False) -> DatasetEntry:
    """Add a dataset under ``name``; ``loader(**options)`` must return a :class:`DataSplits`.

    Example:
        >>> import numpy as np
        >>> def tiny():
        ...     x = np.zeros((4, 2), np.float32)
        ...     return DataSplits("tiny", "regression", x, x[:, :1], x, x[:, :1], (2,))
        >>> entry = register_dataset("tiny", tiny, "regression", "four zeros", replace=True)
        >>> load_dataset("tiny").x_train.shape
        (4, 2)
        >>> unregister_dataset("tiny")
    """
    key = _key(name)
    if task not in TASKS:
        raise ValueError(f"register_dataset({name!r}): task {task!r} is not one of {TASKS}")
    if key in _REGISTRY and not replace:
        raise ValueError(f"register_dataset: {key!r} is already registered (pass replace=True to override)")
    entry = DatasetEntry(key, loader, task, description, needs_files)
    _REGISTRY[key] = entry
    _SUMMARIES.pop(key, None)
    return entry


def unregister_dataset(name: str) -> None:
    """Remove a registered dataset (``KeyError`` when there is none by that name).

    Example:
        >>> import numpy as np
        >>> def tiny():
        ...     x = np.zeros((4, 2), np.float32)
        ...     return DataSplits("tiny", "regression", x, x[:, :1], x, x[:, :1], (2,))
        >>> _ = register_dataset("tiny", tiny, "regression", "four zeros", replace=True)
        >>> unregister_dataset("tiny")
        >>> "tiny" in dataset_names()
        False
    """
    entry = get_dataset_entry(name)
    del _REGISTRY[entry.name]
    _SUMMARIES.pop(entry.name, None)


def dataset_names() -> list[str]:
    """The registered names, sorted.

    Example:
        >>> names = dataset_names()
        >>> "digits" in names, names == sorted(names)
        (True, True)
    """
    return sorted(_REGISTRY)


def get_dataset_entry(name: str) -> DatasetEntry:
    """The :class:`DatasetEntry` for ``name`` (raises ``KeyError`` listing the known names).

    Names are case-insensitive and ``_`` equals ``-``.

    Example:
        >>> get_dataset_entry("Mackey_Glass").name
        'mackey-glass'
    """
    key = _key(name)
    if key not in _REGISTRY:
        raise KeyError(f"unknown dataset {name!r}; known datasets: {', '.join(dataset_names())}")
    return _REGISTRY[key]


def load_dataset(name: str, **options) -> DataSplits:
    """Load a registered dataset by name, passing ``options`` to its loader.

    Example:
        >>> data = load_dataset("spiral", n=400, noise=0.1, seed=1)
        >>> data.task, data.x_train.shape, data.y_train.dtype
        ('classification', (320, 2), dtype('int64'))
    """
    entry = get_dataset_entry(name)
    signature = inspect.signature(entry.loader)
    try:
        signature.bind(**options)
    except TypeError as error:
        accepted = ", ".join(
            f"{k}={v!r}" if v is not inspect.Parameter.empty else f"{k} (required)"
            for k, v in entry.options().items()
        )
        raise TypeError(f"load_dataset({entry.name!r}): {error}; accepted options: {accepted}") from None
    return entry.loader(**options)


def list_datasets(load: bool = True) -> list[dict[str, Any]]:
    """One row per dataset, sorted by name, for ``dendrite datasets``.

    Each row has ``name``, ``task``, ``train``, ``test`` (sizes), ``input_shape``,
    ``target_shape``, ``num_classes``, ``description``, ``needs_files`` and ``options`` (the
    loader's defaults). Sizes and shapes come from loading each built-in dataset with its
    default options (a second or two the first time, then cached); with ``load=False``, or for
    datasets read from user files, they are ``None``.

    Example:
        >>> row = next(r for r in list_datasets() if r["name"] == "digits")
        >>> row["train"], row["test"], row["input_shape"], row["num_classes"]
        (1437, 360, (8, 8), 10)
    """
    rows = []
    for name in dataset_names():
        entry = _REGISTRY[name]
        row = {"name": name, "task": entry.task, "train": None, "test": None, "input_shape": None,
               "target_shape": None, "num_classes": None, "description": entry.description}
        if load and not entry.needs_files:
            if name not in _SUMMARIES:
                try:
                    _SUMMARIES[name] = entry.loader().summary()
                except Exception as error:
                    raise RuntimeError(
                        f"list_datasets: loading {name!r} with its default options failed: {error}"
                    ) from error
            summary = dict(_SUMMARIES[name])
            summary["name"], summary["description"] = name, entry.description
            row.update(summary)
        row["needs_files"] = entry.needs_files
        row["options"] = {
            k: ("<required>" if v is inspect.Parameter.empty else v) for k, v in entry.options().items()
        }
        rows.append(row)
    return rows


def load_csv_splits(path: str | Path, label_column: int | str = -1, header: bool | None = None,
                    delimiter: str = ",", test_fraction: float = 0.2, seed: int = 0) -> DataSplits:
    """A CSV file as train/test splits (see :func:`dendrite.data.files.load_csv`).

    Shapes: ``x_train (N_train, F)`` float32; labels ``(N,)`` (classes) or targets ``(N, 1)``.

    Example:
        >>> rows = "".join(f"{i},{i % 2}\\n" for i in range(10))
        >>> _ = open("parity.csv", "w").write("value,odd\\n" + rows)
        >>> data = load_csv_splits("parity.csv", label_column="odd")
        >>> data.name, data.task, data.x_train.shape, data.x_test.shape
        ('parity', 'classification', (8, 1), (2, 1))
    """
    table = files.load_csv(path, label_column, header, delimiter)
    return table.splits(Path(path).stem, test_fraction, seed)


def _register_builtins() -> None:
    for name in toy2d.PLAYGROUND_CLASSIFICATION:
        register_dataset(name, functools.partial(toy2d.load_playground, name), "classification",
                         f"2-D '{name}' (TensorFlow Playground style), 2 classes")
    for name in toy2d.PLAYGROUND_REGRESSION:
        register_dataset(name, functools.partial(toy2d.load_playground, name), "regression",
                         f"2-D '{name}' (TensorFlow Playground), target in [-1, 1]")
    register_dataset("digits", digits.load_digits, "classification",
                     "8x8 handwritten digits (UCI, CC BY 4.0), shipped; 360 test images")
    register_dataset("ring8", toy2d.load_ring8, "generative", "ring of 8 Gaussians (radius 2, std 0.02)")
    register_dataset("mackey-glass", series.load_mackey_glass, "sequence",
                     "Mackey-Glass chaotic series (tau=17), one-step-ahead windows")
    register_dataset("sine", series.load_sine, "sequence", "sum of three sines, one-step-ahead windows")
    register_dataset("pytext", text.load_pytext, "text",
                     "character-level Python source from this machine's stdlib")
    register_dataset("mnist", functools.partial(files.load_mnist, name="mnist"), "classification",
                     "MNIST from your IDX files: load_dataset('mnist', directory=...)", needs_files=True)
    register_dataset("fashion-mnist", functools.partial(files.load_mnist, name="fashion-mnist"),
                     "classification", "Fashion-MNIST from your IDX files (directory=...)", needs_files=True)
    register_dataset("cifar10", files.load_cifar10, "classification",
                     "CIFAR-10 from your binary or Python batches (directory=...)", needs_files=True)
    register_dataset("csv", load_csv_splits, "classification",
                     "a CSV file of yours: load_dataset('csv', path=..., label_column=...)", needs_files=True)


_register_builtins()
