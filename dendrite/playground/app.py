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

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from dendrite.playground.sessions import SessionStore, TooManySessions, UnknownSession

__all__ = ["create_app"]

log = logging.getLogger("dendrite.playground")

STATIC_DIR = Path(__file__).resolve().parent / "static"
PING_S = 10.0  # an event stream sends a comment this often: proxies keep it open, a gone client is noticed
MAX_DIAGNOSE_BUDGET_S = 60.0
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
     b"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
     b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class ApiError(Exception):
    """An HTTP error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class _Guard:
    """ASGI middleware: security headers on every response; refuses foreign hosts and cross-site writes.

    ``allowed_hosts``: the Host headers accepted (None: any). A server on 127.0.0.1 accepts only its
    own names, so a web page cannot reach it through a DNS name that it re-points at 127.0.0.1.
    A request that changes something (not GET/HEAD) and carries an ``Origin`` other than the server's
    own is refused: another site open in the same browser cannot drive the playground.
    """

    def __init__(self, app, allowed_hosts=None):
        self.app = app
        self.allowed_hosts = None if allowed_hosts is None else {host.lower() for host in allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        headers = {name.decode("latin-1").lower(): value.decode("latin-1")
                   for name, value in scope["headers"]}
        host, origin = headers.get("host", ""), headers.get("origin")
        refusal = None
        if self.allowed_hosts is not None and _host_name(host) not in self.allowed_hosts:
            refusal = _error(400, f"unexpected Host header {host!r}")
        elif (scope["method"] not in ("GET", "HEAD") and origin is not None
              and origin.split("://", 1)[-1].lower() != host.lower()):
            refusal = _error(403, f"cross-site request from {origin} refused")
        if refusal is not None:
            return await refusal(scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)


def _host_name(host: str) -> str:
    """A Host header without its port: ``127.0.0.1:8000`` -> ``127.0.0.1``, ``[::1]:80`` -> ``[::1]``."""
    host = host.lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _finite(value):
    """``value`` with every NaN or infinity replaced by None (JSON has no NaN; JavaScript cannot parse it)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _dumps(data) -> str:
    try:
        return json.dumps(data, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a diverged run's NaN loss: sent as null
        return json.dumps(_finite(data), separators=(",", ":"), allow_nan=False)


def _json(data, status: int = 200) -> Response:
    return Response(_dumps(data), status_code=status, media_type="application/json")


def _error(status: int, message: str, headers: dict | None = None) -> Response:
    return Response(_dumps({"error": message}), status_code=status, media_type="application/json",
                    headers=headers)


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond ``limit`` bytes (declared or counted while reading)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(400, f"bad Content-Length header {declared!r}")
        if int(declared) > limit:
            raise ApiError(413, f"the body is {int(declared)} bytes; the limit is {limit} bytes")
    chunks, total = [], 0
    async for chunk in request.stream():  # also counted: a chunked body declares no length
        total += len(chunk)
        if total > limit:
            raise ApiError(413, f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _json_body(request: Request, limit: int, allowed: tuple[str, ...]) -> dict:
    """The body as a JSON object with no keys outside ``allowed`` (an empty body is ``{}``)."""
    raw = await _read_body(request, limit)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"the body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the body must be a JSON object, got {type(body).__name__}")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        expected = ", ".join(allowed) if allowed else "no keys"
        names = ", ".join(map(repr, unknown))
        raise ApiError(400, f"unknown key(s) {names} in the body; expected {expected}")
    return body


def _number(body: dict, key: str, *, whole: bool = False) -> float | int:
    """``body[key]`` as a finite number (a whole one when ``whole``); 400 naming the key otherwise."""
    if key not in body:
        raise ApiError(400, f"missing {key!r} in the body")
    value = body[key]
    kind = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiError(400, f"{key!r} must be {kind}, got {json.dumps(value)}")
    if whole and not isinstance(value, int):
        if not (math.isfinite(value) and value == int(value)):
            raise ApiError(400, f"{key!r} must be {kind}, got {json.dumps(value)}")
        value = int(value)
    if not math.isfinite(value):
        raise ApiError(400, f"{key!r} must be a finite number")
    return value


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

    def api(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """The handler with every failure answered as JSON (the user's mistakes 4xx, bugs 500 and logged)."""
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as error:
                return _error(error.status, error.message)
            except UnknownSession as error:
                return _error(404, str(error))
            except TooManySessions as error:
                return _error(503, str(error), headers={"Retry-After": "60"})
            except ValueError as error:  # ConfigError, DataError, a weight index out of range ...
                return _error(400, str(error))
            except Exception as error:
                log.exception("%s %s failed", request.method, request.url.path)
                return _error(500, f"internal error ({type(error).__name__}); the server log has the details")

        endpoint.__name__ = handler.__name__
        return endpoint

    def slot_of(request: Request):
        return store.get(request.path_params["session_id"])

    async def index(request: Request) -> Response:
        page = static / "index.html"
        if not page.is_file():
            raise ApiError(404, f"the page is missing: {page} not found")
        return FileResponse(page, media_type="text/html")

    async def favicon(request: Request) -> Response:
        icon = static / "favicon.ico"  # browsers ask for it: without one, "no content", not a console 404
        return FileResponse(icon) if icon.is_file() else Response(status_code=204)

    async def health(request: Request) -> Response:
        return _json({"ok": True})

    async def create_session(request: Request) -> Response:
        body = await _json_body(request, MAX_UPLOAD_BYTES, ("config",))
        config = body.get("config", {})
        if not isinstance(config, dict):
            raise ApiError(400, f"'config' must be a JSON object, got {json.dumps(config)}")
        slot = await store.create(config)
        return _json(await store.snapshot(slot, include_points=True), status=201)

    async def get_session(request: Request) -> Response:
        return _json(await store.snapshot(slot_of(request), include_points=True))

    async def delete_session(request: Request) -> Response:
        await store.delete(request.path_params["session_id"])
        return Response(status_code=204)

    async def events(request: Request) -> Response:
        slot = slot_of(request)

        async def stream():
            queue = store.listen(slot)
            try:
                yield f"data: {_dumps(await store.snapshot(slot))}\n\n"
                while True:
                    try:
                        snapshot = await asyncio.wait_for(queue.get(), PING_S)
                    except asyncio.TimeoutError:
                        yield ": ping\n\n"
                        continue
                    if snapshot is None:  # the session was deleted or the server stops
                        return
                    yield f"data: {_dumps(snapshot)}\n\n"
            finally:
                store.unlisten(slot, queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"X-Accel-Buffering": "no"})  # nginx: pass events on at once

    async def configure(request: Request) -> Response:
        body = await _json_body(request, MAX_UPLOAD_BYTES, ("config",))
        config = body.get("config")
        if not isinstance(config, dict):
            raise ApiError(400, f"'config' must be a JSON object, got {json.dumps(config)}")
        slot = slot_of(request)
        did_reset = await store.run(slot, slot.session.configure, config)
        return _json(await store.changed(slot, include_points=did_reset))

    async def play(request: Request) -> Response:
        await _json_body(request, 1024, ())
        slot = slot_of(request)
        store.play(slot)
        return _json(await store.changed(slot))

    async def pause(request: Request) -> Response:
        await _json_body(request, 1024, ())
        slot = slot_of(request)
        await store.pause(slot)
        return _json(await store.changed(slot))

    def session_call(name: str, with_points: bool, stop_playing: bool = False):
        async def call(request: Request) -> Response:
            await _json_body(request, 1024, ())
            slot = slot_of(request)
            if stop_playing:  # Step while playing pauses first, as in TensorFlow's Playground
                await store.pause(slot)
            await store.run(slot, getattr(slot.session, name))
            return _json(await store.changed(slot, include_points=with_points))

        call.__name__ = name
        return call

    async def add_point(request: Request) -> Response:
        body = await _json_body(request, 1024, ("x", "y", "label"))
        x, y, label = _number(body, "x"), _number(body, "y"), _number(body, "label")
        slot = slot_of(request)
        await store.run(slot, slot.session.add_point, float(x), float(y), label)
        return _json(await store.changed(slot, include_points=True))

    async def upload(request: Request) -> Response:
        slot = slot_of(request)
        raw = await _read_body(request, MAX_UPLOAD_BYTES)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApiError(400, "the upload is not UTF-8 text; expected a CSV file with columns x, y, "
                                "label") from None
        await store.run(slot, slot.session.load_csv, text)
        return _json(await store.changed(slot, include_points=True))

    async def set_weight(request: Request) -> Response:
        body = await _json_body(request, 1024, ("layer", "source", "target", "value"))
        layer, source, target = (_number(body, key, whole=True) for key in ("layer", "source", "target"))
        value = _number(body, "value")
        slot = slot_of(request)
        await store.run(slot, slot.session.set_weight, layer, source, target, float(value))
        return _json(await store.changed(slot))

    async def diagnose(request: Request) -> Response:
        body = await _json_body(request, 1024, ("budget_s",))
        budget = _number(body, "budget_s") if "budget_s" in body else 6.0
        if not 0 < budget <= MAX_DIAGNOSE_BUDGET_S:
            raise ApiError(400, f"'budget_s' must be in (0, {MAX_DIAGNOSE_BUDGET_S:g}] seconds, got {budget}")
        slot = slot_of(request)
        return _json(await store.run(slot, slot.session.diagnose, float(budget)))

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
        Route("/", api(index), methods=["GET"]),
        Route("/favicon.ico", api(favicon), methods=["GET"]),
        Route("/api/health", api(health), methods=["GET"]),
        Route("/api/sessions", api(create_session), methods=["POST"]),
        Route(session, api(get_session), methods=["GET"]),
        Route(session, api(delete_session), methods=["DELETE"]),
        Route(f"{session}/events", api(events), methods=["GET"]),
        Route(f"{session}/config", api(configure), methods=["POST"]),
        Route(f"{session}/play", api(play), methods=["POST"]),
        Route(f"{session}/pause", api(pause), methods=["POST"]),
        Route(f"{session}/step", api(session_call("step_epoch", False, stop_playing=True)), methods=["POST"]),
        Route(f"{session}/reset", api(session_call("reset", False)), methods=["POST"]),
        Route(f"{session}/regenerate", api(session_call("regenerate", True)), methods=["POST"]),
        Route(f"{session}/points", api(add_point), methods=["POST"]),
        Route(f"{session}/upload", api(upload), methods=["POST"]),
        Route(f"{session}/weight", api(set_weight), methods=["POST"]),
        Route(f"{session}/diagnose", api(diagnose), methods=["POST"]),
        Route(f"{session}/export/script", api(export_script), methods=["GET"]),
        Route(f"{session}/export/weights", api(export_weights), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=static, check_dir=False), name="static"),
    ]

    async def http_error(request: Request, error: HTTPException) -> Response:
        if error.status_code == 404:
            message = f"not found: {request.url.path}"
        elif error.status_code == 405:
            allowed = (error.headers or {}).get("Allow", "")
            message = f"method {request.method} is not allowed for {request.url.path}; use {allowed}"
        else:
            message = str(error.detail)
        return _error(error.status_code, message, headers=error.headers)

    async def server_error(request: Request, error: Exception) -> Response:
        log.error("%s %s failed: %r", request.method, request.url.path, error)
        return _error(500, f"internal error ({type(error).__name__}); the server log has the details")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        store.start()
        try:
            yield
        finally:
            await store.shutdown()

    from starlette.middleware import Middleware

    app = Starlette(routes=routes, middleware=[Middleware(_Guard, allowed_hosts=allowed_hosts)],
                    lifespan=lifespan,
                    exception_handlers={HTTPException: http_error, Exception: server_error})
    app.state.store = store
    return app
