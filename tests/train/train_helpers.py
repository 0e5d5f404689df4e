"""Tiny models and data for the train tests: a few hundred flops per batch, so tests stay fast."""

from __future__ import annotations

import numpy as np

import dendrite


def make_blobs(n: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two well separated Gaussian blobs in 2-D: class 0 around (-2, -2), class 1 around (2, 2)."""
    generator = np.random.default_rng(seed)
    labels = generator.integers(0, 2, n)
    points = generator.normal(scale=0.7, size=(n, 2)) + np.where(labels[:, None] == 1, 2.0, -2.0)
    return points.astype(np.float32), labels.astype(np.int64)


def make_loader(points, labels, batch_size: int = 16, shuffle: bool = True):
    from dendrite.data import DataLoader, TensorDataset

    return DataLoader(TensorDataset(points, labels), batch_size=batch_size, shuffle=shuffle)


def make_model(seed: int = 0, hidden: int = 8, outputs: int = 2):
    from dendrite import nn

    dendrite.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, outputs))


def weights_of(model) -> dict:
    # .numpy() shares memory with the parameter: copy, so later updates do not change the snapshot.
    return {key: value.numpy().copy() for key, value in model.state_dict().items()}
