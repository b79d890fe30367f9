"""Page figures in headless Chromium, printed as JSON lines:

* frames rendered versus received, and the main thread's long tasks, in two cases, each
  ``--runs`` times: the default net at 1280×720 at the default speed, and the largest net the
  limits allow (GET /api/options: most hidden layers × most neurons, every feature) at
  1920×1080 at the fastest speed. Long tasks are wall-clock (PerformanceObserver 'longtask':
  count over 50 ms, the longest); on a loaded machine wall clock counts other processes'
  time too, so each run also reports the main thread's CPU time per task (from a Chromium
  trace: the longest, how many over 50 ms) and where it goes (rAF callbacks with the views'
  JavaScript, style/layout, paint/raster/commit, GC, message handling) in ms per second.
  Frames that arrive within one animation frame are merged by the page (only the newest is
  drawn), so beside rendered/received each run also reports the frames the browser's network
  stack received and how many of them were followed by another within one animation frame
  (how bunched they arrive), and the main thread's CPU ms per rendered frame (a figure that
  depends less than rendered/received on how fast the trainer sharing the machine runs);
* frames rendered versus received while phase animations run (phase-step again and again,
  each phase replayed with ←, at the fastest pace so animations overlap the next frame), with
  the browser's animation frames per second and the network view's draw time meanwhile;
* time from learning-rate slider release to the ack shown on the page;
* time from play to 95 % test accuracy on the default setup (circle, [4, 2], tanh, batch 10,
  η 0.03) at the default speed and at the fastest one (a figure, not a timed test).

    python bench/page.py [--seconds 6] [--phase-steps 24] [--frames-only] [--case largest]
                         [--keep-trace DIR]

``--keep-trace DIR`` writes each frame-rate run's Chromium trace to DIR (open it in
chrome://tracing or Perfetto) and prints its longest tasks with what ran inside them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import server_process

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]


LONG_TASKS = """() => {
    window.benchLongTasks = [];
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.benchLongTasks.push(entry.duration);
    }).observe({ type: 'longtask' });
}"""

TRACE_CATEGORIES = ["toplevel", "devtools.timeline", "v8", "blink.user_timing",
                    "disabled-by-default-devtools.timeline"]

#: trace event names (renderer main thread) → the part of the frame time they are
BREAKDOWN = {
    "FireAnimationFrame": "raf_callbacks_js",
    "UpdateLayoutTree": "style_layout", "Layout": "style_layout",
    "Paint": "paint_raster_commit", "PrePaint": "paint_raster_commit",
    "Layerize": "paint_raster_commit", "Commit": "paint_raster_commit",
    "MinorGC": "gc", "MajorGC": "gc",
}


def largest_net(base: str) -> tuple[str, list[int]]:
    """The URL fragment of the largest net the served limits allow, and its hidden sizes."""
    with urllib.request.urlopen(base + "/api/options") as response:
        options = json.load(response)
    layers = int(options["limits"]["hidden_layers"][1])
    neurons = int(options["limits"]["neurons_per_layer"][1])
    features = ",".join(f["name"] for f in options["features"])
    hidden = [neurons] * layers
    return f"#layers={','.join(map(str, hidden))}&features={features}", hidden


def main_thread_tasks(trace: bytes, rendered: int = 0) -> dict[str, Any]:
    """The renderer main thread's tasks in a Chromium trace: the longest wall-clock and CPU
    durations, how many took over 50 ms of CPU, CPU ms per second by part of the work, and
    (given the frames `rendered` meanwhile) CPU ms per rendered frame."""
    events = json.loads(trace)["traceEvents"]
    mains = {(e["pid"], e["tid"]) for e in events
             if e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"}
    tasks = [e for e in events if e.get("ph") == "X" and e.get("name") == "RunTask"
             and (e["pid"], e["tid"]) in mains]
    # the page's renderer is the busiest one
    busiest = max(mains, key=lambda m: sum(t.get("tdur", 0) for t in tasks
                                           if (t["pid"], t["tid"]) == m), default=None)
    tasks = [t for t in tasks if (t["pid"], t["tid"]) == busiest]
    if not tasks:
        return {}
    seconds = (max(t["ts"] + t["dur"] for t in tasks) - min(t["ts"] for t in tasks)) / 1e6
    parts: dict[str, float] = {}
    counted_until = -1.0  # an event inside one already counted is part of it
    named = sorted((e for e in events if e.get("ph") == "X" and e.get("name") in BREAKDOWN
                    and (e["pid"], e["tid"]) == busiest), key=lambda e: e["ts"])
    for e in named:
        if e["ts"] < counted_until:
            continue
        counted_until = e["ts"] + e["dur"]
        part = BREAKDOWN[e["name"]]
        parts[part] = parts.get(part, 0.0) + e.get("tdur", 0) / 1e3  # CPU time only
    cpu = [t.get("tdur", t["dur"]) / 1e3 for t in tasks]
    total = sum(cpu)
    per_second = {k: round(v / seconds, 1) for k, v in sorted(parts.items())}
    per_second["other"] = round((total - sum(parts.values())) / seconds, 1)
    return {"task_cpu_ms_max": round(max(cpu), 1),
            "tasks_cpu_over_50ms": sum(1 for c in cpu if c > 50),
            "task_wall_ms_max": round(max(t["dur"] for t in tasks) / 1e3, 1),
            "main_thread_cpu_ms_per_s": round(total / seconds, 1),
            "main_thread_cpu_ms_per_rendered_frame": round(total / max(1, rendered), 1),
            "cpu_ms_per_s": per_second}


def longest_tasks(trace: bytes, count: int = 8) -> list[dict[str, Any]]:
    """The renderer main thread's `count` longest tasks (CPU) in a Chromium trace, each with
    its start (ms from the first task), wall and CPU ms, and the CPU ms of the named events
    inside it (the trace event names: FireAnimationFrame, FunctionCall, Paint, MinorGC, …;
    a nested event's time is also inside its parent's)."""
    events = json.loads(trace)["traceEvents"]
    mains = {(e["pid"], e["tid"]) for e in events
             if e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"}
    slices = [e for e in events if e.get("ph") == "X" and (e["pid"], e["tid"]) in mains]
    tasks = [e for e in slices if e["name"] == "RunTask"]
    if not tasks:
        return []
    busiest = max(mains, key=lambda m: sum(t.get("tdur", 0) for t in tasks
                                           if (t["pid"], t["tid"]) == m))
    tasks = [t for t in tasks if (t["pid"], t["tid"]) == busiest]
    inner = [e for e in slices if (e["pid"], e["tid"]) == busiest and e["name"] != "RunTask"]
    start = min(t["ts"] for t in tasks)
    found = []
    for task in sorted(tasks, key=lambda t: -t.get("tdur", t["dur"]))[:count]:
        end = task["ts"] + task["dur"]
        parts: dict[str, float] = {}
        for e in inner:
            if task["ts"] <= e["ts"] < end:
                name = e["name"]
                parts[name] = parts.get(name, 0.0) + e.get("tdur", e["dur"]) / 1e3
        top = dict(sorted(((k, round(v, 1)) for k, v in parts.items() if v >= 0.5),
                          key=lambda kv: -kv[1]))
        found.append({"at_ms": round((task["ts"] - start) / 1e3, 1),
                      "wall_ms": round(task["dur"] / 1e3, 1),
                      "cpu_ms": round(task.get("tdur", task["dur"]) / 1e3, 1), "inside": top})
    return found


def frames_case(browser: Any, base: str, case: str, seconds: float,
                keep_trace: Path | None = None, run: int = 0) -> None:
    """One run: a fresh page in `case` ('default' or 'largest'), trains for `seconds`; prints
    frames received and rendered per second, the long tasks, and the trace's task figures
    (with `keep_trace`, the trace is written there and its longest tasks printed too)."""
    fragment, hidden = ("", [4, 2]) if case == "default" else largest_net(base)
    width, height = (1280, 720) if case == "default" else (1920, 1080)
    viewport = {"width": width, "height": height}
    page = browser.new_page(viewport=viewport)
    page.add_init_script(f"({LONG_TASKS})()")
    page.goto(base + "/" + fragment)
    page.wait_for_function("() => window.playground && window.playground.store.frame"
                           " && window.playground.store.options")
    if case != "default":
        fastest = page.get_by_test_id("speed").evaluate(
            "(s) => s.options[s.options.length - 1].value")
        page.get_by_test_id("speed").select_option(fastest)
        page.wait_for_function(f"() => window.playground.store.serverState.speed === {fastest}")
    speed = page.evaluate("() => window.playground.store.serverState.speed")
    arrivals = socket_frame_times(page)
    page.get_by_test_id("play").click()
    time.sleep(1.0)
    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    page.evaluate("() => { window.benchLongTasks.length = 0; }")
    received0, rendered0, t0 = counters(page)
    arrivals.clear()
    time.sleep(seconds)
    received1, rendered1, t1 = counters(page)
    arrived = sorted(arrivals)
    long_tasks = page.evaluate("() => window.benchLongTasks.slice()")
    trace = browser.stop_tracing()
    page.get_by_test_id("play").click()
    page.close()
    elapsed = (t1 - t0) / 1000
    received, rendered = received1 - received0, rendered1 - rendered0
    print(json.dumps({"figure": "page_frames_rendered_vs_received", "case": case,
                      "viewport": f"{viewport['width']}x{viewport['height']}",
                      "hidden": hidden, "speed_steps_per_frame": speed,
                      "received_per_s": round(received / elapsed, 1),
                      "rendered_per_s": round(rendered / elapsed, 1),
                      "rendered_over_received": round(rendered / max(1, received), 3),
                      "target": 0.95,
                      "long_tasks_over_50ms": sum(1 for d in long_tasks if d > 50),
                      "long_task_ms_max": round(max(long_tasks, default=0.0), 1),
                      "target_long_task_ms_max": 50,
                      **main_thread_tasks(trace, rendered), **bunching(arrived)}), flush=True)
    if keep_trace is not None:
        keep_trace.mkdir(parents=True, exist_ok=True)
        path = keep_trace / f"{case}-{run}.json"
        path.write_bytes(trace)
        print(json.dumps({"figure": "page_longest_tasks", "case": case, "trace": str(path),
                          "tasks": longest_tasks(trace)}), flush=True)


#: one animation frame at 60 Hz (ms): of two frames that reach the browser closer together
#: than this, no page can show both
VSYNC_MS = 1000 / 60


def socket_frame_times(page: Any) -> list[float]:
    """A list that fills with the times (ms, the browser's network clock) at which binary
    WebSocket messages (frames) reach the browser, before the page's main thread sees them."""
    times: list[float] = []
    session = page.context.new_cdp_session(page)
    def received(event: dict[str, Any]) -> None:
        if event["response"]["opcode"] == 2:
            times.append(event["timestamp"] * 1e3)

    session.on("Network.webSocketFrameReceived", received)
    session.send("Network.enable")
    return times


def bunching(arrived: list[float]) -> dict[str, Any]:
    """Beside the page's own counters: frames that reached the browser (network clock) and
    how many were followed by another within one animation frame (VSYNC_MS): a page that
    draws only the newest frame at each animation frame cannot show both of such a pair
    unless its decoding spreads them apart."""
    followed = sum(1 for a, b in itertools.pairwise(arrived) if b - a < VSYNC_MS)
    return {"socket_frames": len(arrived), "socket_frames_followed_within_one_vsync": followed}


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
    parser.add_argument("--runs", type=int, default=3, help="runs of each frame-rate case")
    parser.add_argument("--frames-only", action="store_true",
                        help="only the frame-rate cases (rendered vs received, long tasks)")
    parser.add_argument("--case", choices=("default", "largest"), action="append",
                        help="only this frame-rate case (again for both; default: both)")
    parser.add_argument("--keep-trace", type=Path, metavar="DIR",
                        help="write each frame-rate run's trace to DIR, print its longest tasks")
    args = parser.parse_args()
    with server_process() as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                             args=ARGS)
        for case in args.case or ("default", "largest"):
            for run in range(args.runs):
                frames_case(browser, base, case, args.seconds, args.keep_trace, run)
        if args.frames_only:
            browser.close()
            return
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(base + "/")
        page.wait_for_function("() => window.playground && window.playground.store.frame")
        page.get_by_test_id("play").click()
        time.sleep(1.0)
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
