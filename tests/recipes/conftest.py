"""The Chromium fixture of tests/playground/browser.py, for the tour report opened in the browser."""

from tests.playground.browser import playground_browser  # noqa: F401
