"""The playground page in headless Chromium: it loads, trains, follows the slider, walks the
phases, explains a gradient with the server's own numbers, and reads from the back row."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import numpy as np
from e2e_helpers import edge_point, screenshot

from backprop_playground.trainer import restore

TIMEOUT = 15_000


def open_page(page: Any, fragment: str = "") -> None:
    page.goto(f"{page.base_url}/{fragment}")
    page.wait_for_function("() => window.playground && window.playground.store.frame !== null",
                           timeout=TIMEOUT)


def number(page: Any, testid: str) -> float:
    text = page.get_by_test_id(testid).inner_text().replace("−", "-")
    return float(text)


def store(page: Any, expression: str) -> Any:
    return page.evaluate(f"() => {{ const s = window.playground.store; return {expression}; }}")


def session_id(page: Any) -> str:
    return page.evaluate("() => window.playground.connection.session.id")


def text_of(testid: str) -> str:
    """JavaScript for the text of the element with this test id."""
    return f"document.querySelector('[data-testid={testid}]').textContent"


def wait_for_step(page: Any, minimum: int) -> None:
    page.wait_for_function(f"() => Number({text_of('step-count')}) >= {minimum}",
                           timeout=TIMEOUT)


def test_page_loads_without_console_errors(page: Any) -> None:
    """The default view renders a first frame and logs no error."""
    open_page(page)
    page.wait_for_timeout(500)
    assert page.console_errors == []
    for testid in ("play", "step", "phase-step", "reset", "learning-rate", "step-count",
                   "epoch-count", "loss-train", "phase", "network", "output-map", "inspector",
                   "projector-toggle"):
        assert page.get_by_test_id(testid).count() == 1, testid
    assert page.get_by_test_id("step-count").inner_text() == "0"
    screenshot(page, "default-view")


def test_play_trains_and_the_loss_changes(page: Any) -> None:
    """Play makes the step counter rise and the training loss change; pause stops it."""
    open_page(page)
    loss_before = page.get_by_test_id("loss-train").inner_text()
    page.get_by_test_id("play").click()
    wait_for_step(page, 60)
    assert page.get_by_test_id("loss-train").inner_text() != loss_before
    page.get_by_test_id("play").click()
    page.wait_for_function(  # paused, and the counter shows the last frame (one rAF later)
        "() => !window.playground.store.frame.running && "
        f"Number({text_of('step-count')}) === window.playground.store.frame.step",
        timeout=TIMEOUT)
    stopped = number(page, "step-count")
    page.wait_for_timeout(400)
    assert number(page, "step-count") == stopped
    screenshot(page, "training")
    assert page.console_errors == []


def test_learning_rate_slider_changes_the_server_rate_without_reset(page: Any) -> None:
    """Moving the slider sets the server's learning rate live (ack shown); training goes on
    from where it was."""
    open_page(page)
    page.get_by_test_id("play").click()
    wait_for_step(page, 30)
    slider = page.get_by_test_id("learning-rate")
    slider.fill("-0.5")  # log10(η): η ≈ 0.32
    slider.dispatch_event("change")
    page.wait_for_function(f"() => {text_of('learning-rate-ack')}.includes('step')",
                           timeout=TIMEOUT)
    ack_text = page.get_by_test_id("learning-rate-ack").inner_text()
    ack_step = int(re.search(r"step (\d+)", ack_text).group(1))
    assert ack_step > 30
    page.wait_for_function(
        "() => Math.abs(window.playground.store.frame.learningRate - 0.32) < 1e-3", timeout=TIMEOUT)
    info = json.load(urllib.request.urlopen(f"{page.base_url}/api/sessions/{session_id(page)}"))
    assert info["config"]["hyper"]["learning_rate"] == 0.32
    assert info["step"] >= ack_step - 1  # not reset
    assert page.get_by_test_id("learning-rate-value").inner_text() == "0.32"


def test_phase_step_walks_the_four_phases(page: Any) -> None:
    """Phase-step lights forward, loss, backward, update in turn, each with its caption."""
    open_page(page)
    strip = page.get_by_test_id("phase")
    seen = []
    for expected in ("forward", "loss", "backward", "update"):
        page.get_by_test_id("phase-step").click()
        page.wait_for_function(
            f"() => document.querySelector('[data-testid=phase]').dataset.current === '{expected}'",
            timeout=TIMEOUT)
        active = strip.locator("li.active")
        assert active.get_attribute("data-phase") == expected
        seen.append(page.get_by_test_id("phase-caption").inner_text())
        if expected == "backward":
            page.wait_for_timeout(700)  # mid-flow: pulses travelling back
            screenshot(page, "backward-phase")
    assert "Forward pass" in seen[0] and "Loss" in seen[1]
    assert "Backward pass" in seen[2] and "Update" in seen[3]
    assert number(page, "step-count") == 1
    assert page.console_errors == []


def test_inspector_chain_rule_matches_the_server_gradient(page: Any) -> None:
    """Clicking an edge shows dL/dw = dL/da · da/dz · dz/dw with numbers, and the gradient
    equals the one the trainer computes for that weight in the same step."""
    open_page(page)
    before = json.load(urllib.request.urlopen(urllib.request.Request(  # with the page's token
        f"{page.base_url}/api/sessions/{session_id(page)}/snapshot",
        headers={"Authorization": "Bearer " + page.evaluate(
            "() => window.playground.connection.credential()")})))
    x, y = edge_point(page, 1, 0, 1)  # hidden 1, neuron 1 → hidden 2, neuron 0
    page.mouse.click(x, y)
    page.wait_for_function("() => window.playground.store.serverState?.selection !== null",
                           timeout=TIMEOUT)
    page.get_by_test_id("step").click()
    wait_for_step(page, 1)
    page.wait_for_function(
        "() => window.playground.store.frame.selection?.samples.length > 0", timeout=TIMEOUT)
    inspector = page.get_by_test_id("inspector")
    text = inspector.inner_text()
    assert "dL/dw" in text or "∂L/∂w" in text
    shown = float(inspector.get_by_test_id("inspector-gradient").get_attribute("data-value"))
    trainer = restore(before["trainer"])
    trainer.step()
    expected = trainer.tensors().layers[1].grad_weights[0, 1]
    assert np.isclose(shown, expected, rtol=1e-5, atol=1e-8), (shown, expected)
    screenshot(page, "inspector")
    assert page.console_errors == []


def test_projector_mode_enlarges_text_and_hides_secondary_controls(page: Any) -> None:
    """Projector mode: body text ≥ 18 px, secondary controls hidden, flag kept in the URL."""
    open_page(page)
    size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    page.get_by_test_id("projector-toggle").click()
    big = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert big >= 18 > size
    assert not page.get_by_test_id("optimizer").is_visible()
    assert "projector=1" in page.url
    page.get_by_test_id("play").click()
    wait_for_step(page, 40)
    screenshot(page, "projector-mode")
    page.goto(page.url)  # the URL flag alone turns it on
    page.wait_for_function("() => document.body.classList.contains('projector')", timeout=TIMEOUT)


def test_divergence_shows_the_banner_and_recovers(page: Any) -> None:
    """A learning rate far too large makes the run diverge: a banner says so, and one click
    lowers the rate and resets."""
    open_page(page)
    page.get_by_test_id("dataset-plane").click()
    page.wait_for_function("() => window.playground.store.config.network.problem === 'regression'",
                           timeout=TIMEOUT)
    page.get_by_test_id("activation").select_option("relu")
    page.wait_for_function("() => window.playground.store.config.network.activation[0] === 'relu'",
                           timeout=TIMEOUT)
    slider = page.get_by_test_id("learning-rate")
    slider.fill("1")  # η = 10
    slider.dispatch_event("change")
    page.wait_for_function("() => window.playground.store.frame.learningRate > 9", timeout=TIMEOUT)
    page.get_by_test_id("play").click()
    banner = page.get_by_test_id("divergence-banner")
    banner.wait_for(state="visible", timeout=TIMEOUT)
    assert "Diverged at step" in banner.inner_text()
    screenshot(page, "divergence")
    page.get_by_test_id("recover").click()
    banner.wait_for(state="hidden", timeout=TIMEOUT)
    page.wait_for_function("() => window.playground.store.frame.learningRate < 1.5",
                           timeout=TIMEOUT)
    page.wait_for_function(f"() => {text_of('step-count')} === '0'", timeout=TIMEOUT)
    assert page.console_errors == []
