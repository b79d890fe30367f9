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
