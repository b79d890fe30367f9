"""The phase pictures' pure JavaScript helpers (frontend/render/phase_scales.js, the update
magnification in render/network_animation.js, the animation state in state.js).

``node --test tests/frontend/phase_scales.test.mjs`` checks them on hand-made numbers.
"""

from __future__ import annotations

from node_runner import run_node


def test_phase_picture_helpers_node_tests_pass() -> None:
    """Gradient widths grow with log |g| and never fall below the minimum; the update's
    magnification is a nice factor that makes the largest change visible; replay and pace
    restart the animation and the picture stays at its end."""
    result = run_node(["--test", "tests/frontend/phase_scales.test.mjs"])
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"
