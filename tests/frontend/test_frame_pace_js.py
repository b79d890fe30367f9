"""The page's frame pace, checked in node (tests/frontend/frame_pace.test.mjs)."""

from __future__ import annotations

from node_runner import run_node


def test_the_page_asks_for_the_frames_it_can_draw() -> None:
    """``nextPace`` comes down to what the page drew, creeps back up while the page draws
    every frame, and lifts the pace at the server's own rate."""
    result = run_node(["--test", "tests/frontend/frame_pace.test.mjs"])
    assert result.returncode == 0, result.stdout + result.stderr
