"""``train(spec, splits, config)``: the one entry point behind ``dendrite train`` and the tour."""

from __future__ import annotations

from dendrite import backend
from dendrite.recipes.base import ModelSpec, RunConfig, Stopwatch, ensure_dir, save_weights, write_metrics


def train(spec: ModelSpec, splits, config: RunConfig) -> dict:
    """Train ``spec`` on ``splits`` with ``config``; write the run's files; return metrics.json's content.

    Example:
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.catalog import MODELS
        >>> metrics = train(MODELS["mlp"], load_dataset("spiral"),
        ...                 RunConfig("mlp", "spiral", epochs=1, quiet=True))  # doctest: +SKIP
    """
    reason = spec.accepts(splits)
    if reason:
        raise ValueError(f"model {spec.name!r} cannot train on dataset {splits.name!r}: {reason}")
    settings = config.resolved(spec.defaults(splits))
    out = ensure_dir(config.out)
    backend.manual_seed(config.seed)
    clock = Stopwatch()
    result = spec.recipe(spec, splits, settings, config, out)
    seconds = clock.seconds
    if result.model is not None:
        save_weights(result.model, out)
    n_test = len(splits.x_test)
    write_metrics(out, config, settings, seconds, len(splits.x_train), n_test, result)
    import json

    return json.loads((out / "metrics.json").read_text())
