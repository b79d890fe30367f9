"""Browser end-to-end fixtures: a real server on a free loopback port, Debian's Chromium
driven by Playwright, and a page that collects console errors."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import console_tab

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by uvicorn in its own process, as a user would run it (its sessions
    saved in a temporary store, not the user's)."""
    port = _free_port()
    store = tmp_path_factory.mktemp("store") / "sessions.sqlite3"
    env = {**os.environ, "BACKPROP_LOG_LEVEL": "warning", "BACKPROP_STORE_PATH": str(store)}
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop_playground.main", "--port", str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/api/health", timeout=1).close()
                break
            time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium (``apt-get install -y chromium``). Module-scoped: Playwright's
    sync API keeps an event loop running in this thread until it is closed."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, server_url: str) -> Iterator[Any]:
    """A fresh tab (own storage) at 1280×720 with console errors collected in
    ``page.console_errors``."""
    contexts: list[Any] = []
    tab = console_tab(browser, contexts, {"width": 1280, "height": 720})
    tab.base_url = server_url
    yield tab
    contexts[0].close()
