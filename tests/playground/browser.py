"""Fixtures for the playground's browser tests: a live server, a Chromium page, screenshots.

- ``live_server``: a :class:`~dendrite.playground.serve.LiveServer` (``.url``, ``.app.state.store``);
- ``browser_page``: a Playwright (sync API) page in Debian's Chromium at /usr/bin/chromium whose
  ``base_url`` is the live server's (``page.goto("/")`` opens the playground); ``page.console_errors``
  collects the console's error messages and uncaught page errors; ``page.server`` is the live server;
- ``screenshot(page, name)``: saves ``test-artifacts/playground/<name>.png`` and returns its path.

Without Playwright or Chromium the browser fixtures skip with the reason, except on CI (the
environment variable ``CI`` is ``"true"``), where they fail with it: CI must run them.
tests/playground/conftest.py makes these fixtures visible to every test in the folder.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

from dendrite.playground.serve import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "playground"
VIEWPORT = {"width": 1280, "height": 900}


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install 'dendrite[test]')"
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run on CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def live_server():
    """The playground served on 127.0.0.1 at a free port for one test."""
    with LiveServer() as server:
        yield server


@pytest.fixture(scope="module")
def playground_browser():
    """One headless Chromium per test module.

    Not per session: Playwright's sync API runs an event loop in the main thread while it is open,
    and ``asyncio.run`` in a later test or docstring example would find that loop running.
    """
    reason = browser_unavailable()
    if reason:
        _skip_or_fail(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except Exception as error:  # a broken install: the reason, not a Playwright traceback
            _skip_or_fail(f"Chromium at {CHROMIUM} did not start: {str(error).splitlines()[0]}")
        yield browser
        browser.close()


@pytest.fixture
def browser_page(playground_browser, live_server):
    """A fresh page (own cookies and storage) on the live server; ``page.console_errors`` lists errors."""
    context = playground_browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.console_errors = []
    page.server = live_server
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(f"uncaught: {error}"))
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a PNG of ``page`` as test-artifacts/playground/<name>.png; its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
