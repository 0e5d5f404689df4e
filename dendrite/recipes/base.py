"""What every training recipe shares: the run's settings, its output folder, metrics.json.

A *recipe* turns (model spec, dataset, settings) into a trained model plus the
files a learner looks at. Recipes differ by family (a classifier, a language
model, a GAN...), but all of them write ``DIR/metrics.json`` of the same form::

    {"model", "dataset", "seed", "epochs", "seconds", "n_train", "n_test",
     "final": {metric: number}, "history": [per-epoch dicts],
     "diverged": false}     # true (plus "diverged_at") when a loss became NaN or infinite

The file is strict JSON (:mod:`dendrite.utils.strict_json`): a non-finite number is ``null``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dendrite import nn, optim
from dendrite.train.divergence import Divergence, check_finite_state
from dendrite.utils.atomic import atomic_write_text
from dendrite.utils.strict_json import dumps

__all__ = [
    "RunConfig",
    "ModelSpec",
    "RunResult",
    "make_optimizer",
    "write_metrics",
    "Stopwatch",
    "save_weights",
    "saved_weights",
]


@dataclass
class RunConfig:
    """Settings of one ``dendrite train`` run; ``None`` means "the model's default".

    Shapes: no arrays; :meth:`resolved` maps the model's defaults dict to the run's settings dict.
    ``epochs``/``batch_size`` must be whole numbers > 0 and ``lr`` a finite number > 0 (else ``ValueError``).

    Example:
        >>> RunConfig("mlp", "spiral", epochs=3, options={"hidden": (8,)}).resolved({"epochs": 10, "lr": 0.1})
        {'epochs': 3, 'lr': 0.1, 'hidden': (8,)}
    """

    model: str
    dataset: str
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    optimizer: str | None = None
    seed: int = 0
    out: Path = Path("runs/latest")
    quiet: bool = False
    resume: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    distributed: bool = False  # data parallel over the MPI job this process is in (docs/distributed.md)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise ValueError(f"{name} must be a whole number > 0, got {value!r}")
        if self.lr is not None and not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr)
                                        and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")

    def resolved(self, defaults: dict[str, Any]) -> dict[str, Any]:
        """The model's defaults overridden by whatever the user set."""
        settings = dict(defaults)
        for key in ("epochs", "batch_size", "lr", "optimizer"):
            value = getattr(self, key)
            if value is not None:
                settings[key] = value
        settings.update(self.options)
        return settings


@dataclass
class RunResult:
    """What a recipe hands back: final metrics, per-epoch history, the trained model.

    Shapes: ``final`` {metric: number}, ``history`` one dict per epoch, ``extra`` more JSON for metrics.json;
    ``divergence`` where the run diverged (a :class:`~dendrite.train.divergence.Divergence`), if it did.

    Example:
        >>> RunResult(final={"test_accuracy": 0.9}, history=[{"epoch": 1, "loss": 0.3}]).final
        {'test_accuracy': 0.9}
    """

    final: dict[str, float]
    history: list[dict[str, Any]]
    model: nn.Module | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    divergence: Divergence | None = None  # set by the runner when a loss became NaN or infinite


@dataclass
class ModelSpec:
    """A named model: how to build it, for which data, with which defaults, trained by which recipe.

    ``accepts(splits)`` returns ``None`` when the model can take the data, else the
    reason it cannot (shown to the user as one line). Shapes: ``build(splits, settings)``
    returns a module for samples of ``splits.input_shape``; ``defaults(splits)`` a dict;
    ``recipe(spec, splits, settings, config, out)`` a :class:`RunResult`. The rows of
    :data:`dendrite.recipes.catalog.MODELS` are ModelSpecs.

    Example:
        >>> from dendrite.recipes.catalog import MODELS
        >>> from dendrite.data import load_dataset
        >>> spec = MODELS["mlp"]
        >>> spec.accepts(load_dataset("spiral")) is None, spec.default_dataset
        (True, 'digits')
    """

    name: str
    family: str
    description: str
    accepts: Callable[[Any], str | None]
    build: Callable[[Any, dict], nn.Module]
    defaults: Callable[[Any], dict]
    recipe: Callable[..., RunResult]
    default_dataset: str = "digits"


_OPTIMIZERS = {
    "sgd": optim.SGD,
    "adam": optim.Adam,
    "adamw": optim.AdamW,
    "rmsprop": optim.RMSprop,
    "adagrad": optim.Adagrad,
    "adadelta": optim.Adadelta,
}


def make_optimizer(name: str, parameters, lr: float, **options) -> optim.Optimizer:
    """An optimizer by name (``sgd``, ``adam``, ``adamw``, ``rmsprop``, ``adagrad``, ``adadelta``).

    Shapes: parameters of any shapes; ``sgd`` gets ``momentum=0.9`` unless given.

    Example:
        >>> from dendrite import nn
        >>> type(make_optimizer("adam", nn.Linear(2, 1).parameters(), lr=1e-3)).__name__
        'Adam'
    """
    key = name.lower()
    if key not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(_OPTIMIZERS)}")
    if key == "sgd":
        options.setdefault("momentum", 0.9)
    return _OPTIMIZERS[key](parameters, lr=lr, **options)


class Stopwatch:
    """Wall time since creation, in seconds.

    Shapes: no arrays; ``seconds`` is a float.

    Example:
        >>> Stopwatch().seconds >= 0.0
        True
    """

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def write_metrics(
    out: Path, config: RunConfig, settings: dict, seconds: float, n_train: int, n_test: int, result: RunResult
) -> Path:
    """Write ``out/metrics.json`` atomically and return its path.

    Shapes: ``result.final`` {metric: number} and ``result.history`` (one dict per epoch) become
    strict JSON; non-finite numbers are written as ``null``. ``diverged`` is always written;
    a diverged run adds ``diverged_at`` (``{"epoch", "batch", "key", "loss": "nan"}``).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> config = RunConfig("mlp", "spiral")
        >>> path = write_metrics(Path(tmp.name), config, {"epochs": 1}, 0.5, 800, 200,
        ...                      RunResult(final={"test_accuracy": 0.75}, history=[]))
        >>> import json
        >>> metrics = json.loads(path.read_text())
        >>> path.name, metrics["final"], metrics["diverged"]
        ('metrics.json', {'test_accuracy': 0.75}, False)
        >>> tmp.cleanup()
    """
    payload = {
        "model": config.model,
        "dataset": config.dataset,
        "seed": config.seed,
        "epochs": settings.get("epochs"),
        "seconds": round(seconds, 3),
        "n_train": int(n_train),
        "n_test": int(n_test),
        "settings": {k: v for k, v in settings.items() if isinstance(v, (int, float, str, bool, type(None)))},
        "final": {key: None if value is None else float(value) for key, value in result.final.items()},
        "history": result.history,
        **result.extra,
        "diverged": result.divergence is not None,
    }
    if result.divergence is not None:
        payload["diverged_at"] = result.divergence.to_json()
    path = Path(out) / "metrics.json"
    atomic_write_text(path, dumps(payload, indent=2) + "\n")
    return path


def save_weights(model: nn.Module, out: Path) -> Path:
    """Save the model's state_dict as ``out/model.safetensors`` (``.npz`` without safetensors).

    Shapes: every parameter and buffer is saved with its own shape, under its state_dict key.
    Non-finite weights (a diverged run) raise :class:`~dendrite.train.divergence.NonFiniteStateError`
    and write nothing, so an earlier file is never replaced by NaNs.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> save_weights(nn.Linear(2, 1), Path(tmp.name)).stem
        'model'
        >>> tmp.cleanup()
    """
    import dendrite

    out = Path(out)
    try:
        import safetensors  # noqa: F401

        path = out / "model.safetensors"
    except ImportError:
        path = out / "model.npz"
    state = model.state_dict()
    check_finite_state(state, repr(str(path)))
    dendrite.save(state, path)
    return path


def saved_weights(out: Path) -> Path | None:
    """The weights file :func:`save_weights` wrote in ``out`` (``model.safetensors`` or ``.npz``), else None.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> saved_weights(Path(tmp.name)) is None
        True
        >>> written = save_weights(nn.Linear(2, 1), Path(tmp.name))
        >>> saved_weights(Path(tmp.name)) == written
        True
        >>> tmp.cleanup()
    """
    candidates = [Path(out) / name for name in ("model.safetensors", "model.npz")]
    return next((path for path in candidates if path.is_file()), None)


def history_rows(history) -> list[dict]:
    """A History (dict of lists) as one dict per epoch.

    Shapes: {key: [E values]} -> a list of E dicts, each with ``epoch`` (1-based) and every key.

    Example:
        >>> history_rows({"loss": [0.5, 0.25]})
        [{'epoch': 1, 'loss': 0.5}, {'epoch': 2, 'loss': 0.25}]
    """
    table = history.history if hasattr(history, "history") else dict(history)
    epochs = len(next(iter(table.values()), []))
    return [
        {"epoch": index + 1, **{key: values[index] for key, values in table.items()}}
        for index in range(epochs)
    ]


def ensure_dir(path: Path) -> Path:
    """The folder ``path``, created with its parents if missing.

    Shapes: a path in, the same path (a ``Path``) out.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> ensure_dir(Path(tmp.name) / "a" / "b").is_dir()
        True
        >>> tmp.cleanup()
    """
    os.makedirs(path, exist_ok=True)
    return Path(path)
