"""Make the README's picture of the playground: docs/images/playground.png.

Serves the playground on a free loopback port, opens it in Debian's headless Chromium at a fixed
setup (the spiral with six inputs and three tanh layers, SGD), plays until the test loss is
below ``--target`` (or ``--limit`` seconds pass), pauses and saves a 1280-pixel-wide picture.

    python scripts/playground_screenshot.py [--out docs/images/playground.png]

Needs the playground and test extras (starlette, uvicorn, playwright) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from dendrite.playground.serve import LiveServer

SETUP = ("dataset=spiral&noise=10&features=x1,x2,x1sq,x2sq,sinx1,sinx2&layers=8,6,4&activation=tanh"
         "&optimizer=sgd&learning_rate=0.03&batch_size=10&seed=0&data_seed=0")
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/images/playground.png")
    parser.add_argument("--target", type=float, default=0.08, help="stop once the test loss is below this")
    parser.add_argument("--limit", type=float, default=120.0, help="stop after this many seconds anyway")
    options = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    with LiveServer() as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{server.url.rstrip('/')}/#{SETUP}")
        expect(page.get_by_test_id("epoch")).to_have_text("0", timeout=30_000)
        page.get_by_test_id("play").click()
        began = time.monotonic()
        while time.monotonic() - began < options.limit:
            time.sleep(0.2)
            text = page.get_by_test_id("test-loss").inner_text().strip()
            if text.replace(".", "", 1).isdigit() and float(text) < options.target:
                break
        page.get_by_test_id("play").click()
        time.sleep(1.0)  # the last snapshot lands and is drawn
        options.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(options.out), full_page=True)
        print(f"{options.out}: epoch {page.get_by_test_id('epoch').inner_text()}, "
              f"test loss {page.get_by_test_id('test-loss').inner_text()}")
        browser.close()


if __name__ == "__main__":
    main()
