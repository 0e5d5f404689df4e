"""Snapshots: structure, strict JSON, heatmap encoding and orientation, histograms, thinning."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from dendrite import nn
from dendrite.playground import PlaygroundSession
from dendrite.playground import snapshot as snapshots
from dendrite.playground.snapshot import decode_map, encode_map, grid_points, thin_history

STEP = 1 / 127.5  # one uint8 level


def test_structure_and_strict_json():
    s = PlaygroundSession({"features": ["x1", "x2", "x1sq"], "layers": [{"neurons": 3}, {"neurons": 2}]})
    s.step_epoch()
    snap = s.snapshot(include_points=True)
    assert {"epoch", "steps", "status", "problem", "classes", "config", "metrics", "history", "grid",
            "heatmaps", "encoding", "network", "histograms", "points", "data_version"} <= set(snap)
    json.dumps(snap, allow_nan=False)
    assert snap["grid"] == {"size": 40, "neuron_size": 16, "extent": [-6, 6]}
    assert snap["history"]["epoch"] == [0, 1] and snap["metrics"]["learning_rate"] == 0.03
    assert snap["metrics"]["train_loss"] == pytest.approx(snap["history"]["train_loss"][-1])
    neurons = snap["heatmaps"]["neurons"]
    assert [len(layer) for layer in neurons] == [3, 3, 2, 1]
    assert all(len(base64.b64decode(m)) == 256 for layer in neurons for m in layer)
    assert len(base64.b64decode(snap["heatmaps"]["output"])) == 1600
    assert "output_class" not in snap["heatmaps"]
    net = snap["network"]
    assert net["inputs"] == ["x1", "x2", "x1sq"]
    assert net["layers"] == [{"neurons": 3, "activation": "tanh"}, {"neurons": 2, "activation": "tanh"},
                             {"neurons": 1, "activation": "sigmoid"}]
    assert [np.shape(w) for w in net["weights"]] == [(3, 3), (2, 3), (1, 2)]
    assert [len(b) for b in net["biases"]] == [3, 2, 1]
    assert len(snap["points"]["train"]) == 250 and len(snap["points"]["test"]) == 250
    assert all(isinstance(row[2], int) for row in snap["points"]["train"])
    assert "points" not in s.snapshot()


def test_encoding_round_trip_and_clamp():
    values = np.linspace(-1.5, 1.5, 16 * 16).reshape(16, 16)
    decoded = decode_map(encode_map(values), 16)
    np.testing.assert_allclose(decoded, np.clip(values, -1, 1), atol=STEP / 2 + 1e-9)
    assert np.abs(decode_map(encode_map(np.full((2, 2), np.nan)), 2)).max() < STEP  # NaN shows as 0


def test_grid_orientation_row_zero_is_the_top():
    points = grid_points(40)
    assert points[0].tolist() == pytest.approx([-5.85, 5.85])
    assert points[39].tolist() == pytest.approx([5.85, 5.85])
    assert points[-1].tolist() == pytest.approx([5.85, -5.85])


def test_output_heatmap_is_the_prediction_in_place():
    # A linear regression y_hat = y / 6: +1 at the top row, -1 at the bottom, constant along rows.
    s = PlaygroundSession({"dataset": "plane", "layers": [], "init": "zeros"})
    s.set_weight(0, 1, 0, 1 / 6)
    snap = s.snapshot()
    output = decode_map(snap["heatmaps"]["output"], 40)
    np.testing.assert_allclose(output[:, 0], np.linspace(5.85, -5.85, 40) / 6, atol=STEP)
    np.testing.assert_allclose(output, output[:, :1].repeat(40, 1), atol=1e-12)
    small = decode_map(snap["heatmaps"]["neurons"][-1][0], 16)
    assert small[0, 0] > 0.9 and small[-1, 0] < -0.9
    x1, x2 = (decode_map(m, 16) for m in snap["heatmaps"]["neurons"][0])
    assert x1[0, 0] < -0.9 and x1[0, -1] > 0.9 and x2[0, 0] > 0.9 and x2[-1, 0] < -0.9
    assert snap["metrics"]["train_accuracy"] is None and snap["history"]["train_accuracy"] == [None]


def test_binary_output_is_two_p_minus_one_and_squares_are_scaled():
    s = PlaygroundSession({"features": ["x1sq"], "layers": [], "init": "zeros"})
    s.set_weight(0, 0, 0, 0.1)
    snap = s.snapshot()
    output = decode_map(snap["heatmaps"]["output"], 40)
    centre, corner = grid_points(40)[[20 * 40 + 20, 0]]
    for value, (x, _) in ((output[20, 20], centre), (output[0, 0], corner)):
        assert value == pytest.approx(2 / (1 + np.exp(-0.1 * x * x)) - 1, abs=STEP)
    square = decode_map(snap["heatmaps"]["neurons"][0][0], 16)
    assert square[0, 0] == pytest.approx(5.625**2 / 36 * 2 - 1, abs=STEP)  # x1² / 36 * 2 - 1
    assert square[8, 8] == pytest.approx(0.375**2 / 36 * 2 - 1, abs=STEP)


def test_multiclass_output_class_and_confidence():
    s = PlaygroundSession({"dataset": "gaussian", "classes": 3, "optimizer": "adam", "learning_rate": 0.05})
    for _ in range(20):
        s.step_epoch()
    maps = s.snapshot()["heatmaps"]
    classes = np.frombuffer(base64.b64decode(maps["output_class"]), np.uint8)
    assert classes.shape == (1600,) and set(classes.tolist()) == {0, 1, 2}
    confidence = decode_map(maps["output"], 40)
    assert confidence.min() >= -1 and confidence.max() > 0.9


def test_histograms_count_what_they_should():
    s = PlaygroundSession({"points": 1000, "train_ratio": 80, "layers": [{"neurons": 5}, {"neurons": 3}]})
    histograms = s.snapshot()["histograms"]
    assert [h["layer"] for h in histograms] == [1, 2]
    for h, neurons, weights in zip(histograms, (5, 3), (10, 15)):
        assert len(h["activations"]["edges"]) == 21 and len(h["activations"]["counts"]) == 20
        assert sum(h["activations"]["counts"]) == 256 * neurons  # at most 256 training points
        assert sum(h["gradients"]["counts"]) == weights
        assert h["activations"]["edges"][0] >= -1 and h["activations"]["edges"][-1] <= 1  # tanh
        assert h["activations"]["range"] == [-1.0, 1.0] and h["activations"]["clipped"] == 0
        low, high = h["gradients"]["range"]
        assert low == -high and h["gradients"]["edges"][0] == low and h["gradients"]["edges"][-1] == high
    assert PlaygroundSession({"layers": []}).snapshot()["histograms"] == []


def test_one_huge_outlier_does_not_squeeze_the_rest():
    values = np.concatenate([np.random.default_rng(0).normal(0, 1, 63), [1e6]])
    assert (np.histogram(values, bins=20)[0] > 0).sum() == 2  # the plain range: two bars, 18 empty bins
    h = snapshots._histogram(values, "gradient")
    assert len(h["edges"]) == 21 and len(h["counts"]) == 20 and sum(h["counts"]) == 64
    assert h["clipped"] == 1 and h["counts"][-1] >= 1  # the outlier sits in the last bin
    assert (np.array(h["counts"]) > 0).sum() >= 12
    low, high = h["range"]
    assert low == -high and 1.5 < high < 4  # the largest of the normal values, not 1e6
    relu = snapshots._histogram(np.abs(values), "relu")
    assert relu["range"][0] == 0 and relu["clipped"] == 1 and (np.array(relu["counts"]) > 0).sum() >= 10
    linear = snapshots._histogram(np.concatenate([values, [-1e6]]), "linear")
    assert linear["clipped"] == 2 and linear["counts"][0] >= 1 and linear["counts"][-1] >= 1
    assert (np.array(linear["counts"]) > 0).sum() >= 12


def test_histogram_ranges_follow_the_activation():
    assert snapshots.robust_range(np.array([5.0]), "sigmoid") == (0.0, 1.0)
    # no gradient at all: NumPy's unit range
    assert snapshots.robust_range(np.zeros(10), "gradient") == (-0.5, 0.5)
    assert snapshots.robust_range(np.array([0.0, 0.0, 3.0]), "relu") == (0.0, 3.0)
    config = {"problem": "regression", "classes": 2, "regularization": "none", "regularization_rate": 0,
              "layers": [{"neurons": 3, "activation": "relu", "dropout": 0, "batchnorm": False}]}
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    x = np.random.default_rng(1).normal(0, 1, (64, 2)).astype(np.float32)
    (h,) = snapshots.histograms(model, config, x, np.zeros((64, 1), np.float32))
    assert h["activations"]["range"][0] == 0.0 and sum(h["activations"]["counts"]) == 64 * 3


def test_snapshots_do_not_disturb_training():
    config = {"layers": [{"neurons": 4, "dropout": 0.3, "batchnorm": True}], "optimizer": "adam"}
    quiet, watched = PlaygroundSession(config), PlaygroundSession(config)
    for _ in range(3):
        quiet.step_epoch()
        for _ in range(5):
            watched.train_for(0.0)
            watched.snapshot()
        watched.step_epoch()
    assert watched.history == quiet.history


def test_history_thinning_keeps_first_and_last():
    history = {"epoch": list(range(1001)), "train_loss": [float(i) for i in range(1000)] + [float("nan")]}
    thinned = thin_history(history)
    assert len(thinned["epoch"]) == 400 and thinned["epoch"][0] == 0 and thinned["epoch"][-1] == 1000
    assert thinned["train_loss"][-1] is None and thinned["train_loss"][1] == float(thinned["epoch"][1])
    assert thin_history({"epoch": [0, 1], "x": [1.0, 2.0]}) == {"epoch": [0, 1], "x": [1.0, 2.0]}
