"""Live point edits in the browser: clicking the output plot while training adds a point and
training goes on (the step counter keeps rising, it is not reset to 0), the loss chart
marks the edit "data", and the page shows the training rate it really gets."""

from __future__ import annotations

from typing import Any

from e2e_helpers import screenshot

TIMEOUT = 15_000


def _step(page: Any) -> int:
    return int(page.get_by_test_id("step-count").inner_text())


def test_a_click_while_training_adds_a_point_and_training_goes_on(page: Any) -> None:
    """Play, click the plot: the new point is in the data, the step counter never falls
    back, training continues past the edit, and the loss chart has a "data" mark; an
    alt-click erases a point, and training goes on again."""
    page.goto(page.base_url + "/")
    page.wait_for_function("() => window.playground?.store.frame", timeout=TIMEOUT)
    page.get_by_test_id("play").click()
    page.wait_for_function("() => window.playground.store.frame.step > 40", timeout=TIMEOUT)
    before = _step(page)
    n_train = page.evaluate("() => window.playground.store.data.train.length")
    box = page.get_by_test_id("output-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.7)
    page.wait_for_function(f"() => window.playground.store.data.train.length === {n_train + 1}",
                           timeout=TIMEOUT)
    page.wait_for_function("() => window.playground.store.serverState.data_changes.length === 1",
                           timeout=TIMEOUT)
    edit = page.evaluate("() => window.playground.store.serverState.data_changes[0]")
    assert edit > before
    page.wait_for_function(f"() => window.playground.store.frame.step > {edit + 30}",
                           timeout=TIMEOUT)
    assert page.evaluate("() => window.playground.store.frame.running")
    assert _step(page) > edit + 30
    page.get_by_test_id("training-rate").filter(has_text="getting").wait_for(timeout=TIMEOUT)
    rate = page.get_by_test_id("training-rate").inner_text()
    assert rate.startswith("asked ") and " steps/s · getting " in rate
    page.wait_for_function(
        "() => window.playground.charts.loss.marks.some(m => m.text === 'data')", timeout=TIMEOUT)
    marks = page.evaluate("() => window.playground.charts.loss.marks")
    assert any(m["text"] == "data" and m["step"] == edit for m in marks)
    screenshot(page, "live-points")
    page.keyboard.down("Alt")  # alt-click the same place: the point is erased, live too
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.7)
    page.keyboard.up("Alt")
    page.wait_for_function("() => window.playground.store.serverState.data_changes.length === 2",
                           timeout=TIMEOUT)
    assert page.evaluate("() => window.playground.store.frame.running")
    assert _step(page) > edit
    assert page.console_errors == []
