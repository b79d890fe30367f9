"""The network diagram's edge layer, checked in node (tests/frontend/network_edges.test.mjs)."""

from __future__ import annotations

from node_runner import run_node


def test_a_new_picture_repaints_only_around_the_edges_that_changed() -> None:
    """``changedRects`` gives one whole-pixel rectangle per layer of changed edges (or a whole
    repaint); ``edgesInRects`` strokes again every edge that reaches into them."""
    result = run_node(["--test", "tests/frontend/network_edges.test.mjs"])
    assert result.returncode == 0, result.stdout + result.stderr
