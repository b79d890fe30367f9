"""Helpers for the server tests: sessions over REST, and a TestClient WebSocket wrapper whose
every receive has a deadline (so no test can hang) and which checks what it receives: every
text message is strict JSON (no NaN/Infinity), every binary message a well-formed frame."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from backprop_playground.wire.frame import FRAME_MAGIC, HEADER, decode_header

Json = dict[str, Any]
DEFAULT_TIMEOUT = 10.0
SAME_ORIGIN = "http://testserver"
PHASE_CODE = {"forward": 1, "loss": 2, "backward": 3, "update": 4}


def _reject_constant(name: str) -> NoReturn:
    pytest.fail(f"the server sent the non-standard JSON constant {name}")


def strict_json(text: str | bytes) -> Any:
    """Parse like a browser would: NaN, Infinity and -Infinity are not JSON."""
    return json.loads(text, parse_constant=_reject_constant)


def layer_sizes(frame: bytes) -> list[int]:
    """The layer sizes a frame's header carries (features, ..., outputs)."""
    sizes: list[int] = decode_header(frame)["layer_sizes"]
    return sizes


def frame_header(data: bytes) -> Json:
    """The decoded header of a binary frame, after checking magic and total length."""
    assert len(data) >= HEADER.size, f"a frame of {len(data)} bytes is shorter than its header"
    header = decode_header(data)
    assert header["magic"] == FRAME_MAGIC
    assert header["total_bytes"] == len(data)
    return header


@dataclass(frozen=True)
class SessionHandle:
    """A session created over REST."""

    id: str
    token: str
    config: Json


def create_session(client: TestClient, config: Json | None = None,
                   snapshot: Json | None = None) -> SessionHandle:
    """POST /api/sessions with an optional config or snapshot; 201 expected."""
    body: Json = {}
    if config is not None:
        body["config"] = config
    if snapshot is not None:
        body["snapshot"] = snapshot
    response = client.post("/api/sessions", json=body or None)
    assert response.status_code == 201, response.text
    data = response.json()
    return SessionHandle(data["id"], data["presenter_token"], data["config"])


def bearer(token: str) -> dict[str, str]:
    """The Authorization header that opens a session (presenter or member token)."""
    return {"authorization": f"Bearer {token}"}


def export_run(client: TestClient, session: SessionHandle) -> Json:
    """GET the session's snapshot with its presenter token (200 expected)."""
    response = client.get(f"/api/sessions/{session.id}/snapshot", headers=bearer(session.token))
    assert response.status_code == 200, response.text
    exported: Json = response.json()
    return exported


def class_code(client: TestClient, session: SessionHandle) -> str:
    """Present the session (from a presenter socket of its own); its join code."""
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        mark = len(conn.messages)
        conn.ack({"type": "present"})
        state = conn.wait_json(lambda m: m["type"] == "state" and m["class"] is not None,
                               since=mark)
    code: str = state["class"]["code"]
    return code


def session_info(client: TestClient, session_id: str) -> Json:
    """GET /api/sessions/{id} (200 expected)."""
    response = client.get(f"/api/sessions/{session_id}")
    assert response.status_code == 200, response.text
    info: Json = response.json()
    return info


def wait_until(condition: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT,
               interval: float = 0.02) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class SocketClosed(Exception):
    """The server closed the socket."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed with {code}: {reason}")
        self.code, self.reason = code, reason


async def _receive_within(ws: WebSocketTestSession, timeout: float) -> Any:
    # The session's outgoing stream (private to Starlette's TestClient), read with a deadline:
    # WebSocketTestSession.receive() itself would wait forever.
    with anyio.fail_after(timeout):
        return await ws._send_rx.receive()


class Conn:
    """A TestClient WebSocket with deadlines; keeps every JSON message and frame header."""

    _ids = itertools.count(1)

    def __init__(self, ws: WebSocketTestSession, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.ws, self.timeout = ws, timeout
        self.messages: list[Json] = []
        self.headers: list[Json] = []
        self.last_frame: bytes | None = None
        self.close_code: int | None = None

    # ------------------------------------------------------------------ sending
    def send(self, message: Json | str | bytes) -> None:
        """Send a dict as JSON text, a str as text, bytes as a binary message."""
        if isinstance(message, bytes):
            self.ws.send_bytes(message)
        else:
            self.ws.send_text(message if isinstance(message, str) else json.dumps(message))

    # ---------------------------------------------------------------- receiving
    def receive(self, timeout: float | None = None) -> Json | bytes:
        """The next message: parsed JSON or frame bytes; SocketClosed on a close;
        TimeoutError if nothing arrives in time."""
        raw = self.ws.portal.call(_receive_within, self.ws, timeout or self.timeout)
        if raw["type"] == "websocket.close":
            self.close_code = raw.get("code", 1000)
            raise SocketClosed(raw.get("code", 1000), raw.get("reason") or "")
        assert raw["type"] == "websocket.send", raw
        if raw.get("text") is not None:
            message = strict_json(raw["text"])
            assert isinstance(message, dict) and "type" in message, message
            self.messages.append(message)
            return message
        data: bytes = raw["bytes"]
        self.headers.append(frame_header(data))
        self.last_frame = data
        return data

    def wait_json(self, predicate: Callable[[Json], bool] = lambda m: True,
                  timeout: float | None = None, since: int | None = None) -> Json:
        """The next JSON message for which ``predicate`` holds (frames are kept). With
        ``since`` (an index into :attr:`messages`), messages already received from there on
        count too."""
        if since is not None:
            for message in self.messages[since:]:
                if predicate(message):
                    return message
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching JSON message in time")
            message = self.receive(remaining)
            if isinstance(message, dict) and predicate(message):
                return message

    def wait_type(self, kind: str, timeout: float | None = None) -> Json:
        """The next JSON message of type ``kind``."""
        return self.wait_json(lambda m: m["type"] == kind, timeout)

    def wait_frame(self, predicate: Callable[[Json], bool] = lambda h: True,
                   timeout: float | None = None, since: int | None = None) -> Json:
        """The header of the next frame for which ``predicate`` holds (JSON is kept). With
        ``since`` (an index into :attr:`headers`), frames already received from there on
        count too."""
        if since is not None:
            for header in self.headers[since:]:
                if predicate(header):
                    return header
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching frame in time")
            message = self.receive(remaining)
            if isinstance(message, bytes) and predicate(self.headers[-1]):
                return self.headers[-1]

    def wait_closed(self, timeout: float | None = None) -> int:
        """Read until the server closes the socket; its close code."""
        try:
            while True:
                self.receive(timeout)
        except SocketClosed as closed:
            return closed.code

    def frames_for(self, seconds: float) -> list[Json]:
        """The headers of every frame received during the next ``seconds``."""
        start, deadline = len(self.headers), time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                self.receive(remaining)
            except TimeoutError:
                break
        return self.headers[start:]

    # ----------------------------------------------------------------- commands
    def request(self, command: Json | str, request_id: int | str | None = None,
                timeout: float | None = None) -> Json:
        """Send ``command`` (a dict gets a fresh id) and return its ack or error."""
        if isinstance(command, dict):
            request_id = next(self._ids) if request_id is None else request_id
            assert "id" not in command, "pass the id as request_id"
            command = {**command, "id": request_id}

        def answers(message: Json) -> bool:
            return message["type"] in ("ack", "error") and message.get("id") == request_id

        self.send(command)
        return self.wait_json(answers, timeout)

    def ack(self, command: Json) -> Json:
        """Send ``command``; assert it is acknowledged; the ack."""
        reply = self.request(command)
        assert reply["type"] == "ack", reply
        assert reply["command"] == command["type"]
        return reply

    def error(self, command: Json | str, request_id: int | str | None = None) -> Json:
        """Send ``command``; assert it is refused; the error."""
        reply = self.request(command, request_id)
        assert reply["type"] == "error", reply
        assert isinstance(reply["message"], str) and reply["message"]
        return reply

    def hello_presenter(self, token: str) -> Json:
        """Say hello as the presenter; the welcome (after the first frame arrived too)."""
        return self._hello({"type": "hello", "role": "presenter", "token": token})

    def hello_viewer(self, code: str) -> Json:
        """Say hello as a viewer of the class with join ``code``; the welcome (after the
        first frame arrived too)."""
        return self._hello({"type": "hello", "role": "viewer", "token": code})

    def _hello(self, hello: Json) -> Json:
        self.send(hello)
        welcome = self.wait_type("welcome")
        self.wait_frame(since=0)
        return welcome


@contextmanager
def open_socket(client: TestClient, session_id: str, headers: dict[str, str] | None = None,
                timeout: float = DEFAULT_TIMEOUT) -> Iterator[Conn]:
    """A Conn on ``/ws/sessions/{session_id}`` (closed on exit)."""
    with client.websocket_connect(f"/ws/sessions/{session_id}",
                                  headers=dict(headers or {})) as ws:
        yield Conn(ws, timeout)


class AddressFromHeader:
    """Wraps an ASGI app so that each test request can say which client address it comes
    from (header ``x-test-address``), as requests from many machines would."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = getattr(app, "state", None)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            for name, value in scope.get("headers", []):
                if name == b"x-test-address":
                    scope = {**scope, "client": (value.decode(), 40000)}
        await self.app(scope, receive, send)
