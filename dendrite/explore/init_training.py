"""A short training run under one initialisation scheme: the loss per epoch and the decision boundary.

The net is ``Linear(2, width)`` + activation, ``depth - 1`` more ``Linear(width, width)`` +
activation, and a ``Linear(width, 1)`` head (a logit), every layer filled by the scheme. It learns a
2-D Playground set (:func:`dendrite.data.make_playground`) with binary cross-entropy and Adam on
mini-batches. The points (in [-6, 6]) are divided by 3 so the inputs have about unit scale, as the
schemes assume. A network that cannot break its symmetry (``zeros``) stays at the loss of a coin
flip, ``ln 2 = 0.693``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

import dendrite
from dendrite.data import make_playground
from dendrite.explore import init_figures
from dendrite.explore.init_schemes import build_mlp
from dendrite.nn import functional as F
from dendrite.optim import Adam

__all__ = ["InitTraining", "train_run", "DATASETS", "GRID", "EXTENT", "MAX_EPOCHS"]

DATASETS = ("spiral", "circle", "xor", "gaussian", "moons")
GRID = 60
EXTENT = 6.0
INPUT_SCALE = 3.0
MAX_EPOCHS = 200
POINTS = 400
BATCH = 40


@dataclass
class InitTraining:
    """One training run: ``loss`` (per epoch, on all points, after the epoch; ``loss[0]`` before
    training), ``accuracy`` (final), ``boundary`` (``GRID x GRID`` probabilities of class 1, row 0 at
    y = +6, column 0 at x = -6) and the ``points`` ``(n, 3)`` as ``[x, y, label]``.

    Example:
        >>> run = train_run("kaiming_normal", "relu", epochs=2)
        >>> len(run.loss), len(run.boundary), len(run.boundary[0])
        (3, 60, 60)
    """

    scheme: str
    activation: str
    dataset: str
    depth: int
    width: int
    epochs: int
    lr: float
    seed: int
    loss: list[float]
    accuracy: float
    boundary: list[list[float]] = field(repr=False)
    points: list[list[float]] = field(repr=False)

    def to_json(self) -> dict:
        """A JSON-ready dict of every field (a diverged loss as None).

        Example:
            >>> data = train_run("zeros", "relu", epochs=1).to_json()
            >>> [round(v, 3) for v in data["loss"]]
            [0.693, 0.693]
        """
        data = asdict(self)
        data["loss"] = [v if math.isfinite(v) else None for v in data["loss"]]
        return data

    def figure(self):
        """A matplotlib Figure: the loss curve and the decision boundary with the points.

        Example:
            >>> fig = train_run("xavier_normal", "tanh", epochs=2).figure()
            >>> len(fig.axes)
            2
        """
        return init_figures.training_figure(self.to_json())


def _check(name: str, value, low, high, whole: bool = True) -> None:
    kind = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        raise ValueError(f"{name} must be {'a whole number' if whole else 'a number'} in {low}..{high}, "
                         f"got {value!r}")


def train_run(scheme: str, activation: str, depth: int = 6, width: int = 32, dataset: str = "spiral",
              epochs: int | None = None, lr: float = 0.01, seed: int = 0) -> InitTraining:
    """Train the scheme's net on ``dataset`` for ``epochs`` (default 60) epochs of Adam at ``lr``.

    400 points (noise 0.1), mini-batches of 40; ``seed`` seeds the data, ``seed + 1`` the weights.
    Bounds: ``depth`` 1..20, ``width`` 2..256, ``epochs`` 1..200, ``lr`` in (0, 1].

    Example:
        >>> kaiming = train_run("kaiming_normal", "relu", epochs=20)
        >>> zeros = train_run("zeros", "relu", epochs=20)
        >>> kaiming.loss[-1] < 0.6 < zeros.loss[-1]
        True
    """
    epochs = 60 if epochs is None else epochs
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    _check("depth", depth, 1, 20)
    _check("width", width, 2, 256)
    _check("epochs", epochs, 1, MAX_EPOCHS)
    _check("lr", lr, 0, 1, whole=False)
    if lr == 0:
        raise ValueError("lr must be above 0")
    points, labels = make_playground(dataset, n=POINTS, noise=0.1, seed=seed)
    model = build_mlp([2] + [width] * depth + [1], scheme, activation, seed + 1,  # not the data's stream
                      last_activation=False)
    optimizer = Adam(model.parameters(), lr=lr)
    inputs = dendrite.tensor(points / INPUT_SCALE)
    targets = dendrite.tensor(labels.astype(np.float32).reshape(-1, 1))
    order = np.random.default_rng((seed, 2))  # apart from the weights' and the data's streams

    def full_loss() -> float:
        with dendrite.no_grad():
            return float(F.binary_cross_entropy_with_logits(model(inputs), targets).item())

    losses = [full_loss()]
    with dendrite.enable_grad():
        for _ in range(epochs):
            for batch in np.array_split(order.permutation(POINTS), POINTS // BATCH):
                optimizer.zero_grad()
                F.binary_cross_entropy_with_logits(model(inputs[batch]), targets[batch]).backward()
                optimizer.step()
            losses.append(full_loss())

    centres = (np.arange(GRID) + 0.5) / GRID * 2 * EXTENT - EXTENT
    xs, ys = np.meshgrid(centres, centres[::-1])  # row 0 at the top: y = +6
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32) / INPUT_SCALE
    with dendrite.no_grad():
        probability = F.sigmoid(model(dendrite.tensor(grid))).detach().numpy().reshape(GRID, GRID)
        predicted = model(inputs).detach().numpy().ravel() > 0
    accuracy = float(np.mean(predicted == (labels == 1)))
    table = np.concatenate([points, labels.reshape(-1, 1).astype(np.float32)], axis=1)
    return InitTraining(scheme, activation, dataset, depth, width, epochs, float(lr), seed, losses, accuracy,
                        np.round(probability.astype(float), 4).tolist(),
                        np.round(table.astype(float), 3).tolist())
