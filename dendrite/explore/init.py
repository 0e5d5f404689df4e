"""The initialisation explorer: how each ``nn.init`` scheme carries a signal through a deep MLP.

:func:`signal_stats` pushes standard-normal inputs through ``depth`` layers ``Linear(width, width)``
+ activation and records, per layer, the activations' mean, std and histogram, the gradients of the
backward pass, how many neurons differ (symmetry) and the std the scheme's theory predicts
(:func:`theoretical_std`). :func:`train_run` then trains a small net with the scheme on a 2-D set.
:func:`explanation` says in plain words what happened; :func:`write_pictures` draws it all.

The backward pass: the loss is ``sum(g * h_L) / samples`` with ``g`` a fixed standard-normal array
the shape of the last activations (a random linear read-out). Its gradient arriving at the top is
``g / samples`` whatever the forward pass did, so the gradient statistics show only how the backward
pass scales a unit signal: ``grad_std[l]`` is the std of ``samples * dL/dz_l`` for the layer's
pre-activation ``z_l``, 1 at the top when the last layer passes gradients unchanged. (A loss of the
output itself, like the mean squared output, would mix the forward collapse into the backward one.)
``weight_grad_std[l]`` is the std of ``samples * dL/dW_l``, what the optimiser would see.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import dendrite
from dendrite.explore import init_figures
from dendrite.explore.init_schemes import (
    ACTIVATIONS,
    SCHEMES,
    build_mlp,
    theoretical_std,
)
from dendrite.explore.init_training import InitTraining, train_run

__all__ = ["SCHEMES", "ACTIVATIONS", "SignalStats", "signal_stats", "theoretical_std", "explanation",
           "InitTraining", "train_run", "write_pictures", "MAX_DEPTH", "MAX_WIDTH", "MAX_SAMPLES"]

MAX_DEPTH, MAX_WIDTH, MAX_SAMPLES = 50, 256, 4096
BINS = 40
UNBOUNDED_RANGE = 3.0  # histograms of relu/linear activations span [-3, 3]: the input's std is 1


def _finite_list(values) -> list:
    return [float(v) if math.isfinite(float(v)) else None for v in values]


@dataclass
class SignalStats:
    """Per-layer statistics of one scheme + activation in a ``depth`` x ``width`` MLP (lists of ``depth``).

    ``act_mean``/``act_std``: of the activations after the nonlinearity; ``theory_std``: what
    :func:`theoretical_std` predicts for ``act_std``; ``grad_std``: std of ``samples * dL/dz`` (the
    pre-activations); ``weight_grad_std``: of ``samples * dL/dW``; ``saturated``: fraction of
    activations within 0.01 of tanh's ±1 or sigmoid's 0/1 (0 for the others); ``distinct_neurons``:
    how many different neurons the layer has (1: all compute the same); ``norm_ratio``: mean over the
    samples of ``|h_l| / |x|``; ``hist_counts``: ``(depth, BINS)`` counts over ``hist_edges``
    (``BINS + 1``), values outside clipped into the end bins.

    Example:
        >>> stats = signal_stats("kaiming_normal", "relu", depth=3, width=16, samples=64)
        >>> len(stats.act_std), len(stats.hist_counts[0]), sorted(stats.to_json())[:3]
        (3, 40, ['act_mean', 'act_std', 'activation'])
    """

    scheme: str
    activation: str
    depth: int
    width: int
    samples: int
    seed: int
    act_mean: list[float]
    act_std: list[float]
    theory_std: list[float]
    grad_std: list[float]
    weight_grad_std: list[float]
    saturated: list[float]
    distinct_neurons: list[int]
    norm_ratio: list[float]
    hist_edges: list[float]
    hist_counts: list[list[int]] = field(repr=False)

    def to_json(self) -> dict:
        """A JSON-ready dict of every field (NaN and infinity as None), plus ``explanation``.

        Example:
            >>> stats = signal_stats("zeros", "relu", depth=2, width=4, samples=8)
            >>> data = stats.to_json()
            >>> data["distinct_neurons"], data["explanation"].split(":")[0]
            ([1, 1], 'Symmetric')
        """
        data = asdict(self)
        for key in ("act_mean", "act_std", "theory_std", "grad_std", "weight_grad_std", "norm_ratio"):
            data[key] = _finite_list(data[key])
        data["explanation"] = explanation(self)
        return data

    def figure(self):
        """A matplotlib Figure: std per layer (activations, gradients, theory) and the histograms.

        Example:
            >>> fig = signal_stats("xavier_normal", "tanh", depth=4, width=16, samples=64).figure()
            >>> len(fig.axes) >= 3
            True
        """
        return init_figures.signal_figure(self.to_json())


def _distinct(columns: np.ndarray) -> int:
    """Distinct neurons: columns equal to within 1e-9 of the layer's largest value count as one."""
    scale = float(np.max(np.abs(columns))) if columns.size else 0.0
    if not math.isfinite(scale) or scale == 0.0:
        return 1
    return int(np.unique(np.round(columns.T / scale, 9), axis=0).shape[0])


def _hist_range(activation: str) -> tuple[float, float]:
    return {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}.get(activation, (-UNBOUNDED_RANGE, UNBOUNDED_RANGE))


def signal_stats(scheme: str, activation: str, depth: int = 10, width: int = 64, samples: int = 512,
                 seed: int = 0) -> SignalStats:
    """Forward and backward statistics per layer of a ``depth``-layer MLP under ``scheme``.

    The MLP has ``depth`` layers ``Linear(width, width)`` + ``activation`` (float64, so an exploding
    signal shows its size before it overflows); the input is ``(samples, width)`` standard normal.
    ``seed`` fixes the weights, the input and the read-out ``g`` (see the module docstring).
    Bounds: ``depth`` 1..50, ``width`` 2..256, ``samples`` 2..4096.

    Example:
        >>> stats = signal_stats("small_normal", "relu", depth=4, width=64)
        >>> [f"{s:.0e}" for s in stats.act_std]   # each layer about sqrt(64 * 0.01^2 / 2) = 0.057 of the last
        ['5e-02', '3e-03', '2e-04', '1e-05']
    """
    for name, value, low, high in (("depth", depth, 1, MAX_DEPTH), ("width", width, 2, MAX_WIDTH),
                                   ("samples", samples, 2, MAX_SAMPLES)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be a whole number in {low}..{high}, got {value!r}")
    model = build_mlp([width] * (depth + 1), scheme, activation, seed, dtype=dendrite.float64)
    rng = np.random.default_rng((seed, 1))  # a stream apart from the weights' (seeded with seed)
    x = rng.standard_normal((samples, width))
    readout = dendrite.tensor(rng.standard_normal((samples, width)))
    layers = [(model[2 * i], model[2 * i + 1]) for i in range(depth)]

    pre, post, h = [], [], dendrite.tensor(x)
    with np.errstate(over="ignore", invalid="ignore"), dendrite.enable_grad():
        for linear, act in layers:
            z = linear(h)
            z.retain_grad()
            h = act(z)
            pre.append(z)
            post.append(h)
        ((h * readout).sum() / samples).backward()

    low, high = _hist_range(activation)
    edges = np.linspace(low, high, BINS + 1)
    input_norm = np.linalg.norm(x, axis=1)
    fields: dict[str, list] = {key: [] for key in ("act_mean", "act_std", "grad_std", "weight_grad_std",
                                                   "saturated", "distinct_neurons", "norm_ratio",
                                                   "hist_counts")}
    with np.errstate(over="ignore", invalid="ignore"):
        for (linear, _), z, a in zip(layers, pre, post):
            values = a.detach().numpy()
            fields["act_mean"].append(float(values.mean()))
            fields["act_std"].append(float(values.std()))
            fields["grad_std"].append(float((z.grad.numpy() * samples).std()))
            fields["weight_grad_std"].append(float((linear.weight.grad.numpy() * samples).std()))
            if activation in ("tanh", "sigmoid"):
                bound_low = -1.0 if activation == "tanh" else 0.0
                fields["saturated"].append(float(np.mean((values > 0.99) | (values < bound_low + 0.01))))
            else:
                fields["saturated"].append(0.0)
            fields["distinct_neurons"].append(_distinct(values))
            fields["norm_ratio"].append(float(np.mean(np.linalg.norm(values, axis=1) / input_norm)))
            clipped = np.clip(np.nan_to_num(values, nan=0.0, posinf=high, neginf=low), low, high)
            fields["hist_counts"].append(np.histogram(clipped, bins=edges)[0].astype(int).tolist())
    return SignalStats(scheme, activation, depth, width, samples, seed,
                       theory_std=theoretical_std(scheme, activation, depth, width),
                       hist_edges=edges.tolist(), **fields)


def _per_layer_ratio(first: float, last: float, steps: int) -> float:
    return (last / first) ** (1 / steps) if first > 0 and last > 0 and steps > 0 else float("nan")


def explanation(stats: SignalStats) -> str:
    """What happened to the signal, in plain words and numbers: symmetric, vanished, exploded,
    saturated, drifting or healthy (the first that applies, with the gradients' story after it).

    Example:
        >>> text = explanation(signal_stats("large_normal", "linear", depth=5, width=64))
        >>> print(text.split(". ")[0].replace(" in layer 5 ", "\\n"))
        Exploded: the activations' std grew from 8 in layer 1 to 3.2e+04
        (x7.9 per layer; theory x8)
    """
    stds, grads, depth = stats.act_std, stats.grad_std, stats.depth
    first, last = stds[0], stds[-1]
    ratio = _per_layer_ratio(first, last, depth - 1)
    theory = stats.theory_std
    theory_ratio = _per_layer_ratio(theory[0], theory[-1], depth - 1)
    per_layer = (f" (x{ratio:.2g} per layer; theory x{theory_ratio:.2g})"
                 if math.isfinite(ratio) and math.isfinite(theory_ratio) else "")
    grad_story = (f" The gradients' std goes from {grads[-1]:.2g} at the top to {grads[0]:.2g} at layer 1."
                  if math.isfinite(grads[0]) and math.isfinite(grads[-1]) else
                  " The gradients overflow.")
    if stats.width > 1 and all(count == 1 for count in stats.distinct_neurons):
        return ("Symmetric: in every layer all neurons compute the same value (1 distinct neuron of "
                f"{stats.width}), so they get the same gradient and stay copies of each other: "
                "the layer is as good as one neuron wide. Random weights break the symmetry." + grad_story)
    if not all(math.isfinite(s) for s in stds) or (first > 0 and last / first > 100):
        return (f"Exploded: the activations' std grew from {first:.2g} in layer 1 to {last:.2g} in layer "
                f"{depth}{per_layer}. The weights are too large for this width: each layer multiplies the "
                "signal by more than 1." + grad_story)
    if last < 1e-2 * max(first, 1e-300) or last < 1e-6:
        return (f"Vanished: the activations' std fell from {first:.2g} in layer 1 to {last:.2g} in layer "
                f"{depth}{per_layer}. The weights are too small: each layer multiplies the signal by less "
                "than 1, so the last layers see almost nothing and learn almost nothing." + grad_story)
    if stats.activation in ("tanh", "sigmoid") and max(stats.saturated) > 0.5:
        worst = max(stats.saturated)
        return (f"Saturated: up to {worst:.0%} of the {stats.activation} units sit at their flat ends, "
                "where the derivative is about 0: the pre-activations are too large, the units act as "
                "on/off switches and most of the input's detail is lost." + grad_story)
    if first > 0 and not 0.2 <= last / first <= 5:
        trend = "shrinks" if last < first else "grows"
        return (f"Drifting: the activations' std {trend} from {first:.2g} in layer 1 to {last:.2g} in layer "
                f"{depth}{per_layer}: not a collapse yet, but deeper nets would lose or blow up the "
                "signal." + grad_story)
    grad_ok = all(math.isfinite(g) for g in grads) and grads[-1] > 0 and 0.1 <= grads[0] / grads[-1] <= 10
    return (f"Healthy: the activations' std stays between {min(stds):.2g} and {max(stds):.2g} over "
            f"{depth} layers{per_layer}; the scheme keeps the signal's scale." + grad_story
            + ("" if grad_ok else " But the gradients change scale by more than 10 times from top to "
                                  "bottom."))


def write_pictures(out: Path, *, seed: int = 0, quick: bool = False) -> list[Path]:
    """Write ``init_signals.png`` (std per layer: Kaiming, too-small and too-large normals, zeros,
    with ReLU and tanh) and ``init_training.png`` (loss curves and boundaries) into ``out``.

    ``quick``: smaller nets and shorter training (for tests). The paths written.

    Example:
        >>> paths = write_pictures(Path("pictures"), quick=True)
        >>> [path.name for path in paths]
        ['init_signals.png', 'init_training.png']
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    depth, width = (8, 32) if quick else (20, 256)
    runs = [("kaiming_normal", "relu"), ("small_normal", "relu"), ("large_normal", "tanh"),
            ("xavier_normal", "tanh"), ("zeros", "relu")]
    samples = 128 if quick else 512
    signals = [signal_stats(scheme, activation, depth, width, samples=samples, seed=seed).to_json()
               for scheme, activation in runs]
    paths = [out / "init_signals.png", out / "init_training.png"]
    figure = init_figures.comparison_figure(signals)
    figure.savefig(paths[0], dpi=90 if quick else 120)
    trainings = [train_run(scheme, "relu", seed=seed, epochs=5 if quick else None).to_json()
                 for scheme in ("kaiming_normal", "small_normal", "zeros")]
    figure = init_figures.training_comparison_figure(trainings)
    figure.savefig(paths[1], dpi=90 if quick else 120)
    return paths
