"""The container setup: docker-compose.yml is valid (Debian's docker-compose reads it without
an engine) and runs the app with Redis. No Docker engine runs on CI, so images are not built."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_is_valid_and_wires_the_app_to_redis() -> None:
    """`docker-compose config` accepts the file; the app gets BACKPROP_REDIS_URL for redis."""
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.fail("docker-compose is not installed: apt-get install -y docker-compose")
    result = subprocess.run([compose, "-f", str(ROOT / "docker-compose.yml"), "config"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "redis://redis:6379/0" in result.stdout
    assert "redis:7-alpine" in result.stdout


def test_dockerfile_installs_the_package_and_starts_the_console_script() -> None:
    """The image installs the app with its Redis extra and starts it on all interfaces."""
    text = (ROOT / "Dockerfile").read_text()
    assert 'pip install --no-cache-dir ".[redis]"' in text
    assert '"backprop-playground", "--host", "0.0.0.0"' in text
