"""The initialisation explorer's page in Chromium: run the signal, read the charts' numbers, train.

The fixtures (``live_server``, ``browser_page``) come from tests/playground/browser.py; the screenshots
land in test-artifacts/playground/init-*.png.
"""

from __future__ import annotations

import json
import math

import pytest

from tests.playground.browser import screenshot
from tests.playground.test_browser_page import assert_console_clean, watch_console

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _values(page, testid: str) -> list:
    return json.loads(page.get_by_test_id(testid).get_attribute("data-values"))


def _shown(page, shown: str) -> None:
    """Wait until the charts show the run of ``shown`` ("scheme activation depth width")."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("init-run")).to_have_attribute("data-shown", shown)


def test_the_page_runs_schemes_and_trains(browser_page):
    from playwright.sync_api import expect

    page = browser_page
    watch_console(page)
    page.goto("/init")
    _shown(page, "kaiming_normal relu 10 64")  # the first run, on load
    expect(page.get_by_test_id("nav-playground")).to_have_attribute("href", "/")

    page.get_by_test_id("init-scheme").select_option("kaiming_normal")  # already chosen: no new run
    page.get_by_test_id("init-activation").select_option("relu")
    page.get_by_test_id("init-depth").fill("20")
    page.get_by_test_id("init-width").fill("256")
    page.get_by_test_id("init-run").click()
    _shown(page, "kaiming_normal relu 20 256")
    stds = _values(page, "init-activation-std")
    assert len(stds) == 20 and 0.5 <= stds[-1] / stds[0] <= 2, stds
    theory = json.loads(page.get_by_test_id("init-activation-std").get_attribute("data-theory"))
    assert theory[0] == pytest.approx(math.sqrt(1 - 1 / math.pi), rel=1e-3)
    expect(page.get_by_test_id("init-explanation")).to_contain_text("Healthy")
    expect(page.get_by_test_id("init-theory")).to_contain_text("fan_in")
    expect(page.get_by_test_id("init-histograms").locator("canvas")).to_have_count(20)
    assert len(_values(page, "init-gradient-std")) == 20
    screenshot(page, "init-kaiming-relu")

    page.get_by_test_id("init-scheme").select_option("small_normal")  # a change runs the signal again
    _shown(page, "small_normal relu 20 256")
    stds = _values(page, "init-activation-std")
    assert stds[-1] < 1e-15 and stds[-1] / stds[0] < 1e-12, stds
    expect(page.get_by_test_id("init-explanation")).to_contain_text("Vanished")
    screenshot(page, "init-small-normal")

    page.get_by_test_id("init-scheme").select_option("zeros")
    _shown(page, "zeros relu 20 256")
    expect(page.get_by_test_id("init-explanation")).to_contain_text("Symmetric")

    page.get_by_test_id("init-scheme").select_option("kaiming_normal")
    _shown(page, "kaiming_normal relu 20 256")
    page.get_by_test_id("init-depth").fill("6")
    page.get_by_test_id("init-epochs").fill("40")
    page.get_by_test_id("init-train").click()
    expect(page.get_by_test_id("init-train")).to_have_attribute("data-done", "1", timeout=30_000)
    loss = _values(page, "init-loss-chart")
    assert len(loss) == 41 and loss[-1] < loss[0] - 0.3, loss
    expect(page.get_by_test_id("init-train-explanation")).to_contain_text("The loss fell")
    # the boundary canvas was painted: its pixels are not all one colour
    colours = page.get_by_test_id("init-boundary").evaluate(
        "c => new Set(Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)).size")
    assert colours > 20
    screenshot(page, "init-trained")
    assert_console_clean(page)


def test_bad_input_shows_an_error_banner(browser_page):
    from playwright.sync_api import expect

    page = browser_page
    watch_console(page)
    page.goto("/init")
    _shown(page, "kaiming_normal relu 10 64")
    page.get_by_test_id("init-depth").fill("40")
    page.get_by_test_id("init-run").click()
    expect(page.get_by_test_id("init-error")).to_contain_text("must be a whole number in 1..20")
    assert_console_clean(page)
