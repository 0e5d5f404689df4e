"""The browser fixtures themselves: the page reaches the live server, errors are collected, PNGs land."""

from __future__ import annotations

from tests.playground.browser import screenshot


def test_page_reaches_the_live_server_and_collects_console_errors(browser_page):
    answer = browser_page.goto("/api/health")
    assert answer.status == 200 and answer.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    browser_page.evaluate("console.error('deliberate')")
    assert browser_page.console_errors == ["deliberate"]


def test_inline_script_is_refused_by_the_content_security_policy(browser_page):
    browser_page.goto("/api/health")
    injected = browser_page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'window.__ran = true';
        document.head.appendChild(script);
        return window.__ran === true;
    }""")
    assert injected is False
    assert any("Content Security Policy" in message for message in browser_page.console_errors)


def test_screenshot_writes_a_png(browser_page):
    browser_page.set_content("<p>hello</p>")
    path = screenshot(browser_page, "fixture check")
    assert path.name == "fixture-check.png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
