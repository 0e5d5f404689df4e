"""The initialisation explorer in the playground: the page ``/init`` and its JSON API.

- ``POST /api/explore/init/signals`` ``{scheme, activation, depth (1..20), width (2..256), seed}`` ->
  :meth:`SignalStats.to_json` of :func:`dendrite.explore.init.signal_stats` (512 samples);
- ``POST /api/explore/init/train`` ``{scheme, activation, depth (1..20), width (2..64), dataset,
  epochs (1..200), lr, seed}`` -> :meth:`InitTraining.to_json`, with the boundary instead as
  ``boundary_map``: base64 uint8 of ``2 p - 1`` (the playground's heatmap encoding, 60 x 60, row 0
  at y = +6) and the points under ``points``.

Every field is optional (defaults: kaiming_normal, relu, depth 10, width 64, seed 0; training depth
6, width 32, spiral, 60 epochs, lr 0.01); a bad one answers 400 naming it. The work runs off the
event loop through :func:`~dendrite.playground.engine.run_engine`.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dendrite.explore import init as explorer
from dendrite.explore.init_training import DATASETS, MAX_EPOCHS
from dendrite.playground.engine import run_engine
from dendrite.playground.explorers import Explorer
from dendrite.playground.http import ApiError, guarded, json_body, json_response, number
from dendrite.playground.session_routes import page_route
from dendrite.playground.snapshot import encode_map

__all__ = ["mount", "PAGE_MAX_DEPTH", "PAGE_MAX_WIDTH", "TRAIN_MAX_WIDTH"]

PAGE_MAX_DEPTH, PAGE_MAX_WIDTH, TRAIN_MAX_WIDTH = 20, 256, 64
BODY_LIMIT = 4096
SIGNAL_KEYS = ("scheme", "activation", "depth", "width", "seed")
TRAIN_KEYS = ("scheme", "activation", "depth", "width", "dataset", "epochs", "lr", "seed")


def _choice(body: dict, key: str, options, default: str) -> str:
    value = body.get(key, default)
    if value not in options:
        raise ApiError(400, f"{key!r} must be one of {', '.join(options)}, got {value!r}")
    return value


def _whole(body: dict, key: str, default: int, low: int, high: int) -> int:
    if key not in body:
        return default
    value = number(body, key, whole=True)
    if not low <= value <= high:
        raise ApiError(400, f"{key!r} must be in {low}..{high}, got {value}")
    return int(value)


def _common(body: dict, depth: int, width: int, max_width: int) -> dict:
    return {
        "scheme": _choice(body, "scheme", tuple(explorer.SCHEMES), "kaiming_normal"),
        "activation": _choice(body, "activation", explorer.ACTIVATIONS, "relu"),
        "depth": _whole(body, "depth", depth, 1, PAGE_MAX_DEPTH),
        "width": _whole(body, "width", width, 2, max_width),
        "seed": _whole(body, "seed", 0, 0, 2**31 - 1),
    }


def _train(arguments: dict) -> dict:
    data = explorer.train_run(**arguments).to_json()
    data["boundary_map"] = encode_map([[2 * p - 1 for p in row] for row in data.pop("boundary")])
    return data


def mount(static: Path) -> Explorer:
    """The explorer's page and API routes over the page files in ``static``.

    Example:
        >>> from dendrite.playground.app import STATIC_DIR
        >>> [route.path for route in mount(STATIC_DIR).routes]
        ['/init', '/api/explore/init/signals', '/api/explore/init/train']
    """
    static = Path(static)

    async def signals(request: Request) -> Response:
        body = await json_body(request, BODY_LIMIT, SIGNAL_KEYS)
        arguments = _common(body, 10, 64, PAGE_MAX_WIDTH)
        stats = await run_engine(explorer.signal_stats, **arguments)
        return json_response(stats.to_json())

    async def train(request: Request) -> Response:
        body = await json_body(request, BODY_LIMIT, TRAIN_KEYS)
        arguments = _common(body, 6, 32, TRAIN_MAX_WIDTH)
        arguments["dataset"] = _choice(body, "dataset", DATASETS, "spiral")
        arguments["epochs"] = _whole(body, "epochs", 60, 1, MAX_EPOCHS)
        lr = number(body, "lr") if "lr" in body else 0.01
        if not 0 < lr <= 1:
            raise ApiError(400, f"'lr' must be in (0, 1], got {lr}")
        arguments["lr"] = float(lr)
        return json_response(await run_engine(_train, arguments))

    return Explorer("init", [
        page_route("/init", static / "init.html"),
        Route("/api/explore/init/signals", guarded(signals), methods=["POST"]),
        Route("/api/explore/init/train", guarded(train), methods=["POST"]),
    ])
