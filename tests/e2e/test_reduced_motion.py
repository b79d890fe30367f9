"""prefers-reduced-motion in Chromium: a phase picture shows its last picture at once (its
animation lasts 0 s, nothing is redrawn afterwards while the page is idle) and, while the
net trains, the gradient flow stands still (no per-frame flow overlay); without the
setting the phase animation lasts the chosen pace and the flow moves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import console_tab

TIMEOUT = 15_000


@pytest.fixture(params=["reduce", "no-preference"])
def tab(request: Any, browser: Any, server_url: str) -> Iterator[Any]:
    """A page at 1280×720 with the reduced-motion preference emulated (or not)."""
    contexts: list[Any] = []
    page = console_tab(browser, contexts, {"width": 1280, "height": 720},
                       reduced_motion=request.param)
    page.reduced = request.param == "reduce"
    page.goto(f"{server_url}/")
    page.wait_for_function("() => window.playground?.store.frame"
                           " && window.playground.store.options", timeout=TIMEOUT)
    yield page
    contexts[0].close()


def js(page: Any, expression: str) -> Any:
    return page.evaluate(f"() => {{ const s = window.playground.store;"
                         f" const n = window.playground.network; return {expression}; }}")


def test_phase_pictures_follow_the_motion_preference(tab: Any) -> None:
    """Reduced motion: the phase animation lasts 0 s, its picture is complete on the first
    draw and the network is not painted again while nothing changes; otherwise it lasts the
    pace and is still on its way right after the phase-step."""
    page = tab
    assert js(page, "s.ui.reducedMotion") is page.reduced
    pace = js(page, "s.ui.pace")
    page.get_by_test_id("phase-step").click()
    page.wait_for_function("() => window.playground.store.frame.phase === 'forward'"
                           " && !window.playground.store.dirty", timeout=TIMEOUT)
    seconds, progress = js(page, "[s.animation.seconds, n.animation.progress]")
    if page.reduced:
        assert seconds == 0
        assert progress == 1, "the last picture at once"
        painted = js(page, "n.paints")
        time.sleep(0.5)
        assert js(page, "n.paints") == painted, "an idle page paints nothing"
    else:
        assert seconds == pace
        assert progress < 1, "the forward wave is on its way"
    assert page.console_errors == []


def test_the_training_flow_follows_the_motion_preference(tab: Any) -> None:
    """While training, reduced motion draws no moving flow overlay (the picture changes only
    with the frames); otherwise the flow marks are drawn anew on animation frames."""
    page = tab
    page.get_by_test_id("play").click()
    page.wait_for_function("() => window.playground.store.frame.running", timeout=TIMEOUT)
    flow0, paints0, rendered0 = js(page, "[n.flowDraws, n.paints, s.framesRendered]")
    time.sleep(1.0)
    flow1, paints1, rendered1 = js(page, "[n.flowDraws, n.paints, s.framesRendered]")
    page.get_by_test_id("play").click()
    assert rendered1 > rendered0 and paints1 > paints0, "the frames are drawn"
    if page.reduced:
        assert flow1 == flow0 == 0
        assert js(page, "n.flowMarks") > 0, "the flow is shown, standing still"
    else:
        assert flow1 - flow0 >= paints1 - paints0 > 0
    assert page.console_errors == []
