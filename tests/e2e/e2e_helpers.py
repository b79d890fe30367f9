"""Helpers for the browser tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot(page: Any, name: str) -> Path:
    """Save a PNG of the page in docs/screenshots/ (they are looked at by a person)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def edge_point(page: Any, layer: int, neuron: int, source: int) -> tuple[float, float]:
    """Page coordinates of a point on an edge of the network diagram (away from crossings)."""
    point = page.evaluate(
        """([layer, neuron, source]) => {
            const view = window.playground.network;
            const edge = view.layout.edges.find((e) => e.level === layer && e.neuron === neuron
                                                   && e.source === source);
            // a third of the way along: mirrored edges cross exactly at their middles
            const [x, y] = edge.points[Math.floor(edge.points.length / 3)];
            const rect = view.canvas.getBoundingClientRect();
            return [rect.left + x, rect.top + y];
        }""", [layer, neuron, source])
    return point[0], point[1]


def console_tab(browser: Any, contexts: list[Any], viewport: dict[str, int],
                **options: Any) -> Any:
    """A tab in a fresh browser context (own storage; added to ``contexts`` for closing)
    whose console errors and page errors collect in ``tab.console_errors``."""
    context = browser.new_context(viewport=viewport, **options)
    contexts.append(context)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.console_errors = errors
    return tab
