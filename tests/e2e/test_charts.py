"""The charts in Chromium (uPlot, vendored): they draw the run as it trains with the current
values in their legends, follow the log-scale toggle, mark learning-rate changes, keep the
size of their containers and grow in projector mode."""

from __future__ import annotations

from typing import Any

from e2e_helpers import screenshot

TIMEOUT = 15_000
CHARTS = {"loss": "loss-chart", "accuracy": "accuracy-chart", "gradient": "gradient-chart",
          "updateRatio": "update-ratio-chart"}


def open_page(page: Any, fragment: str = "") -> None:
    page.goto(f"{page.base_url}/{fragment}")
    page.wait_for_function("() => window.playground && window.playground.store.frame !== null",
                           timeout=TIMEOUT)


def train(page: Any, steps: int) -> None:
    """Play until `steps` steps are done, then pause and wait for the paused frame's draw."""
    page.get_by_test_id("play").click()
    page.wait_for_function(f"() => window.playground.store.frame.step >= {steps}",
                           timeout=TIMEOUT)
    page.get_by_test_id("play").click()
    page.wait_for_function(
        "() => !window.playground.store.frame.running && !window.playground.store.dirty",
        timeout=TIMEOUT)


def chart(page: Any, name: str, expression: str) -> Any:
    """Evaluate `expression` with `c` bound to the chart `name` (window.playground.charts)."""
    return page.evaluate(
        f"() => {{ const c = window.playground.charts.{name}; return {expression}; }}")


def test_charts_draw_the_run_with_the_current_values_in_their_legends(page: Any) -> None:
    """Every chart is a uPlot canvas filling its container; the loss legend shows the latest
    training loss (as the counter does), accuracy is in percent, and the per-layer charts draw
    one line per layer (2 hidden layers + output), the update ratios included."""
    open_page(page)
    train(page, 300)  # at the default 5 steps per frame: ≥ 30 frames, one history point each
    for name, testid in CHARTS.items():
        box = page.locator(f"[data-testid={testid}] canvas").first.bounding_box()
        plot = chart(page, name, "[c.host.clientWidth, c.host.clientHeight]")
        assert box is not None and box["width"] > 60 and box["height"] > 40, name
        assert abs(box["width"] - plot[0]) <= 1 and abs(box["height"] - plot[1]) <= 1, name
    legend = page.get_by_test_id("loss-legend").inner_text()
    assert page.get_by_test_id("loss-train").inner_text() in legend
    assert "%" in page.get_by_test_id("accuracy-legend").inner_text()
    lines = {name: chart(page, name, "c.plot.series.length - 1") for name in CHARTS}
    assert lines == {"loss": 2, "accuracy": 2, "gradient": 3, "updateRatio": 3}
    ratios = page.evaluate("() => window.playground.store.updateRatioHistory")
    assert len(ratios) >= 30 and all(len(entry["values"]) == 3 for entry in ratios)
    assert chart(page, "updateRatio", "c.plot.data[1].filter((v) => v > 0).length") >= 30
    assert chart(page, "updateRatio", "c.plot.scales.y.distr") == 3, "log scale"
    assert page.console_errors == []


def test_the_log_scale_toggle_switches_the_loss_axis(page: Any) -> None:
    """The loss chart's y axis is linear, logarithmic once 'log' is ticked, linear again after."""
    open_page(page)
    train(page, 150)  # at the default 5 steps per frame: ≥ 20 frames, one history point each
    assert chart(page, "loss", "c.plot.scales.y.distr") == 1
    page.get_by_test_id("log-scale").check()
    page.wait_for_function("() => window.playground.charts.loss.plot.scales.y.distr === 3",
                           timeout=TIMEOUT)
    assert chart(page, "loss", "c.plot.data[1].length") >= 20, "the history is drawn again"
    page.get_by_test_id("log-scale").uncheck()
    page.wait_for_function("() => window.playground.charts.loss.plot.scales.y.distr === 1",
                           timeout=TIMEOUT)


def test_a_learning_rate_change_is_marked_on_the_loss_chart(page: Any) -> None:
    """Moving the slider while training draws a dashed accent-coloured line at the step where
    the new rate took effect (the draw hook), labelled with the rate."""
    open_page(page)
    page.get_by_test_id("play").click()
    page.wait_for_function("() => window.playground.store.frame.step >= 40", timeout=TIMEOUT)
    slider = page.get_by_test_id("learning-rate")
    slider.fill("-0.5")  # η ≈ 0.32
    slider.dispatch_event("change")
    page.wait_for_function(
        "() => { const s = window.playground.store; return s.lrChanges.length >= 2"
        " && s.frame.step > s.lrChanges.at(-1)[0] + 60; }", timeout=TIMEOUT)
    page.get_by_test_id("play").click()
    page.wait_for_function(
        "() => !window.playground.store.frame.running && !window.playground.store.dirty",
        timeout=TIMEOUT)
    accent = chart(page, "loss", """(() => {
        const step = window.playground.store.lrChanges.at(-1)[0];
        const x = Math.round(c.plot.valToPos(step, 'x', true));
        const { top, height } = c.plot.bbox;
        const pixels = c.plot.ctx.getImageData(x - 1, top, 3, height).data;
        let count = 0;
        for (let i = 0; i < pixels.length; i += 4) {
          const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
          if (b > r + 40 && b > g + 60) count += 1;  // the palette's violet accent
        }
        return count;
    })()""")
    assert accent > 10, accent
    page.wait_for_timeout(300)  # the play button's transition
    screenshot(page, "charts-uplot")
    assert page.console_errors == []


def test_charts_follow_the_size_of_their_containers(page: Any) -> None:
    """A larger window gives larger charts (a ResizeObserver resizes the uPlot instance)."""
    open_page(page)
    train(page, 10)
    before = chart(page, "loss", "[c.plot.width, c.plot.height]")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_function(
        f"() => window.playground.charts.loss.plot.width > {before[0] + 40}", timeout=TIMEOUT)
    after = chart(page, "loss",
                  "[c.plot.width, c.plot.height, c.host.clientWidth, c.host.clientHeight]")
    assert after[1] > before[1]
    assert after[:2] == after[2:], "the plot fills its container"


def test_projector_mode_draws_the_charts_larger(page: Any) -> None:
    """Projector mode: axis and legend type of at least 18 px, thicker lines."""
    open_page(page)
    train(page, 10)
    width = chart(page, "loss", "c.plot.series[1].width")
    page.get_by_test_id("projector-toggle").click()
    page.wait_for_function("() => window.playground.charts.loss.font >= 18", timeout=TIMEOUT)
    legend = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector("
                           "'[data-testid=loss-legend] .u-legend')).fontSize)")
    assert legend >= 18
    assert chart(page, "loss", "c.plot.series[1].width") > 1.5 * width


def test_regression_shows_a_note_instead_of_accuracy(page: Any) -> None:
    """A regression data set has no accuracy: the accuracy chart says so."""
    open_page(page, "#dataset=plane")
    page.wait_for_function("() => window.playground.store.data?.problem === 'regression'",
                           timeout=TIMEOUT)
    note = page.get_by_test_id("accuracy-chart").locator(".chart-note")
    note.wait_for(state="visible", timeout=TIMEOUT)
    assert note.inner_text() == "no accuracy for regression"
