"""The optimisation explorer: the real :mod:`dendrite.optim` classes walking over 2-D functions.

:func:`trajectory` puts the point ``(x, y)`` in a 2-element float64 :class:`~dendrite.nn.Parameter`,
and steps one of the real optimisers (:data:`OPTIMIZERS`) on one of the surfaces of
:mod:`dendrite.explore.optim_surfaces`; :func:`contour` samples a surface for display. The model-side
views (the loss landscape of a small MLP, batch-size and learning-rate effects) are in
:mod:`dendrite.explore.optim_landscape`; :func:`write_pictures` draws all three.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import dendrite
from dendrite.explore.optim_landscape import landscape, lr_batch_effects
from dendrite.explore.optim_optimizers import COLORS, OPTIMIZERS, make_optimizer, require_matplotlib
from dendrite.explore.optim_surfaces import SURFACES, Surface, get_surface

__all__ = ["OPTIMIZERS", "Trajectory", "Contour", "make_optimizer", "trajectory", "trajectories", "contour",
           "trajectories_figure", "write_pictures"]


@dataclass
class Trajectory:
    """One optimiser's walk on a surface.

    ``points``: ``(k + 1, 2)`` float64, the start then the point after each step (``k = steps``
    unless the run diverged); ``losses``: ``(k + 1,)`` the surface's value at each point;
    ``diverged_step``: the step after which the point left the surface's bound or became
    non-finite (the walk stops there), else None.

    Example:
        >>> run = trajectory("bowl", "sgd", start=(1.0, 1.0), lr=0.01, steps=3)
        >>> run.points.shape, run.diverged, round(run.final_loss, 4)
        ((4, 2), False, 2.6955)
    """

    surface: str
    optimizer: str
    points: np.ndarray
    losses: np.ndarray
    diverged_step: int | None = None
    settings: dict = field(default_factory=dict)

    @property
    def diverged(self) -> bool:
        """Whether the walk left the bound or became non-finite."""
        return self.diverged_step is not None

    @property
    def final_loss(self) -> float:
        """The surface's value at the last point (NaN when that is not finite)."""
        return float(self.losses[-1])

    def to_json(self) -> dict:
        """The walk as a JSON-ready dict (non-finite numbers as None).

        Example:
            >>> data = trajectory("bowl", "sgd", lr=0.5, steps=50).to_json()
            >>> data["diverged"], data["diverged_step"], len(data["points"])
            (True, 3, 4)
        """
        def clean(values):
            return [[_finite(v) for v in row] if isinstance(row, (list, tuple)) else _finite(row)
                    for row in values]
        return {"surface": self.surface, "optimizer": self.optimizer, "points": clean(self.points.tolist()),
                "losses": clean(self.losses.tolist()), "final_loss": _finite(self.final_loss),
                "diverged": self.diverged, "diverged_step": self.diverged_step, "settings": self.settings}

    def figure(self):
        """A matplotlib figure: the walk over the surface's contour.

        Example:
            >>> fig = trajectory("wells", "momentum", steps=20).figure()
            >>> fig.axes[0].get_title()
            'Gaussian wells (local minima)'
        """
        plt = require_matplotlib()
        fig, ax = plt.subplots(figsize=(5, 4.2))
        _draw_surface(ax, get_surface(self.surface), [self])
        return fig


def _finite(value: float):
    return float(value) if math.isfinite(value) else None


def trajectory(surface: str | Surface, optimizer: str, start: tuple[float, float] | None = None,
               lr: float | None = None, steps: int = 100, momentum: float = 0.9,
               betas: tuple[float, float] = (0.9, 0.999), weight_decay: float | None = None) -> Trajectory:
    """Step the real dendrite ``optimizer`` ``steps`` times on ``surface`` from ``start``.

    ``start`` and ``lr`` default to the surface's own; ``weight_decay`` to 0, except for ``adamw``
    whose decoupled decay defaults to 0.01 (PyTorch's default), the one thing that sets it apart from
    Adam. The point is a float64 ``Parameter`` of shape ``(2,)``; each step is ``zero_grad``,
    ``f(x, y).backward()``, ``step()``. The walk stops
    when the point leaves ``|x|, |y| <= surface.bound`` or stops being finite (``diverged_step``).

    Example:
        >>> run = trajectory("rosenbrock", "adam", lr=0.05, steps=200)
        >>> run.points[0].tolist(), bool(run.final_loss < run.losses[0])
        ([-1.5, 2.0], True)
    """
    surface = get_surface(surface) if isinstance(surface, str) else surface
    start = surface.start if start is None else (float(start[0]), float(start[1]))
    lr = surface.lr if lr is None else float(lr)
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0, got {steps!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if weight_decay is None:
        weight_decay = 0.01 if optimizer == "adamw" else 0.0
    point = dendrite.nn.Parameter(dendrite.tensor(list(start), dtype=dendrite.float64))
    opt = make_optimizer(optimizer, [point], lr=lr, momentum=momentum, betas=betas, weight_decay=weight_decay)
    points, losses = [list(start)], []
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging walk overflows: it is flagged below
        diverged = _walk(surface, opt, point, int(steps), points, losses)
        losses.append(float(surface.function(point[0], point[1]).detach().item()))
    settings = {"start": list(start), "lr": lr, "steps": int(steps), "momentum": momentum,
                "betas": list(betas), "weight_decay": weight_decay}
    return Trajectory(surface.name, optimizer, np.array(points, dtype=np.float64),
                      np.array(losses, dtype=np.float64), diverged, settings)


def _walk(surface: Surface, opt, point, steps: int, points: list, losses: list) -> int | None:
    for step in range(steps):
        opt.zero_grad()
        loss = surface.function(point[0], point[1])
        losses.append(float(loss.item()))
        loss.backward()
        opt.step()
        now = point.detach().numpy().astype(np.float64).tolist()
        points.append(now)
        if not all(math.isfinite(v) and abs(v) <= surface.bound for v in now):
            return step + 1
    return None


def trajectories(surface: str, optimizers=OPTIMIZERS, **options) -> list[Trajectory]:
    """:func:`trajectory` for each of ``optimizers`` with the same ``options``.

    Example:
        >>> [run.optimizer for run in trajectories("bowl", ["sgd", "adam"], steps=5)]
        ['sgd', 'adam']
    """
    return [trajectory(surface, name, **options) for name in optimizers]


@dataclass
class Contour:
    """A surface sampled on a grid: ``values`` ``(size, size)`` (rows are y, from ``box``'s y_min up).

    ``log_values`` is ``log10(values - min + 1e-3)``: the display scale, which shows the valleys
    of Rosenbrock and Beale that a linear scale hides.

    Example:
        >>> grid = contour("bowl", size=11)
        >>> grid.values.shape, float(grid.values[5, 5])
        ((11, 11), 0.0)
    """

    surface: str
    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray

    @property
    def log_values(self) -> np.ndarray:
        """The display scale ``log10(values - min + 1e-3)``."""
        return np.log10(self.values - np.nanmin(self.values) + 1e-3)

    def to_json(self) -> dict:
        """The grid as a JSON-ready dict: ``xs``, ``ys``, ``values`` and ``log_values`` (rows are y).

        Example:
            >>> data = contour("saddle", size=3).to_json()
            >>> data["xs"], data["values"][1]
            ([-2.0, 0.0, 2.0], [4.0, 0.0, 4.0])
        """
        return {"surface": self.surface, "xs": self.xs.tolist(), "ys": self.ys.tolist(),
                "values": np.round(self.values, 6).tolist(),
                "log_values": np.round(self.log_values, 4).tolist()}

    def figure(self):
        """A matplotlib figure of the contour alone.

        Example:
            >>> [float(v) for v in contour("beale", size=31).figure().axes[0].get_xlim()]
            [-4.5, 4.5]
        """
        plt = require_matplotlib()
        fig, ax = plt.subplots(figsize=(5, 4.2))
        _draw_surface(ax, get_surface(self.surface), [], grid=self)
        return fig


def contour(surface: str | Surface, size: int = 101) -> Contour:
    """``surface`` sampled on a ``size × size`` grid over its view box.

    Example:
        >>> contour("rosenbrock", size=21).log_values.shape
        (21, 21)
    """
    surface = get_surface(surface) if isinstance(surface, str) else surface
    if int(size) != size or not 2 <= size <= 401:
        raise ValueError(f"size must be a whole number in 2..401, got {size!r}")
    x0, x1, y0, y1 = surface.box
    xs, ys = np.linspace(x0, x1, int(size)), np.linspace(y0, y1, int(size))
    return Contour(surface.name, xs, ys, surface.grid(xs, ys))


def _draw_surface(ax, surface: Surface, runs: list[Trajectory], grid: Contour | None = None) -> None:
    grid = contour(surface, 121) if grid is None else grid
    ax.contourf(grid.xs, grid.ys, grid.log_values, levels=30, cmap="viridis")
    for run in runs:
        ax.plot(run.points[:, 0], run.points[:, 1], color=COLORS[run.optimizer], lw=1.4,
                label=f"{run.optimizer} {run.final_loss:.3g}")
    if surface.minimum is not None:
        ax.plot(*surface.minimum, marker="*", color="white", markersize=12, markeredgecolor="black")
    start = runs[0].points[0] if runs else surface.start
    ax.plot(*start, marker="o", color="white", markeredgecolor="black")
    x0, x1, y0, y1 = surface.box
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(surface.title, fontsize=9)


def trajectories_figure(steps: int = 300):
    """Every surface with every optimiser (each surface's default start and learning rate).

    Example:
        >>> fig = trajectories_figure(steps=5)
        >>> len(fig.axes)
        6
    """
    plt = require_matplotlib()
    fig, axes = plt.subplots(2, 3, figsize=(15, 9))
    for ax, surface in zip(axes.flat, SURFACES.values()):
        _draw_surface(ax, surface, trajectories(surface.name, steps=steps), grid=contour(surface, 81))
        ax.legend(fontsize=7, loc="lower left")
    axes.flat[-1].axis("off")
    fig.tight_layout()
    return fig


def write_pictures(out: Path, *, seed: int = 0, quick: bool = False) -> list[Path]:
    """Write ``optim_trajectories.png``, ``optim_landscape.png`` and ``optim_effects.png`` into ``out``.

    ``quick``: fewer steps, epochs and grid points (for tests). Returns the paths written.

    Example:
        >>> paths = write_pictures(Path("pictures"), quick=True)
        >>> [path.name for path in paths]
        ['optim_trajectories.png', 'optim_landscape.png', 'optim_effects.png']
    """
    plt = require_matplotlib()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = {
        "optim_trajectories.png": trajectories_figure(steps=40 if quick else 300),
        "optim_landscape.png": landscape(seed=seed, epochs=4 if quick else 40,
                                         grid=9 if quick else 31).figure(),
        "optim_effects.png": lr_batch_effects(seed=seed, epochs=3 if quick else 30).figure(),
    }
    paths = []
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=80 if quick else 110)
        plt.close(fig)
        paths.append(out / name)
    return paths
