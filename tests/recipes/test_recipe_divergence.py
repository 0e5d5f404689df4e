"""Every recipe family reports a diverged run through the runner's result, not just the classifiers."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import dendrite
from dendrite import nn
from dendrite.data import DataLoader, TensorDataset, load_dataset
from dendrite.recipes.base import RunConfig, RunResult
from dendrite.recipes.catalog import MODELS
from dendrite.recipes.runner import train
from dendrite.train import Trainer


def strict_loads(text: str):
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def run(model: str, dataset: str, out: Path, **config) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy overflow on the way to NaN
        metrics = train(MODELS[model], load_dataset(dataset), RunConfig(model, dataset, quiet=True, out=out,
                                                                         **config))
    assert strict_loads((out / "metrics.json").read_text()) == metrics  # what is returned is what is written
    return metrics


# Real divergences: a learning rate far too large for each family (epochs=3: each stops early).
FAMILIES = [
    ("gan", "ring8", {"lr": 1e6, "optimizer": "sgd"}, {"steps_per_epoch": 5, "samples": 200},
     ("loss_d", "loss_g")),
    ("vae", "digits", {"lr": 1e6, "optimizer": "sgd"}, {"hidden": (16,)}, ("loss",)),
    ("forecaster", "sine", {"lr": 1e4, "optimizer": "sgd"}, {"hidden_size": 8}, ("loss",)),
    ("mlp", "spiral", {"lr": 1e3, "optimizer": "sgd", "batch_size": 200}, {}, ("loss",)),
]


@pytest.mark.parametrize("model, dataset, config, options, keys", FAMILIES, ids=[row[0] for row in FAMILIES])
def test_each_family_reports_its_divergence(model, dataset, config, options, keys, tmp_path):
    metrics = run(model, dataset, tmp_path, epochs=3, options=options, **config)
    assert metrics["diverged"] is True
    where = metrics["diverged_at"]
    assert where["key"] in keys and where["loss"] in ("nan", "inf", "-inf")
    assert where["epoch"] == len(metrics["history"]) == 1  # stopped in the epoch it diverged
    assert not any(path.stem == "model" for path in tmp_path.iterdir())  # diverged weights are not saved


def test_the_language_model_reports_a_nan_loss(tmp_path, monkeypatch):
    # Its fused cross-entropy stays finite even at absurd rates, so the NaN is injected at the 3rd batch.
    calls = []
    cross_entropy = nn.functional.cross_entropy

    def poisoned(*args, **kwargs):
        calls.append(1)
        loss = cross_entropy(*args, **kwargs)
        return loss * float("nan") if dendrite.is_grad_enabled() and len(calls) >= 3 else loss

    monkeypatch.setattr(nn.functional, "cross_entropy", poisoned)
    options = {"train_chars": 2000, "hidden_size": 16, "embedding_dim": 8, "seq_len": 16, "batch_size": 8}
    metrics = run("charlm", "pytext", tmp_path, epochs=2, options=options)
    assert metrics["diverged"] is True
    assert {key: metrics["diverged_at"][key] for key in ("key", "loss")} == {"key": "loss", "loss": "nan"}


def test_a_failure_after_the_divergence_does_not_hide_it(tmp_path, monkeypatch):
    # A recipe whose post-training step chokes on the NaN weights (as a GAN judge can).
    def recipe(spec, splits, settings, config, out):
        model = nn.Linear(2, 2)
        x = np.full((8, 2), 1e30, np.float32)
        Trainer(model, nn.MSELoss(), dendrite.optim.SGD(model.parameters(), lr=1.0),
                progress=False).fit(DataLoader(TensorDataset(x, x), batch_size=4), epochs=5)
        np.linalg.eigvals(model.weight.detach().numpy().astype(np.float64))  # raises on NaN
        return RunResult(final={}, history=[], model=model)

    monkeypatch.setitem(MODELS, "mlp", dataclasses.replace(MODELS["mlp"], recipe=recipe))
    metrics = run("mlp", "spiral", tmp_path, epochs=5)
    assert metrics["diverged"] is True and metrics["diverged_at"]["epoch"] == 1
    assert metrics["error_after_divergence"].startswith("LinAlgError")
    assert len(metrics["history"]) == 1


def test_an_error_without_divergence_still_raises(tmp_path, monkeypatch):
    def recipe(spec, splits, settings, config, out):
        raise RuntimeError("a real bug")

    monkeypatch.setitem(MODELS, "mlp", dataclasses.replace(MODELS["mlp"], recipe=recipe))
    with pytest.raises(RuntimeError, match="a real bug"):
        train(MODELS["mlp"], load_dataset("spiral"), RunConfig("mlp", "spiral", quiet=True, out=tmp_path))


@pytest.mark.parametrize("field, value", [("lr", float("inf")), ("lr", float("nan")), ("lr", 0.0),
                                          ("epochs", 0), ("batch_size", -1), ("epochs", 1.5)])
def test_the_python_api_rejects_nonsense_numbers(field, value):
    with pytest.raises(ValueError, match=f"{field} must be a"):
        RunConfig("mlp", "spiral", **{field: value})
