"""The optimisation explorer's page in Chromium: pick a surface, click the start, run, slice, curves.

Screenshots land in test-artifacts/playground/optim-*.png.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.playground.browser import screenshot
from tests.playground.test_browser_page import assert_console_clean, watch_console

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

OPTIMIZERS = ["sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw"]


def by(page, testid: str):
    return page.get_by_test_id(testid)


def test_optim_page_runs_the_real_optimizers(browser_page):
    from playwright.sync_api import expect

    page = browser_page
    watch_console(page)
    page.goto("/optim")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    for link, href in (("nav-playground", "/"), ("nav-init", "/init"), ("nav-optim", "/optim"),
                       ("nav-gan", "/gan")):
        expect(by(page, link)).to_have_attribute("href", href)

    # choose Rosenbrock (via the bowl, so the change really happens): its own lr and start come in
    by(page, "optim-surface").select_option("bowl")
    expect(by(page, "optim-lr")).to_have_value("0.03")
    by(page, "optim-surface").select_option("rosenbrock")
    expect(by(page, "optim-lr")).to_have_value("0.001")
    expect(by(page, "optim-contour")).to_have_attribute("data-start", "[-1.5,2]")

    # a click on the map moves the start: pixel (130, 330) of the 520 × 440 map over [-2, 2] × [-1, 3]
    canvas = by(page, "optim-contour")
    box = canvas.bounding_box()
    canvas.click(position={"x": 130 * box["width"] / 520, "y": 330 * box["height"] / 440})
    expect(canvas).not_to_have_attribute("data-start", "[-1.5,2]")
    start = json.loads(canvas.get_attribute("data-start"))
    assert start == pytest.approx([-2 + 130 / 520 * 4, 3 - 330 / 440 * 4], abs=0.02)
    expect(by(page, "optim-start")).to_have_text(f"({start[0]:g}, {start[1]:g})")

    by(page, "optim-steps").fill("150")
    by(page, "optim-toggle-adagrad").uncheck()
    by(page, "optim-run").click()
    enabled = [name for name in OPTIMIZERS if name != "adagrad"]
    for name in enabled:
        expect(by(page, f"optim-final-{name}")).to_have_attribute("data-value", re.compile(r"^-?[0-9]"))
    expect(by(page, "optim-final-adagrad")).to_have_count(0)

    # the page shows what the API computes for the same request
    body = {"surface": "rosenbrock", "optimizers": enabled, "start": start, "lr": 0.001, "steps": 150,
            "momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "include_contour": False}
    answer = page.request.post("/api/explore/optim/trajectories", data=body).json()
    for run in answer["trajectories"]:
        shown = by(page, f"optim-final-{run['optimizer']}")
        assert float(shown.get_attribute("data-value")) == run["final_loss"]
        assert float(shown.inner_text()) == pytest.approx(run["final_loss"], rel=1e-3, abs=1e-4)
    expect(canvas).to_have_attribute("data-animating", "false")
    screenshot(page, "optim-trajectories")

    # the landscape: a slice with paths, its centre the reference optimiser's final loss
    by(page, "optim-epochs").fill("8")
    by(page, "optim-grid").fill("11")
    by(page, "optim-landscape-run").click()
    landscape = by(page, "optim-landscape")
    expect(landscape).to_have_attribute("data-drawn", "true")
    centre = float(landscape.get_attribute("data-centre"))
    reference = float(by(page, f"optim-landscape-final-{enabled[0]}").get_attribute("data-value"))
    assert centre == pytest.approx(reference, abs=1e-6)
    colours = page.evaluate(
        "() => { const c = document.querySelector('[data-testid=optim-landscape]');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const seen = new Set();"
        " for (let i = 0; i < d.length; i += 400) seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]);"
        " return seen.size; }")
    assert colours > 10  # a drawn field, not a blank canvas

    by(page, "optim-effects-run").click()
    expect(by(page, "optim-curves")).to_have_attribute("data-drawn", "true")
    expect(by(page, "optim-curves-legend").locator("li")).to_have_count(6)
    expect(by(page, "optim-explanation")).to_contain_text("Momentum")
    screenshot(page, "optim-landscape-and-curves")
    assert_console_clean(page)


def test_optim_page_shows_divergence_and_refusals(browser_page):
    from playwright.sync_api import expect

    page = browser_page
    watch_console(page)
    page.goto("/optim")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    by(page, "optim-surface").select_option("bowl")
    expect(by(page, "optim-lr")).to_have_value("0.03")
    by(page, "optim-lr").fill("0.1")  # above 2 / 25: plain SGD's y coordinate blows up
    by(page, "optim-run").click()
    expect(by(page, "optim-final-sgd")).to_contain_text("diverged at step")
    expect(by(page, "optim-final-adam")).not_to_contain_text("diverged")
    by(page, "optim-steps").fill("5000")
    by(page, "optim-run").click()
    expect(by(page, "optim-error")).to_contain_text("'steps' must be in [1, 1000]")
    screenshot(page, "optim-diverged")
    assert_console_clean(page, (400, "/api/explore/optim/trajectories"))
