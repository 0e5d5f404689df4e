"""Run the playground with uvicorn: :func:`serve` for ``dendrite playground``, :class:`LiveServer` for tests.

The server listens on the loopback interface (127.0.0.1) unless told otherwise: the playground has
no login, and anyone who can reach it can start sessions that use this machine's CPU. ``port=0``
lets the system pick a free port; the URL is printed once the server listens.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import webbrowser
from collections.abc import Callable

__all__ = ["serve", "LiveServer", "is_loopback"]

STOP_GRACE_S = 1  # seconds open event streams get to end when the server stops
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost``, 127.x.x.x, ``::1``).

    Example:
        >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on ``host:port`` (port 0: a free one); OSError when it is taken."""
    if not (isinstance(port, int) and 0 <= port <= 65535):
        raise ValueError(f"port must be a whole number in 0..65535, got {port!r}")
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # all interfaces: this machine's is one
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def _server(app, sock: socket.socket, on_started: Callable[[], None] | None = None):
    """A ``uvicorn.Server`` for ``app`` on ``sock`` that calls ``on_started`` once it listens."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if self.started and on_started is not None:
                on_started()

        async def shutdown(self, sockets=None):
            store = getattr(getattr(app, "state", None), "store", None)
            if store is not None:  # uvicorn waits for open responses: end the event streams first
                store.end_streams()
            await super().shutdown(sockets=sockets)

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=STOP_GRACE_S)
    return Server(config)


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True, **app_options) -> None:
    """Serve the playground on ``host:port`` until Ctrl-C; opens it in the browser unless told not to.

    ``app_options`` go to :func:`~dendrite.playground.app.create_app` (``session_ttl``, ``max_sessions``).
    Prints the URL once the server listens, and a warning when ``host`` is not a loopback address.
    Raises ``OSError`` when the port is taken and ``ImportError`` when starlette or uvicorn is missing.

    Example:
        >>> serve(port=-1)
        Traceback (most recent call last):
        ...
        ValueError: port must be a whole number in 0..65535, got -1
    """
    sock = _bind(host, port)
    from dendrite.playground.app import create_app

    url = _url(sock)
    if not is_loopback(host):
        print(f"warning: the playground listens on {host}: anyone who can reach this machine can use it "
              f"(it has no login); use --host 127.0.0.1 to keep it to yourself", flush=True)

    def started() -> None:
        print(f"dendrite playground: {url}  (Ctrl-C to stop)", flush=True)
        if open_browser:  # in a thread: starting a browser may take a moment
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    if is_loopback(host):  # only this machine's names: no DNS rebinding onto the playground
        app_options.setdefault("allowed_hosts", [*LOOPBACK_NAMES, host if ":" not in host else f"[{host}]"])
    server = _server(create_app(**app_options), sock, started)
    try:
        server.run(sockets=[sock])  # uvicorn turns the first Ctrl-C into a clean shutdown ...
    except KeyboardInterrupt:  # ... and raises it again afterwards
        pass
    finally:
        sock.close()
    print("dendrite playground: stopped", flush=True)


class LiveServer:
    """The playground served by uvicorn on a thread at ``127.0.0.1:<free port>`` (``url``) while in ``with``.

    ``app``: an app to serve (default ``create_app(**app_options)``).

    Example:
        >>> import urllib.request
        >>> with LiveServer() as server:
        ...     urllib.request.urlopen(server.url + "api/health").read()
        b'{"ok":true}'
    """

    def __init__(self, app=None, *, start_timeout: float = 20.0, **app_options):
        if app is None:
            from dendrite.playground.app import create_app

            app = create_app(**app_options)
        self.app = app
        self.start_timeout = start_timeout
        self.url = ""
        self._server = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    def __enter__(self) -> LiveServer:
        self._sock = _bind("127.0.0.1", 0)
        self.url = _url(self._sock)
        self._server = _server(self.app, self._sock)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="playground LiveServer", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the playground server did not start within {self.start_timeout} s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Shut the server down (open event streams get ``STOP_GRACE_S``) and wait for its thread.

        Example:
            >>> import urllib.error, urllib.request
            >>> server = LiveServer().__enter__()
            >>> urllib.request.urlopen(server.url + "api/health").status
            200
            >>> server.stop()
            >>> try:
            ...     urllib.request.urlopen(server.url + "api/health", timeout=5)
            ... except urllib.error.URLError:
            ...     print("stopped")
            stopped
        """
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STOP_GRACE_S + 10)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def __exit__(self, *exc_info) -> None:
        self.stop()
