"""Judges of generated samples whose numbers can be recomputed: mode coverage and Fréchet distance.

* 2-D points with known mode centres (``ring8``): :func:`ring_metrics` counts the
  covered modes and the fraction of high-quality samples.
* labelled images (``digits``): a small :class:`DigitJudge` classifier, trained with
  a fixed seed, gives the classes covered, its confidence and the Fréchet distance
  between its features of the samples and of the test images (the "FID" idea of
  Heusel et al., 2017, with this small judge instead of Inception).

The GAN recipe (:mod:`dendrite.recipes.gan`) reports these numbers every epoch.
"""

from __future__ import annotations

import math

import numpy as np

import dendrite
from dendrite import nn
from dendrite.explore.gan_data import near_mode_counts

__all__ = ["ring_metrics", "frechet_distance", "DigitJudge"]


def ring_metrics(samples, centres, std: float = 0.02, min_count: int = 20, per: int = 2500) -> dict:
    """Mode coverage and sample quality of 2-D samples against known mode centres.

    A sample is *high quality* if it lies within ``3 * std`` of a centre; a centre
    is *covered* if at least ``min_count`` per ``per`` samples (20 of 2,500) are high
    quality and nearest to it. Shapes: samples (N, 2), centres (K, 2).

    Example:
        >>> centres = np.array([[2.0, 0.0], [-2.0, 0.0]])
        >>> ring_metrics(np.repeat(centres[:1], 100, 0), centres)["modes_covered"]
        1
    """
    counts, share = near_mode_counts(samples, centres, std)  # shared with the GAN lab's judge
    return {"modes_covered": int((counts >= min_count * len(samples) / per).sum()),
            "high_quality_fraction": share, "mode_counts": counts.tolist()}


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, D) and (M, D).

    ``|mu_a - mu_b|^2 + tr(C_a + C_b - 2 (C_a^1/2 C_b C_a^1/2)^1/2)``; the matrix
    square roots come from symmetric eigendecompositions (no SciPy needed).

    Shapes: features_a (N, D), features_b (M, D) -> a float.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a, b = rng.normal(0, 1, (20000, 1)), rng.normal(3, 2, (20000, 1))
        >>> round(frechet_distance(a, b), 1)  # (0 - 3)^2 + (1 - 2)^2
        10.0
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = root_a @ cov_b @ root_a
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_root)


class DigitJudge:
    """A small MLP classifier trained on a labelled dataset, used to judge generated samples.

    Trained with its own fixed seed (the global random state is restored after),
    so every run is judged by the same classifier. ``evaluate(samples)`` returns
    ``classes_covered``, ``mean_top_probability`` and ``frechet_distance`` (on the
    128 penultimate features, against the test split).

    Shapes: ``evaluate(samples (N, *splits.input_shape))`` -> a dict of numbers (and ``class_counts``).

    Example:
        >>> from dendrite.data import load_dataset
        >>> judge = DigitJudge(load_dataset("digits"), epochs=2)
        >>> judge.evaluate(load_dataset("digits").x_train[:1000])["classes_covered"]  # real digits: all 10
        10
        >>> features, probabilities = judge.features_and_probabilities(load_dataset("digits").x_test[:5])
        >>> features.shape, probabilities.shape
        ((5, 128), (5, 10))
    """

    def __init__(self, splits, seed: int = 0, epochs: int = 30, batch_size: int = 64) -> None:
        self.num_classes = splits.num_classes
        saved = dendrite.get_rng_state()
        try:
            dendrite.manual_seed(seed)
            self.features = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(splits.input_shape), 256),
                                          nn.ReLU(), nn.Linear(256, 128), nn.ReLU())
            self.head = nn.Linear(128, splits.num_classes)
            self._fit(splits.x_train, splits.y_train, epochs, batch_size, np.random.default_rng(seed))
        finally:
            dendrite.set_rng_state(saved)
        self.reference = self.features_and_probabilities(splits.x_test)[0]
        self.real_distance = frechet_distance(self.features_and_probabilities(splits.x_train[:1000])[0],
                                              self.reference)

    def _fit(self, inputs, labels, epochs: int, batch_size: int, rng) -> None:
        model = nn.Sequential(self.features, self.head)
        optimizer = dendrite.optim.Adam(model.parameters(), lr=1e-3)
        for _ in range(epochs):
            order = rng.permutation(len(inputs))
            for start in range(0, len(inputs), batch_size):
                chosen = order[start:start + batch_size]
                loss = nn.functional.cross_entropy(model(dendrite.tensor(inputs[chosen])),
                                                   dendrite.tensor(labels[chosen]))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        model.eval()

    def features_and_probabilities(self, samples) -> tuple[np.ndarray, np.ndarray]:
        """Penultimate features (N, 128) and class probabilities (N, classes) of the samples."""
        with dendrite.no_grad():
            features = self.features(dendrite.tensor(np.asarray(samples, dtype=np.float32)))
            probabilities = dendrite.softmax(self.head(features), 1)
        return features.numpy().astype(np.float64), probabilities.numpy().astype(np.float64)

    def evaluate(self, samples, min_share: float = 0.02) -> dict:
        """Judge samples (N, *input_shape): a class counts as covered with at least ``min_share`` of them."""
        features, probabilities = self.features_and_probabilities(samples)
        counts = np.bincount(probabilities.argmax(axis=1), minlength=self.num_classes)
        return {"classes_covered": int((counts >= min_share * len(samples)).sum()),
                "mean_top_probability": float(probabilities.max(axis=1).mean()),
                "frechet_distance": frechet_distance(features, self.reference),
                "class_counts": counts.tolist()}
