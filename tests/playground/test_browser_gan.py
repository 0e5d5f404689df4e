"""The GAN lab page in Chromium against a live server: load, play and pause, the demo buttons, drawing.

The screenshots land in test-artifacts/playground/gan-*.png.
"""

from __future__ import annotations

import re

import pytest

from tests.playground.browser import screenshot
from tests.playground.test_browser_page import assert_console_clean, watch_console

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _expect():
    from playwright.sync_api import expect

    return expect


def _open(page):
    watch_console(page)
    page.goto("/gan")
    expect = _expect()
    expect(page.get_by_test_id("gan-modes")).to_have_text(re.compile(r"^\d / 8$"), timeout=15000)
    return expect


def test_page_loads_clean_on_ring8(browser_page):
    page = browser_page
    expect = _open(page)
    expect(page.get_by_test_id("gan-step-count")).to_have_text("0")
    expect(page.get_by_test_id("gan-distribution")).to_have_value("ring8")
    for testid in ("nav-playground", "nav-init", "nav-optim", "nav-gan", "gan-explanation", "gan-loss-chart"):
        expect(page.get_by_test_id(testid)).to_be_visible()
    screenshot(page, "gan-load")
    assert_console_clean(page)


def test_play_then_pause_advances_steps_and_modes(browser_page):
    page = browser_page
    expect = _open(page)
    page.get_by_test_id("gan-play").click()
    expect(page.get_by_test_id("gan-play")).to_have_text("Pause")
    # the session trains on: wait for a few hundred steps, when the fakes reach some modes
    expect(page.get_by_test_id("gan-step-count")).to_have_text(re.compile(r"^[1-9]\d{2,}$"), timeout=30000)
    before = page.get_by_test_id("gan-modes").inner_text()
    # the modes text follows the training: the fakes reach at least one mode of the ring
    expect(page.get_by_test_id("gan-modes")).to_have_text(re.compile(r"^[1-8] / 8$"), timeout=30000)
    page.get_by_test_id("gan-play").click()
    expect(page.get_by_test_id("gan-play")).to_have_text("Play")
    steps = int(page.get_by_test_id("gan-step-count").inner_text())
    assert steps >= 100 and before != "–"
    expect(page.get_by_test_id("gan-d-loss")).to_have_text(re.compile(r"^-?\d+\.\d{3}$"))
    screenshot(page, "gan-trained")
    assert_console_clean(page)


def test_demo_buttons_load_the_collapse_and_the_cure(browser_page):
    page = browser_page
    expect = _open(page)
    page.get_by_test_id("gan-step").click()
    expect(page.get_by_test_id("gan-step-count")).to_have_text("10")
    page.get_by_test_id("gan-demo-collapse").click()
    expect(page.get_by_test_id("gan-step-count")).to_have_text("0")  # a new run on the collapse setup
    expect(page.get_by_test_id("gan-lr-g")).to_have_value("0.01")
    expect(page.get_by_test_id("gan-lr-d")).to_have_value("0.001")
    for _ in range(3):
        page.get_by_test_id("gan-step").click()
    expect(page.get_by_test_id("gan-step-count")).to_have_text("30")
    screenshot(page, "gan-collapse-setup")
    page.get_by_test_id("gan-demo-cure").click()
    expect(page.get_by_test_id("gan-step-count")).to_have_text("0")
    expect(page.get_by_test_id("gan-lr-g")).to_have_value("0.002")
    expect(page.get_by_test_id("gan-lr-d")).to_have_value("0.002")
    assert_console_clean(page)


def test_drawn_distribution_by_mouse_then_train(browser_page):
    page = browser_page
    expect = _open(page)
    page.get_by_test_id("gan-distribution").select_option("drawn")
    box = page.get_by_test_id("gan-canvas").bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 20):
        page.mouse.move(x0 + k * box["width"] * 0.02, y0 + k * box["height"] * 0.015)
    page.mouse.up()
    expect(page.get_by_test_id("gan-modes")).to_have_text("–", timeout=10000)  # no modes for a drawing
    expect(page.get_by_test_id("gan-step-count")).to_have_text("0")
    page.get_by_test_id("gan-play").click()
    expect(page.get_by_test_id("gan-step-count")).to_have_text(re.compile(r"^[1-9]\d+$"), timeout=15000)
    page.get_by_test_id("gan-play").click()
    expect(page.get_by_test_id("gan-play")).to_have_text("Play")
    screenshot(page, "gan-drawn")
    assert_console_clean(page)
