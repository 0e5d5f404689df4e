"""The optimisation explorer's page and JSON API (mounted into the playground's app).

- ``GET /optim``: the page (``static/optim.html``);
- ``GET /api/explore/optim/surfaces``: the surfaces (box, default start and learning rate, minimum);
- ``POST /api/explore/optim/trajectories`` ``{surface, optimizers, start, lr, steps, momentum, beta1,
  beta2, weight_decay, include_contour, contour_size}``: each optimiser's walk, and the surface's
  contour when ``include_contour`` (default true);
- ``POST /api/explore/optim/landscape`` ``{dataset, optimizers, epochs, grid, span, seed}``: the loss
  slice around θ* and each optimiser's projected path;
- ``POST /api/explore/optim/effects`` ``{dataset, batch_sizes, lrs, lr, batch_size, epochs, seed}``:
  plain-SGD loss curves per batch size and learning rate.

Every field is optional (absent: the default; the trajectories' start and lr default to the
surface's own), checked against its bounds, and refused with a 400 naming it; the work runs in
:func:`~dendrite.playground.engine.run_engine`.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dendrite.explore.optim import OPTIMIZERS, contour, trajectory
from dendrite.explore.optim_landscape import DATASETS, landscape, lr_batch_effects
from dendrite.explore.optim_surfaces import SURFACES, get_surface
from dendrite.playground.engine import run_engine
from dendrite.playground.explorers import Explorer
from dendrite.playground.http import ApiError, guarded, json_body, json_response, number
from dendrite.playground.session_routes import page_route

__all__ = ["mount", "MAX_STEPS", "MAX_GRID", "MAX_EPOCHS"]

MAX_BODY = 16_384
MAX_STEPS = 1000
MAX_GRID = 41
MAX_EPOCHS = 60
MAX_CONTOUR = 161

TRAJECTORY_KEYS = ("surface", "optimizers", "start", "lr", "steps", "momentum", "beta1", "beta2",
                   "weight_decay", "include_contour", "contour_size")
LANDSCAPE_KEYS = ("dataset", "optimizers", "epochs", "grid", "span", "seed")
EFFECTS_KEYS = ("dataset", "batch_sizes", "lrs", "lr", "batch_size", "epochs", "seed")


def _bounded(body: dict, key: str, default, low, high, *, whole=False, open_low=False, open_high=False):
    """``body[key]`` (or ``default``) checked to lie in the range; 400 naming ``key`` otherwise."""
    if key not in body:
        return default
    value = number(body, key, whole=whole)
    if value < low or value > high or (open_low and value == low) or (open_high and value == high):
        left, right = "(" if open_low else "[", ")" if open_high else "]"
        raise ApiError(400, f"{key!r} must be in {left}{low:g}, {high:g}{right}, got {value:g}")
    return value


def _choice(body: dict, key: str, default: str, choices) -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or value not in choices:
        raise ApiError(400, f"{key!r} must be one of {', '.join(choices)}, got {json.dumps(value)}")
    return value


def _optimizers(body: dict, default) -> list[str]:
    value = body.get("optimizers", list(default))
    if (not isinstance(value, list) or not value or len(value) > len(OPTIMIZERS)
            or not all(isinstance(name, str) and name in OPTIMIZERS for name in value)
            or len(set(value)) != len(value)):
        raise ApiError(400, f"'optimizers' must be a non-empty list of distinct names among "
                            f"{', '.join(OPTIMIZERS)}, got {json.dumps(value)}")
    return value


def _flag(body: dict, key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise ApiError(400, f"{key!r} must be true or false, got {json.dumps(value)}")
    return value


def _number_list(body: dict, key: str, default, low, high, *, whole: bool, most: int = 4) -> list:
    value = body.get(key, list(default))
    if not isinstance(value, list) or len(value) > most:
        raise ApiError(400, f"{key!r} must be a list of at most {most} numbers, got {json.dumps(value)}")
    return [_bounded({key: item}, key, None, low, high, whole=whole, open_low=not whole) for item in value]


def trajectories_request(body: dict) -> dict:
    """The checked arguments of a trajectories request (defaults from the surface).

    Example:
        >>> trajectories_request({"surface": "bowl", "steps": 10})["lr"]
        0.03
    """
    surface = get_surface(_choice(body, "surface", "rosenbrock", list(SURFACES)))
    start = body.get("start", list(surface.start))
    x0, x1, y0, y1 = surface.box
    if (not isinstance(start, list) or len(start) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in start)
            or not (x0 <= start[0] <= x1 and y0 <= start[1] <= y1)):
        raise ApiError(400, f"'start' must be [x, y] inside the view box x in [{x0:g}, {x1:g}], "
                            f"y in [{y0:g}, {y1:g}], got {json.dumps(start)}")
    return {
        "surface": surface.name,
        "optimizers": _optimizers(body, OPTIMIZERS),
        "start": (float(start[0]), float(start[1])),
        "lr": float(_bounded(body, "lr", surface.lr, 0, 10, open_low=True)),
        "steps": int(_bounded(body, "steps", 200, 1, MAX_STEPS, whole=True)),
        "momentum": float(_bounded(body, "momentum", 0.9, 0, 1, open_high=True)),
        "betas": (float(_bounded(body, "beta1", 0.9, 0, 1, open_high=True)),
                  float(_bounded(body, "beta2", 0.999, 0, 1, open_high=True))),
        "weight_decay": _bounded(body, "weight_decay", None, 0, 1),
        "include_contour": _flag(body, "include_contour", True),
        "contour_size": int(_bounded(body, "contour_size", 101, 11, MAX_CONTOUR, whole=True)),
    }


def compute_trajectories(request: dict) -> dict:
    """Every requested walk (and the contour) as JSON; run it via ``run_engine``.

    Example:
        >>> body = {"surface": "bowl", "steps": 3, "optimizers": ["sgd"], "include_contour": False}
        >>> answer = compute_trajectories(trajectories_request(body))
        >>> len(answer["trajectories"][0]["points"]), "contour" in answer
        (4, False)
    """
    options = {key: request[key] for key in ("start", "lr", "steps", "momentum", "betas", "weight_decay")}
    runs = [trajectory(request["surface"], name, **options).to_json() for name in request["optimizers"]]
    answer = {"surface": get_surface(request["surface"]).to_json(), "trajectories": runs}
    if request["include_contour"]:
        answer["contour"] = contour(request["surface"], request["contour_size"]).to_json()
    return answer


def mount(static: Path) -> Explorer:
    """The optimisation explorer's routes over the page files in ``static``.

    Example:
        >>> from dendrite.playground.app import STATIC_DIR
        >>> sorted(route.path for route in mount(STATIC_DIR).routes)[:2]
        ['/api/explore/optim/effects', '/api/explore/optim/landscape']
    """
    static = Path(static)

    async def surfaces(request: Request) -> Response:
        return json_response({"surfaces": [surface.to_json() for surface in SURFACES.values()],
                              "optimizers": list(OPTIMIZERS), "datasets": list(DATASETS)})

    async def trajectories(request: Request) -> Response:
        checked = trajectories_request(await json_body(request, MAX_BODY, TRAJECTORY_KEYS))
        return json_response(await run_engine(compute_trajectories, checked))

    async def landscape_route(request: Request) -> Response:
        body = await json_body(request, MAX_BODY, LANDSCAPE_KEYS)
        grid = int(_bounded(body, "grid", 25, 3, MAX_GRID, whole=True))
        if grid % 2 == 0:
            raise ApiError(400, f"'grid' must be odd (its centre is θ*), got {grid}")
        arguments = {"dataset": _choice(body, "dataset", "moons", DATASETS),
                     "optimizers": _optimizers(body, ("adam", "sgd", "momentum", "rmsprop")),
                     "epochs": int(_bounded(body, "epochs", 30, 1, MAX_EPOCHS, whole=True)),
                     "grid": grid, "span": float(_bounded(body, "span", 1.0, 0, 5, open_low=True)),
                     "seed": int(_bounded(body, "seed", 0, 0, 2 ** 31 - 1, whole=True))}
        result = await run_engine(landscape, **arguments)
        return json_response(result.to_json())

    async def effects(request: Request) -> Response:
        body = await json_body(request, MAX_BODY, EFFECTS_KEYS)
        arguments = {"dataset": _choice(body, "dataset", "moons", DATASETS),
                     "batch_sizes": _number_list(body, "batch_sizes", (8, 32, 200), 1, 200, whole=True),
                     "lrs": _number_list(body, "lrs", (0.03, 0.3, 3.0), 0, 10, whole=False),
                     "lr": float(_bounded(body, "lr", 0.3, 0, 10, open_low=True)),
                     "batch_size": int(_bounded(body, "batch_size", 32, 1, 200, whole=True)),
                     "epochs": int(_bounded(body, "epochs", 20, 1, MAX_EPOCHS, whole=True)),
                     "seed": int(_bounded(body, "seed", 0, 0, 2 ** 31 - 1, whole=True))}
        result = await run_engine(lr_batch_effects, **arguments)
        return json_response(result.to_json())

    base = "/api/explore/optim"
    return Explorer("optim", [
        page_route("/optim", static / "optim.html"),
        Route(f"{base}/surfaces", guarded(surfaces), methods=["GET"]),
        Route(f"{base}/trajectories", guarded(trajectories), methods=["POST"]),
        Route(f"{base}/landscape", guarded(landscape_route), methods=["POST"]),
        Route(f"{base}/effects", guarded(effects), methods=["POST"]),
    ])
