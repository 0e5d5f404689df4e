"""The playground page's readouts and access in Chromium: loss-chart axes, bias squares, value cards
on hover and focus, links by keyboard, an accessible name on every control.

The fixtures (``live_server``, ``browser_page``) come from tests/playground/browser.py; the screenshots
land in test-artifacts/playground/.
"""

from __future__ import annotations

import pytest

from tests.playground.browser import screenshot
from tests.playground.test_browser_page import (
    assert_console_clean,
    open_playground,
    session_snapshot,
    wait_epoch,
    wait_for,
    wait_hash,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def focused(page) -> str | None:
    return page.evaluate("() => document.activeElement && document.activeElement.dataset.testid || null")


def test_loss_chart_labels_its_axes(browser_page):
    page = open_playground(browser_page)
    page.get_by_test_id("learning-rate").select_option("0.1")
    wait_hash(page, "learning_rate=0.1&")
    for n in (1, 2, 3):
        page.get_by_test_id("step").click()
        wait_epoch(page, n)
    history = session_snapshot(page)["history"]
    losses = history["train_loss"] + history["test_loss"]
    top, bottom = page.get_by_test_id("loss-axis-max"), page.get_by_test_id("loss-axis-min")
    wait_for(page, "epoch-axis-last", "el.textContent === '3'")
    assert float(top.text_content()) == pytest.approx(max(losses), rel=0.05)
    assert bottom.text_content() == "0"  # a linear axis starts at zero
    assert page.get_by_test_id("epoch-axis-first").text_content() == "0"
    page.get_by_test_id("log-scale").check()
    wait_for(page, "loss-axis-min", "el.textContent !== '0'")
    assert float(bottom.text_content()) == pytest.approx(min(losses), rel=0.05)
    assert float(top.text_content()) == pytest.approx(max(losses), rel=0.05)
    screenshot(page, "loss-chart-axes")
    assert_console_clean(page)


def link_middle(page, testid: str) -> tuple[float, float]:
    """Viewport coordinates of the middle of a link's curve."""
    return tuple(page.get_by_test_id(testid).evaluate("""path => {
        const p = path.getPointAtLength(path.getTotalLength() / 2);
        const point = path.ownerSVGElement.createSVGPoint();
        point.x = p.x; point.y = p.y;
        const screen = point.matrixTransform(path.getScreenCTM());
        return [screen.x, screen.y];
    }"""))


def test_biases_and_weights_show_their_values_and_links_work_by_keyboard(browser_page):
    page = open_playground(browser_page)
    network = session_snapshot(page)["network"]
    tooltip = page.get_by_test_id("tooltip")
    # a bias square at each neuron, hidden and output, coloured and named by its value
    for layer, units in enumerate(network["biases"]):
        for unit, value in enumerate(units):
            square = page.get_by_test_id(f"bias-{layer}-{unit}" if layer < len(network["biases"]) - 1
                                         else f"bias-out-{unit}")
            assert float(square.get_attribute("data-bias")) == pytest.approx(value, abs=1e-6)
            assert square.get_attribute("aria-label").endswith(f" is {value:.3f}")
    page.get_by_test_id("bias-0-1").hover()
    assert tooltip.is_visible() and tooltip.text_content() == f"Bias is {network['biases'][0][1]:.3f}"
    # hovering a link: "Weight is w", as in TensorFlow Playground
    page.mouse.move(*link_middle(page, "link-0-0-0"))
    weight = network["weights"][0][0][0]
    wait_for(page, "tooltip", "el.textContent === arg", f"Weight is {weight:.3f}")
    assert tooltip.is_visible()
    page.mouse.move(5, 5)
    assert not tooltip.is_visible()
    # the links come after the neurons in the Tab order; Enter opens the editor, Escape returns
    page.get_by_test_id("bias-out-0").focus()
    page.keyboard.press("Tab")
    assert focused(page) == "link-0-0-0"
    assert tooltip.is_visible() and tooltip.text_content() == f"Weight is {weight:.3f}"
    page.keyboard.press("Tab")
    assert focused(page) == "link-0-0-1"
    page.keyboard.press("Enter")
    assert page.get_by_test_id("weight-editor").is_visible() and focused(page) == "weight-value"
    page.keyboard.press("Escape")
    assert not page.get_by_test_id("weight-editor").is_visible() and focused(page) == "link-0-0-1"
    page.keyboard.press("Enter")
    page.keyboard.type("-2")
    page.keyboard.press("Enter")
    wait_for(page, "link-0-0-1", "el.dataset.weight === '-2'")
    assert focused(page) == "link-0-0-1"
    assert page.get_by_test_id("link-0-0-1").get_attribute("aria-label").endswith("is -2.000; Enter to edit")
    page.mouse.move(*link_middle(page, "link-0-0-0"))
    screenshot(page, "weight-tooltip")
    assert_console_clean(page)


def test_every_control_has_an_accessible_name(browser_page):
    page = open_playground(browser_page)
    page.get_by_test_id("export").click()
    page.get_by_test_id("link-0-0-0").dispatch_event("click")  # the weight editor's controls too
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    focusable = [node for node in nodes if node["role"]["value"] != "RootWebArea" and any(
        prop["name"] == "focusable" and prop["value"]["value"] for prop in node.get("properties", []))]
    unnamed = [(node["role"]["value"], node.get("backendDOMNodeId")) for node in focusable
               if not node.get("name", {}).get("value", "").strip()]
    assert len(focusable) > 40  # controls, features, neurons' biases, links
    assert unnamed == []
    screenshot(page, "accessible-names")
    assert_console_clean(page)


def test_keyboard_shortcuts_play_step_and_reset_but_not_inside_controls(browser_page):
    page = open_playground(browser_page)
    play = page.get_by_test_id("play")
    assert play.get_attribute("aria-keyshortcuts") == "Space"
    page.keyboard.press("n")
    wait_epoch(page, 1)
    page.keyboard.press("ArrowRight")
    wait_epoch(page, 2)
    page.keyboard.press("r")
    wait_epoch(page, 0)
    page.keyboard.press(" ")
    wait_for(page, "play", "el.getAttribute('aria-label') === 'Pause'")
    wait_for(page, "epoch", "Number(el.textContent) >= 3")
    page.keyboard.press(" ")
    wait_for(page, "play", "el.getAttribute('aria-label') === 'Play'")
    paused_at = int(page.get_by_test_id("epoch").text_content())
    # inside a control the keys are the control's: the weight box gets the "n", no step happens
    page.get_by_test_id("link-0-0-0").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("n")
    assert page.get_by_test_id("weight-editor").is_visible()
    page.get_by_test_id("learning-rate").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    assert int(page.get_by_test_id("epoch").text_content()) == paused_at
    screenshot(page, "keyboard-shortcuts")
    assert_console_clean(page)
