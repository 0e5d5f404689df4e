"""The optimisation explorer on a real model: a loss landscape slice, and batch-size/learning-rate effects.

:func:`landscape` trains one small MLP (2 → 8 → 8 → 1, tanh, binary cross-entropy on logits) on a
2-D Playground set with several optimisers from the same initial weights, recording the flat
parameter vector after each epoch. The first optimiser's final parameters are θ*. Two random
directions are filter-normalised as in Li et al. 2018 ("Visualizing the Loss Landscape of Neural
Nets"): for each Linear weight (out, in), each row of the direction (one output unit's filter) is
scaled to the norm of the same row of θ*; the biases' entries are set to zero (as Li et al. do
for biases and batch-norm parameters), so the slice moves the weights only. The loss is evaluated
on the grid θ* + a·d1 + b·d2, and every recorded vector is projected onto (d1, d2) by least squares.

:func:`lr_batch_effects` trains the same model with plain SGD for a few batch sizes at one learning
rate and a few learning rates at one batch size, and returns the full-data loss after each epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import dendrite
from dendrite import nn
from dendrite.data import make_playground
from dendrite.explore.optim_optimizers import COLORS, OPTIMIZERS, make_optimizer, require_matplotlib

__all__ = ["DATASETS", "LANDSCAPE_LR", "Landscape", "Effects", "landscape", "lr_batch_effects",
           "filter_normalized_direction"]

DATASETS: tuple[str, ...] = ("moons", "circle", "xor", "gaussian", "spiral")
"""The Playground classification sets the model side accepts."""

LANDSCAPE_LR: dict[str, float] = {"sgd": 0.5, "momentum": 0.1, "nesterov": 0.1, "rmsprop": 0.01,
                                  "adagrad": 0.1, "adam": 0.02, "adamw": 0.02}
"""Each optimiser's default learning rate on the model (each a sensible value for it, not one shared)."""

_N_POINTS = 200


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))


def _data(dataset: str, seed: int):
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    points, labels = make_playground(dataset, n=_N_POINTS, noise=0.1, seed=seed)
    return dendrite.tensor(points), dendrite.tensor(labels.reshape(-1, 1).astype(np.float32))


def _flat(model: nn.Module) -> np.ndarray:
    return np.concatenate([p.detach().numpy().astype(np.float64).ravel() for p in model.parameters()])


def _set_flat(model: nn.Module, vector: np.ndarray) -> None:
    nn.utils.vector_to_parameters(dendrite.tensor(vector.astype(np.float32)), model.parameters())


def _full_loss(model: nn.Module, x, y) -> float:
    with dendrite.no_grad():
        return float(nn.functional.binary_cross_entropy_with_logits(model(x), y).item())


def _train(model: nn.Module, opt, x, y, epochs: int, batch_size: int, rng: np.random.Generator):
    """Minibatch training; returns the flat parameters and the full-data loss before and after each epoch."""
    vectors, losses = [_flat(model)], [_full_loss(model, x, y)]
    n = x.shape[0]
    for _ in range(epochs):
        order = rng.permutation(n)
        for begin in range(0, n, batch_size):
            index = dendrite.tensor(order[begin:begin + batch_size])
            opt.zero_grad()
            nn.functional.binary_cross_entropy_with_logits(model(x[index]), y[index]).backward()
            opt.step()
        vectors.append(_flat(model))
        losses.append(_full_loss(model, x, y))
    return np.stack(vectors), np.array(losses)


def filter_normalized_direction(model: nn.Module, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random direction shaped like ``model``'s flat parameters, filter-normalised to ``theta``.

    Each row of each 2-D weight gets the norm of the same row of ``theta``; 1-D parameters (the
    biases) are zero.

    Example:
        >>> model = nn.Linear(3, 2)
        >>> theta = np.array([3.0, 4.0, 0.0, 1.0, 0.0, 0.0, 0.5, 0.5])
        >>> d = filter_normalized_direction(model, theta, np.random.default_rng(0))
        >>> np.round([np.linalg.norm(d[:3]), np.linalg.norm(d[3:6])], 6).tolist(), d[6:].tolist()
        ([5.0, 1.0], [0.0, 0.0])
    """
    parts, offset = [], 0
    for parameter in model.parameters():
        shape, size = tuple(parameter.shape), int(np.prod(parameter.shape))
        target = theta[offset:offset + size].reshape(shape)
        if len(shape) >= 2:
            rows = rng.standard_normal(shape).reshape(shape[0], -1)
            target_rows = target.reshape(shape[0], -1)
            scale = np.linalg.norm(target_rows, axis=1) / np.linalg.norm(rows, axis=1)
            parts.append((rows * scale[:, None]).ravel())
        else:
            parts.append(np.zeros(size))
        offset += size
    return np.concatenate(parts)


@dataclass
class Landscape:
    """A 2-D slice of a small model's loss around θ*, with each optimiser's path projected onto it.

    ``coords``: ``(grid,)`` the offsets a (and b) along d1 (and d2); ``values``: ``(grid, grid)``
    the loss at θ* + a·d1 + b·d2 (rows are b); ``paths[name]``: ``(epochs + 1, 2)`` the projected
    parameter vectors; ``losses[name]``: ``(epochs + 1,)`` the full-data loss after each epoch;
    ``theta``: θ* (the ``reference`` optimiser's final parameters); ``directions``: ``(2, P)``.

    Example:
        >>> result = landscape(optimizers=("adam", "sgd"), epochs=2, grid=5)
        >>> result.values.shape, result.paths["sgd"].shape, result.reference
        ((5, 5), (3, 2), 'adam')
    """

    dataset: str
    reference: str
    coords: np.ndarray
    values: np.ndarray
    paths: dict[str, np.ndarray]
    losses: dict[str, np.ndarray]
    theta: np.ndarray
    directions: np.ndarray
    vectors: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    def to_json(self) -> dict:
        """Grid, log-scaled grid, projected paths and losses as a JSON-ready dict.

        Example:
            >>> data = landscape(optimizers=("sgd",), epochs=1, grid=3).to_json()
            >>> data["coords"], data["paths"]["sgd"][-1]
            ([-1.0, 0.0, 1.0], [0.0, 0.0])
        """
        return {"dataset": self.dataset, "reference": self.reference, "coords": self.coords.tolist(),
                "values": np.round(self.values, 6).tolist(),
                "log_values": np.round(np.log10(self.values + 1e-6), 4).tolist(),
                "paths": {name: np.round(path, 6).tolist() for name, path in self.paths.items()},
                "losses": {name: np.round(loss, 6).tolist() for name, loss in self.losses.items()},
                "final_losses": {name: float(loss[-1]) for name, loss in self.losses.items()}}

    def figure(self):
        """A matplotlib figure: the slice's contour with the paths, and the loss curves.

        Example:
            >>> len(landscape(optimizers=("adam",), epochs=1, grid=3).figure().axes)
            2
        """
        plt = require_matplotlib()
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
        left.contourf(self.coords, self.coords, np.log10(self.values + 1e-6), levels=30, cmap="viridis")
        for name, path in self.paths.items():
            left.plot(path[:, 0], path[:, 1], color=COLORS[name], marker=".", lw=1.2, label=name)
            right.plot(self.losses[name], color=COLORS[name], label=name)
        left.plot(0, 0, marker="*", color="white", markeredgecolor="black", markersize=12)
        left.set_title(f"loss slice around θ* ({self.reference}), filter-normalised directions", fontsize=9)
        left.set_xlabel("d1")
        left.set_ylabel("d2")
        right.set_yscale("log")
        right.set_title(f"full-data loss per epoch ({self.dataset})", fontsize=9)
        right.set_xlabel("epoch")
        right.legend(fontsize=8)
        fig.tight_layout()
        return fig


def landscape(dataset: str = "moons", optimizers=("adam", "sgd", "momentum", "rmsprop"), epochs: int = 30,
              grid: int = 25, span: float = 1.0, seed: int = 0, batch_size: int = 32,
              lr: dict[str, float] | None = None) -> Landscape:
    """Train the small MLP with each of ``optimizers`` from one init; slice the loss around θ*.

    ``grid`` (odd, so the centre is θ* itself) points per axis over ``[-span, span]``; ``lr``
    overrides :data:`LANDSCAPE_LR` per optimiser. θ* is the first optimiser's final parameters.

    Example:
        >>> result = landscape(epochs=1, grid=3, optimizers=("sgd",))
        >>> bool(abs(result.values[1, 1] - result.losses["sgd"][-1]) < 1e-6)
        True
    """
    optimizers = tuple(optimizers)
    if not optimizers or any(name not in OPTIMIZERS for name in optimizers):
        raise ValueError(f"optimizers must be a non-empty list of {', '.join(OPTIMIZERS)}, "
                         f"got {optimizers!r}")
    if int(grid) != grid or grid < 3 or grid % 2 == 0:
        raise ValueError(f"grid must be an odd whole number >= 3 (its centre is θ*), got {grid!r}")
    x, y = _data(dataset, seed)
    dendrite.manual_seed(seed)
    model = _model()
    start = _flat(model)
    rates = {**LANDSCAPE_LR, **(lr or {})}
    vectors, losses = {}, {}
    for index, name in enumerate(optimizers):
        _set_flat(model, start)
        opt = make_optimizer(name, model.parameters(), lr=rates[name])
        vectors[name], losses[name] = _train(model, opt, x, y, int(epochs), int(batch_size),
                                             np.random.default_rng(seed + 100 + index))
    theta = vectors[optimizers[0]][-1]
    rng = np.random.default_rng(seed + 1)
    directions = np.stack([filter_normalized_direction(model, theta, rng) for _ in range(2)])
    coords = np.linspace(-span, span, int(grid))
    values = np.empty((len(coords), len(coords)))
    for row, b in enumerate(coords):
        for column, a in enumerate(coords):
            _set_flat(model, theta + a * directions[0] + b * directions[1])
            values[row, column] = _full_loss(model, x, y)
    paths = {name: np.linalg.lstsq(directions.T, (vector - theta).T, rcond=None)[0].T
             for name, vector in vectors.items()}
    return Landscape(dataset, optimizers[0], coords, values, paths, losses, theta, directions, vectors)


@dataclass
class Effects:
    """Loss curves of the small MLP under plain SGD: ``curves`` is a list of dicts with ``kind``
    (``"batch"`` or ``"lr"``), ``batch_size``, ``lr`` and ``losses`` ``(epochs + 1,)``.

    Example:
        >>> effects = lr_batch_effects(epochs=1, batch_sizes=(200,), lrs=(0.1,))
        >>> [(curve["kind"], curve["batch_size"], curve["lr"]) for curve in effects.curves]
        [('batch', 200, 0.3), ('lr', 32, 0.1)]
    """

    dataset: str
    curves: list[dict]

    def to_json(self) -> dict:
        """The curves as a JSON-ready dict.

        Example:
            >>> data = lr_batch_effects(epochs=1, batch_sizes=(200,), lrs=()).to_json()
            >>> data["curves"][0]["kind"], len(data["curves"][0]["losses"])
            ('batch', 2)
        """
        return {"dataset": self.dataset,
                "curves": [{**curve, "losses": np.round(curve["losses"], 6).tolist()}
                           for curve in self.curves]}

    def figure(self):
        """A matplotlib figure: loss per epoch for each batch size (left) and learning rate (right).

        Example:
            >>> len(lr_batch_effects(epochs=1, batch_sizes=(200,), lrs=(0.1,)).figure().axes)
            2
        """
        plt = require_matplotlib()
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for ax, kind in zip(axes, ("batch", "lr")):
            for curve in (c for c in self.curves if c["kind"] == kind):
                label = f"batch {curve['batch_size']}" if kind == "batch" else f"lr {curve['lr']:g}"
                ax.plot(curve["losses"], label=label)
            ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_title("batch size (SGD, same lr)" if kind == "batch" else "learning rate (SGD, batch 32)",
                         fontsize=9)
            ax.legend(fontsize=8)
        fig.tight_layout()
        return fig


def lr_batch_effects(dataset: str = "moons", batch_sizes=(8, 32, 200), lrs=(0.03, 0.3, 3.0), epochs: int = 20,
                     seed: int = 0, lr: float = 0.3, batch_size: int = 32) -> Effects:
    """Plain-SGD loss curves of the small MLP for each of ``batch_sizes`` (at ``lr``) and each of ``lrs``
    (at ``batch_size``), all from the same initial weights; the loss is on the full data set.

    Example:
        >>> effects = lr_batch_effects(epochs=2, batch_sizes=(8, 200), lrs=())
        >>> [len(curve["losses"]) for curve in effects.curves]
        [3, 3]
    """
    if any(int(size) != size or size < 1 for size in batch_sizes):
        raise ValueError(f"batch sizes must be whole numbers >= 1, got {batch_sizes!r}")
    if any(not rate > 0 for rate in lrs) or not lr > 0:
        raise ValueError(f"learning rates must be > 0, got {lrs!r} and lr={lr!r}")
    x, y = _data(dataset, seed)
    dendrite.manual_seed(seed)
    model = _model()
    start = _flat(model)
    runs = [("batch", int(size), float(lr)) for size in batch_sizes]
    runs += [("lr", int(batch_size), float(rate)) for rate in lrs]
    curves = []
    for kind, size, rate in runs:
        _set_flat(model, start)
        opt = make_optimizer("sgd", model.parameters(), lr=rate)
        with np.errstate(over="ignore", invalid="ignore"):
            _, losses = _train(model, opt, x, y, int(epochs), size, np.random.default_rng(seed + 7))
        curves.append({"kind": kind, "batch_size": size, "lr": rate, "losses": losses})
    return Effects(dataset, curves)
