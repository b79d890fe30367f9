"""The sweep tiles' verdict over recent steps, checked in node
(tests/frontend/verdict_tally.test.mjs)."""

from __future__ import annotations

from node_runner import run_node


def test_a_sweep_tile_names_the_verdict_of_most_of_its_recent_steps() -> None:
    """``VerdictTally`` counts each step once, keeps the last RECENT, names the most frequent
    (a tie: the latest) and starts afresh for another sweep or a reset run."""
    result = run_node(["--test", "tests/frontend/verdict_tally.test.mjs"])
    assert result.returncode == 0, result.stdout + result.stderr
