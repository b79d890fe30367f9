"""Crisp canvases in Chromium: every canvas the views draw has a backing store of its
displayed size × devicePixelRatio — after the window is resized, after a selection is
cleared while paused (the inspector closes and the network grows), after a tab switch — at
devicePixelRatio 1 and 2; the network's + / − buttons sit where the drawn layout puts its
columns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import console_tab, edge_point, screenshot

TIMEOUT = 15_000

#: every visible canvas, the data-set tiles' previews too (named "tile")
SIZES = """() => [...document.querySelectorAll('canvas')]
    .filter((c) => c.isConnected && c.clientWidth > 0 && c.clientHeight > 0)
    .map((c) => ({ name: c.dataset.testid || c.id || (c.closest('.dataset') && 'tile')
                   || c.parentElement?.className || 'canvas',
                   width: c.width, height: c.height, cssWidth: c.clientWidth,
                   cssHeight: c.clientHeight, ratio: window.devicePixelRatio }))"""

FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


@pytest.fixture(params=[1, 2], ids=["dpr1", "dpr2"])
def tab(request: Any, browser: Any, server_url: str) -> Iterator[Any]:
    """A page at 1280×720 with devicePixelRatio 1 or 2, console errors collected."""
    contexts: list[Any] = []
    page = console_tab(browser, contexts, {"width": 1280, "height": 720},
                       device_scale_factor=request.param)
    page.ratio = request.param
    page.goto(f"{server_url}/")
    page.wait_for_function("() => window.playground?.store.frame"
                           " && window.playground.store.options", timeout=TIMEOUT)
    yield page
    contexts[0].close()


def settle(page: Any) -> None:
    """Until the store has been drawn and two more animation frames have passed."""
    page.wait_for_function("() => !window.playground.store.dirty", timeout=TIMEOUT)
    page.evaluate(FRAMES)
    page.wait_for_function("() => !window.playground.store.dirty", timeout=TIMEOUT)
    page.evaluate(FRAMES)


def assert_crisp(page: Any, when: str, expect: set[str]) -> None:
    """Each visible canvas: width, height = round(client size × devicePixelRatio)."""
    canvases = page.evaluate(SIZES)
    names = {c["name"] for c in canvases}
    assert expect <= names, f"{when}: missing {expect - names}"
    for c in canvases:
        assert c["ratio"] == page.ratio
        want = (round(c["cssWidth"] * c["ratio"]), round(c["cssHeight"] * c["ratio"]))
        assert (c["width"], c["height"]) == want, f"{when}: {c['name']} {c}"


def assert_network_matches(page: Any) -> None:
    """The network's layout is the canvas's size, and each + / − pair sits over its column."""
    layout, pairs = page.evaluate("""() => {
        const v = window.playground.network;
        const pairs = [...document.querySelectorAll('#neuron-buttons .pair')]
            .map((p) => parseFloat(p.style.left));
        return [{ width: v.layout.width, height: v.layout.height, cssWidth: v.canvas.clientWidth,
                  cssHeight: v.canvas.clientHeight,
                  columns: v.layout.columns.slice(1, -1).map((c) => c[0].x) }, pairs];
    }""")
    assert (layout["width"], layout["height"]) == (layout["cssWidth"], layout["cssHeight"])
    assert pairs == pytest.approx(layout["columns"], abs=0.01)


def test_canvases_follow_their_displayed_size(tab: Any) -> None:
    """At load, after a resize, after a selection is cleared while paused, after a box
    changed while the page is idle and after a tab switch, every canvas is drawn at its
    displayed size × devicePixelRatio."""
    page = tab
    views = {"network", "output-map"}
    settle(page)
    assert_crisp(page, "at load", views | {"tile"})
    assert_network_matches(page)

    page.set_viewport_size({"width": 1100, "height": 700})
    settle(page)
    assert_crisp(page, "after a resize", views)
    assert_network_matches(page)

    page.get_by_test_id("step").click()
    page.wait_for_function("() => window.playground.store.frame.step >= 1", timeout=TIMEOUT)
    page.mouse.click(*edge_point(page, 1, 0, 1))
    page.wait_for_function("() => window.playground.store.serverState?.selection?.layer === 1",
                           timeout=TIMEOUT)
    settle(page)
    assert_crisp(page, "with a selection", {"network"})
    before = page.evaluate("() => window.playground.network.canvas.clientHeight")
    page.get_by_test_id("inspector-close").click()
    page.wait_for_function("() => window.playground.store.serverState.selection === null",
                           timeout=TIMEOUT)
    settle(page)
    after = page.evaluate("() => window.playground.network.canvas.clientHeight")
    print(f"network height {before} px with the inspector, {after} px after deselecting")
    assert_crisp(page, "after deselecting while paused", views)
    assert_network_matches(page)

    # a box changes and nothing else happens (no frame, no window resize): redrawn anyway
    page.evaluate("""() => {
        document.querySelector('.network-stage').style.marginRight = '90px';
        document.querySelector('#output-map').style.maxWidth = '70%';
    }""")
    settle(page)
    assert_crisp(page, "after the boxes changed while idle", views)
    assert_network_matches(page)
    page.evaluate("""() => {
        document.querySelector('.network-stage').style.marginRight = '';
        document.querySelector('#output-map').style.maxWidth = '';
    }""")

    page.get_by_test_id("tab-step").click()
    settle(page)
    assert_crisp(page, "on the step tab", {"network", "step-plot"})
    page.get_by_test_id("tab-output").click()
    settle(page)
    assert_crisp(page, "back on the output tab", views)
    screenshot(page, f"canvas_size_dpr{page.ratio}")
    assert page.console_errors == []
