"""Page figures in headless Chromium, printed as JSON lines:

* frames rendered per second versus frames received while the default net trains at 60 fps;
* time from learning-rate slider release to the ack shown on the page.

    python bench/page.py [--seconds 6]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import server_process

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def counters(page: object) -> tuple[int, int, float]:
    return page.evaluate(  # type: ignore[attr-defined, no-any-return]
        "() => [window.playground.store.framesReceived,"
        " window.playground.store.framesRendered, performance.now()]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    with server_process() as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                             args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(base + "/")
        page.wait_for_function("() => window.playground && window.playground.store.frame")
        page.get_by_test_id("play").click()
        time.sleep(1.0)
        received0, rendered0, t0 = counters(page)
        time.sleep(args.seconds)
        received1, rendered1, t1 = counters(page)
        seconds = (t1 - t0) / 1000
        received, rendered = (received1 - received0) / seconds, (rendered1 - rendered0) / seconds
        print(json.dumps({"figure": "page_frames_per_second", "received": round(received, 1),
                          "rendered": round(rendered, 1),
                          "rendered_over_received": round(rendered / received, 3),
                          "target": 0.9}), flush=True)
        latencies = []
        slider = page.get_by_test_id("learning-rate")
        for index in range(20):
            position = -2.5 + 0.05 * index
            page.evaluate("() => { document.querySelector('[data-testid=learning-rate-ack]')"
                          ".textContent = ''; }")
            start = time.perf_counter()
            slider.fill(f"{position:.2f}")
            slider.dispatch_event("change")
            page.wait_for_function("() => document.querySelector("
                                   "'[data-testid=learning-rate-ack]').textContent !== ''")
            latencies.append((time.perf_counter() - start) * 1e3)
            time.sleep(0.15)
        print(json.dumps({"figure": "slider_release_to_ack_shown_ms",
                          "median": round(statistics.median(latencies), 1),
                          "max": round(max(latencies), 1), "samples": len(latencies)}),
              flush=True)
        browser.close()


if __name__ == "__main__":
    main()
