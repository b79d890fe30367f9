"""The three ready-made lessons, each run in Chromium the way a teacher would: open the
Lessons menu, follow a lesson's link, then do every step of its script (frontend/lessons.js,
docs/lessons.md) with the page's visible controls, checking that the page shows what the
script promises at that step. Each step's picture (1280×720, projector mode) goes to
docs/screenshots/lesson-<lesson>-<step>.png."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import console_tab, screenshot

ROOT = Path(__file__).resolve().parents[2]

TIMEOUT = 20_000


def wait(page: Any, condition: str, timeout: int = TIMEOUT) -> None:
    """Wait until ``condition`` holds (JavaScript; ``s`` is the page's store)."""
    page.wait_for_function(f"() => {{ const s = window.playground.store; return {condition}; }}",
                           timeout=timeout)


def js(page: Any, expression: str) -> Any:
    return page.evaluate(f"() => {{ const s = window.playground.store; return {expression}; }}")


def value(page: Any, testid: str, attribute: str = "data-value") -> float:
    return float(page.get_by_test_id(testid).first.get_attribute(attribute))


def open_lesson(page: Any, lesson: str, picture: str = "") -> None:
    """From a fresh page: Lessons → the lesson's link; the page starts where the link says
    (``picture``: a screenshot of the open menu by that name)."""
    page.goto(f"{page.base_url}/")
    wait(page, "window.playground && s.frame !== null && s.options !== null")
    page.get_by_test_id("lessons-button").click()
    link = page.get_by_test_id(f"lesson-link-{lesson}")
    assert link.is_visible()
    if picture:
        screenshot(page, picture)
    assert (link.get_attribute("href") or "").startswith(f"#lesson={lesson}&")
    link.click()
    page.wait_for_function("() => document.body.dataset.start === 'reached'", timeout=TIMEOUT)
    notices = page.get_by_test_id("notices").inner_text()
    assert "ignored" not in notices, f"every value of the lesson's link is valid: {notices}"
    assert page.get_by_test_id("lesson-note").is_visible()
    assert js(page, "document.body.classList.contains('projector')"), "lessons pin projector mode"


def next_step(page: Any, number: int) -> None:
    """The teacher moves the script's highlight on to step ``number``."""
    page.get_by_test_id("lesson-next").click()
    assert page.get_by_test_id("lesson-note").get_attribute("data-current") == str(number)
    assert page.get_by_test_id(f"lesson-step-{number}").get_attribute("aria-current") == "step"


def settle(page: Any) -> None:
    """The last frame drawn and the phase's animation finished (for the picture)."""
    wait(page, "!s.dirty && s.animation.settled")
    page.wait_for_timeout(150)


def phase_step(page: Any, phase: str) -> None:
    """One press of “1 phase”; the strip lights ``phase``."""
    page.get_by_test_id("phase-step").click()
    wait(page, f"s.frame.phase === '{phase}' && !s.frame.running && !s.dirty")
    assert page.get_by_test_id("phase").get_attribute("data-current") == phase


def whole_step(page: Any) -> str:
    """One press of step (→); the Step panel's verdict of that step."""
    before = js(page, "s.frame.step")
    page.get_by_test_id("step").click()
    wait(page, f"s.frame.step > {before} && s.frame.landscape"
               " && s.frame.landscape.info.step === s.frame.step && !s.dirty")
    page.wait_for_function("() => document.querySelector('[data-testid=step-landscape]')"
                           ".dataset.verdict !== undefined", timeout=TIMEOUT)
    return str(page.get_by_test_id("step-landscape").get_attribute("data-verdict"))


def train_until(page: Any, steps: int) -> None:
    """Play (space bar's button) until the step counter passes ``steps``, then pause."""
    page.get_by_test_id("play").click()
    wait(page, f"s.frame.running && s.frame.step >= {steps}", timeout=30_000)
    page.get_by_test_id("play").click()
    wait(page, "!s.frame.running && !s.dirty")


def present(page: Any) -> str:
    """Present the session (the class card), then hide the card; the class code."""
    page.get_by_test_id("present").click()
    page.get_by_test_id("class-card").wait_for(state="visible", timeout=TIMEOUT)
    wait(page, "document.querySelector('[data-testid=class-code]').textContent.length === 6")
    code = str(page.get_by_test_id("class-code").inner_text())
    page.get_by_test_id("class-card-hide").click()
    assert page.get_by_test_id("forks").is_hidden()  # no forks yet: no list over the network
    return code


def explain_line(page: Any) -> str:
    return str(page.get_by_test_id("lesson-explain").inner_text())


def test_the_four_phases_lesson(page: Any) -> None:
    """Circle, one hidden layer of 3, paused at step 0 with a weight selected: each “1 phase”
    lights its phase with its picture and caption; the Loss tab opens at the loss; the
    Inspector's chain rule for the selected weight has the batch strip's shares adding up
    to ∂L/∂w; the update is −η·∂L/∂w; replay restarts the animation; training then fits the
    circle."""
    open_lesson(page, "phases", picture="lesson-menu")
    assert js(page, "s.serverState.selection") == {"layer": 1, "neuron": 0, "source": 1}
    assert js(page, "[s.frame.step, s.frame.phase, s.config.network.hidden_layers]") \
        == [0, None, [3]]
    assert page.get_by_test_id("phase").get_attribute("data-current") == "idle"
    assert js(page, "document.body.dataset.side") == "output"
    assert not page.get_by_test_id("datasets").is_visible(), "projector mode hides the data panel"
    assert js(page, "s.ui.pace") == 2
    settle(page)
    screenshot(page, "lesson-phases-1")

    next_step(page, 2)
    phase_step(page, "forward")
    caption = page.get_by_test_id("phase-caption").inner_text()
    assert "Forward pass" in caption and "focus point" in caption, caption
    settle(page)
    screenshot(page, "lesson-phases-2")

    next_step(page, 3)
    phase_step(page, "loss")
    wait(page, "document.body.dataset.side === 'loss'")
    result = page.get_by_test_id("loss-result")
    assert math.isclose(float(result.get_attribute("data-value")),
                        float(result.get_attribute("data-batch-loss")), rel_tol=1e-5)
    settle(page)
    screenshot(page, "lesson-phases-3")

    next_step(page, 4)
    phase_step(page, "backward")
    wait(page, "document.body.dataset.side === 'output'")
    settle(page)
    screenshot(page, "lesson-phases-4")

    next_step(page, 5)
    page.get_by_test_id("tab-inspector").click()
    wait(page, "document.body.dataset.side === 'inspector'")
    gradient = value(page, "inspector-gradient")
    assert math.isclose(value(page, "inspector-sum"), gradient, rel_tol=2e-5, abs_tol=1e-9)
    shares = page.locator("[data-testid=inspector-strip] .strip-dot").evaluate_all(
        "(dots) => dots.map((d) => Number(d.dataset.share))")
    assert len(shares) == 10 and math.isclose(sum(shares), gradient, rel_tol=2e-5, abs_tol=1e-9)
    settle(page)
    screenshot(page, "lesson-phases-5")

    next_step(page, 6)
    phase_step(page, "update")
    assert page.get_by_test_id("step-count").inner_text() == "1"
    wait(page, "document.body.dataset.side === 'inspector'")
    update = value(page, "inspector-update")
    assert page.get_by_test_id("inspector-update").get_attribute("data-optimizer") == "sgd"
    assert math.isclose(update, -0.3 * gradient, rel_tol=2e-5, abs_tol=1e-9), (update, gradient)
    settle(page)
    screenshot(page, "lesson-phases-6")

    next_step(page, 7)
    replays = js(page, "s.animation.replays")
    page.get_by_test_id("replay").click()
    wait(page, f"s.animation.replays === {replays + 1}")
    page.get_by_test_id("tab-output").click()
    train_until(page, 300)
    accuracy = js(page, "s.frame.testAccuracy")
    assert accuracy >= 0.9, f"the circle is fitted after 300 steps: test accuracy {accuracy}"
    settle(page)
    screenshot(page, "lesson-phases-7")
    assert explain_line(page).startswith("Students should now be able to explain")
    assert page.console_errors == []


def loss_rows(page: Any) -> tuple[list[list[float]], list[list[float]]]:
    """The loss chart's two curves: the previous run's [step, loss] and this run's."""
    return (js(page, "s.referenceLoss ? s.referenceLoss.rows : []"),
            js(page, "s.history.map((r) => [r[0], r[2]])"))


def loss_at(rows: list[list[float]], step: int) -> float:
    """The loss at the first row from ``step`` on, of the run's own rows (a frame of the
    previous run may come in after the rebuild: rows before the last drop of the step)."""
    start = max((k for k in range(1, len(rows)) if rows[k][0] < rows[k - 1][0]), default=0)
    return next(loss for at, loss in rows[start:] if at >= step)


def test_the_squared_error_or_cross_entropy_lesson(page: Any) -> None:
    """Circle on x1², x2² without hidden layers, seed 21: at step 0 point 1 is confidently
    wrong (p(own class) < 0.1) and cross-entropy's slope there is steeper than squared
    error's; cross-entropy then trains fast; switched to squared error (same seed, same
    start) the slope at point 1 is nearly 0 and after as many steps its loss has hardly
    moved, while the previous run's curve stays on the chart."""
    open_lesson(page, "loss")
    assert js(page, "[s.frame.step, s.frame.phase, s.config.network.loss]") == [0, "loss", "bce"]
    assert js(page, "document.body.dataset.side") == "loss"
    p_own = value(page, "loss-focus-marker", "data-p")
    assert p_own < 0.1, f"point 1 is confidently wrong: p(own class) = {p_own}"
    cross_entropy, squared = value(page, "loss-delta-bce"), value(page, "loss-delta-squared_error")
    assert abs(cross_entropy) > 2.5 * abs(squared), (cross_entropy, squared)
    assert page.get_by_test_id("loss").is_visible(), "the link keeps the loss menu (projector)"
    settle(page)
    screenshot(page, "lesson-loss-1")

    next_step(page, 2)
    assert page.get_by_test_id("loss-curve-bce").count() == 1
    assert page.get_by_test_id("loss-curve-squared_error").count() == 1
    screenshot(page, "lesson-loss-2")

    next_step(page, 3)
    page.get_by_test_id("tab-output").click()
    start_loss = js(page, "s.frame.trainLoss")
    train_until(page, 200)
    _, cross_entropy_run = loss_rows(page)
    assert loss_at(cross_entropy_run, 200) < 0.2 * start_loss, (start_loss, cross_entropy_run[-1])
    assert js(page, "s.frame.trainAccuracy") >= 0.8
    settle(page)
    screenshot(page, "lesson-loss-3")

    next_step(page, 4)
    page.get_by_test_id("loss").select_option("squared_error")
    wait(page, "s.config.network.loss === 'squared_error' && s.frame.step === 0 && s.referenceLoss")
    assert js(page, "s.referenceLoss.label").startswith("previous: ")
    settle(page)
    screenshot(page, "lesson-loss-4")

    next_step(page, 5)
    phase_step(page, "forward")
    phase_step(page, "loss")
    wait(page, "document.body.dataset.side === 'loss'")
    p_own = value(page, "loss-focus-marker", "data-p")
    assert p_own < 0.1, f"the same point, confidently wrong: p(own class) = {p_own}"
    squared, cross_entropy = value(page, "loss-delta-squared_error"), value(page, "loss-delta-bce")
    print(f"squared error: p(own class) {p_own}, δ {squared} (cross-entropy's: {cross_entropy})")
    assert abs(squared) < 0.1 * abs(cross_entropy), (squared, cross_entropy)
    settle(page)
    screenshot(page, "lesson-loss-5")

    next_step(page, 6)
    page.get_by_test_id("tab-output").click()
    squared_start = js(page, "s.frame.trainLoss")
    train_until(page, 200)
    previous, squared_run = loss_rows(page)
    assert loss_at(squared_run, 200) > 0.8 * squared_start, (squared_start, squared_run[-1])
    assert loss_at(previous, 200) < 0.1 * loss_at(previous, 0), "the cross-entropy curve stays"
    page.get_by_test_id("log-scale").check()
    wait(page, "s.ui.logScale && !s.dirty")
    settle(page)
    screenshot(page, "lesson-loss-6")
    assert explain_line(page).startswith("Students should now be able to explain")
    assert page.console_errors == []


def drag_rate_to(page: Any, rate: float) -> float:
    """Drag the learning-rate slider's thumb to ``rate``; the rate the server took."""
    slider = page.get_by_test_id("learning-rate")
    box = slider.bounding_box()
    position = float(slider.input_value())
    low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))

    def x_of(position: float) -> float:  # the thumb is ~16 px wide
        return float(box["x"] + 8 + (box["width"] - 16) * (position - low) / (high - low))

    y = box["y"] + box["height"] / 2
    page.mouse.move(x_of(position), y)
    page.mouse.down()
    for k in range(1, 6):
        page.mouse.move(x_of(position + (math.log10(rate) - position) * k / 5), y)
    page.mouse.up()
    wait(page, "Math.abs(Math.log10(s.serverState.hyper.learning_rate)"
               " - Number(document.querySelector('[data-testid=learning-rate]').value)) < 0.011")
    return float(js(page, "s.serverState.hyper.learning_rate"))


def test_the_learning_rate_lesson(page: Any) -> None:
    """Regression plane, seed 0, at η = 0.003: the Step panel says undershoot; at η = 1 about
    right; dragged to 3 the step overshoots and playing diverges with a banner; its remedy
    gives η = 0.3 at step 0; a sweep of 0.003, 0.03, 0.3, 3 ends lowest at 0.3 while 3
    diverges."""
    open_lesson(page, "rate")
    assert js(page, "[s.frame.step, s.serverState.hyper.learning_rate]") == [0, 0.003]
    assert js(page, "document.body.dataset.side") == "step"
    assert page.get_by_test_id("sweep-rates").input_value() == "0.003, 0.03, 0.3, 3"
    verdicts = [whole_step(page) for _ in range(3)]
    assert verdicts[-1] == "undershoot", verdicts
    assert "short of the valley" in page.get_by_test_id("step-verdict").inner_text()
    screenshot(page, "lesson-rate-1")

    next_step(page, 2)
    page.get_by_test_id("learning-rate-value").click()
    field = page.get_by_test_id("learning-rate-input")
    field.fill("1")
    field.press("Enter")
    wait(page, "s.serverState.hyper.learning_rate === 1")
    verdicts = [whole_step(page) for _ in range(2)]
    assert verdicts[-1] == "about right", verdicts
    arithmetic = page.get_by_test_id("step-arithmetic").inner_text()
    assert arithmetic.startswith("step length ‖Δθ‖ = η · ‖g‖ = 1 × "), arithmetic
    screenshot(page, "lesson-rate-2")

    next_step(page, 3)
    rate = drag_rate_to(page, 3)
    assert 2.5 < rate < 3.5, rate
    verdict = whole_step(page)
    assert verdict in ("overshoot", "divergence"), verdict
    screenshot(page, "lesson-rate-3")

    next_step(page, 4)
    page.get_by_test_id("play").click()
    banner = page.get_by_test_id("divergence-banner")
    banner.wait_for(state="visible", timeout=TIMEOUT)
    assert "Diverged at step" in banner.inner_text()
    settle(page)
    screenshot(page, "lesson-rate-4")

    next_step(page, 5)
    page.get_by_test_id("recover").click()
    wait(page, "Math.abs(s.serverState.hyper.learning_rate - 0.3) < 0.01 && s.frame.step === 0")
    banner.wait_for(state="hidden", timeout=TIMEOUT)
    settle(page)
    screenshot(page, "lesson-rate-5")

    next_step(page, 6)
    present(page)
    page.get_by_test_id("lesson-toggle").click()  # the script folds: the sweep gets the room
    assert not page.get_by_test_id("lesson-next").is_visible()
    page.get_by_test_id("sweep-toggle").click()
    wait(page, "s.frame.sweep && s.frame.sweep.runs.length === 4 && !s.dirty")
    assert page.locator(".sweep-tile").count() == 4
    page.get_by_test_id("ask").click()
    page.get_by_test_id("ask-steps").fill("300")
    page.get_by_test_id("ask-sweep_winner").click()
    wait(page, "s.serverState.question && s.serverState.question.status === 'open'")
    card = page.get_by_test_id("question-card")
    card.get_by_text("300", exact=False).first.wait_for(timeout=TIMEOUT)  # drawn next frame
    screenshot(page, "lesson-rate-6")

    # step 7 (the script still folded): the reveal runs the 300 steps; read the tiles
    page.locator("[data-testid=question-card] button[data-action=reveal]").click()
    page.get_by_test_id("question-truth").wait_for(timeout=30_000)
    wait(page, "s.frame.step >= 300 && !s.frame.running && !s.dirty")
    truth = page.get_by_test_id("question-truth").inner_text()
    assert "η = 0.3" in truth, truth
    runs = js(page, "s.frame.sweep.runs.map((r) => [r.learningRate, r.trainLoss, r.diverged])")
    rates = [float(f"{run[0]:.3g}") for run in runs]  # float32 in the frame
    assert rates == [0.003, 0.03, 0.3, 3], rates
    assert runs[3][2], "η = 3 diverged"
    assert "diverged" in page.get_by_test_id("sweep-run-3").inner_text()
    alive = [run for run in runs if not run[2]]
    winner = min(alive, key=lambda run: run[1])
    assert math.isclose(winner[0], 0.3, rel_tol=1e-6), runs
    settle(page)
    screenshot(page, "lesson-rate-7")
    page.get_by_test_id("lesson-toggle").click()
    next_step(page, 7)
    assert explain_line(page).startswith("Students should now be able to explain")
    assert page.console_errors == []


def test_the_lessons_menu_works_from_the_keyboard(page: Any) -> None:
    """Enter on the Lessons button opens the list, Tab reaches the lessons' links (real links
    to copy), Escape closes it and gives the focus back to the button."""
    page.goto(f"{page.base_url}/")
    wait(page, "s.frame !== null")
    page.get_by_test_id("lessons-button").focus()
    page.keyboard.press("Enter")
    assert page.get_by_test_id("lessons-menu").get_attribute("open") is not None
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.dataset.testid")
    assert focused == "lesson-link-phases", focused
    assert page.evaluate("() => document.activeElement.tagName") == "A"
    page.keyboard.press("Escape")
    assert page.get_by_test_id("lessons-menu").get_attribute("open") is None
    assert page.evaluate("() => document.activeElement.dataset.testid") == "lessons-button"


def test_a_reload_keeps_the_lessons_run_and_its_place_in_the_script(page: Any) -> None:
    """A reload in the middle of a lesson goes on where it was: the same session at the same
    step (the link's start is not run again) and the script's highlight on the same step."""
    open_lesson(page, "loss")
    next_step(page, 2)
    next_step(page, 3)
    phase_step(page, "backward")
    session = page.evaluate("() => window.playground.connection.session.id")
    page.reload()
    page.wait_for_function("() => document.body.dataset.start === 'kept'", timeout=TIMEOUT)
    assert page.evaluate("() => window.playground.connection.session.id") == session
    assert js(page, "[s.frame.step, s.frame.phase]") == [0, "backward"]
    assert page.get_by_test_id("lesson-note").get_attribute("data-current") == "3"


def test_a_tailored_link_refuses_bad_start_values_with_a_notice(page: Any) -> None:
    """A hand-edited link: a start value that is not valid (an unknown phase, a weight the
    network does not have) is ignored with a notice naming it; the rest of the link applies."""
    page.goto(f"{page.base_url}/#layers=2&phase=sideways&select=5:0:0&tab=loss&pace=2")
    page.wait_for_function("() => document.body.dataset.start === 'reached'", timeout=TIMEOUT)
    notices = page.get_by_test_id("notices").inner_text()
    assert "phase=sideways" in notices, notices
    assert "choose forward, loss, backward or update" in notices, notices
    assert "select=5:0:0" in notices and "no such weight" in notices, notices
    shown = js(page, "[s.frame.phase, s.serverState.selection, document.body.dataset.side,"
                     " s.ui.pace]")
    assert shown == [None, None, "loss", 2], shown


PHONE = {"width": 390, "height": 844}


def phone_viewer(browser: Any, base_url: str, code: str) -> tuple[Any, Any]:
    """A student's phone (its own browser context) at /join/CODE, past its first frame."""
    contexts: list[Any] = []
    tab = console_tab(browser, contexts, PHONE, is_mobile=True, has_touch=True)
    tab.goto(f"{base_url}/join/{code}")
    tab.wait_for_function("() => window.playground?.store.role === 'viewer'"
                          " && window.playground.store.frame !== null", timeout=TIMEOUT)
    return contexts[0], tab


def test_a_class_follows_a_lesson_from_present_to_export(page: Any, browser: Any) -> None:
    """The teacher's guide, step by step (docs/teaching-*.png): a lesson opened and presented
    shows the join link, code and QR code; a phone that joins follows the lesson's run (its
    selection, each phase) without the teacher's script; pace and replay change only the
    presenter's animation; ending the class tells the phone; the run exports as JSON."""
    open_lesson(page, "phases")
    page.get_by_test_id("present").click()
    card = page.get_by_test_id("class-card")
    card.wait_for(state="visible", timeout=TIMEOUT)
    wait(page, "document.querySelector('[data-testid=class-code]').textContent.length === 6")
    code = page.get_by_test_id("class-code").inner_text()
    assert code in page.get_by_test_id("class-link").inner_text()
    assert page.get_by_test_id("class-qr").get_attribute("src")
    context, phone = phone_viewer(browser, page.base_url, code)
    try:
        wait(page, "document.querySelector('[data-testid=viewer-count]').textContent === '1'")
        settle(page)
        screenshot(page, "teaching-present")
        assert phone.evaluate("() => window.playground.store.serverState.selection") \
            == {"layer": 1, "neuron": 0, "source": 1}
        assert not phone.get_by_test_id("lesson-note").is_visible(), "the script is the teacher's"
        assert not phone.get_by_test_id("lessons-menu").is_visible()
        phone.wait_for_timeout(300)
        phone.screenshot(path=str(ROOT / "docs" / "screenshots" / "teaching-phone.png"))

        page.get_by_test_id("class-card-hide").click()
        phase_step(page, "forward")
        phone.wait_for_function("() => window.playground.store.frame.phase === 'forward'",
                                timeout=TIMEOUT)
        page.get_by_test_id("pace").select_option("3")
        replays = js(page, "s.animation.replays")
        page.get_by_test_id("replay").click()
        wait(page, f"s.animation.replays >= {replays + 1} && s.animation.seconds === 3")
        assert phone.evaluate("() => window.playground.store.ui.pace") != 3, "the page's own pace"
        page.wait_for_timeout(1200)  # mid-animation (3 s): the focus point on its way
        screenshot(page, "teaching-pace")

        phase_step(page, "loss")
        settle(page)
        screenshot(page, "teaching-projector")
        assert phone.evaluate("() => document.body.classList.contains('projector')"), \
            "viewers follow projector mode"

        phase_step(page, "backward")
        page.get_by_test_id("ask").click()
        page.get_by_test_id("ask-weight_direction").click()
        phone.get_by_test_id("answer-up").click()
        wait(page, "document.querySelector('[data-testid=question-card]').textContent"
                   ".includes('1 · 100 %')")
        page.locator("[data-testid=question-card] button[data-action=reveal]").click()
        phone.get_by_test_id("question-truth").wait_for(timeout=TIMEOUT)
        wait(page, "s.frame.phase === 'update' && !s.dirty")
        change = value(page, "inspector-update")
        truth = phone.get_by_test_id("question-truth").inner_text()
        word = "up" if change > 0 else "down"
        assert truth.startswith("Truth: ") and word in truth.split("—")[0], (truth, change)
        assert ("not this time" in truth) == (word != "up"), truth  # the phone answered up
        settle(page)
        screenshot(page, "teaching-ask")
        page.locator("[data-testid=question-card] button[data-action=close]").click()

        forker, student = phone_viewer(browser, page.base_url, code)  # a second student forks
        try:
            student.get_by_test_id("fork").click()
            student.wait_for_function("() => window.playground?.store.role === 'presenter'"
                                      " && window.playground.store.frame !== null", timeout=TIMEOUT)
            page.get_by_test_id("spotlight-1").click(timeout=TIMEOUT)
            page.get_by_test_id("spotlight-frame").wait_for(timeout=TIMEOUT)
            assert "Fork 1" in page.get_by_test_id("spotlight-title").inner_text()
            shown = page.get_by_test_id("spotlight-frame").element_handle().content_frame()
            shown.wait_for_function("() => window.playground?.store.frame !== null"
                                    " && !window.playground.store.dirty", timeout=TIMEOUT)
            page.wait_for_timeout(300)
            screenshot(page, "teaching-spotlight")
            page.get_by_test_id("spotlight-back").click()
            page.get_by_test_id("spotlight-frame").wait_for(state="detached", timeout=TIMEOUT)
        finally:
            forker.close()

        page.get_by_test_id("present").click()  # “Class CODE · 1”: the card again
        card.wait_for(state="visible", timeout=TIMEOUT)
        page.get_by_test_id("end-class").click()
        phone.get_by_test_id("class-banner").wait_for(state="visible", timeout=TIMEOUT)
        assert "ended" in phone.get_by_test_id("class-banner").inner_text()
        phone.wait_for_timeout(300)
        phone.screenshot(path=str(ROOT / "docs" / "screenshots" / "teaching-end.png"))
        assert phone.console_errors == []
    finally:
        context.close()

    page.get_by_test_id("projector-toggle").click()
    wait(page, "!document.body.classList.contains('projector')")
    page.get_by_test_id("export-json").wait_for(state="visible", timeout=TIMEOUT)
    with page.expect_download() as download:
        page.get_by_test_id("export-json").click()
    saved = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert saved["trainer"]["config"]["data"]["dataset"] == "circle"
    settle(page)
    screenshot(page, "teaching-export")
    assert page.console_errors == []


def lesson_definitions() -> list[dict[str, Any]]:
    """frontend/lessons.js's LESSONS with each one's link, as node reads them."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node (>= 20) is not on PATH")
    script = ("Promise.all([import('./frontend/lessons.js'), import('./frontend/links.js')])"
              ".then(([l, k]) => console.log(JSON.stringify("
              "l.LESSONS.map((x) => ({...x, href: k.linkFor(x.link)})))))")
    result = subprocess.run([node, "--input-type=module", "-e", script], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=True)
    return list(json.loads(result.stdout))


def test_docs_lessons_md_carries_each_script_as_the_page_shows_it() -> None:
    """docs/lessons.md has every lesson's link, each step's what-to-click, what-to-say,
    what-they-see and question, its picture, and the last line, as lessons.js has them (one
    script, not two that drift apart)."""
    doc = (ROOT / "docs" / "lessons.md").read_text(encoding="utf-8")
    lessons = lesson_definitions()
    assert [lesson["id"] for lesson in lessons] == ["phases", "loss", "rate"]
    for lesson in lessons:
        assert lesson["href"] in doc, lesson["id"]
        assert lesson["explain"] in doc
        assert lesson["explain"].startswith("Students should now be able to explain")
        for number, step in enumerate(lesson["steps"], start=1):
            for part in ("do", "say", "see", "ask"):
                if part in step:
                    assert step[part] in doc, (lesson["id"], number, part)
            assert f"screenshots/lesson-{lesson['id']}-{number}.png" in doc
            assert (ROOT / "docs" / "screenshots" / f"lesson-{lesson['id']}-{number}.png").exists()
