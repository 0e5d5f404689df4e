"""The four pages link to each other: the playground, every explorer and back, no console error."""

from __future__ import annotations

from tests.playground.browser import screenshot
from tests.playground.test_browser_page import assert_console_clean, watch_console

# (nav testid, path, a control only that page has)
PAGES = [("nav-init", "/init", "init-run"), ("nav-optim", "/optim", "optim-run"),
         ("nav-gan", "/gan", "gan-play"), ("nav-playground", "/", "play")]


def test_the_nav_bar_walks_every_page_and_marks_the_current_one(browser_page):
    from playwright.sync_api import expect

    page = browser_page
    watch_console(page)
    page.goto("/")
    expect(page.get_by_test_id("epoch")).to_have_text("0")
    for testid, path, own_control in PAGES:
        page.get_by_test_id(testid).click()
        page.wait_for_url(f"**{path}")
        expect(page.get_by_test_id(own_control)).to_be_visible()
        current = page.get_by_test_id(testid)
        expect(current).to_have_attribute("aria-current", "page")
        others = [other for other, _, _ in PAGES if other != testid]
        for other in others:  # exactly one link says "you are here"
            expect(page.get_by_test_id(other)).not_to_have_attribute("aria-current", "page")
    screenshot(page, "nav-back-on-playground")
    assert_console_clean(page)
