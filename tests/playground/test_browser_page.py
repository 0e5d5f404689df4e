"""The playground page in Chromium against a live server: load, train, step, the URL hash, multiclass.

The fixtures (``live_server``, ``browser_page``) come from tests/playground/browser.py; the screenshots
land in test-artifacts/playground/.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit

import numpy as np
import pytest

from tests.playground.browser import VIEWPORT, screenshot

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def wait_for(page, testid: str, condition: str, arg=None) -> None:
    """Wait until the JS ``condition`` holds, on ``el`` (the element with ``testid``) and ``arg``."""
    page.wait_for_function(
        "([id, arg]) => { const el = document.querySelector(`[data-testid=${id}]`); "
        f"return {condition}; }}",
        arg=[testid, arg])


def watch_console(page) -> None:
    """Keep each console error with the URL it names in ``page.console_log`` (text, url); a page not
    made by the ``browser_page`` fixture (a second tab) also gets its ``console_errors``."""
    if not hasattr(page, "console_errors"):
        page.console_errors = []
        page.on("console",
                lambda message: message.type == "error" and page.console_errors.append(message.text))
        page.on("pageerror", lambda error: page.console_errors.append(f"uncaught: {error}"))
    if not hasattr(page, "console_log"):
        page.console_log = []
        page.on("console", lambda message: message.type == "error" and page.console_log.append(
            (message.text, message.location.get("url", ""))))


def assert_console_clean(page, *provoked: tuple[int, str]) -> None:
    """No console errors and no uncaught ones, except "Failed to load resource" for the
    ``(status, path)`` requests the test provoked on purpose (the path must be the one it hit)."""
    def expected(text: str, url: str) -> bool:
        failed = "Failed to load resource: the server responded with a status of"
        return any(text.startswith(f"{failed} {status} ") and urlsplit(url).path == path
                   for status, path in provoked)

    uncaught = [error for error in page.console_errors if error.startswith("uncaught: ")]
    # every error the fixture saw was also seen here with its URL
    assert len(page.console_log) == len(page.console_errors) - len(uncaught), page.console_errors
    unexpected = [f"{text} [{url}]" for text, url in page.console_log if not expected(text, url)]
    assert unexpected + uncaught == []


def session_id(page) -> str:
    """The id of the page's server session (from its export link)."""
    return page.get_by_test_id("export-script").get_attribute("href").split("/")[3]


def open_playground(page, hash_part: str = ""):
    """Open the page (optionally at ``#...``) and wait until its first snapshot is drawn."""
    watch_console(page)
    page.goto("/" + hash_part)
    wait_for(page, "status", "el.textContent.startsWith('session')")
    return page


def new_tab(page):
    """A page in a second browser context (another tab with its own session) on the same server."""
    context = page.context.browser.new_context(base_url=page.server.url, viewport=VIEWPORT)
    return context, context.new_page()


def wait_epoch(page, value: int) -> None:
    wait_for(page, "epoch", "el.textContent === String(arg)", value)


def epoch(page) -> int:
    return int(page.get_by_test_id("epoch").text_content())


def metric(page, testid: str) -> float:
    return float(page.get_by_test_id(testid).text_content())


def wait_hash(page, fragment: str) -> None:
    """Wait until the address holds ``fragment`` (the page writes it after each snapshot)."""
    page.wait_for_function("f => location.hash.includes(f)", arg=fragment)


def set_slider(page, testid: str, value: int) -> None:
    page.get_by_test_id(testid).evaluate(
        "(node, v) => { node.value = String(v); node.dispatchEvent(new Event('change')); }", value)


def test_page_loads_trains_spiral_and_pauses(browser_page):
    page = open_playground(browser_page)
    assert epoch(page) == 0
    assert page.get_by_test_id("play").get_attribute("aria-label") == "Play"
    screenshot(page, "initial")

    page.get_by_test_id("dataset-spiral").click()
    wait_hash(page, "dataset=spiral")
    page.get_by_test_id("add-layer").click()
    wait_hash(page, "layers=4,2,2")
    assert page.get_by_test_id("layer-count").text_content() == "3"
    assert page.get_by_test_id("neuron-2-1").is_visible()
    page.get_by_test_id("add-neuron-0").click()
    wait_hash(page, "layers=5,2,2")
    for name in ("x1sq", "x2sq", "sinx1", "sinx2"):
        feature = page.get_by_test_id(f"feature-{name}")
        assert feature.get_attribute("aria-pressed") == "false"
        feature.click()
        wait_for(page, f"feature-{name}", "el.getAttribute('aria-pressed') === 'true'")
    wait_hash(page, "features=x1,x2,x1sq,x2sq,sinx1,sinx2")
    page.get_by_test_id("learning-rate").select_option("0.1")
    wait_hash(page, "learning_rate=0.1&")
    start_loss = metric(page, "train-loss")

    page.get_by_test_id("play").click()
    wait_for(page, "play", "el.getAttribute('aria-label') === 'Pause'")
    page.wait_for_function(
        "l => Number(document.querySelector('[data-testid=epoch]').textContent) >= 30"
        " && Number(document.querySelector('[data-testid=train-loss]').textContent) < l * 0.8",
        arg=start_loss, timeout=30_000)
    screenshot(page, "training-spiral")
    page.get_by_test_id("play").click()
    wait_for(page, "play", "el.getAttribute('aria-label') === 'Play'")
    paused_at = epoch(page)
    page.wait_for_timeout(300)
    assert epoch(page) == paused_at  # paused: no more epochs
    assert metric(page, "train-loss") < start_loss * 0.8
    # the neuron heatmaps and the links were drawn from the snapshot
    assert page.locator("[data-testid^=link-0-]").count() == 6 * 5
    assert page.get_by_test_id("histograms").locator("canvas").count() == 2 * 3
    screenshot(page, "training-spiral-paused")
    assert_console_clean(page)


def test_step_advances_one_epoch_and_lowers_the_loss(browser_page):
    page = open_playground(browser_page)
    page.get_by_test_id("dataset-gaussian").click()
    wait_hash(page, "dataset=gaussian")
    before = metric(page, "train-loss")
    page.get_by_test_id("step").click()
    wait_epoch(page, 1)
    page.wait_for_timeout(200)
    assert epoch(page) == 1
    assert metric(page, "train-loss") < before
    page.get_by_test_id("step").click()
    wait_epoch(page, 2)
    page.get_by_test_id("reset").click()
    wait_epoch(page, 0)
    assert metric(page, "train-loss") == pytest.approx(before, abs=1e-3)  # the same start again
    # quick clicks build on each other (a change is computed from the previous answer) and stop at 8
    page.get_by_test_id("add-neuron-1").evaluate("el => { for (let i = 0; i < 6; i += 1) el.click(); }")
    wait_hash(page, "layers=4,8&")
    assert page.locator("[data-testid^=neuron-1-]").count() == 8
    # Regenerate draws new points (data_seed + 1) and refetches them
    before_points = page.get_by_test_id("output-heatmap").evaluate("canvas => canvas.toDataURL()")
    page.get_by_test_id("regenerate").click()
    wait_hash(page, "data_seed=1&")
    page.wait_for_timeout(200)
    assert page.get_by_test_id("output-heatmap").evaluate("canvas => canvas.toDataURL()") != before_points
    screenshot(page, "step-reset-regenerate")
    assert_console_clean(page)


CONTROLS = ["learning-rate", "activation", "regularization", "regularization-rate", "problem-type",
            "optimizer", "init", "schedule", "batch-size", "noise", "train-ratio", "classes",
            "layer-activation-0", "layer-activation-1", "dropout-0", "dropout-1"]
CHECKS = ["show-test", "discretize", "batchnorm-0", "batchnorm-1"]


def control_values(page) -> dict:
    values = {name: page.get_by_test_id(name).input_value() for name in CONTROLS}
    values.update({name: page.get_by_test_id(name).is_checked() for name in CHECKS})
    values["features"] = [node.get_attribute("data-testid") for node in
                          page.locator("[data-testid^=feature-][aria-pressed=true]").all()]
    values["layer-count"] = page.get_by_test_id("layer-count").text_content()
    values["neurons"] = page.locator("[data-testid^=neuron-]").count()
    values["dataset"] = page.locator("button.dataset[aria-pressed=true]").get_attribute("data-testid")
    values["test-loss"] = page.get_by_test_id("test-loss").text_content()
    return values


def test_url_hash_round_trips(browser_page):
    page = open_playground(browser_page)
    page.get_by_test_id("dataset-gaussian").click()
    wait_hash(page, "dataset=gaussian")
    set_slider(page, "classes", 3)
    wait_hash(page, "classes=3")
    set_slider(page, "noise", 15)
    wait_hash(page, "noise=15")
    set_slider(page, "batch-size", 7)
    wait_hash(page, "batch_size=7")
    for testid, value, fragment in [("learning-rate", "0.1", "learning_rate=0.1&"),
                                    ("optimizer", "adam", "optimizer=adam"),
                                    ("init", "kaiming_normal", "init=kaiming_normal"),
                                    ("regularization", "l2", "regularization=l2"),
                                    ("regularization-rate", "0.001", "regularization_rate=0.001"),
                                    ("schedule", "cosine", "schedule=cosine"),
                                    ("activation", "relu", "activation=relu")]:
        page.get_by_test_id(testid).select_option(value)
        wait_hash(page, fragment)
    page.get_by_test_id("add-neuron-1").click()
    wait_hash(page, "layers=4,3")
    page.get_by_test_id("layer-activation-1").select_option("sigmoid")
    wait_hash(page, "layers=4,3:sigmoid")
    page.get_by_test_id("dropout-0").select_option("0.2")
    wait_hash(page, "layers=4:d0.2,3:sigmoid")
    page.get_by_test_id("batchnorm-1").check()
    wait_hash(page, "layers=4:d0.2,3:sigmoid:bn")
    page.get_by_test_id("feature-x1x2").click()
    wait_hash(page, "features=x1,x2,x1x2")
    page.get_by_test_id("show-test").check()
    wait_hash(page, "show_test=1")
    page.get_by_test_id("discretize").check()
    wait_hash(page, "discretize=1")
    page.wait_for_timeout(200)
    address = page.evaluate("location.hash")
    assert re.search(r"dataset=gaussian&problem=classification&classes=3&noise=15", address)
    first = control_values(page)

    other, tab = new_tab(page)
    try:
        second_page = open_playground(tab, address)
        assert second_page.evaluate("location.hash") == address
        assert control_values(second_page) == first
        assert_console_clean(second_page)
    finally:
        other.close()
    # a new address (typed or pasted) is followed: a fresh session built from it, as on a load
    session_before = page.get_by_test_id("status").text_content().split(" · ")[0]
    page.evaluate("h => { location.hash = h }", address.replace("learning_rate=0.1&", "learning_rate=0.03&"))
    wait_for(page, "learning-rate", "el.value === '0.03'")
    wait_for(page, "status", "!el.textContent.startsWith(arg)", session_before)
    assert page.get_by_test_id("optimizer").input_value() == "adam"
    # UI options alone only redraw
    session_now = page.get_by_test_id("status").text_content().split(" · ")[0]
    plain = page.evaluate("location.hash").replace("discretize=1", "discretize=0")
    page.evaluate("h => { location.hash = h }", plain)
    wait_for(page, "discretize", "!el.checked")
    assert page.get_by_test_id("status").text_content().startswith(session_now)
    screenshot(page, "url-hash")
    assert_console_clean(page)


CLASS_COLORS = [(245, 147, 34), (8, 119, 189), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]
MIDDLE = (232, 234, 235)


def session_snapshot(page) -> dict:
    """The server's snapshot (with points) of the page's session, fetched by the page itself."""
    return page.evaluate("id => fetch(`/api/sessions/${id}`).then((r) => r.json())", session_id(page))


def nearest_class(rgb, classes: int) -> int:
    """The class whose colour the pixel leans to, away from the palette's pale middle (cosine)."""
    tint = [c - m for c, m in zip(rgb, MIDDLE)]
    def score(k):
        ref = [c - m for c, m in zip(CLASS_COLORS[k], MIDDLE)]
        return sum(a * b for a, b in zip(tint, ref)) / (sum(b * b for b in ref) ** 0.5)
    return max(range(classes), key=score)


def test_multiclass_heatmap_paints_each_class_where_it_wins(browser_page):
    page = open_playground(browser_page)
    page.get_by_test_id("dataset-gaussian").click()
    wait_hash(page, "dataset=gaussian")
    set_slider(page, "classes", 3)
    wait_hash(page, "classes=3")
    page.get_by_test_id("learning-rate").select_option("0.1")
    wait_hash(page, "learning_rate=0.1&")
    assert not page.get_by_test_id("show-test").is_checked()
    assert page.get_by_test_id("neuron-out-2").is_visible()  # one output unit per class
    assert page.get_by_test_id("point-class-2").is_visible()
    for n in (1, 2, 3, 4):
        page.get_by_test_id("step").click()
        wait_epoch(page, n)
    page.wait_for_timeout(100)
    snapshot = session_snapshot(page)
    assert snapshot["epoch"] == 4 and snapshot["classes"] == 3
    size = snapshot["grid"]["size"]
    winner, sure = (np.frombuffer(base64.b64decode(snapshot["heatmaps"][key]), np.uint8).reshape(size, size)
                    for key in ("output_class", "output"))
    points = np.array([p[:2] for p in snapshot["points"]["train"] + snapshot["points"]["test"]])
    centres = -6 + (np.arange(size) + 0.5) * 12 / size
    # cells far from every drawn point, whose class is confident and the same in the 8 neighbours
    # (so the smoothing between cells cannot blend in another class)
    cells = []
    for row in range(1, size - 1):
        for col in range(1, size - 1):
            x, y = centres[col], centres[::-1][row]
            far = np.min(np.hypot(points[:, 0] - x, points[:, 1] - y)) > 0.6
            block = winner[row - 1:row + 2, col - 1:col + 2]
            if far and sure[row, col] >= 100 and (block == winner[row, col]).all():
                cells.append((row, col))
    pixels = page.get_by_test_id("output-heatmap").evaluate("""(canvas, [cells, size]) => {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        return cells.map(([row, col]) => {
          const px = Math.floor((col + 0.5) / size * canvas.width);
          const py = Math.floor((row + 0.5) / size * canvas.height);
          const i = 4 * (py * canvas.width + px);
          return [data[i], data[i + 1], data[i + 2]];
        });
    }""", [cells, size])
    shown = [nearest_class(rgb, 3) for rgb in pixels]
    expected = [int(winner[row, col]) for row, col in cells]
    per_class = {k: sum(1 for s, e in zip(shown, expected) if s == e == k) for k in range(3)}
    assert all(count >= 5 for count in per_class.values()), per_class  # every class painted, away from points
    agree = sum(s == e for s, e in zip(shown, expected)) / len(cells)
    assert agree >= 0.97, (agree, len(cells))
    # the legend: one swatch per class, in the class colours the heatmap and the output units use
    assert page.locator(".class-legend").is_visible() and not page.locator(".legend-bar").is_visible()
    swatches = page.locator(".class-legend i")
    assert swatches.count() == 3
    for k in range(3):
        colour = "rgb({}, {}, {})".format(*CLASS_COLORS[k])
        assert swatches.nth(k).evaluate("el => getComputedStyle(el).backgroundColor") == colour
        assert page.locator(".class-legend span").nth(k).text_content() == f"class {k}"
        assert page.get_by_test_id(f"neuron-out-{k}").evaluate(
            "el => getComputedStyle(el).backgroundColor") == colour
    assert 0 <= metric(page, "train-accuracy") <= 1
    screenshot(page, "multiclass")
    assert_console_clean(page)


def test_hash_codec_round_trips_layers_and_reports_bad_parts(browser_page):
    page = open_playground(browser_page)
    result = page.evaluate("""async () => {
        const { encodeHash, decodeHash } = await import('/static/js/hash.js');
        const config = { dataset: 'spiral', problem: 'classification', classes: 4, noise: 5, train_ratio: 70,
          points: 800, batch_size: 3, data_seed: 2, seed: 9, features: ['x1', 'sinx2'],
          layers: [{ neurons: 3, activation: 'relu', dropout: 0, batchnorm: false },
                   { neurons: 8, activation: 'sigmoid', dropout: 0.5, batchnorm: true },
                   { neurons: 1, activation: 'relu', dropout: 0.1, batchnorm: false }],
          learning_rate: 0.003, optimizer: 'rmsprop', init: 'orthogonal', regularization: 'l1',
          regularization_rate: 0.3, schedule: 'step' };
        const ui = { show_test: true, discretize: false, log_scale: true, activation: 'tanh' };
        const text = encodeHash(config, ui);
        const back = decodeHash('#' + text);
        const bad = decodeHash('#layers=4:swish,x&noise=lots&colour=red');
        return { text, back, bad };
    }""")
    # mixed activations: the global one (the select's) stays, each layer names its own
    assert "layers=3:relu,8:sigmoid:d0.5:bn,1:relu:d0.1&activation=tanh&" in result["text"]
    back = result["back"]
    assert back["problems"] == []
    assert back["ui"] == {"show_test": True, "discretize": False, "log_scale": True, "activation": "tanh"}
    assert back["config"]["layers"] == [
        {"neurons": 3, "activation": "relu", "dropout": 0, "batchnorm": False},
        {"neurons": 8, "activation": "sigmoid", "dropout": 0.5, "batchnorm": True},
        {"neurons": 1, "activation": "relu", "dropout": 0.1, "batchnorm": False}]
    assert back["config"]["features"] == ["x1", "sinx2"]
    assert back["config"]["learning_rate"] == 0.003 and back["config"]["classes"] == 4
    problems = " | ".join(result["bad"]["problems"])
    assert 'unknown part "swish"' in problems
    assert "noise=lots is not a whole number" in problems
    assert 'unknown key "colour"' in problems
    screenshot(page, "hash-codec")
    assert_console_clean(page)
