"""Matplotlib pictures of the GAN lab: one snapshot (plane + losses) and the mode-collapse demo.

matplotlib is imported inside the functions: ``import dendrite.explore.gan`` does not need it.
"""

from __future__ import annotations

import numpy as np

from dendrite.explore.pyplot import pyplot

__all__ = ["snapshot_figure", "demo_figure", "draw_plane"]

REAL, FAKE = "#2e9e5b", "#8e44ad"  # green real points, purple fakes (as on the page)


def _pyplot():
    return pyplot("the GAN lab's figures")


def draw_plane(ax, snap, title: str | None = None) -> None:
    """Draw D's heatmap, the real (green) and fake (purple) points and G's arrows of ``snap`` on ``ax``.

    Example:
        >>> from dendrite.explore.gan import GanLab
        >>> plt = _pyplot(); figure, ax = plt.subplots()
        >>> draw_plane(ax, GanLab({"batch": 48, "hidden": 16}).snapshot()); ax.get_title()
        'step 0, modes 0 / 8'
    """
    view = 3.0
    ax.imshow(snap.heatmap, origin="lower", extent=(-view, view, -view, view), cmap="RdBu", vmin=0, vmax=1,
              alpha=0.55)
    ax.scatter(snap.real[:, 0], snap.real[:, 1], s=6, c=REAL, label="real")
    ax.scatter(snap.fake[:, 0], snap.fake[:, 1], s=6, c=FAKE, label="generated")
    arrows = snap.arrows
    scale = np.abs(arrows).max()
    if scale > 0:
        ax.quiver(snap.fake[:, 0], snap.fake[:, 1], arrows[:, 0] / scale, arrows[:, 1] / scale,
                  color=FAKE, alpha=0.6, angles="xy", scale_units="xy", scale=2.5, width=0.003)
    modes = snap.modes
    text = f"step {snap.step}" + (f", modes {modes['modes_covered']} / {modes['modes']}" if modes else "")
    ax.set_title(f"{title}\n{text}" if title else text, fontsize=9)
    ax.set_xlim(-view, view)
    ax.set_ylim(-view, view)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=7)


def snapshot_figure(snap, title: str | None = None):
    """A Figure: the plane of ``snap`` and the history of both losses.

    Example:
        >>> from dendrite.explore.gan import GanLab
        >>> len(snapshot_figure(GanLab({"batch": 48, "hidden": 16}).snapshot()).axes)
        2
    """
    plt = _pyplot()
    figure, (plane, losses) = plt.subplots(1, 2, figsize=(10, 4.5))
    draw_plane(plane, snap, title)
    for key, colour in (("d_loss", "#c0392b"), ("g_loss", FAKE)):
        values = snap.history.get(key, [])
        losses.plot(np.arange(1, len(values) + 1), values, color=colour, lw=0.8, label=key.replace("_", " "))
    losses.set_xlabel("generator step")
    losses.set_title(f"losses ({snap.loss})", fontsize=9)
    losses.legend(fontsize=8)
    figure.tight_layout()
    return figure


def demo_figure(demo):
    """A Figure: the collapsed run's plane beside the cured run's.

    Example:
        >>> from dendrite.explore.gan_demo import mode_collapse_demo
        >>> len(demo_figure(mode_collapse_demo(steps=1)).axes)
        2
    """
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(10, 5))
    draw_plane(axes[0], demo.collapsed, "mode collapse: lr_g 1e-2 >> lr_d 1e-3")
    draw_plane(axes[1], demo.cured, "cure: balanced learning rates (2e-3)")
    figure.tight_layout()
    return figure
