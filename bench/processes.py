"""Real server processes and raw clients, shared by the benchmarks and the tests that need
a whole server (``bench/stress.py``, ``tests/server/test_restart.py``,
``tests/server/test_live.py``).

``ServerProcess`` runs ``python -m backprop_playground.main`` on a free loopback port with a
store of its own and its output in a log file; ``stalled_viewer`` is a viewer that says
hello and then never reads."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

Json = dict[str, Any]


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http(base: str, path: str, body: Json | None = None) -> Any:
    """GET ``base + path`` (POST with ``body`` as JSON when given): the parsed JSON answer;
    urllib's HTTPError on an error status."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data,
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def stop_process(child: subprocess.Popen[Any], wait: float,
                 sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` to ``child`` and wait ``wait`` seconds for its exit; kill it if it
    lingers (a process left in a network namespace keeps the namespace alive)."""
    child.send_signal(sig)
    try:
        child.wait(wait)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(10)


class ServerProcess:
    """The console entry point on a free port (or ``port``), its sessions in ``store``, its
    output appended to ``log`` (default: the store's name with ``.log``); ``env`` are extra
    ``BACKPROP_*`` settings."""

    def __init__(self, store: Path, log: Path | None = None, port: int | None = None,
                 **env: str) -> None:
        self.port, self.store = port or free_port(), store
        self.log = log or store.with_suffix(".log")
        self.env = {**os.environ, "BACKPROP_LOG_LEVEL": "warning",
                    "BACKPROP_STORE_PATH": str(store), **env}
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        """Start it and wait (≤ 30 s) until /api/health answers; RuntimeError (with the
        log) when it exits or does not answer."""
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "backprop_playground.main", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{self.base}/api/health", timeout=1).close()
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start:\n{self.log.read_text(errors='replace')}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Send ``sig`` and wait for the exit (killed after 30 s)."""
        if self.process is not None and self.process.poll() is None:
            stop_process(self.process, 30, sig)
        self.process = None

    def tracebacks(self) -> int:
        """How many Python tracebacks the log holds."""
        return self.log.read_text(errors="replace").count("Traceback (most recent call last)")

    def ws(self, session_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/sessions/{session_id}"

    def request(self, method: str, path: str, body: Any = None, token: str | None = None,
                raw: bytes | None = None, timeout: float = 30) -> tuple[int, Any]:
        """(status, parsed JSON body — or its text when it is not JSON)."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            text = error.read()
            with contextlib.suppress(ValueError):
                return error.code, json.loads(text)
            return error.code, text.decode(errors="replace")

    def create(self, config: Json | None = None, snapshot: Json | None = None) -> Json:
        """POST /api/sessions (a config or a snapshot): the 201's body."""
        body = {"snapshot": snapshot} if snapshot is not None else {"config": config}
        status, created = self.request("POST", "/api/sessions", body)
        assert status == 201, (status, created)
        result: Json = created
        return result

    def export(self, created: Json) -> Json:
        """The session's snapshot, with its presenter token."""
        status, exported = self.request("GET", f"/api/sessions/{created['id']}/snapshot",
                                        token=created["presenter_token"])
        assert status == 200, (status, exported)
        result: Json = exported
        return result


def stalled_viewer(host: str, port: int, session_id: str, code: str,
                   timeout: float = 10) -> socket.socket:
    """A raw WebSocket client that says hello as a viewer of the class ``code`` and then
    never reads (a 4 KiB receive buffer: the server's sends back up at once)."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(timeout)
    raw.connect((host, port))
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    raw.sendall((f"GET /ws/sessions/{session_id} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += raw.recv(1)  # byte by byte: read nothing past the handshake
    assert response.startswith(b"HTTP/1.1 101"), response
    payload = json.dumps({"type": "hello", "role": "viewer", "token": code}).encode()
    mask = os.urandom(4)
    raw.sendall(bytes([0x81, 0x80 | len(payload)]) + mask
                + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload)))
    return raw
