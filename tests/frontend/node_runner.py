"""Running node (the page's JavaScript tests and snippets) from pytest."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_node(args: list[str], env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[str]:
    """``node *args`` in the repository root. Node is part of the toolchain: without it the
    test fails rather than skips. FRAME_FIXTURES is passed only when ``env`` gives it."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node (>= 20) is not on PATH")
    base = {k: v for k, v in os.environ.items() if k != "FRAME_FIXTURES"}
    return subprocess.run([node, *args], cwd=ROOT, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=60, check=False)
