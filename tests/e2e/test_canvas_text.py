"""Canvas text that reads from the back of a room: every text the network diagram (with its
phase pictures), the output plot and the loss-landscape plot draw is at least 12 CSS px at
1280×720, and at least 18 CSS px in projector mode."""

from __future__ import annotations

from typing import Any

import pytest

TIMEOUT = 15_000

#: records the font size (CSS px: the contexts are scaled to CSS pixels) of every fillText
#: on the views' canvases
RECORD = """(() => {
    window.textSizes = [];
    const fill = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
        // the network's picture is painted offscreen (data-picture), then shown on its canvas
        const id = this.canvas.dataset?.testid ?? this.canvas.dataset?.picture;
        if (['network', 'output-map', 'step-plot'].includes(id)) {
            const px = parseFloat((/([0-9.]+)px/.exec(this.font) || [])[1]);
            window.textSizes.push({ id, px, text: String(text) });
        }
        return fill.call(this, text, ...rest);
    };
})()"""


@pytest.mark.parametrize("projector", [False, True], ids=["normal", "projector"])
def test_canvas_text_is_large_enough(page: Any, projector: bool) -> None:
    """Training, each phase picture and the Step tab's plot: no canvas text below 12 px
    (projector mode: 18 px)."""
    page.add_init_script(RECORD)
    page.goto(f"{page.base_url}/{'#projector=1' if projector else ''}")
    page.wait_for_function("() => window.playground?.store.frame", timeout=TIMEOUT)
    page.get_by_test_id("play").click()
    page.wait_for_function("() => window.playground.store.frame.step > 20", timeout=TIMEOUT)
    page.get_by_test_id("play").click()
    for phase in ("forward", "loss", "backward", "update"):
        page.get_by_test_id("phase-step").click()
        page.wait_for_function(f"() => window.playground.store.frame.phase === '{phase}'",
                               timeout=TIMEOUT)
        page.wait_for_function("() => window.playground.network.animation.progress === 1",
                               timeout=TIMEOUT)
    page.get_by_test_id("tab-step").click()
    page.wait_for_function("() => window.textSizes.some((t) => t.id === 'step-plot')",
                           timeout=TIMEOUT)
    sizes = page.evaluate("() => window.textSizes")
    least = 18 if projector else 12
    seen = {t["id"] for t in sizes}
    assert {"network", "output-map", "step-plot"} <= seen, seen
    small = [t for t in sizes if t["px"] < least]
    assert small == [], small[:10]
    assert page.console_errors == []
