"""The playground page's tools in Chromium: export, CSV upload, two tabs, the weight editor, diagnosis.

The fixtures (``live_server``, ``browser_page``) come from tests/playground/browser.py; the screenshots
land in test-artifacts/playground/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.playground.browser import screenshot
from tests.playground.test_browser_page import (
    assert_console_clean,
    new_tab,
    open_playground,
    session_id,
    set_slider,
    wait_epoch,
    wait_for,
    wait_hash,
)

ROOT = Path(__file__).resolve().parents[2]


def epoch(page) -> int:
    return int(page.get_by_test_id("epoch").text_content())


def canvas_pixels(page, testid: str) -> str:
    return page.get_by_test_id(testid).evaluate("canvas => canvas.toDataURL()")


def test_exported_script_reproduces_the_page(browser_page, tmp_path):
    page = open_playground(browser_page)
    page.get_by_test_id("learning-rate").select_option("0.1")
    wait_hash(page, "learning_rate=0.1&")
    for n in (1, 2, 3):
        page.get_by_test_id("step").click()
        wait_epoch(page, n)
    # a live change after some training: the script must replay it at the same step
    set_slider(page, "batch-size", 25)
    wait_hash(page, "batch_size=25")
    page.get_by_test_id("step").click()
    wait_epoch(page, 4)
    page_test_loss = page.get_by_test_id("test-loss").text_content()

    page.get_by_test_id("export").click()
    with page.expect_download() as download_info:
        page.get_by_test_id("export-script").click()
    download = download_info.value
    assert download.suggested_filename == "playground_model.py"
    script = tmp_path / "playground_model.py"
    download.save_as(script)
    with page.expect_download() as weights_info:
        page.get_by_test_id("export-weights").click()
    assert weights_info.value.suggested_filename == "playground_model.safetensors"

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 5  # epochs 0..4
    last = re.match(r"epoch (\d+) train_loss (\S+) test_loss (\S+)", lines[-1])
    assert last is not None, lines[-1]
    assert int(last.group(1)) == 4
    assert f"{float(last.group(3)):.3f}" == page_test_loss
    assert (tmp_path / "playground_model.safetensors").stat().st_size > 0
    screenshot(page, "export")
    assert_console_clean(page)


def test_bad_csv_upload_shows_the_error(browser_page):
    page = open_playground(browser_page)
    page.get_by_test_id("upload").set_input_files(
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": b"x,y,label\n1,2\n3,4,1\n"}])
    error = page.get_by_test_id("upload-error")
    wait_for(page, "upload-error", "el.textContent !== ''")
    assert "line 2" in error.text_content() and "3 columns" in error.text_content()
    assert "3 columns" in page.get_by_test_id("error").text_content()  # and the global banner
    assert page.get_by_test_id("error").is_visible()

    # a good file replaces the points: the dataset becomes "custom" and the error goes away
    rows = "\n".join(f"{x},{y},{int(x > 0)}" for x in (-4, -2, 2, 4) for y in (-3, 0, 3))
    page.get_by_test_id("upload").set_input_files(
        files=[{"name": "good.csv", "mimeType": "text/csv", "buffer": f"x,y,label\n{rows}\n".encode()}])
    wait_hash(page, "dataset=custom")
    assert error.text_content() == ""
    assert page.get_by_test_id("dataset-custom").get_attribute("aria-pressed") == "true"
    # clicking the output adds a point of the chosen class
    page.get_by_test_id("point-class-0").click()
    assert "6 training + 6 test points" in page.get_by_test_id("status").text_content()
    page.get_by_test_id("output-heatmap").click(position={"x": 40, "y": 40})
    wait_for(page, "status", "/\\b(7 training \\+ 6|6 training \\+ 7) test points/.test(el.textContent)")
    # the refused upload is a console "Failed to load resource" line: that one is expected here
    screenshot(page, "upload-custom-points")
    assert_console_clean(page, (400, f"/api/sessions/{session_id(page)}/upload"))


def test_two_tabs_train_independently(browser_page):
    first = open_playground(browser_page)
    other, tab = new_tab(first)
    try:
        second = open_playground(tab)
        assert first.get_by_test_id("status").text_content() != second.get_by_test_id("status").text_content()
        second.get_by_test_id("play").click()
        wait_for(second, "epoch", "Number(el.textContent) >= 20")
        assert epoch(first) == 0
        first.get_by_test_id("step").click()
        wait_epoch(first, 1)
        assert epoch(second) >= 20
        second.get_by_test_id("play").click()
        first.wait_for_timeout(200)
        assert epoch(first) == 1
        screenshot(second, "two-tabs-second")
        assert_console_clean(second)
    finally:
        other.close()
    screenshot(first, "two-tabs-first")
    assert_console_clean(first)


def test_weight_editor_changes_the_output(browser_page):
    page = open_playground(browser_page)
    before = canvas_pixels(page, "output-heatmap")
    link = page.get_by_test_id("link-0-0-0")
    link.dispatch_event("click")
    editor = page.get_by_test_id("weight-editor")
    assert editor.is_visible()
    page.get_by_test_id("weight-value").fill("4")
    screenshot(page, "weight-editor")
    page.get_by_test_id("weight-apply").click()
    wait_for(page, "link-0-0-0", "el.dataset.weight === '4'")
    assert not editor.is_visible()
    assert float(link.get_attribute("stroke-width")) == pytest.approx(6)  # the widest link: |w| = 4 is capped
    page.wait_for_timeout(100)
    assert canvas_pixels(page, "output-heatmap") != before
    # a negative weight is drawn orange
    page.get_by_test_id("link-1-0-0").dispatch_event("click")
    page.get_by_test_id("weight-value").fill("-0.5")
    page.get_by_test_id("weight-value").press("Enter")
    wait_for(page, "link-1-0-0", "el.dataset.weight === '-0.5'")
    assert page.get_by_test_id("link-1-0-0").get_attribute("stroke") == "rgb(245,147,34)"
    screenshot(page, "weight-edited")
    assert_console_clean(page)


def test_diagnosis_appears_when_training_diverges(browser_page):
    page = open_playground(browser_page)
    page.get_by_test_id("problem-type").select_option("regression")
    wait_hash(page, "dataset=plane")
    page.get_by_test_id("learning-rate").select_option("10")
    page.get_by_test_id("init").select_option("large_normal")
    wait_hash(page, "init=large_normal")
    wait_hash(page, "learning_rate=10&")
    page.get_by_test_id("step").click()
    diagnosis = page.get_by_test_id("diagnosis")
    page.wait_for_function("() => document.querySelector('[data-testid=diagnosis] .finding') !== null",
                           timeout=30_000)
    assert diagnosis.get_attribute("data-status") == "diverged"
    assert "diverged" in diagnosis.text_content()
    finding = diagnosis.locator(".finding").first
    assert finding.locator(".finding-title").text_content()
    assert finding.locator(".finding-fix").text_content().startswith("Fix: ")
    assert page.get_by_test_id("train-loss").text_content() == "–"  # NaN loss shown as a dash
    screenshot(page, "diagnosis")
    assert_console_clean(page)


def test_a_lost_session_is_replaced_with_the_same_settings(browser_page):
    page = open_playground(browser_page)
    page.get_by_test_id("dataset-xor").click()
    wait_hash(page, "dataset=xor")
    old = page.get_by_test_id("status").text_content().split(" · ")[0].removeprefix("session ")
    lost = session_id(page)
    # the server forgets the session (expiry, restart): the stream ends and the page starts a new one
    assert page.evaluate("id => fetch(`/api/sessions/${id}`, { method: 'DELETE' }).then((r) => r.status)",
                         lost) == 204
    wait_for(page, "status", "!el.textContent.startsWith('session ' + arg)", old)
    assert "no such session" in page.get_by_test_id("error").text_content()
    assert page.get_by_test_id("dataset-xor").get_attribute("aria-pressed") == "true"
    page.get_by_test_id("step").click()
    wait_epoch(page, 1)
    screenshot(page, "lost-session-replaced")
    # the stream's reconnection and the page's check of the old session answer 404: expected here
    assert_console_clean(page, (404, f"/api/sessions/{lost}/events"), (404, f"/api/sessions/{lost}"))
