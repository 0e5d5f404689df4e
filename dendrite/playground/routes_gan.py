"""The GAN lab's page (``GET /gan``) and its session API under ``/api/explore/gan/sessions``.

Sessions live in the explorer's own :class:`~dendrite.playground.sessions.SessionStore` (factory
:class:`~dendrite.playground.gan_session.GanLabSession`): Play trains in short chunks on a worker
thread and every chunk's snapshot reaches the page through ``GET .../{id}/events`` (server-sent
events, as for the playground). Every body is bounded and every field validated (400 naming it).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

from dendrite.explore.gan_data import MAX_DRAWN_POINTS
from dendrite.playground.explorers import Explorer
from dendrite.playground.gan_session import MAX_STEPS, GanLabSession
from dendrite.playground.http import ApiError, dumps, guarded, json_body, json_response, number
from dendrite.playground.sessions import SessionStore

__all__ = ["mount", "MAX_BODY_BYTES"]

MAX_BODY_BYTES = 64 * MAX_DRAWN_POINTS  # room for 2,000 drawn points and a config
PING_S = 15.0


def _config_of(body: dict, required: bool) -> dict:
    config = body.get("config", None if required else {})
    if not isinstance(config, dict):
        raise ApiError(400, f"'config' must be a JSON object, got {json.dumps(config)}")
    return config


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

    async def page(request: Request) -> Response:
        path = Path(static) / "gan.html"
        if not path.is_file():
            raise ApiError(404, f"the page is missing: {path} not found")
        return FileResponse(path, media_type="text/html")

    async def create(request: Request) -> Response:
        body = await json_body(request, MAX_BODY_BYTES, ("config",))
        slot = await store.create(_config_of(body, required=False))
        return json_response(await store.snapshot(slot, include_points=True), status=201)

    async def get(request: Request) -> Response:
        return json_response(await store.snapshot(slot_of(request), include_points=True))

    async def delete(request: Request) -> Response:
        await store.delete(request.path_params["session_id"])
        return Response(status_code=204)

    async def events(request: Request) -> Response:
        slot = slot_of(request)

        async def stream():
            queue = store.listen(slot)
            try:
                yield f"data: {dumps(await store.snapshot(slot))}\n\n"
                while True:
                    try:
                        snapshot = await asyncio.wait_for(queue.get(), PING_S)
                    except asyncio.TimeoutError:
                        yield ": ping\n\n"
                        continue
                    if snapshot is None:
                        return
                    yield f"data: {dumps(snapshot)}\n\n"
            finally:
                store.unlisten(slot, queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"X-Accel-Buffering": "no"})

    async def configure(request: Request) -> Response:
        body = await json_body(request, MAX_BODY_BYTES, ("config",))
        config = _config_of(body, required=True)
        slot = slot_of(request)
        await store.pause(slot)
        await store.run(slot, slot.session.configure, config)
        return json_response(await store.changed(slot, include_points=True))

    async def play(request: Request) -> Response:
        await json_body(request, 1024, ())
        slot = slot_of(request)
        store.play(slot)
        return json_response(await store.changed(slot))

    async def pause(request: Request) -> Response:
        await json_body(request, 1024, ())
        slot = slot_of(request)
        await store.pause(slot)
        return json_response(await store.changed(slot))

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
        Route("/gan", guarded(page), methods=["GET"]),
        Route(base, guarded(create), methods=["POST"]),
        Route(session, guarded(get), methods=["GET"]),
        Route(session, guarded(delete), methods=["DELETE"]),
        Route(f"{session}/events", guarded(events), methods=["GET"]),
        Route(f"{session}/config", guarded(configure), methods=["POST"]),
        Route(f"{session}/play", guarded(play), methods=["POST"]),
        Route(f"{session}/pause", guarded(pause), methods=["POST"]),
        Route(f"{session}/step", guarded(step), methods=["POST"]),
        Route(f"{session}/reset", guarded(reset), methods=["POST"]),
        Route(f"{session}/draw", guarded(draw), methods=["POST"]),
    ]
    return Explorer("gan", routes, store=store)
