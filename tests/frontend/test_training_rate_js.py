"""The page's training-rate text, checked in node (tests/frontend/training_rate.test.mjs)."""

from __future__ import annotations

from node_runner import run_node


def test_the_page_says_the_rate_asked_and_the_rate_got() -> None:
    """``trainingRateText`` writes the server's rate message as "asked … · getting …"."""
    result = run_node(["--test", "tests/frontend/training_rate.test.mjs"])
    assert result.returncode == 0, result.stdout + result.stderr
