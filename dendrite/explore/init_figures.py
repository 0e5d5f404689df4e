"""Matplotlib figures of the initialisation explorer, drawn from the JSON-ready dicts of its results.

Imported by :mod:`dendrite.explore.init` at any time; matplotlib itself loads only inside the
functions (``pip install 'dendrite[train]'`` provides it).
"""

from __future__ import annotations

import math

import numpy as np

from dendrite.explore.pyplot import pyplot

__all__ = ["signal_figure", "training_figure", "comparison_figure", "training_comparison_figure"]

ORANGE, BLUE = "#f59322", "#0877bd"


def _pyplot():
    return pyplot("the explorer's figures")


def _positive(values) -> list[float]:
    """Values for a log axis: None, zero and negative become NaN (a gap in the line)."""
    return [v if v is not None and v > 0 and math.isfinite(v) else float("nan") for v in values]


def _std_axes(ax, data: dict) -> None:
    layers = np.arange(1, data["depth"] + 1)
    if not any(v is not None and v > 0 for v in data["act_std"] + data["grad_std"]):
        ax.text(0.5, 0.5, "every std is 0:\nnothing to draw on a log axis", ha="center", va="center",
                transform=ax.transAxes, fontsize=8)
        ax.set_xlim(0.5, data["depth"] + 0.5)
    ax.semilogy(layers, _positive(data["act_std"]), "o-", color=BLUE, label="activations (measured)")
    ax.semilogy(layers, _positive(data["theory_std"]), "--", color="#555", label="theory")
    ax.semilogy(layers, _positive(data["grad_std"]), "s-", color=ORANGE, label="gradients dL/dz")
    ax.set_xlabel("layer")
    ax.set_ylabel("std")
    ax.legend(fontsize=7)


def signal_figure(data: dict):
    """The std per layer (activations, their theory, gradients) and histograms of up to 6 layers.

    ``data``: :meth:`SignalStats.to_json`'s dict.

    Example:
        >>> from dendrite.explore.init import signal_stats
        >>> fig = signal_figure(signal_stats("kaiming_normal", "relu", depth=3, width=8).to_json())
        >>> fig.axes[0].get_title()
        'kaiming_normal + relu: std per layer'
    """
    plt = _pyplot()
    depth = data["depth"]
    shown = sorted({0, depth - 1, *np.linspace(0, depth - 1, 6).round().astype(int).tolist()})
    fig = plt.figure(figsize=(11, 4.2))
    grid = fig.add_gridspec(2, len(shown) + 3)
    ax = fig.add_subplot(grid[:, :3])
    _std_axes(ax, data)
    ax.set_title(f"{data['scheme']} + {data['activation']}: std per layer")
    edges = np.asarray(data["hist_edges"])
    for column, layer in enumerate(shown):
        hist = fig.add_subplot(grid[0, column + 3])
        hist.bar(edges[:-1], data["hist_counts"][layer], width=np.diff(edges), align="edge", color=BLUE)
        hist.set_title(f"layer {layer + 1}", fontsize=8)
        hist.set_yticks([])
        hist.tick_params(labelsize=6)
    text = fig.add_subplot(grid[1, 3:])
    text.axis("off")
    text.text(0, 1, _wrap(data.get("explanation", ""), 80), va="top", fontsize=8)
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _boundary_axes(ax, data: dict) -> None:
    from matplotlib.colors import LinearSegmentedColormap

    extent = 6.0
    palette = LinearSegmentedColormap.from_list("playground", [ORANGE, "#e8eaeb", BLUE])  # the page's colours
    ax.imshow(np.asarray(data["boundary"]), extent=(-extent, extent, -extent, extent), cmap=palette, vmin=0,
              vmax=1, alpha=0.7)
    points = np.asarray(data["points"])
    colours = np.where(points[:, 2] > 0.5, BLUE, ORANGE)
    ax.scatter(points[:, 0], points[:, 1], c=colours, s=6, edgecolors="white", linewidths=0.3)
    ax.set_xticks([])
    ax.set_yticks([])


def training_figure(data: dict):
    """The loss per epoch and the decision boundary of one :class:`InitTraining` (its ``to_json()``).

    Example:
        >>> from dendrite.explore.init import train_run
        >>> fig = training_figure(train_run("zeros", "relu", epochs=1).to_json())
        >>> fig.axes[1].get_title()
        'boundary (accuracy 50%)'
    """
    plt = _pyplot()
    fig, (loss_ax, boundary_ax) = plt.subplots(1, 2, figsize=(8, 3.6))
    loss_ax.plot(range(len(data["loss"])), [v if v is not None else float("nan") for v in data["loss"]],
                 color=BLUE)
    loss_ax.axhline(math.log(2), color="#999", linestyle=":", label="ln 2 (a coin flip)")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("loss")
    loss_ax.set_title(f"{data['scheme']} + {data['activation']} on {data['dataset']}")
    loss_ax.legend(fontsize=7)
    _boundary_axes(boundary_ax, data)
    boundary_ax.set_title(f"boundary (accuracy {data['accuracy']:.0%})")
    fig.tight_layout()
    return fig


def comparison_figure(runs: list[dict]):
    """Several schemes side by side: each one's std per layer (and histograms' story in the title).

    Example:
        >>> from dendrite.explore.init import signal_stats
        >>> runs = [signal_stats(s, "relu", depth=3, width=8).to_json() for s in ("zeros", "kaiming_normal")]
        >>> len(comparison_figure(runs).axes)
        2
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(runs), figsize=(3.4 * len(runs), 3.4), sharey=True)
    for ax, data in zip(np.atleast_1d(axes), runs):
        _std_axes(ax, data)
        ax.set_title(f"{data['scheme']} + {data['activation']}\n"
                     f"{data.get('explanation', '').split(':')[0]}", fontsize=9)
    fig.tight_layout()
    return fig


def training_comparison_figure(runs: list[dict]):
    """Loss curves of several runs on one axis, then each run's decision boundary.

    Example:
        >>> from dendrite.explore.init import train_run
        >>> runs = [train_run(s, "relu", epochs=1).to_json() for s in ("zeros", "kaiming_normal")]
        >>> len(training_comparison_figure(runs).axes)
        3
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(runs) + 1, figsize=(3.4 * (len(runs) + 1), 3.4))
    for data, colour in zip(runs, ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e"]):
        axes[0].plot([v if v is not None else float("nan") for v in data["loss"]], color=colour,
                     label=data["scheme"])
    axes[0].axhline(math.log(2), color="#999", linestyle=":")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("loss")
    axes[0].legend(fontsize=7)
    axes[0].set_title(f"training on {runs[0]['dataset']}")
    for ax, data in zip(axes[1:], runs):
        _boundary_axes(ax, data)
        ax.set_title(f"{data['scheme']} ({data['accuracy']:.0%})", fontsize=9)
    fig.tight_layout()
    return fig
