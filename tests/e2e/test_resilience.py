"""The page keeps working through a server restart, and answers the keyboard."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

TIMEOUT = 20_000


def _start_server(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BACKPROP_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop_playground.main", "--port", str(port)], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1).close()
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


@contextlib.contextmanager
def _server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    process = _start_server(port)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(10)


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_page_reconnects_after_a_server_restart(browser: Any) -> None:
    """When the server goes away the page says it is reconnecting; when it is back the page
    reconnects by itself (to a new session) and trains again."""
    port = _port()
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    connection = page.get_by_test_id("connection")
    with _server(port):
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_function("() => window.playground?.store.frame", timeout=TIMEOUT)
        assert connection.inner_text() == "live"
    page.wait_for_function(
        "() => document.querySelector('[data-testid=connection]').textContent"
        ".includes('reconnecting')", timeout=TIMEOUT)
    with _server(port):
        page.wait_for_function(
            "() => document.querySelector('[data-testid=connection]').textContent === 'live'",
            timeout=TIMEOUT)
        page.get_by_test_id("play").click()
        page.wait_for_function(
            "() => Number(document.querySelector('[data-testid=step-count]').textContent) > 10",
            timeout=TIMEOUT)
    context.close()


def test_keyboard_space_plays_and_arrows_step(page: Any) -> None:
    """Space toggles play, → runs one step, shift+→ one phase, r resets."""
    page.goto(f"{page.base_url}/")
    page.wait_for_function("() => window.playground?.store.frame", timeout=TIMEOUT)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=step-count]').textContent === '1'",
        timeout=TIMEOUT)
    page.keyboard.press("Shift+ArrowRight")
    page.wait_for_function("() => window.playground.store.frame.phase === 'forward'",
                           timeout=TIMEOUT)
    page.keyboard.press("r")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=step-count]').textContent === '0'"
        " && window.playground.store.frame.phase === null", timeout=TIMEOUT)
    page.keyboard.press(" ")
    page.wait_for_function("() => window.playground.store.frame.running", timeout=TIMEOUT)
    page.keyboard.press(" ")
    page.wait_for_function("() => !window.playground.store.frame.running", timeout=TIMEOUT)
    assert page.console_errors == []
