"""The ``forecaster``: NRMSE and the repeat-last baseline by hand, the model, the recipe, the target."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import dendrite
from dendrite import nn
from dendrite.data import load_dataset, load_sine
from dendrite.models import Forecaster
from dendrite.recipes.base import RunConfig
from dendrite.recipes.catalog import MODELS
from dendrite.recipes.forecasting import needs_series, nrmse, repeat_last_prediction
from dendrite.recipes.runner import train


def test_nrmse_against_hand_computed_values():
    # errors (0, 0, 0, 1): RMSE = sqrt(1/4) = 0.5; std(1, 2, 3, 4) = sqrt(1.25)
    expected = 0.5 / math.sqrt(1.25)
    assert nrmse([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 5.0]) == pytest.approx(expected, rel=1e-12)
    assert nrmse([[1.0], [3.0]], [[1.0], [3.0]]) == 0.0
    # predicting the mean everywhere scores exactly 1
    assert nrmse([1.0, 5.0, 6.0], [4.0, 4.0, 4.0]) == pytest.approx(1.0, rel=1e-12)


def test_nrmse_is_unit_free():
    rng = np.random.default_rng(0)
    truth, prediction = rng.normal(size=50), rng.normal(size=50)
    expected = nrmse(truth, prediction)
    assert nrmse(truth * 7.0 + 3.0, prediction * 7.0 + 3.0) == pytest.approx(expected, rel=1e-12)


def test_nrmse_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        nrmse(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match="constant"):
        nrmse([2.0, 2.0], [1.0, 3.0])


def test_repeat_last_prediction():
    x = np.arange(12.0).reshape(2, 3, 2)
    assert repeat_last_prediction(x).tolist() == [[4.0], [10.0]]
    assert repeat_last_prediction(x, 2).tolist() == [[4.0, 5.0], [10.0, 11.0]]
    assert repeat_last_prediction(np.arange(6.0).reshape(2, 3)).tolist() == [[2.0], [5.0]]


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_forecaster_shapes(cell):
    model = Forecaster(1, 1, cell=cell, hidden_size=8)
    assert model(dendrite.zeros(5, 20, 1)).shape == (5, 1)
    assert model(dendrite.zeros(5, 20)).shape == (5, 1)
    with pytest.raises(ValueError, match="expected windows"):
        model(dendrite.zeros(5))


def test_residual_forecaster_with_a_zero_head_repeats_the_last_value():
    model = Forecaster(1, 1, hidden_size=8, residual=True)
    with dendrite.no_grad():
        model.head.weight.fill_(0.0)
        model.head.bias.fill_(0.0)
        x = np.random.default_rng(1).normal(size=(4, 10, 1)).astype(np.float32)
        np.testing.assert_array_equal(model(dendrite.tensor(x)).numpy(), repeat_last_prediction(x))
    with pytest.raises(ValueError, match="output_size"):
        Forecaster(1, 2, residual=True)


def test_a_few_steps_reduce_the_loss():
    dendrite.manual_seed(0)
    data = load_sine(n_points=400)
    model = Forecaster(1, 1, hidden_size=16, residual=False)
    optimizer = dendrite.optim.Adam(model.parameters(), lr=1e-2)
    x, y = dendrite.tensor(data.x_train), dendrite.tensor(data.y_train)
    losses = []
    for _ in range(20):
        loss = nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    assert losses[-1] < 0.5 * losses[0]


def test_accepts_windowed_series_only():
    assert needs_series(load_dataset("mackey-glass")) is None
    assert needs_series(load_dataset("sine")) is None
    assert "forecasts series" in needs_series(load_dataset("digits"))


def test_train_writes_the_run_files(tmp_path):
    splits = load_sine(n_points=300)
    train(MODELS["forecaster"], splits, RunConfig("forecaster", "sine", epochs=2, quiet=True, out=tmp_path,
                                                  options={"hidden_size": 8}))
    for name in ("metrics.json", "curves.png", "prediction.png"):
        assert (tmp_path / name).is_file(), name
    saved = json.loads((tmp_path / "metrics.json").read_text())
    final = saved["final"]
    assert {"test_nrmse", "repeat_last_nrmse", "test_rmse"} <= set(final)
    # the baseline is computed from the data alone: check it independently
    expected = nrmse(splits.y_test, splits.x_test[:, -1, :])
    assert final["repeat_last_nrmse"] == pytest.approx(expected, rel=1e-9)
    assert len(saved["history"]) == 2 and "val_loss" in saved["history"][0]


def test_cell_setting_picks_the_recurrent_layer(tmp_path):
    spec = MODELS["forecaster"]
    splits = load_sine(n_points=300)
    settings = {**spec.defaults(splits), "cell": "lstm"}
    assert type(spec.build(splits, settings).rnn).__name__ == "LSTM"


@pytest.mark.slow
def test_default_run_reaches_the_target(tmp_path):
    metrics = train(MODELS["forecaster"], load_dataset("mackey-glass"),
                    RunConfig("forecaster", "mackey-glass", seed=0, quiet=True, out=tmp_path))
    final = metrics["final"]
    assert final["test_nrmse"] <= 0.02
    assert final["repeat_last_nrmse"] > 0.1  # the baseline is far behind
