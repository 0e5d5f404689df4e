"""The GAN lab's page (``GET /gan``) and its session API under ``/api/explore/gan/sessions``.

Sessions live in the explorer's own :class:`~dendrite.playground.sessions.SessionStore` (factory
:class:`~dendrite.playground.gan_session.GanLabSession`): Play trains in short chunks on a worker
thread and every chunk's snapshot reaches the page through ``GET .../{id}/events`` (server-sent
events, as for the playground). Every body is bounded and every field validated (400 naming it).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dendrite.explore.gan_data import MAX_DRAWN_POINTS
from dendrite.playground.explorers import Explorer
from dendrite.playground.gan_session import MAX_STEPS, GanLabSession
from dendrite.playground.http import ApiError, guarded, json_body, json_response, number
from dendrite.playground.session_routes import config_of, page_route, session_routes
from dendrite.playground.sessions import SessionStore

__all__ = ["mount", "MAX_BODY_BYTES"]

MAX_BODY_BYTES = 64 * MAX_DRAWN_POINTS  # room for 2,000 drawn points and a config


def mount(static: Path) -> Explorer:
    """The GAN lab's routes and session store, the page served from ``static/gan.html``.

    Example:
        >>> from dendrite.playground.app import STATIC_DIR
        >>> explorer = mount(STATIC_DIR)
        >>> explorer.name, explorer.routes[0].path, explorer.store.factory is GanLabSession
        ('gan', '/gan', True)
    """
    store = SessionStore(factory=GanLabSession, max_sessions=16)

    def slot_of(request: Request):
        return store.get(request.path_params["session_id"])

    async def configure(request: Request) -> Response:
        body = await json_body(request, MAX_BODY_BYTES, ("config",))
        config = config_of(body, required=True)
        slot = slot_of(request)
        await store.pause(slot)
        await store.run(slot, slot.session.configure, config)
        return json_response(await store.changed(slot, include_points=True))

    async def step(request: Request) -> Response:
        body = await json_body(request, 1024, ("steps",))
        steps = number(body, "steps", whole=True) if "steps" in body else 1
        if not 1 <= steps <= MAX_STEPS:
            raise ApiError(400, f"'steps' must be in [1, {MAX_STEPS}], got {steps}")
        slot = slot_of(request)
        await store.pause(slot)
        await store.run(slot, slot.session.step, steps)
        return json_response(await store.changed(slot))

    async def reset(request: Request) -> Response:
        await json_body(request, 1024, ())
        slot = slot_of(request)
        await store.pause(slot)
        await store.run(slot, slot.session.reset)
        return json_response(await store.changed(slot, include_points=True))

    async def draw(request: Request) -> Response:
        body = await json_body(request, MAX_BODY_BYTES, ("points",))
        if "points" not in body:
            raise ApiError(400, "missing 'points' in the body; expected a list of [x, y] pairs")
        slot = slot_of(request)
        await store.pause(slot)
        await store.run(slot, slot.session.draw, body["points"])
        return json_response(await store.changed(slot, include_points=True))

    base = "/api/explore/gan/sessions"
    session = base + "/{session_id}"
    routes = [
        page_route("/gan", Path(static) / "gan.html"),
        *session_routes(store, base, max_body=MAX_BODY_BYTES),
        Route(f"{session}/config", guarded(configure), methods=["POST"]),
        Route(f"{session}/step", guarded(step), methods=["POST"]),
        Route(f"{session}/reset", guarded(reset), methods=["POST"]),
        Route(f"{session}/draw", guarded(draw), methods=["POST"]),
    ]
    return Explorer("gan", routes, store=store)
