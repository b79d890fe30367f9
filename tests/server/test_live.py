"""Against a real uvicorn server on a loopback port, with real sockets: a client that never
reads does not slow a healthy one and is disconnected after the send timeout; hundreds of
connect/disconnect cycles leave nothing behind; the protocol-level size limit closes 1009;
cross-origin handshakes are refused."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from server_helpers import Json, strict_json, wait_until
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from backprop_playground.main import create_app, uvicorn_options
from backprop_playground.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from processes import stalled_viewer

SETTINGS = Settings(send_timeout_seconds=1.0, max_message_bytes=2048, store_path="")


@dataclass
class LiveServer:
    """A uvicorn server running ``app`` on its own event loop in a background thread."""

    app: FastAPI
    host: str
    port: int
    loop: asyncio.AbstractEventLoop

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def ws_url(self, session_id: str) -> str:
        return f"ws://{self.host}:{self.port}/ws/sessions/{session_id}"

    def on_loop(self, coroutine: Any, timeout: float = 5.0) -> Any:
        """Run ``coroutine`` on the server's event loop; its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def task_count(self) -> int:
        async def count() -> int:
            return len(asyncio.all_tasks())
        result: int = self.on_loop(count())
        return result

    def create_session(self, config: Json | None = None) -> tuple[str, str]:
        """POST /api/sessions; (id, presenter token)."""
        response = httpx.post(self.url("/api/sessions"), json={"config": config}, timeout=5)
        assert response.status_code == 201, response.text
        return response.json()["id"], response.json()["presenter_token"]

    def present(self, session_id: str, token: str) -> str:
        """Present the session from a presenter socket of its own; the join code."""
        with connect(self.ws_url(session_id), open_timeout=5) as conn:
            hello(conn, "presenter", token)
            conn.send(json.dumps({"type": "present", "id": "present"}))
            deadline = time.monotonic() + 10
            while True:
                message = conn.recv(timeout=max(deadline - time.monotonic(), 0.01))
                if isinstance(message, str):
                    parsed = strict_json(message)
                    if parsed["type"] == "state" and parsed["class"]:
                        code: str = parsed["class"]["code"]
                        return code

    def viewers(self, session_id: str) -> int:
        response = httpx.get(self.url(f"/api/sessions/{session_id}"), timeout=5)
        count: int = response.json()["viewers"]
        return count


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """Serve the app with uvicorn on a free loopback port (the listening socket is bound
    here, so no port race); stop it with ``should_exit``."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    app = create_app(SETTINGS)
    options = {**uvicorn_options(SETTINGS), "host": "127.0.0.1", "port": port,
               "log_level": "warning"}  # served as the console script serves it
    server = uvicorn.Server(uvicorn.Config(app, timeout_graceful_shutdown=5, **options))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=lambda: loop.run_until_complete(server.serve(sockets=[listener])),
        name="uvicorn", daemon=True)
    thread.start()
    live_server = LiveServer(app, "127.0.0.1", port, loop)

    def healthy() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(live_server.url("/api/health"), timeout=1).status_code == 200
        return False

    assert wait_until(healthy, timeout=15), "the server did not come up"
    try:
        yield live_server
    finally:
        server.should_exit = True
        thread.join(15)
        loop.close()
        listener.close()


def hello(conn: ClientConnection, role: str, token: str | None = None) -> Json:
    """Say hello; return the welcome (frames and other messages before it are skipped)."""
    conn.send(json.dumps({"type": "hello", "role": role, "token": token}))
    deadline = time.monotonic() + 10
    while True:
        message = conn.recv(timeout=max(deadline - time.monotonic(), 0.01))
        if isinstance(message, str):
            parsed: Json = strict_json(message)
            if parsed["type"] == "welcome":
                return parsed
            assert parsed["type"] != "error", parsed


def command(conn: ClientConnection, message: Json) -> Json:
    """Send a command with an id; return its ack (frames and broadcasts are skipped)."""
    conn.send(json.dumps({**message, "id": "live"}))
    deadline = time.monotonic() + 10
    while True:
        reply = conn.recv(timeout=max(deadline - time.monotonic(), 0.01))
        if isinstance(reply, str):
            parsed: Json = strict_json(reply)
            if parsed.get("id") == "live":
                assert parsed["type"] == "ack", parsed
                return parsed


def count_frames(conn: ClientConnection, seconds: float) -> int:
    """How many binary frames ``conn`` receives during the next ``seconds``."""
    frames, deadline = 0, time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            message = conn.recv(timeout=remaining)
        except TimeoutError:
            break
        if isinstance(message, bytes):
            frames += 1
        else:
            strict_json(message)
    return frames


def drain(conn: ClientConnection) -> None:
    """Take every message ``conn`` has already received, without waiting."""
    with contextlib.suppress(TimeoutError):
        while True:
            conn.recv(timeout=0)


def test_stalled_client_does_not_slow_others_and_is_disconnected(live: LiveServer) -> None:
    """A never-reading viewer keeps others' frame rate and is dropped after the timeout."""
    session_id, token = live.create_session({"network": {"hidden_layers": [3]},
                                             "data": {"dataset": "xor"}})
    code = live.present(session_id, token)
    with connect(live.ws_url(session_id), open_timeout=5, close_timeout=2) as healthy:
        hello(healthy, "presenter", token)
        command(healthy, {"type": "play"})
        count_frames(healthy, 0.3)  # warm up
        alone = count_frames(healthy, 2.0)
        assert alone >= 20, f"only {alone} frames in 2 s without any stalled client"
        stalled = stalled_viewer(live.host, live.port, session_id, code)
        try:
            assert wait_until(lambda: live.viewers(session_id) == 1, timeout=5)
            with_stalled = count_frames(healthy, 2.0)
            assert with_stalled >= 0.8 * alone, (alone, with_stalled)
            assert wait_until(lambda: live.viewers(session_id) == 0, timeout=30), \
                "the stalled viewer was never disconnected"
            assert _closed_by_the_server(stalled, timeout=10), \
                "the stalled viewer's TCP connection was left open"
        finally:
            stalled.close()
        assert count_frames(healthy, 0.5) > 0  # the healthy client is still served


def test_connect_disconnect_cycles_leave_nothing_behind(live: LiveServer) -> None:
    """200 viewer connect/hello/close cycles leave no subscriber, task or thread behind."""
    session_id, token = live.create_session({"network": {"hidden_layers": [3]},
                                             "data": {"dataset": "xor"}})
    session = live.app.state.registry.get(session_id)
    code = live.present(session_id, token)
    with connect(live.ws_url(session_id), open_timeout=5) as presenter:
        hello(presenter, "presenter", token)
        command(presenter, {"type": "play"})
        count_frames(presenter, 0.2)
        tasks_before, threads_before = live.task_count(), threading.active_count()
        for _ in range(200):
            with connect(live.ws_url(session_id), open_timeout=5, close_timeout=2) as viewer:
                hello(viewer, "viewer", code)
            drain(presenter)  # keep reading: the presenter must not look stalled
        assert wait_until(lambda: len(session.subscribers) == 1, timeout=10), \
            len(session.subscribers)
        assert live.viewers(session_id) == 0
        assert wait_until(lambda: live.task_count() <= tasks_before, timeout=10), \
            (tasks_before, live.task_count())
        assert wait_until(lambda: threading.active_count() <= threads_before, timeout=10)
        assert session.running
        assert count_frames(presenter, 0.5) > 0
    assert wait_until(lambda: not session.subscribers, timeout=10)


@pytest.mark.parametrize("message", ["x" * 3000, "€" * 1500], ids=["ascii", "multibyte"])
def test_oversized_message_closes_with_1009(live: LiveServer, message: str) -> None:
    """The real server closes a message over max_message_bytes (in bytes) with 1009."""
    session_id, token = live.create_session()
    with connect(live.ws_url(session_id), open_timeout=5, close_timeout=2) as conn:
        hello(conn, "presenter", token)
        conn.send(message)
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(1000):
                conn.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009


def test_cross_origin_handshake_is_refused(live: LiveServer) -> None:
    """A handshake from another origin gets HTTP 403; the server's own origin is accepted."""
    session_id, token = live.create_session()
    code = live.present(session_id, token)
    with pytest.raises(InvalidStatus) as refused:
        connect(live.ws_url(session_id), origin="http://evil.example",  # type: ignore[arg-type]
                open_timeout=5)
    assert refused.value.response.status_code == 403
    own = f"http://{live.host}:{live.port}"
    with connect(live.ws_url(session_id), origin=own,  # type: ignore[arg-type]
                 open_timeout=5) as conn:
        assert hello(conn, "viewer", code)["role"] == "viewer"


def test_chunked_body_past_the_limit_is_refused_as_it_arrives(live: LiveServer) -> None:
    """Item 13: a chunked upload of up to 200 MB (no Content-Length) is answered 413 once
    it passes max_request_bytes; the server reads no more of it (the client cannot send
    much past the limit) and its memory does not grow with it."""
    limit = live.app.state.settings.max_request_bytes
    rss_before = _rss_megabytes()
    raw = socket.create_connection((live.host, live.port), timeout=10)
    raw.sendall((f"POST /api/sessions HTTP/1.1\r\nHost: {live.host}:{live.port}\r\n"
                 "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                 ).encode())
    chunk, sent = b" " * 2**20, 0
    try:
        while sent < 200 * 2**20:
            raw.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
    except OSError:
        pass  # the server answered and closed: no more is read
    raw.settimeout(10)
    answer = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in answer:
            part = raw.recv(4096)
            if not part:
                break
            answer += part
    raw.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < limit + 64 * 2**20, sent
    assert _rss_megabytes() - rss_before < 64


def test_rebound_host_handshake_is_refused(live: LiveServer) -> None:
    """Item 10: Host evil.example:PORT with a matching Origin (DNS rebinding) gets HTTP 403
    at the handshake, never a welcome."""
    session_id, _ = live.create_session()
    with pytest.raises(InvalidStatus) as refused:
        connect(live.ws_url(session_id), origin=f"http://evil.example:{live.port}",  # type: ignore[arg-type]
                additional_headers={"Host": f"evil.example:{live.port}"}, open_timeout=5)
    assert refused.value.response.status_code == 403


def _closed_by_the_server(raw: socket.socket, timeout: float) -> bool:
    """Read what the server sent until it closed the connection (EOF or reset); whether
    it did within ``timeout``."""
    raw.settimeout(0.5)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not raw.recv(65536):
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            continue
    return False


def test_many_stalled_viewers_are_dropped_at_the_transport(live: LiveServer) -> None:
    """Item 12: 50 viewers that never read are all disconnected after the send timeout and
    their TCP connections closed by the server (it used to keep them, buffers and all),
    while the presenter keeps its frames."""
    session_id, token = live.create_session({"network": {"hidden_layers": [3]},
                                             "data": {"dataset": "xor"}})
    code = live.present(session_id, token)
    with connect(live.ws_url(session_id), open_timeout=5, close_timeout=2) as healthy:
        hello(healthy, "presenter", token)
        command(healthy, {"type": "play"})
        stalled = [stalled_viewer(live.host, live.port, session_id, code) for _ in range(50)]
        try:
            assert count_frames(healthy, 1.0) > 10
            assert wait_until(lambda: live.viewers(session_id) == 0, timeout=30)
            assert all(_closed_by_the_server(raw, timeout=10) for raw in stalled)
            assert count_frames(healthy, 0.5) > 0
        finally:
            for raw in stalled:
                raw.close()


def _rss_megabytes() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
