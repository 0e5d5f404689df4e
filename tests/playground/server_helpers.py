"""Helpers for the server tests: an in-process client of the app, sessions, polling a playing session."""

from __future__ import annotations

import contextlib
import time
import warnings
from pathlib import Path

from dendrite.playground.app import create_app

PAGE = "<!doctype html><title>playground</title><script type=module src=/static/js/main.js></script>"


def static_folder(root: Path) -> Path:
    """A static folder with an index page and one script, so the tests do not depend on the front end."""
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text(PAGE, encoding="utf-8")
    (root / "js" / "main.js").write_text("export const answer = 42;\n", encoding="utf-8")
    return root


@contextlib.contextmanager
def client_of(**app_options):
    """A ``TestClient`` of ``create_app(**app_options)`` with its lifespan running (play loops need it)."""
    with warnings.catch_warnings():  # newer Starlette prefers httpx2 but works with httpx
        warnings.filterwarnings("ignore", message="Using `httpx`")
        from starlette.testclient import TestClient

        client = TestClient(create_app(**app_options))
    with client:
        yield client


def store_of(client):
    return client.app.state.store


def new_session(client, config: dict | None = None) -> dict:
    """POST /api/sessions; the snapshot (asserting 201)."""
    answer = client.post("/api/sessions", json={"config": config or {}})
    assert answer.status_code == 201, answer.text
    return answer.json()


def wait_until(client, session_id: str, predicate, limit_s: float = 60.0) -> dict:
    """Poll GET /api/sessions/ID until ``predicate(snapshot)``; the snapshot (fails after ``limit_s``)."""
    deadline = time.monotonic() + limit_s
    while True:
        snapshot = client.get(f"/api/sessions/{session_id}").json()
        if predicate(snapshot):
            return snapshot
        assert time.monotonic() < deadline, f"the session never got there; last epoch {snapshot.get('epoch')}"
        time.sleep(0.05)
