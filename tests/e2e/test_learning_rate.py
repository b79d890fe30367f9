"""Learning rate against gradient size in Chromium: one slider drag leaves one η mark, the
Step panel shows the step on the loss landscape (undershoot, about right, overshoot,
divergence) with ‖Δθ‖ = η·‖g‖, saturation and divergence have banners with a remedy, the
arrow keys and typed values set η, and a sweep keeps training and promotes into the slider."""

from __future__ import annotations

import math
from typing import Any

from e2e_helpers import screenshot

TIMEOUT = 20_000


def open_page(page: Any, fragment: str = "") -> None:
    page.goto(f"{page.base_url}/{fragment}")
    page.wait_for_function("() => window.playground && window.playground.store.frame !== null"
                           " && window.playground.store.options !== null", timeout=TIMEOUT)


def server_rate(page: Any) -> float:
    return float(page.evaluate("() => window.playground.store.serverState.hyper.learning_rate"))


def type_rate(page: Any, text: str) -> None:
    """Click the value, type `text`, press Enter."""
    page.get_by_test_id("learning-rate-value").click()
    field = page.get_by_test_id("learning-rate-input")
    field.fill(text)
    field.press("Enter")


def set_rate(page: Any, rate: float) -> None:
    type_rate(page, str(rate))
    page.wait_for_function(f"() => Math.abs(window.playground.store.serverState.hyper.learning_rate"
                           f" - {rate}) < 1e-9", timeout=TIMEOUT)


def pick_dataset(page: Any, name: str, problem: str) -> None:
    page.get_by_test_id(f"dataset-{name}").click()
    page.wait_for_function(f"() => window.playground.store.config.network.problem === '{problem}'"
                           f" && window.playground.store.config.data.dataset === '{name}'",
                           timeout=TIMEOUT)


def one_step(page: Any) -> str:
    """One whole step (→ button); the Step panel's verdict for it."""
    before = page.evaluate("() => window.playground.store.frame.step")
    page.get_by_test_id("step").click()
    page.wait_for_function(
        f"() => {{ const f = window.playground.store.frame; return f.step > {before} && f.landscape"
        " && f.landscape.info.step === f.step && !window.playground.store.dirty; }",
        timeout=TIMEOUT)
    page.wait_for_function("() => document.querySelector('[data-testid=step-landscape]')"
                           ".dataset.verdict !== undefined", timeout=TIMEOUT)
    return str(page.get_by_test_id("step-landscape").get_attribute("data-verdict"))


def slider_x(box: dict[str, float], rate: float) -> float:
    """The page x of `rate` on the slider (log₁₀ 1e−5 … 10; the thumb is ~16 px wide)."""
    fraction = (math.log10(rate) + 5) / 6
    return box["x"] + 8 + (box["width"] - 16) * fraction


def test_a_drag_of_the_slider_leaves_one_learning_rate_mark(page: Any) -> None:
    """Mouse down on the thumb at 0.03, move in small steps to 3, release, while training: every
    set_hyper of the drag shares one gesture, and the loss chart draws one new mark for it,
    labelled "η 0.03 → 3" at the drag's first step."""
    open_page(page)
    page.get_by_test_id("play").click()
    page.wait_for_function("() => window.playground.store.frame.step >= 60", timeout=TIMEOUT)
    box = page.get_by_test_id("learning-rate").bounding_box()
    assert box is not None and box["width"] >= 360, box
    y = box["y"] + box["height"] / 2
    page.mouse.move(slider_x(box, 0.03), y)
    page.mouse.down()
    for k in range(1, 13):
        page.mouse.move(slider_x(box, 0.03 * 100 ** (k / 12)), y)
        page.wait_for_timeout(60)
    page.mouse.up()
    # Where the drag ended (the top bar may reflow by a pixel while the value's text changes):
    # the server must end on exactly the slider's final rate, far up from 0.03.
    final = page.evaluate("() => Number((10 ** Number(document.querySelector("
                          "'[data-testid=learning-rate]').value)).toPrecision(2))")
    assert final > 1, final
    page.wait_for_function(
        "(final) => window.playground.store.serverState.hyper.learning_rate === final",
        arg=final, timeout=TIMEOUT)
    changes = page.evaluate("() => window.playground.store.lrChanges")
    drag = [c for c in changes[1:] if c[2] is not None]
    assert len(drag) >= 2, changes  # several messages while dragging …
    assert len({c[2] for c in drag}) == 1, changes  # … one gesture
    # the chart redraws at most every 100 ms while training: until it has drawn since the
    # drag's last change, its mark may still name an earlier rate of the drag
    page.wait_for_function(
        "(final) => { const s = window.playground.store;"
        " const marks = window.playground.charts.loss.marks;"
        " return s.frame.step > s.lrChanges.at(-1)[0] + 10 && marks.length > 0"
        " && Number(marks.at(-1).text.split('→ ')[1]) === final; }", arg=final, timeout=TIMEOUT)
    marks = page.evaluate("() => window.playground.charts.loss.marks")
    assert len(marks) == 1, marks
    assert marks[0]["step"] == drag[0][0]
    assert marks[0]["text"].startswith("η 0.03 → "), marks
    assert float(marks[0]["text"].split("→ ")[1]) == final, (marks, final)
    assert page.console_errors == []


def test_the_step_panel_shows_about_right_then_overshoot_when_eta_goes_up(page: Any) -> None:
    """Regression plane at η = 1: a step lands near the valley ("about right"); at η = 3 the step
    jumps past it (overshoot or divergence). The panel shows ‖Δθ‖ = η·‖g‖ with the numbers."""
    open_page(page)
    pick_dataset(page, "plane", "regression")
    page.get_by_test_id("tab-step").click()
    set_rate(page, 1)
    verdicts = [one_step(page) for _ in range(4)]
    while verdicts[-1] != "about right" and len(verdicts) < 30:
        verdicts.append(one_step(page))
    assert verdicts[-1] == "about right", verdicts
    arithmetic = page.get_by_test_id("step-arithmetic").inner_text()
    info = page.evaluate("() => window.playground.store.frame.landscape.info")
    assert arithmetic.startswith("step length ‖Δθ‖ = η · ‖g‖ = 1 × "), arithmetic
    assert math.isclose(info["step_length"], info["learning_rate"] * info["gradient_norm"],
                        rel_tol=1e-4)
    assert "about right" in page.get_by_test_id("step-verdict").inner_text()
    screenshot(page, "lr-about-right")
    set_rate(page, 3)
    verdict = one_step(page)
    assert verdict in ("overshoot", "divergence"), verdict
    assert "the last step overshot: batch loss" in page.get_by_test_id("step-losses").inner_text() \
        or verdict == "overshoot"
    screenshot(page, "lr-overshoot")
    assert page.console_errors == []


def test_a_tiny_rate_undershoots_and_a_huge_one_diverges_with_a_banner(page: Any) -> None:
    """Circle at η = 0.001: the step stops far short of the valley (undershoot). Regression plane
    at η = 3 diverges; the banner names overshoot and the step counter's step."""
    open_page(page)
    page.get_by_test_id("tab-step").click()
    set_rate(page, 0.001)
    verdicts = [one_step(page) for _ in range(3)]
    assert verdicts[-1] == "undershoot", verdicts
    assert "short of the valley" in page.get_by_test_id("step-verdict").inner_text()
    screenshot(page, "lr-undershoot")
    pick_dataset(page, "plane", "regression")
    set_rate(page, 3)
    page.get_by_test_id("play").click()
    banner = page.get_by_test_id("divergence-banner")
    banner.wait_for(state="visible", timeout=TIMEOUT)
    text = banner.inner_text()
    step = page.evaluate("() => window.playground.store.divergence.step")
    assert f"Diverged at step {step}" in text and "overshot" in text, text
    page.get_by_test_id("tab-step").click()
    page.wait_for_timeout(300)
    screenshot(page, "lr-divergence")
    assert page.console_errors == []


def test_a_saturated_run_shows_its_banner_and_remedy(page: Any) -> None:
    """Circle, tanh + squared error, seed 1, 200 points at η = 10: the output unit is pinned
    (saturated); the banner gives the gradient and the saturated shares, and its button lowers
    η ÷ 10 and resets."""
    open_page(page, "#dataset=circle&loss=squared_error&seed=1&points=200&lr=10")
    page.wait_for_function("() => window.playground.store.config.network.loss === 'squared_error'"
                           " && window.playground.store.config.hyper.learning_rate === 10",
                           timeout=TIMEOUT)
    page.get_by_test_id("play").click()
    banner = page.get_by_test_id("saturation-banner")
    banner.wait_for(state="visible", timeout=TIMEOUT)
    text = banner.inner_text()
    assert text.startswith("Not learning: units saturated") and "gradient ‖g‖ ≈" in text, text
    page.get_by_test_id("play").click()
    page.get_by_test_id("tab-step").click()
    page.wait_for_timeout(300)
    screenshot(page, "lr-saturated")
    page.get_by_test_id("saturation-recover").click()
    page.wait_for_function("() => window.playground.store.serverState.hyper.learning_rate === 1"
                           " && window.playground.store.frame.step === 0", timeout=TIMEOUT)
    banner.wait_for(state="hidden", timeout=TIMEOUT)
    assert page.console_errors == []


def test_arrow_keys_move_one_notch_and_typed_values_are_checked(page: Any) -> None:
    """→ on the focused slider: 0.03 → 0.032 (the next ×10^¼ notch), ← 0.018, ← 0.01; typing
    0.5 sets it, typing 50 (beyond 10) is refused with a message and changes nothing."""
    open_page(page)
    slider = page.get_by_test_id("learning-rate")
    slider.focus()
    slider.press("ArrowRight")
    page.wait_for_function(
        "() => window.playground.store.serverState.hyper.learning_rate === 0.032", timeout=TIMEOUT)
    for rate in (0.018, 0.01):  # one notch each, each acknowledged before the next
        slider.press("ArrowLeft")
        page.wait_for_function(
            f"() => window.playground.store.serverState.hyper.learning_rate === {rate}",
            timeout=TIMEOUT)
    assert page.evaluate("() => window.playground.store.frame.step") == 0, "→ did not step"
    set_rate(page, 0.5)
    assert page.get_by_test_id("learning-rate-value").inner_text() == "0.5"
    type_rate(page, "50")
    assert "from 1e−5 to 10" in page.get_by_test_id("notice-learning-rate").inner_text()
    assert page.get_by_test_id("learning-rate-input").get_attribute("aria-invalid") == "true"
    assert server_rate(page) == 0.5
    page.get_by_test_id("learning-rate-input").press("Escape")
    assert page.console_errors == []


def test_a_sweep_keeps_training_and_promote_sets_the_slider(page: Any) -> None:
    """The sweep input offers rates around η (0.003, 0.03, 0.3, 3); starting it while training
    keeps training; each tile names its last step's verdict; promoting run 2 puts 0.3 on the
    slider."""
    open_page(page)
    rates = page.get_by_test_id("sweep-rates").input_value()
    assert "0.03" in rates.split(", "), rates
    page.get_by_test_id("play").click()
    page.wait_for_function("() => window.playground.store.frame.step >= 20", timeout=TIMEOUT)
    page.get_by_test_id("sweep-toggle").click()
    page.wait_for_function("() => window.playground.store.frame.sweep !== null"
                           " && window.playground.store.frame.step >= 30"
                           " && window.playground.store.frame.running", timeout=TIMEOUT)
    page.wait_for_function("() => document.querySelector('[data-testid=sweep-verdict-0]')"
                           "?.textContent.trim().length > 0", timeout=TIMEOUT)
    page.get_by_test_id("sweep-run-2").click()
    page.wait_for_function("() => window.playground.store.serverState.sweep.main_run === 2",
                           timeout=TIMEOUT)
    page.wait_for_function("() => document.querySelector('[data-testid=learning-rate-value]')"
                           ".textContent === '0.3'", timeout=TIMEOUT)
    position = float(page.get_by_test_id("learning-rate").input_value())
    assert abs(position - math.log10(0.3)) < 0.01
    assert page.evaluate("() => window.playground.store.frame.running")
    page.get_by_test_id("play").click()
    assert page.console_errors == []
