"""The playground's web app: the page, its static files and a JSON API over :class:`SessionStore`.

Every answer of the API is JSON; every error is ``{"error": "<message>"}`` with its status:

- 400: the body is not JSON, not an object, has a value of the wrong type, or the session refused
  it (a config value out of range, a bad CSV, a weight index out of range: ``ConfigError``,
  ``DataError`` and every other ``ValueError`` of the session, whose message names what was wrong);
- 404: no such session (or path); 405: wrong method; 413: a body over ``MAX_UPLOAD_BYTES``;
- 503: the server holds ``max_sessions`` sessions already; 500: a bug (logged, no traceback sent).

Work on a session runs on a worker thread under the session's lock (never on the event loop), and
a playing session trains in a background task (see :mod:`dendrite.playground.sessions`). Every
response carries a Content-Security-Policy that allows scripts, styles and connections from the
server itself only (no inline script or style), ``X-Content-Type-Options: nosniff`` and
``Cache-Control: no-store``.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from dendrite.playground.explorers import mount_explorers
from dendrite.playground.http import (
    ApiError,
    Guard,
    error_response,
    guarded,
    json_body,
    json_response,
    number,
    read_body,
)
from dendrite.playground.session_routes import config_of, page_route, session_routes
from dendrite.playground.sessions import SessionStore

__all__ = ["create_app"]

log = logging.getLogger("dendrite.playground")

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_DIAGNOSE_BUDGET_S = 60.0


def create_app(*, session_ttl: float = 900, max_sessions: int = 32, static_dir=None,
               allowed_hosts=None) -> Starlette:
    """The playground's Starlette app; its :class:`SessionStore` is ``app.state.store``.

    ``session_ttl``: seconds an unused session without an open event stream lives; ``max_sessions``:
    sessions held at once (more answers 503); ``static_dir``: the page's files (default: the package's);
    ``allowed_hosts``: the host names the Host header may carry (default: any; :func:`serve` on a
    loopback address allows only this machine's names).

    Example:
        >>> app = create_app(max_sessions=4)
        >>> paths = [route.path for route in app.routes]
        >>> app.state.store.max_sessions, "/api/sessions/{session_id}/events" in paths
        (4, True)
    """
    from dendrite.playground.config import MAX_UPLOAD_BYTES

    store = SessionStore(ttl=session_ttl, max_sessions=max_sessions)
    static = Path(static_dir) if static_dir is not None else STATIC_DIR

    def slot_of(request: Request):
        return store.get(request.path_params["session_id"])

    async def favicon(request: Request) -> Response:
        icon = static / "favicon.ico"  # browsers ask for it: without one, "no content", not a console 404
        return FileResponse(icon) if icon.is_file() else Response(status_code=204)

    async def health(request: Request) -> Response:
        return json_response({"ok": True})

    async def configure(request: Request) -> Response:
        config = config_of(await json_body(request, MAX_UPLOAD_BYTES, ("config",)), required=True)
        slot = slot_of(request)
        did_reset = await store.run(slot, slot.session.configure, config)
        return json_response(await store.changed(slot, include_points=did_reset))

    def session_call(name: str, with_points: bool, stop_playing: bool = False):
        async def call(request: Request) -> Response:
            await json_body(request, 1024, ())
            slot = slot_of(request)
            if stop_playing:  # Step while playing pauses first, as in TensorFlow's Playground
                await store.pause(slot)
            await store.run(slot, getattr(slot.session, name))
            return json_response(await store.changed(slot, include_points=with_points))

        call.__name__ = name
        return call

    async def add_point(request: Request) -> Response:
        body = await json_body(request, 1024, ("x", "y", "label"))
        x, y, label = number(body, "x"), number(body, "y"), number(body, "label")
        slot = slot_of(request)
        await store.run(slot, slot.session.add_point, float(x), float(y), label)
        return json_response(await store.changed(slot, include_points=True))

    async def upload(request: Request) -> Response:
        slot = slot_of(request)
        raw = await read_body(request, MAX_UPLOAD_BYTES)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApiError(400, "the upload is not UTF-8 text; expected a CSV file with columns x, y, "
                                "label") from None
        await store.run(slot, slot.session.load_csv, text)
        return json_response(await store.changed(slot, include_points=True))

    async def set_weight(request: Request) -> Response:
        body = await json_body(request, 1024, ("layer", "source", "target", "value"))
        layer, source, target = (number(body, key, whole=True) for key in ("layer", "source", "target"))
        value = number(body, "value")
        slot = slot_of(request)
        await store.run(slot, slot.session.set_weight, layer, source, target, float(value))
        return json_response(await store.changed(slot))

    async def diagnose(request: Request) -> Response:
        body = await json_body(request, 1024, ("budget_s",))
        budget = number(body, "budget_s") if "budget_s" in body else 6.0
        if not 0 < budget <= MAX_DIAGNOSE_BUDGET_S:
            raise ApiError(400, f"'budget_s' must be in (0, {MAX_DIAGNOSE_BUDGET_S:g}] seconds, got {budget}")
        slot = slot_of(request)
        return json_response(await store.run(slot, slot.session.diagnose, float(budget)))

    async def export_script(request: Request) -> Response:
        slot = slot_of(request)
        script = await store.run(slot, slot.session.export_script)
        return Response(script, media_type="text/x-python",
                        headers={"Content-Disposition": 'attachment; filename="playground_model.py"'})

    async def export_weights(request: Request) -> Response:
        slot = slot_of(request)
        weights = await store.run(slot, slot.session.export_weights)
        disposition = 'attachment; filename="playground_model.safetensors"'
        return Response(weights, media_type="application/octet-stream",
                        headers={"Content-Disposition": disposition})

    session = "/api/sessions/{session_id}"
    routes = [
        page_route("/", static / "index.html"),
        Route("/favicon.ico", guarded(favicon), methods=["GET"]),
        Route("/api/health", guarded(health), methods=["GET"]),
        *session_routes(store, "/api/sessions", max_body=MAX_UPLOAD_BYTES),
        Route(f"{session}/config", guarded(configure), methods=["POST"]),
        Route(f"{session}/step", guarded(session_call("step_epoch", False, stop_playing=True)),
              methods=["POST"]),
        Route(f"{session}/reset", guarded(session_call("reset", False)), methods=["POST"]),
        Route(f"{session}/regenerate", guarded(session_call("regenerate", True)), methods=["POST"]),
        Route(f"{session}/points", guarded(add_point), methods=["POST"]),
        Route(f"{session}/upload", guarded(upload), methods=["POST"]),
        Route(f"{session}/weight", guarded(set_weight), methods=["POST"]),
        Route(f"{session}/diagnose", guarded(diagnose), methods=["POST"]),
        Route(f"{session}/export/script", guarded(export_script), methods=["GET"]),
        Route(f"{session}/export/weights", guarded(export_weights), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=static, check_dir=False), name="static"),
    ]
    explorers = mount_explorers(static)
    routes[-1:-1] = [route for explorer in explorers for route in explorer.routes]
    stores = [store] + [explorer.store for explorer in explorers if explorer.store is not None]

    async def http_error(request: Request, error: HTTPException) -> Response:
        if error.status_code == 404:
            message = f"not found: {request.url.path}"
        elif error.status_code == 405:
            allowed = (error.headers or {}).get("Allow", "")
            message = f"method {request.method} is not allowed for {request.url.path}; use {allowed}"
        else:
            message = str(error.detail)
        return error_response(error.status_code, message, headers=error.headers)

    async def server_error(request: Request, error: Exception) -> Response:
        log.error("%s %s failed: %r", request.method, request.url.path, error)
        return error_response(500, f"internal error ({type(error).__name__}); the server log has the details")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        for each in stores:
            each.start()
        try:
            yield
        finally:
            for each in stores:
                await each.shutdown()

    from starlette.middleware import Middleware

    app = Starlette(routes=routes, middleware=[Middleware(Guard, allowed_hosts=allowed_hosts)],
                    lifespan=lifespan,
                    exception_handlers={HTTPException: http_error, Exception: server_error})
    app.state.store = store
    app.state.explorers = {explorer.name: explorer for explorer in explorers}
    return app
