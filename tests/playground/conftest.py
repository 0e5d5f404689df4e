"""The browser fixtures of tests/playground/browser.py, for every test in this folder."""

from tests.playground.browser import browser_page, live_server, playground_browser  # noqa: F401
