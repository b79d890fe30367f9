"""The page keeps working through a server restart, and answers the keyboard."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TIMEOUT = 20_000


def _start_server(port: int, store: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BACKPROP_LOG_LEVEL": "warning", "BACKPROP_STORE_PATH": str(store)}
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
def _server(port: int, store: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = _start_server(port, store)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(10)


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _parameters(page: Any, port: int) -> Any:
    """The page's session's weights, exported with the token the page keeps."""
    session_id, token = page.evaluate("() => [window.playground.connection.session.id, "
                                      "window.playground.connection.credential()]")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/sessions/{session_id}/snapshot",
        headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["trainer"]["parameters"]


def test_page_reconnects_after_a_server_restart(browser: Any, tmp_path: Path) -> None:
    """When the server goes away the page says it is reconnecting; when it is back (its
    sessions restored from the store) the page reconnects by itself to the same session, at
    the same step with the same weights, and trains on."""
    port, store = _port(), tmp_path / "sessions.sqlite3"
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    connection = page.get_by_test_id("connection")
    with _server(port, store):
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_function("() => window.playground?.store.frame", timeout=TIMEOUT)
        assert connection.inner_text() == "live"
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("() => window.playground.store.frame.step === 3",
                               timeout=TIMEOUT)
        session_id = page.evaluate("() => window.playground.connection.session.id")
        weights = _parameters(page, port)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=connection]').textContent"
        ".includes('reconnecting')", timeout=TIMEOUT)
    with _server(port, store):
        page.wait_for_function(
            "() => document.querySelector('[data-testid=connection]').textContent === 'live'",
            timeout=TIMEOUT)
        assert page.evaluate("() => window.playground.connection.session.id") == session_id
        page.wait_for_function("() => window.playground.store.frame?.step === 3",
                               timeout=TIMEOUT)
        assert _parameters(page, port) == weights
        page.get_by_test_id("play").click()
        page.wait_for_function(
            "() => Number(document.querySelector('[data-testid=step-count]').textContent) > 10",
            timeout=TIMEOUT)
    context.close()


def test_keyboard_space_plays_and_arrows_step(page: Any) -> None:
    """Space toggles play, → runs one step, shift+→ one phase, r resets; Space on a
    focused button presses that button only."""
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
    # Space on a focused button presses that button, and does not also toggle play
    page.focus("[data-testid=step]")
    step = page.eval_on_selector("[data-testid=step-count]", "e => Number(e.textContent)")
    page.keyboard.press(" ")
    counter = "Number(document.querySelector('[data-testid=step-count]').textContent)"
    page.wait_for_function(f"() => {counter} === {step + 1}", timeout=TIMEOUT)
    page.wait_for_timeout(300)
    assert not page.evaluate("() => window.playground.store.frame.running")
    assert page.console_errors == []
