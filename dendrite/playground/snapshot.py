"""What the page draws, from a run: heatmaps, the network's weights, histograms, the thinned history.

Cost matters (the page redraws ten or more times a second while training), so every neuron's
heatmap comes from ONE no-grad forward pass over the 40x40 output grid and the 16x16 neuron grid
stacked together, and the histograms from one forward and backward over at most 256 training
points. Heatmap values in [-1, 1] travel as base64 uint8: ``round((v + 1) * 127.5)``.
"""

from __future__ import annotations

import base64
import math

import numpy as np

import dendrite
from dendrite import nn
from dendrite.playground.config import EXTENT
from dendrite.playground.datasets import feature_matrix
from dendrite.playground.network import hidden_spans, penalty, task_loss

__all__ = ["encode_map", "decode_map", "grid_points", "thin_history", "heatmaps", "histograms",
           "network_json", "finite_or_none", "training_status", "robust_range"]

GRID_SIZE = 40
NEURON_SIZE = 16
HISTOGRAM_BINS = 20
HISTOGRAM_POINTS = 256
MAX_HISTORY = 400
ENCODING = "value v in [-1, 1] (clamped) -> uint8 round((v + 1) * 127.5)"


def encode_map(values: np.ndarray) -> str:
    """Values (any shape, row-major) clamped to [-1, 1] -> base64 of uint8 ``round((v + 1) * 127.5)``.

    NaN and infinities (a diverged model) become 0 and the clamp's ends.

    Example:
        >>> encode_map(np.array([-1.0, 0.0, 1.0, 7.0]))
        'AID//w=='
    """
    clean = np.clip(np.nan_to_num(np.asarray(values, np.float64), nan=0.0), -1.0, 1.0)
    return base64.b64encode(np.round((clean.ravel() + 1) * 127.5).astype(np.uint8).tobytes()).decode("ascii")


def decode_map(text: str, size: int) -> np.ndarray:
    """The inverse of :func:`encode_map` up to rounding: a ``(size, size)`` float array in [-1, 1].

    Example:
        >>> decode_map(encode_map(np.zeros((2, 2))), 2).round(2).tolist()
        [[0.0, 0.0], [0.0, 0.0]]
    """
    raw = np.frombuffer(base64.b64decode(text), np.uint8)
    return raw.reshape(size, size).astype(np.float64) / 127.5 - 1


def grid_points(size: int) -> np.ndarray:
    """Cell centres of a ``size x size`` grid over [-6, 6]^2, ``(size*size, 2)``: row 0 is y = +6 (top).

    Example:
        >>> grid_points(2).tolist()
        [[-3.0, 3.0], [3.0, 3.0], [-3.0, -3.0], [3.0, -3.0]]
    """
    centres = -EXTENT + (np.arange(size) + 0.5) * (2 * EXTENT / size)
    xs, ys = np.meshgrid(centres, centres[::-1])
    return np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)


def finite_or_none(value):
    """A float for JSON, or None when it is NaN or infinite (JSON has no NaN).

    Example:
        >>> finite_or_none(float("nan")), finite_or_none(0.5)
        (None, 0.5)
    """
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def thin_history(history: dict) -> dict:
    """At most 400 evenly spread entries of each list, always the first and the last; NaN -> None.

    Example:
        >>> h = thin_history({"epoch": list(range(1000)), "train_loss": [1.0] * 1000})
        >>> len(h["epoch"]), h["epoch"][0], h["epoch"][-1]
        (400, 0, 999)
    """
    n = len(history["epoch"])
    keep = range(n)
    if n > MAX_HISTORY:
        keep = np.unique(np.round(np.linspace(0, n - 1, MAX_HISTORY)).astype(int))
    out = {}
    for key, values in history.items():
        out[key] = [values[i] if key == "epoch" else finite_or_none(values[i]) for i in keep]
    return out


def _feature_maps(features: list, xy: np.ndarray) -> list:
    columns = feature_matrix(xy, features)
    scale = {"x1": 1 / EXTENT, "x2": 1 / EXTENT, "x1x2": 1 / EXTENT**2, "sinx1": 1.0, "sinx2": 1.0}
    maps = []
    for i, name in enumerate(features):
        if name in ("x1sq", "x2sq"):
            maps.append(columns[:, i] / EXTENT**2 * 2 - 1)
        else:
            maps.append(columns[:, i] * scale[name])
    return maps


def _output_values(scores: np.ndarray, config: dict) -> tuple:
    """Heatmap values of the output in [-1, 1] and, for 3+ classes, the winning class per cell."""
    if config["problem"] == "regression":
        return scores[:, 0], None
    if config["classes"] > 2:
        shifted = scores - scores.max(1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(1, keepdims=True)
        k = config["classes"]
        return (p.max(1) - 1 / k) / (1 - 1 / k) * 2 - 1, p.argmax(1)
    return 2 / (1 + np.exp(-scores[:, 0].astype(np.float64))) - 1, None


def heatmaps(model: nn.Sequential, config: dict) -> dict:
    """The output heatmap (40x40) and every neuron's (16x16), from one no-grad forward pass.

    Example:
        >>> config = {"features": ["x1", "x2"], "problem": "classification", "classes": 2,
        ...           "layers": [{"neurons": 3, "activation": "tanh", "dropout": 0, "batchnorm": False}]}
        >>> maps = heatmaps(nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)), config)
        >>> [len(layer) for layer in maps["neurons"]], decode_map(maps["output"], 40).shape
        ([2, 3, 1], (40, 40))
    """
    big, small = grid_points(GRID_SIZE), grid_points(NEURON_SIZE)
    xy = np.concatenate([big, small])
    spans = set(hidden_spans(config))
    hidden = []
    model.eval()
    with dendrite.no_grad():
        h = dendrite.tensor(feature_matrix(xy, config["features"]))
        for index, module in enumerate(model):
            h = module(h)
            if index in spans:
                hidden.append(h.numpy()[len(big):])
        scores = h.numpy().astype(np.float64)
    output, classes = _output_values(scores, config)
    neurons = [[encode_map(m) for m in _feature_maps(config["features"], small)]]
    for values in hidden:
        neurons.append([encode_map(values[:, j]) for j in range(values.shape[1])])
    neurons.append([encode_map(output[len(big):])])
    maps = {"output": encode_map(output[:len(big)]), "neurons": neurons}
    if classes is not None:
        maps["output_class"] = base64.b64encode(classes[:len(big)].astype(np.uint8).tobytes()).decode("ascii")
    return maps


def robust_range(values: np.ndarray, kind: str) -> tuple:
    """The ``(low, high)`` a histogram of ``values`` spans, so a few outliers do not squeeze the rest
    into one or two of its 20 bins.

    ``kind``: ``"gradient"`` -> symmetric, ±the 99th percentile of |v|; ``"tanh"`` -> (-1, 1);
    ``"sigmoid"`` -> (0, 1); ``"relu"`` -> (0, 99th percentile); anything else (``"linear"``, batch norm
    output) -> (1st, 99th percentile). Percentiles take the value at or below the rank, so one outlier
    among up to 100 values never sets the range. A range that comes out empty (all values equal, a dead
    layer) widens to the values' extent, then to ±0.5 around them as NumPy does.

    Example:
        >>> robust_range(np.array([-1.0, 0.5, 2.0, 1000.0]), "gradient")
        (-2.0, 2.0)
        >>> robust_range(np.array([0.2, 0.3]), "tanh"), robust_range(np.zeros(4), "relu")
        ((-1.0, 1.0), (-0.5, 0.5))
    """
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    if kind == "tanh":
        return -1.0, 1.0
    if kind == "sigmoid":
        return 0.0, 1.0
    if values.size == 0:
        return -0.5, 0.5
    if kind == "gradient":
        bound = float(np.percentile(np.abs(values), 99, method="lower")) or float(np.abs(values).max())
        low, high = -bound, bound
    elif kind == "relu":
        low, high = 0.0, float(np.percentile(values, 99, method="lower")) or float(values.max())
    else:
        low = float(np.percentile(values, 1, method="higher"))
        high = float(np.percentile(values, 99, method="lower"))
        if high <= low:
            low, high = float(values.min()), float(values.max())
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return low, high


def _histogram(values: np.ndarray, kind: str) -> dict:
    """20 bins over :func:`robust_range`; values beyond it count in the edge bins (``clipped`` of them)."""
    values = values[np.isfinite(values)].astype(np.float64)
    low, high = robust_range(values, kind)
    clipped = int(((values < low) | (values > high)).sum())
    counts, edges = np.histogram(np.clip(values, low, high), bins=HISTOGRAM_BINS, range=(low, high))
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts],
            "range": [low, high], "clipped": clipped}


def histograms(model: nn.Sequential, config: dict, x: np.ndarray, y: np.ndarray) -> list:
    """Per hidden layer: activations over at most 256 training points and the training loss's gradient
    with respect to that layer's Linear weight (one forward + backward, eval mode, no ``.grad`` touched).

    Each histogram is ``{"edges": 21 floats, "counts": 20 ints, "range": [low, high], "clipped": n}``
    over :func:`robust_range` (the activation function's range, or percentiles), the ``n`` values
    beyond it counted in the edge bins.

    Example:
        >>> config = {"problem": "regression", "classes": 2, "regularization": "none",
        ...           "regularization_rate": 0,
        ...           "layers": [{"neurons": 3, "activation": "relu", "dropout": 0, "batchnorm": False}]}
        >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        >>> x, y = np.ones((8, 2), np.float32), np.zeros((8, 1), np.float32)
        >>> h = histograms(model, config, x, y); h[0]["layer"], sum(h[0]["activations"]["counts"])
        (1, 24)
        >>> h[0]["gradients"]["range"][0] == -h[0]["gradients"]["range"][1], h[0]["gradients"]["clipped"]
        (True, 0)
    """
    spans = hidden_spans(config)
    if not spans:
        return []
    x, y = x[:HISTOGRAM_POINTS], y[:HISTOGRAM_POINTS]
    linears = [module for module in model if isinstance(module, nn.Linear)][:len(spans)]
    model.eval()
    activations = []
    with dendrite.enable_grad():
        h = dendrite.tensor(x)
        for index, module in enumerate(model):
            h = module(h)
            if index in spans:
                activations.append(h.detach().numpy())
        loss = task_loss(h, dendrite.tensor(y), config)
        extra = penalty(model, config["regularization"], config["regularization_rate"])
        if extra is not None:
            loss = loss + extra
        grads = dendrite.autograd.grad(loss, [linear.weight for linear in linears])
    return [{"layer": i + 1, "activations": _histogram(a.ravel(), config["layers"][i]["activation"]),
             "gradients": _histogram(g.numpy().ravel(), "gradient")}
            for i, (a, g) in enumerate(zip(activations, grads))]


def network_json(model: nn.Sequential, config: dict) -> dict:
    """Inputs, layers (hidden then output), every Linear's weights ``(out, in)`` and biases; NaN -> None.

    Example:
        >>> config = {"features": ["x1"], "problem": "regression", "layers": []}
        >>> net = network_json(nn.Sequential(nn.Linear(1, 1)), config)
        >>> net["layers"], len(net["weights"][0][0])
        ([{'neurons': 1, 'activation': 'linear'}], 1)
    """
    linears = [module for module in model if isinstance(module, nn.Linear)]
    outputs = linears[-1].out_features
    head = "linear" if config["problem"] == "regression" else "sigmoid" if outputs == 1 else "softmax"
    layers = [{"neurons": layer["neurons"], "activation": layer["activation"]} for layer in config["layers"]]
    layers.append({"neurons": outputs, "activation": head})

    def listed(array: np.ndarray):
        return _nan_to_none(array.astype(np.float64).tolist())

    return {"inputs": list(config["features"]), "layers": layers,
            "weights": [listed(linear.weight.detach().numpy()) for linear in linears],
            "biases": [listed(linear.bias.detach().numpy()) for linear in linears]}


def _nan_to_none(values):
    if isinstance(values, list):
        return [_nan_to_none(v) for v in values]
    return finite_or_none(values)


def training_status(history: dict, problem: str) -> str:
    """``"diverged"``: a loss NaN/Inf or above 10x max(its epoch-0 value, 1e-3) after epoch 1;
    ``"stalled"``: from epoch 100, the best train loss of the last 100 epochs beat the best before
    them by under 1% while train accuracy < 0.95 (regression: train loss > 0.01); else ``"ok"``.

    Example:
        >>> training_status({"epoch": [0, 1], "train_loss": [0.7, 9.0], "test_loss": [0.7, 0.6]},
        ...                 "classification")
        'diverged'
    """
    epochs = len(history["epoch"]) - 1
    if epochs >= 1:
        for key in ("train_loss", "test_loss"):
            latest = history[key][-1]
            if not np.isfinite(latest) or latest > 10 * max(history[key][0], 1e-3):
                return "diverged"
    if epochs >= 100:
        train = history["train_loss"]
        before, recent = min(train[:-100]), min(train[-100:])
        if recent > before * 0.99:
            if problem == "classification" and history["train_accuracy"][-1] < 0.95 or \
                    problem == "regression" and train[-1] > 0.01:
                return "stalled"
    return "ok"
