"""The 2-D test functions of the optimisation explorer, written with dendrite's tensor operations.

Each :class:`Surface` is ``f(x, y)`` built from dendrite operations, so autograd gives its gradient
and the same function works elementwise on whole grids (the contour plot). Every surface knows
the box it is viewed in, a default start, a default learning rate and its known minimum:

- ``bowl``: ``0.5 (x² + 25 y²)``, an ill-conditioned quadratic (condition number 25), minimum (0, 0);
- ``rosenbrock``: ``(1 - x)² + 100 (y - x²)²``, a curved narrow valley, minimum (1, 1);
- ``beale``: Beale's function, flat plateaus and steep walls, minimum (3, 0.5);
- ``saddle``: ``x² - y²``, no minimum (unbounded below): the view is bounded; (0, 0) is a saddle point;
- ``wells``: a wide bowl ``0.1 (x² + y²)`` with a sum of Gaussian wells: a deep one (depth 2) at the
  origin and four shallow ones (depth 1) at ``(±2, ±2)``; by symmetry the global minimum is at
  (0, 0), and each shallow well is a local minimum that traps a run started near it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import dendrite

__all__ = ["Surface", "SURFACES", "get_surface"]


@dataclass(frozen=True)
class Surface:
    """A 2-D function with its view box, default start and known minimum.

    ``function(x, y)`` takes dendrite tensors of one shape and returns one of the same shape.
    ``box``: ``(x_min, x_max, y_min, y_max)`` of the view; ``bound``: a run whose point leaves the
    square ``|x|, |y| <= bound`` counts as diverged. ``minimum``: the global minimiser ``(x, y)``,
    or None when there is none (the saddle); ``stationary``: a point where the gradient is zero.

    Example:
        >>> bowl = get_surface("bowl")
        >>> bowl.value(2.0, 1.0), bowl.gradient(2.0, 1.0)
        (14.5, (2.0, 25.0))
    """

    name: str
    title: str
    function: Callable
    box: tuple[float, float, float, float]
    start: tuple[float, float]
    lr: float
    minimum: tuple[float, float] | None
    stationary: tuple[float, float]
    bound: float
    description: str

    def value(self, x: float, y: float) -> float:
        """``f(x, y)`` in float64 as a Python float."""
        return float(self.function(_scalar(x), _scalar(y)).item())

    def gradient(self, x: float, y: float) -> tuple[float, float]:
        """``(df/dx, df/dy)`` at ``(x, y)`` by dendrite's autograd, in float64."""
        point = dendrite.nn.Parameter(dendrite.tensor([float(x), float(y)], dtype=dendrite.float64))
        self.function(point[0], point[1]).backward()
        gx, gy = point.grad.tolist()
        return float(gx), float(gy)

    def grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """``f`` on the grid ``xs × ys``: shape ``(len(ys), len(xs))`` (rows are y).

        Example:
            >>> get_surface("saddle").grid(np.array([0.0, 1.0]), np.array([0.0, 2.0])).tolist()
            [[0.0, 1.0], [-4.0, -3.0]]
        """
        gx, gy = np.meshgrid(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))
        with dendrite.no_grad():
            values = self.function(dendrite.tensor(gx, dtype=dendrite.float64),
                                   dendrite.tensor(gy, dtype=dendrite.float64))
        return np.asarray(values.numpy(), dtype=np.float64)

    def to_json(self) -> dict:
        """The surface's description, box, start, learning rate and minimum as a JSON-ready dict.

        Example:
            >>> data = get_surface("wells").to_json()
            >>> data["box"], data["minimum"], data["lr"]
            ([-4.0, 4.0, -4.0, 4.0], [0.0, 0.0], 0.1)
        """
        return {"name": self.name, "title": self.title, "box": list(self.box), "start": list(self.start),
                "lr": self.lr, "minimum": None if self.minimum is None else list(self.minimum),
                "stationary": list(self.stationary), "description": self.description}


def _scalar(value: float):
    return dendrite.tensor(float(value), dtype=dendrite.float64)


def _bowl(x, y):
    return 0.5 * (x * x + 25.0 * y * y)


def _rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def _beale(x, y):
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2
            + (2.625 - x + x * y * y * y) ** 2)


def _saddle(x, y):
    return x * x - y * y


_WELLS = ((0.0, 0.0, 2.0), (2.0, 2.0, 1.0), (-2.0, 2.0, 1.0), (2.0, -2.0, 1.0), (-2.0, -2.0, 1.0))
_WELL_WIDTH = 0.5  # each well is depth * exp(-r² / (2 · 0.5²))


def _wells(x, y):
    total = 0.1 * (x * x + y * y)
    for cx, cy, depth in _WELLS:
        r2 = (x - cx) ** 2 + (y - cy) ** 2
        total = total - depth * dendrite.exp(r2 * (-1.0 / (2.0 * _WELL_WIDTH ** 2)))
    return total


SURFACES: dict[str, Surface] = {surface.name: surface for surface in (
    Surface("bowl", "Ill-conditioned bowl 0.5(x² + 25y²)", _bowl, (-5.0, 5.0, -3.0, 3.0), (-4.5, 2.0),
            0.03, (0.0, 0.0), (0.0, 0.0), 1e3,
            "The curvature along y is 25 times that along x: a step size safe for y crawls along x, "
            "and a larger one makes y zig-zag. Momentum and per-coordinate scaling help."),
    Surface("rosenbrock", "Rosenbrock (1-x)² + 100(y-x²)²", _rosenbrock, (-2.0, 2.0, -1.0, 3.0), (-1.5, 2.0),
            0.001, (1.0, 1.0), (1.0, 1.0), 1e3,
            "A curved, narrow valley: finding the valley is easy, following it to (1, 1) is slow."),
    Surface("beale", "Beale", _beale, (-4.5, 4.5, -4.5, 4.5), (1.0, 1.5), 0.005, (3.0, 0.5), (3.0, 0.5), 1e3,
            "Flat plateaus next to very steep walls; the gradient's size varies by orders of magnitude, "
            "which is where per-coordinate scaling (RMSprop, Adam) shines."),
    Surface("saddle", "Saddle x² − y²", _saddle, (-2.0, 2.0, -2.0, 2.0), (-1.8, 0.01), 0.05, None, (0.0, 0.0),
            20.0,
            "No minimum at all: the origin is a saddle point. Starting almost on the ridge, plain "
            "gradient descent lingers near the saddle; momentum and Adam escape sooner."),
    Surface("wells", "Gaussian wells (local minima)", _wells, (-4.0, 4.0, -4.0, 4.0), (3.0, 2.6), 0.1,
            (0.0, 0.0), (0.0, 0.0), 1e3,
            "A deep well at the origin (the global minimum) and four shallow ones at (±2, ±2): a run "
            "started near a shallow well settles there unless momentum carries it over the rim."),
)}


def get_surface(name: str) -> Surface:
    """The surface called ``name`` (one of :data:`SURFACES`); a clear error for any other name.

    Example:
        >>> get_surface("rosenbrock").minimum
        (1.0, 1.0)
    """
    if name not in SURFACES:
        raise ValueError(f"unknown surface {name!r}; expected one of {', '.join(SURFACES)}")
    return SURFACES[name]
