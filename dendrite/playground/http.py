"""HTTP plumbing shared by the playground's and the explorers' routes: JSON in and out, errors, guard.

Every answer is JSON; every error is ``{"error": "<message>"}`` with its status (see
:mod:`dendrite.playground.app`). :func:`json_body` reads a bounded body as a JSON object with known
keys, :func:`number` one finite number of it, :func:`guarded` turns each failure into its answer,
and :class:`Guard` adds the security headers and refuses foreign hosts and cross-site writes.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from dendrite.playground.sessions import TooManySessions, UnknownSession

__all__ = ["ApiError", "Guard", "guarded", "json_body", "read_body", "number", "json_response",
           "error_response", "dumps", "finite", "SECURITY_HEADERS"]

log = logging.getLogger("dendrite.playground")

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
    """An HTTP error answered as ``{"error": message}`` with ``status``.

    Example:
        >>> error = ApiError(413, "the body is too large")
        >>> error.status, error.message
        (413, 'the body is too large')
    """

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Guard:
    """ASGI middleware: security headers on every response; refuses foreign hosts and cross-site writes.

    ``allowed_hosts``: the Host headers accepted (None: any). A server on 127.0.0.1 accepts only its
    own names, so a web page cannot reach it through a DNS name that it re-points at 127.0.0.1.
    A request that changes something (not GET/HEAD) and carries an ``Origin`` other than the server's
    own is refused: another site open in the same browser cannot drive the playground.

    Example:
        >>> from starlette.applications import Starlette
        >>> from starlette.middleware import Middleware
        >>> app = Starlette(middleware=[Middleware(Guard, allowed_hosts=["127.0.0.1", "localhost"])])
        >>> Guard(app, allowed_hosts=["LocalHost"]).allowed_hosts
        {'localhost'}
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
            refusal = error_response(400, f"unexpected Host header {host!r}")
        elif (scope["method"] not in ("GET", "HEAD") and origin is not None
              and origin.split("://", 1)[-1].lower() != host.lower()):
            refusal = error_response(403, f"cross-site request from {origin} refused")
        if refusal is not None:
            return await refusal(scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)


def _host_name(host: str) -> str:
    """A Host header without its port: ``127.0.0.1:8000`` -> ``127.0.0.1``, ``[::1]:80`` -> ``[::1]``."""
    host = host.lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def finite(value):
    """``value`` with every NaN or infinity replaced by None (JSON has no NaN; JavaScript cannot parse it).

    Example:
        >>> finite({"loss": float("nan"), "history": [1.0, float("inf")]})
        {'loss': None, 'history': [1.0, None]}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def dumps(data) -> str:
    """Compact strict JSON; a non-finite number becomes ``null``.

    Example:
        >>> dumps({"loss": float("nan"), "epoch": 3})
        '{"loss":null,"epoch":3}'
    """
    try:
        return json.dumps(data, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a diverged run's NaN loss: sent as null
        return json.dumps(finite(data), separators=(",", ":"), allow_nan=False)


def json_response(data, status: int = 200) -> Response:
    """A JSON response of ``data`` (see :func:`dumps`).

    Example:
        >>> response = json_response({"ok": True}, status=201)
        >>> response.status_code, response.body
        (201, b'{"ok":true}')
    """
    return Response(dumps(data), status_code=status, media_type="application/json")


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    """``{"error": message}`` with ``status``.

    Example:
        >>> error_response(404, "no such session").body
        b'{"error":"no such session"}'
    """
    return Response(dumps({"error": message}), status_code=status, media_type="application/json",
                    headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond ``limit`` bytes (declared or counted while reading).

    Example:
        >>> import asyncio
        >>> from starlette.requests import Request
        >>> async def receive():
        ...     return {"type": "http.request", "body": b"x" * 10, "more_body": False}
        >>> request = Request({"type": "http", "method": "POST", "headers": []}, receive)
        >>> try:
        ...     asyncio.run(read_body(request, limit=4))
        ... except ApiError as error:
        ...     print(error.status, error.message)
        413 the body is over the limit of 4 bytes
    """
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


async def json_body(request: Request, limit: int, allowed: tuple[str, ...]) -> dict:
    """The body as a JSON object with no keys outside ``allowed`` (an empty body is ``{}``).

    Example:
        >>> import asyncio
        >>> from starlette.requests import Request
        >>> async def receive():
        ...     return {"type": "http.request", "body": b'{"x": 1, "z": 2}', "more_body": False}
        >>> request = Request({"type": "http", "method": "POST", "headers": []}, receive)
        >>> try:
        ...     asyncio.run(json_body(request, 1024, ("x", "y")))
        ... except ApiError as error:
        ...     print(error.status, error.message)
        400 unknown key(s) 'z' in the body; expected x, y
    """
    raw = await read_body(request, limit)
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


def number(body: dict, key: str, *, whole: bool = False) -> float | int:
    """``body[key]`` as a finite number (a whole one when ``whole``); 400 naming the key otherwise.

    Example:
        >>> number({"layer": 2.0}, "layer", whole=True)
        2
        >>> try:
        ...     number({"x": "1"}, "x")
        ... except ApiError as error:
        ...     print(error.message)
        'x' must be a number, got "1"
    """
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


def guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """``handler`` with every failure answered as JSON: the user's mistakes 4xx, bugs 500 (logged).

    Example:
        >>> async def hello(request):
        ...     raise ApiError(400, "no")
        >>> guarded(hello).__name__
        'hello'
    """
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as error:
            return error_response(error.status, error.message)
        except UnknownSession as error:
            return error_response(404, str(error))
        except TooManySessions as error:
            return error_response(503, str(error), headers={"Retry-After": "60"})
        except ValueError as error:  # ConfigError, DataError, a weight index out of range ...
            return error_response(400, str(error))
        except Exception as error:
            log.exception("%s %s failed", request.method, request.url.path)
            return error_response(500, f"internal error ({type(error).__name__}); "
                                       "the server log has the details")

    endpoint.__name__ = handler.__name__
    return endpoint

