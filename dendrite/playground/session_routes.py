"""Routes every page of the server shares: serving a page file, and a session's life over HTTP.

:func:`page_route` serves one of the pages in ``static/`` (a clear 404 when the file is missing).
:func:`session_routes` gives a :class:`SessionStore` its lifecycle under a base path: create
(``POST base``), read (``GET base/{id}``), delete, play, pause, and the server-sent event stream
(``GET base/{id}/events``) that carries each new snapshot. The playground and the GAN lab both use
them; each adds its own routes for what only it can do (upload points, draw points, edit a weight).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

from dendrite.playground.http import ApiError, dumps, guarded, json_body, json_response
from dendrite.playground.sessions import SessionStore

__all__ = ["page_route", "session_routes", "config_of", "PING_S"]

PING_S = 10.0  # an event stream sends a comment this often: proxies keep it open, a gone client is noticed


def page_route(path: str, page: Path) -> Route:
    """``GET path`` answers the HTML file ``page`` (404 naming the file when it is missing).

    Example:
        >>> route = page_route("/gan", Path("static") / "gan.html")
        >>> route.path, sorted(route.methods)
        ('/gan', ['GET', 'HEAD'])
    """
    async def serve_page(request: Request) -> Response:
        if not page.is_file():
            raise ApiError(404, f"the page is missing: {page} not found")
        return FileResponse(page, media_type="text/html")

    return Route(path, guarded(serve_page), methods=["GET"])


def config_of(body: dict, required: bool) -> dict:
    """``body["config"]`` as a dict (``{}`` when absent and not ``required``); 400 otherwise.

    Example:
        >>> config_of({}, required=False), config_of({"config": {"seed": 1}}, required=True)
        ({}, {'seed': 1})
    """
    config = body.get("config", None if required else {})
    if not isinstance(config, dict):
        raise ApiError(400, f"'config' must be a JSON object, got {json.dumps(config)}")
    return config


def session_routes(store: SessionStore, base: str, *, max_body: int) -> list[Route]:
    """Create, read, delete, play, pause and the event stream of ``store``'s sessions under ``base``.

    ``max_body``: the byte limit of a create request's body (its ``config``). Sessions are
    ``base/{session_id}``; a new session answers 201 with its snapshot (points included).

    Example:
        >>> routes = session_routes(SessionStore(), "/api/sessions", max_body=1024)
        >>> [route.path.removeprefix("/api/sessions/{session_id}") for route in routes]
        ['/api/sessions', '', '', '/events', '/play', '/pause']
    """
    def slot_of(request: Request):
        return store.get(request.path_params["session_id"])

    async def create_session(request: Request) -> Response:
        body = await json_body(request, max_body, ("config",))
        slot = await store.create(config_of(body, required=False))
        return json_response(await store.snapshot(slot, include_points=True), status=201)

    async def get_session(request: Request) -> Response:
        return json_response(await store.snapshot(slot_of(request), include_points=True))

    async def delete_session(request: Request) -> Response:
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
                    if snapshot is None:  # the session was deleted or the server stops
                        return
                    yield f"data: {dumps(snapshot)}\n\n"
            finally:
                store.unlisten(slot, queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"X-Accel-Buffering": "no"})  # nginx: pass events on at once

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

    session = base + "/{session_id}"
    return [
        Route(base, guarded(create_session), methods=["POST"]),
        Route(session, guarded(get_session), methods=["GET"]),
        Route(session, guarded(delete_session), methods=["DELETE"]),
        Route(f"{session}/events", guarded(events), methods=["GET"]),
        Route(f"{session}/play", guarded(play), methods=["POST"]),
        Route(f"{session}/pause", guarded(pause), methods=["POST"]),
    ]
