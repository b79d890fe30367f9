"""Page figures in headless Chromium, printed as JSON lines:

* frames rendered per second versus frames received while the default net trains at 60 fps;
* frames rendered versus received while phase animations run (phase-step again and again,
  each phase replayed with ←, at the fastest pace so animations overlap the next frame), with
  the browser's animation frames per second and the network view's draw time meanwhile;
* time from learning-rate slider release to the ack shown on the page;
* time from play to 95 % test accuracy on the default setup (circle, [4, 2], tanh, batch 10,
  η 0.03) at the default speed and at the fastest one (a figure, not a timed test).

    python bench/page.py [--seconds 6] [--phase-steps 24]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import server_process

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def counters(page: Any) -> tuple[int, int, float]:
    return page.evaluate(  # type: ignore[no-any-return]
        "() => [window.playground.store.framesReceived,"
        " window.playground.store.framesRendered, performance.now()]")


WATCH_DRAWS = """() => {
    const view = window.playground.network;
    const watch = { draws: [], frames: 0, on: true };
    const draw = view.draw.bind(view);
    view.draw = (store, now) => {
        const start = performance.now();
        draw(store, now);
        if (watch.on) watch.draws.push(performance.now() - start);
    };
    const tick = () => { if (!watch.on) return; watch.frames += 1; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    window.benchWatch = watch;
}"""


def phase_animations(page: Any, steps: int) -> None:
    """Phase-step `steps` times, replaying each phase once with ←, while animations run."""
    page.get_by_test_id("play").click()  # pause
    page.wait_for_function("() => !window.playground.store.frame.running")
    page.get_by_test_id("pace").select_option("0.5")
    page.mouse.click(2, 2)  # keyboard focus back on the page
    time.sleep(0.5)
    received0, rendered0, t0 = counters(page)
    page.evaluate(WATCH_DRAWS)
    for _ in range(steps):
        sequence = page.evaluate("() => window.playground.store.frame.sequence")
        page.keyboard.press("Shift+ArrowRight")
        page.wait_for_function(f"() => window.playground.store.frame.sequence !== {sequence}")
        time.sleep(0.25)
        page.keyboard.press("ArrowLeft")  # replay mid-animation
        time.sleep(0.35)
    time.sleep(0.6)  # the last animation ends
    received1, rendered1, t1 = counters(page)
    watch = page.evaluate("() => { const w = window.benchWatch; w.on = false;"
                          " return { draws: w.draws, frames: w.frames }; }")
    seconds = (t1 - t0) / 1000
    draws = sorted(watch["draws"])
    received, rendered = received1 - received0, rendered1 - rendered0
    print(json.dumps({"figure": "page_frames_during_phase_animations", "phase_steps": steps,
                      "received": received, "rendered": rendered,
                      "rendered_over_received": round(rendered / max(1, received), 3),
                      "target": 0.95,
                      "animation_frames_per_second": round(watch["frames"] / seconds, 1),
                      "network_draws": len(draws),
                      "network_draw_ms_median": round(statistics.median(draws), 2),
                      "network_draw_ms_p95": round(draws[int(0.95 * (len(draws) - 1))], 2)}),
          flush=True)


def time_to_accuracy(page: Any, base: str, speed: str | None, target: float = 0.95) -> None:
    """Fresh page, pick `speed` (a value of the speed control; None: the default), press play,
    time until a frame reports `target` test accuracy; prints the seconds, steps and epochs."""
    page.goto(base + "/")
    page.wait_for_function("() => window.playground && window.playground.store.frame"
                           " && window.playground.store.options")
    if speed is not None:
        page.get_by_test_id("speed").select_option(speed)
        page.wait_for_function(f"() => window.playground.store.serverState.speed === {speed}")
    label = page.get_by_test_id("speed").evaluate("(s) => s.selectedOptions[0].textContent")
    start = time.perf_counter()
    page.get_by_test_id("play").click()
    page.wait_for_function(f"() => window.playground.store.frame.testAccuracy >= {target}",
                           timeout=60_000, polling="raf")
    seconds = time.perf_counter() - start
    step, epoch = page.evaluate("() => [window.playground.store.frame.step,"
                                " window.playground.store.frame.epochProgress]")
    page.get_by_test_id("play").click()
    print(json.dumps({"figure": "play_to_95pct_test_accuracy", "speed": label,
                      "seconds": round(seconds, 2), "steps": step, "epochs": round(epoch, 1),
                      "target_seconds_at_default": [2, 5]}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--phase-steps", type=int, default=24)
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
        phase_animations(page, args.phase_steps)
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
        time_to_accuracy(page, base, None)
        fastest = page.get_by_test_id("speed").evaluate(
            "(s) => s.options[s.options.length - 1].value")
        time_to_accuracy(page, base, fastest)
        browser.close()


if __name__ == "__main__":
    main()
