"""Scale-out through Redis: a viewer connected to server process B follows a class presented
on process A (a real redis-server and two real server processes on loopback)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
STEP = struct.Struct("<I")  # frame header: step at byte 12


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until(check: Any, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ConnectionError):
            if check():
                return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def _start_redis(port: int) -> subprocess.Popen[bytes]:
    """A throwaway redis-server (Debian's redis-server package) on ``port``, answering."""
    if not os.path.exists(REDIS_SERVER):
        pytest.fail("redis-server is not installed: apt-get install -y redis-server")
    process = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--save", "",
                                "--appendonly", "no", "--bind", "127.0.0.1"],
                               stdout=subprocess.DEVNULL)

    def answers() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")

    _wait_until(answers, "redis-server")
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    port = _port()
    process = _start_redis(port)
    yield f"redis://127.0.0.1:{port}/0"
    _stop(process)


@contextlib.contextmanager
def _server(redis_url: str, store: str = "", port: int | None = None) -> Iterator[str]:
    port = port or _port()
    env = {**os.environ, "BACKPROP_REDIS_URL": redis_url, "BACKPROP_LOG_LEVEL": "warning",
           "BACKPROP_STORE_PATH": store}
    process = subprocess.Popen([sys.executable, "-m", "backprop_playground.main", "--port",
                                str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: urllib.request.urlopen(f"{base}/api/health", timeout=1).status == 200,
                    "a server process")
        yield base
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def servers(redis_url: str) -> Iterator[tuple[str, str]]:
    """Two server processes sharing one Redis."""
    with _server(redis_url) as first, _server(redis_url) as second:
        yield first, second


def _post(url: str) -> Any:
    request = urllib.request.Request(url, data=b"{}", headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=10))


@pytest.fixture
def sockets() -> Iterator[Any]:
    """Opens WebSocket clients (as context managers) and closes them after the test."""
    with contextlib.ExitStack() as stack:
        def open_socket(base: str, session_id: str) -> ClientConnection:
            url = base.replace("http", "ws") + f"/ws/sessions/{session_id}"
            return stack.enter_context(connect(url, max_size=2**22, open_timeout=10))

        yield open_socket


def _reply(ws: ClientConnection, request_id: int) -> dict[str, Any]:
    """The ack or error with this id (frames and other messages are skipped)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        message = ws.recv(timeout=deadline - time.monotonic())
        if isinstance(message, str):
            parsed = json.loads(message)
            if parsed.get("type") in ("ack", "error") and parsed.get("id") == request_id:
                return parsed
    raise AssertionError(f"no reply to {request_id}")


def _frame_with_step(ws: ClientConnection, step: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = ws.recv(timeout=deadline - time.monotonic())
        if isinstance(message, bytes) and STEP.unpack_from(message, 12)[0] == step:
            return
    raise AssertionError(f"no frame of step {step}")


def _present(base: str, open_socket: Any) -> tuple[dict[str, Any], ClientConnection, str]:
    created = _post(f"{base}/api/sessions")
    presenter = open_socket(base, created["id"])
    presenter.send(json.dumps({"type": "hello", "role": "presenter",
                               "token": created["presenter_token"]}))
    presenter.send(json.dumps({"type": "present", "id": 1}))
    assert _reply(presenter, 1)["type"] == "ack"
    state = json.load(urllib.request.urlopen(f"{base}/api/sessions/{created['id']}"))
    assert state["id"] == created["id"]
    code = _code_of(presenter)
    return created, presenter, code


def _code_of(presenter: ClientConnection) -> str:
    presenter.send(json.dumps({"type": "pause", "id": 2}))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message = presenter.recv(timeout=deadline - time.monotonic())
        if isinstance(message, str):
            parsed = json.loads(message)
            if parsed.get("type") == "state" and parsed.get("class"):
                return str(parsed["class"]["code"])
    raise AssertionError("no class code in the state")


def test_viewer_on_another_process_follows_the_class(servers: tuple[str, str],
                                                    sockets: Any) -> None:
    """The join code resolves on process B; B's viewer gets the welcome, then the frames of
    every step the presenter runs on A; B refuses to let anyone present."""
    first, second = servers
    created, presenter, code = _present(first, sockets)
    joined = json.load(urllib.request.urlopen(f"{second}/api/join/{code.lower()}"))
    assert joined["session"] == created["id"]
    viewer = sockets(second, created["id"])
    viewer.send(json.dumps({"type": "hello", "role": "viewer", "token": code}))
    welcome = json.loads(viewer.recv(timeout=10))
    assert welcome["type"] == "welcome" and welcome["relayed"] is True
    assert welcome["config"]["network"]["hidden_layers"] == [4, 2]
    for n, request_id in ((3, 10), (5, 11)):
        presenter.send(json.dumps({"type": "step", "n": n, "id": request_id}))
        first_step = _reply(presenter, request_id)["step"]
        _frame_with_step(viewer, first_step + n - 1)
    viewer.send(json.dumps({"type": "play", "id": 7}))
    refused = _reply(viewer, 7)
    assert refused["type"] == "error" and refused["field"] == "type"
    intruder = sockets(second, created["id"])
    intruder.send(json.dumps({"type": "hello", "role": "presenter",
                              "token": created["presenter_token"]}))
    assert json.loads(intruder.recv(timeout=10))["type"] == "error"


def test_ending_the_class_reaches_viewers_on_another_process(servers: tuple[str, str],
                                                            sockets: Any) -> None:
    """End class on A: B's viewers are told and let go (close 4410); the code is gone."""
    first, second = servers
    created, presenter, code = _present(first, sockets)
    viewer = sockets(second, created["id"])
    viewer.send(json.dumps({"type": "hello", "role": "viewer", "token": code}))
    assert json.loads(viewer.recv(timeout=10))["type"] == "welcome"
    presenter.send(json.dumps({"type": "end_class", "id": 20}))
    assert _reply(presenter, 20)["type"] == "ack"
    events = []
    with contextlib.suppress(Exception):
        while True:
            message = viewer.recv(timeout=10)
            if isinstance(message, str):
                events.append(json.loads(message))
    assert any(e.get("event") == "class_ended" for e in events)
    assert viewer.close_code == 4410
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{second}/api/join/{code}")
    assert missing.value.code == 404


def test_a_class_comes_back_for_other_processes_after_a_restart(
        redis_url: str, tmp_path: Any, sockets: Any) -> None:
    """Item 15 with Redis: process A (with a store) presents a class, restarts (SIGTERM);
    its class is announced again, and process B's viewers join it by its code and follow
    the presenter's steps as before."""
    store, port = str(tmp_path / "sessions.sqlite3"), _port()
    with _server(redis_url) as second:
        with _server(redis_url, store, port) as first:
            created, presenter, code = _present(first, sockets)
            presenter.close()
        with _server(redis_url, store, port) as first:  # the same address, restored
            joined = json.load(urllib.request.urlopen(f"{second}/api/join/{code}"))
            assert joined["session"] == created["id"]
            viewer = sockets(second, created["id"])
            viewer.send(json.dumps({"type": "hello", "role": "viewer", "token": code}))
            welcome = json.loads(viewer.recv(timeout=10))
            assert welcome["type"] == "welcome" and welcome["relayed"] is True
            presenter = sockets(first, created["id"])
            presenter.send(json.dumps({"type": "hello", "role": "presenter",
                                       "token": created["presenter_token"]}))
            presenter.send(json.dumps({"type": "step", "n": 3, "id": 30}))
            first_step = _reply(presenter, 30)["step"]
            _frame_with_step(viewer, first_step + 2)


def test_a_viewer_elsewhere_follows_again_after_redis_restarts(sockets: Any) -> None:
    """Redis goes away mid-class and comes back on the same port: process B's relay
    subscribes again (within about a second) and its viewer gets the frames of the steps
    run since; nothing crashed on either process."""
    port = _port()
    redis = _start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        with _server(url) as first, _server(url) as second:
            created, presenter, code = _present(first, sockets)
            viewer = sockets(second, created["id"])
            viewer.send(json.dumps({"type": "hello", "role": "viewer", "token": code}))
            assert json.loads(viewer.recv(timeout=10))["type"] == "welcome"
            presenter.send(json.dumps({"type": "step", "n": 2, "id": 30}))
            _frame_with_step(viewer, _reply(presenter, 30)["step"] + 1)
            _stop(redis)
            time.sleep(1.5)
            redis = _start_redis(port)
            for request_id in range(31, 60):  # one step at a time until B relays again
                presenter.send(json.dumps({"type": "step", "n": 1, "id": request_id}))
                step = _reply(presenter, request_id)["step"]
                with contextlib.suppress(AssertionError, TimeoutError):
                    _frame_with_step(viewer, step, seconds=0.5)
                    break
            else:
                pytest.fail("the viewer on process B got no frame after Redis came back")
    finally:
        _stop(redis)
