"""Contrast of the page's colours (frontend/styles.css custom properties and the canvas
palette, frontend/render/palette.js): ``node --test tests/frontend/contrast.test.mjs``
computes the WCAG 2 ratios of text (4.5:1) and chart lines and control borders (3:1)
against their backgrounds, in normal and projector mode, and checks that the diverging
pairs stay apart for protanopes and deuteranopes."""

from __future__ import annotations

from node_runner import run_node


def test_colours_meet_wcag_aa_and_stay_colour_blind_safe() -> None:
    """Every text colour ≥ 4.5:1 and every chart line ≥ 3:1 on its background; the
    weights', gradients' and classes' pairs ≥ ΔE 40 apart for red–green colour blindness."""
    result = run_node(["--test", "tests/frontend/contrast.test.mjs"])
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"
