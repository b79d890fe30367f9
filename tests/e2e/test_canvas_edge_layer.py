"""The network picture painted in parts is the picture painted whole: while a net trains,
the edge layer repaints only the layers of edges whose look changed (render/network_edges.js),
and its pixels equal a whole repaint of the same edges."""

from __future__ import annotations

from typing import Any

TIMEOUT = 15_000

#: the edge layer's pixels against a whole repaint of the looks it shows, in a fresh layer
COMPARE = """async () => {
    const { EdgeLayer } = await import('/render/network_edges.js');
    const view = window.playground.network;
    const layer = view.edgeLayer;
    const { width, height } = layer.canvas;
    const target = document.createElement('canvas');
    target.width = width;
    target.height = height;
    const ctx = target.getContext('2d');
    const [sx, sy] = [view.base.width / view.cssWidth, view.base.height / view.cssHeight];
    ctx.setTransform(sx, 0, 0, sy, 0, 0);
    const whole = new EdgeLayer();
    whole.paint(ctx, layer.layout, layer.looks);
    const read = (c) => c.getContext('2d').getImageData(0, 0, width, height).data;
    const [a, b] = [read(layer.canvas), read(whole.canvas)];
    let differing = 0;
    for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) differing += 1;
    return { differing, partial: layer.partial, full: layer.full };
}"""


def test_edges_repainted_in_parts_equal_a_whole_repaint(page: Any) -> None:
    """Training a large net (eight hidden layers of 16, every feature): after many partial
    repaints, the edge layer holds exactly the pixels of one whole repaint (no value differs)."""
    options = page.request.get(f"{page.base_url}/api/options").json()
    features = ",".join(f["name"] for f in options["features"])
    page.goto(f"{page.base_url}/#layers={','.join(['16'] * 8)}&features={features}")
    page.wait_for_function("() => window.playground?.store.frame"
                           " && window.playground.store.options", timeout=TIMEOUT)
    page.get_by_test_id("play").click()
    page.wait_for_function("() => window.playground.network.edgeLayer.partial >= 10",
                           timeout=40_000)
    result = page.evaluate(COMPARE)
    page.get_by_test_id("play").click()
    assert result["partial"] >= 10, result
    assert result["differing"] == 0, result
    assert page.console_errors == []
