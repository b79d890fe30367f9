"""The four phase pictures of the network diagram in headless Chromium: each stays on screen
after its phase, replays at the chosen pace, the backward pass paints the edges in the
gradient palette with marks a class can see, and a click on a ringed batch point makes it
the focus point. (tests/trainer/test_phases.py is the trainer's phases.)"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

from e2e_helpers import screenshot

TIMEOUT = 15_000
PHASES = ("forward", "loss", "backward", "update")

# the palettes of frontend/render/palette.js (normal mode)
GRADIENT = {1: (118, 42, 131), -1: (27, 120, 55)}
WEIGHTS = {1: (0, 114, 178), -1: (230, 159, 0)}


def open_page(page: Any, fragment: str = "") -> None:
    page.goto(f"{page.base_url}/{fragment}")
    page.wait_for_function("() => window.playground && window.playground.store.frame !== null",
                           timeout=TIMEOUT)
    page.mouse.click(2, 2)  # keyboard focus on the page, away from any control


def picture(page: Any) -> dict[str, Any]:
    """What the network view's phase picture drew last (window.playground.network.animation)."""
    return page.evaluate("() => ({ ...window.playground.network.animation,"
                         " shown: window.playground.network.canvas.dataset.phaseShown })")


def phase_step(page: Any, expected: str) -> None:
    page.keyboard.press("Shift+ArrowRight")
    page.wait_for_function(f"() => window.playground.store.frame.phase === '{expected}'",
                           timeout=TIMEOUT)


def wait_settled(page: Any) -> None:
    page.wait_for_function("() => window.playground.store.animation.settled"
                           " && window.playground.network.animation.progress === 1",
                           timeout=TIMEOUT)


def canvas_pixels(page: Any, points: list[dict[str, float]]) -> list[tuple[int, int, int]]:
    """The network canvas's colour at CSS-pixel points."""
    values = page.evaluate(
        """(points) => {
            const canvas = window.playground.network.canvas;
            const ctx = canvas.getContext('2d');
            const scale = canvas.width / canvas.clientWidth;
            return points.map(({x, y}) => Array.from(ctx.getImageData(
                Math.round(x * scale), Math.round(y * scale), 1, 1).data.slice(0, 3)));
        }""", points)
    return [tuple(v) for v in values]


def nearest_palette(rgb: tuple[int, int, int]) -> str:
    named = {**{f"gradient{s:+d}": c for s, c in GRADIENT.items()},
             **{f"weight{s:+d}": c for s, c in WEIGHTS.items()}, "white": (255, 255, 255)}
    return min(named, key=lambda name: sum((a - b) ** 2 for a, b in zip(rgb, named[name],
                                                                         strict=True)))


def test_each_phase_picture_stays_on_screen(page: Any) -> None:
    """Three seconds after each phase its picture is still drawn, complete (not faded):
    forward with the focus point's numbers, loss, backward with every edge in the gradient
    palette (checked on the canvas's pixels), update with its stated magnification."""
    open_page(page)
    for phase in PHASES:
        phase_step(page, phase)
        page.wait_for_timeout(2000)
        screenshot(page, f"phase-{phase}")
        page.wait_for_timeout(1000)
        shown = picture(page)
        assert shown["phase"] == phase and shown["shown"] == phase, shown
        assert shown["progress"] == 1, shown
        assert shown["fontPx"] >= 12
        caption = page.get_by_test_id("phase-caption").inner_text()
        if phase == "forward":
            assert shown["labels"] >= shown["edges"] - 2 > 0, "w·a readable on (nearly) every edge"
            assert "focus point" in caption
        if phase == "backward":
            assert shown["gradientWidths"]["count"] > 0
            assert "dL/dw" in caption and "dL/db" in caption
            samples = shown["edgeSamples"]
            assert len(samples) >= 3, samples
            colours = [nearest_palette(rgb) for rgb in canvas_pixels(page, samples)]
            expected = [f"gradient{int(s['sign']):+d}" for s in samples]
            hits = sum(c == e for c, e in zip(colours, expected, strict=True))
            assert hits >= 0.8 * len(samples), list(zip(colours, expected, strict=True))
        if phase == "update":
            factor = shown["magnification"]
            assert factor >= 1
            if factor > 1:
                assert f"×{factor}" in caption, caption
    assert page.console_errors == []


def test_left_arrow_and_the_button_replay_the_phase(page: Any) -> None:
    """← and the replay button restart the current phase's animation from its beginning."""
    open_page(page)
    phase_step(page, "forward")
    phase_step(page, "loss")
    phase_step(page, "backward")
    wait_settled(page)
    page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(150)
    early = picture(page)
    assert early["replays"] == 1 and early["phase"] == "backward"
    assert early["progress"] < 0.5, early
    wait_settled(page)
    page.get_by_test_id("replay").click()
    page.wait_for_timeout(150)
    assert picture(page)["replays"] == 2
    assert picture(page)["progress"] < 0.5
    wait_settled(page)
    assert page.evaluate("() => window.playground.store.frame.step") == 0  # nothing re-ran
    assert page.console_errors == []


def test_pace_sets_the_animation_length(page: Any) -> None:
    """The pace control sets how long a phase's animation takes (and replays it at that pace)."""
    open_page(page)
    pace = page.get_by_test_id("pace")
    assert pace.input_value() == "1.5"
    phase_step(page, "forward")
    pace.select_option("6")
    page.mouse.click(2, 2)
    page.wait_for_timeout(1500)
    slow = picture(page)
    assert slow["seconds"] == 6
    assert 0.1 < slow["progress"] < 0.5, slow  # ~1.5 s of 6 s
    pace.select_option("0.5")
    page.mouse.click(2, 2)
    page.wait_for_timeout(900)
    fast = picture(page)
    assert fast["seconds"] == 0.5 and fast["progress"] == 1, fast
    phase_step(page, "loss")  # the next phase runs at the chosen pace too
    assert page.evaluate("() => window.playground.store.animation.seconds") == 0.5


def test_clicking_a_ringed_point_makes_it_the_focus_point(page: Any) -> None:
    """The batch's points are ringed on the output plot; clicking one sends `focus` and the
    next frame follows that point (a click there adds no data point)."""
    open_page(page)
    phase_step(page, "forward")
    rings = page.evaluate("() => window.playground.outputPlot.rings")
    batch = page.evaluate("() => window.playground.store.frame.batch.length")
    assert len(rings) == batch > 1
    # a ring clear of the others, and not the current focus point
    def clear(ring: dict[str, float]) -> bool:
        return all(math.hypot(r["x"] - ring["x"], r["y"] - ring["y"]) > 2.5 * ring["radius"]
                   for r in rings if r is not ring)
    target = next(r for r in rings if r["index"] != 0 and clear(r))
    box = page.get_by_test_id("output-map").bounding_box()
    page.mouse.click(box["x"] + target["x"] + 2, box["y"] + target["y"] - 1)
    index = target["index"]
    page.wait_for_function(f"() => window.playground.store.frame.focus === {index}",
                           timeout=TIMEOUT)
    page.wait_for_function(f"() => window.playground.store.serverState.focus === {index}",
                           timeout=TIMEOUT)
    assert page.evaluate("() => window.playground.store.config.data.dataset") == "circle"
    point = page.evaluate(f"() => window.playground.store.frame.batch[{index}]")
    caption = page.get_by_test_id("phase-caption").inner_text().replace("−", "-")
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", caption.split("◎")[1])[:2]]
    assert abs(numbers[0] - point["x1"]) < 0.01 * max(1, abs(point["x1"])) + 0.05, (caption, point)
    assert page.console_errors == []


def test_smallest_gradient_mark_is_visible_at_1280x720(page: Any) -> None:
    """At 1280×720 every gradient mark the backward picture draws (edges and rings) is at
    least 4 px wide, however small the gradient."""
    open_page(page)
    for phase in ("forward", "loss", "backward"):
        phase_step(page, phase)
    wait_settled(page)
    widths = picture(page)["gradientWidths"]
    layers = page.evaluate("() => window.playground.store.frame.layerSizes")
    edges = sum(a * b for a, b in itertools.pairwise(layers))
    assert widths["count"] == edges + sum(layers[1:])  # every edge and every neuron's ring
    assert widths["min"] >= 4, widths


def test_projector_mode_numbers_are_large(page: Any) -> None:
    """In projector mode the numbers drawn on the diagram are at least 18 px."""
    open_page(page, "#projector=1")
    phase_step(page, "forward")
    wait_settled(page)
    shown = picture(page)
    assert shown["fontPx"] >= 18 and shown["labels"] > 0, shown
