"""Item 15: sessions survive a restart. The real server process (``python -m
backprop_playground.main``, a temporary store, a free port) is stopped with SIGTERM (every
session saved) or killed with SIGKILL (the last save interval lost) and started again:
each session comes back with its id and presenter token, at its step, bit for bit, its
class under its code; sessions idle past the window do not come back."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.sync.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from backprop_playground.live.store import NullStore, SqliteStore, StoredSession, open_store
from backprop_playground.trainer import restore
from processes import Json, ServerProcess

SMALL: Json = {"network": {"hidden_layers": [3]}, "data": {"dataset": "xor"}}


class Server(ServerProcess):
    """The console entry point on a free port with a store of its own (bench/processes.py),
    with a presenter socket for a session it created."""

    @contextlib.contextmanager
    def presenter(self, created: Json) -> Iterator[ClientConnection]:
        with connect(self.ws(created["id"]), open_timeout=10, max_size=2**24) as conn:
            conn.send(json.dumps({"type": "hello", "role": "presenter",
                                  "token": created["presenter_token"]}))
            assert _next_json(conn, "welcome")["role"] == "presenter"
            yield conn


def _next_json(conn: ClientConnection, kind: str, request_id: Any = None) -> Json:
    deadline = time.monotonic() + 20
    while True:
        message = conn.recv(timeout=max(0.01, deadline - time.monotonic()))
        if isinstance(message, str):
            parsed: Json = json.loads(message)
            if parsed["type"] == kind and (request_id is None or parsed.get("id") == request_id):
                return parsed
            assert parsed["type"] != "error" or request_id is None, parsed


def _command(conn: ClientConnection, command: Json, request_id: int,
             states: list[Json] | None = None) -> Json:
    """Send a command; its ack (the state messages before it go into ``states``)."""
    conn.send(json.dumps({**command, "id": request_id}))
    deadline = time.monotonic() + 20
    while True:
        message = conn.recv(timeout=max(0.01, deadline - time.monotonic()))
        if isinstance(message, str):
            parsed: Json = json.loads(message)
            if parsed["type"] == "state" and states is not None:
                states.append(parsed)
            if parsed.get("id") == request_id and parsed["type"] in ("ack", "error"):
                assert parsed["type"] == "ack", parsed
                return parsed


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "sessions.sqlite3"


def test_sigterm_and_restart_bring_every_session_back_bit_for_bit(store: Path) -> None:
    """A stepped run, a run mid-step, a sweep and a presented class: after SIGTERM and a
    restart each has its id, token, step and exact export, and steps on exactly as an
    uninterrupted copy of it does."""
    server = Server(store).start()
    plain, mid, sweep, presented = (server.create(SMALL) for _ in range(4))
    with server.presenter(plain) as conn:
        _command(conn, {"type": "step", "n": 11}, 1)
    with server.presenter(mid) as conn:
        _command(conn, {"type": "step", "n": 4}, 1)
        _command(conn, {"type": "phase_step"}, 2)
        _command(conn, {"type": "phase_step"}, 3)
    with server.presenter(sweep) as conn:
        _command(conn, {"type": "sweep", "learning_rates": [0.01, 0.3]}, 1)
        _command(conn, {"type": "step", "n": 6}, 2)
        _command(conn, {"type": "promote", "run": 1}, 3)
    with server.presenter(presented) as conn:
        states: list[Json] = []
        _command(conn, {"type": "present"}, 1, states)
        code = next(state["class"]["code"] for state in states if state["class"])
        _command(conn, {"type": "view", "projector": True}, 2)
    sessions = (plain, mid, sweep, presented)
    before = {created["id"]: server.export(created) for created in sessions}
    server.stop(signal.SIGTERM)

    server.start()
    for created in sessions:
        assert server.export(created) == before[created["id"]], created["id"]
        status, info = server.request("GET", f"/api/sessions/{created['id']}")
        assert status == 200 and info["step"] == before[created["id"]]["trainer"]["step"]
    status, joined = server.request("GET", f"/api/join/{code}")
    assert status == 200 and joined["session"] == presented["id"]
    url = f"ws://127.0.0.1:{server.port}/ws/sessions/{presented['id']}"
    with connect(url, open_timeout=10) as viewer:
        viewer.send(json.dumps({"type": "hello", "role": "viewer", "token": code}))
        welcome = _next_json(viewer, "welcome")
        assert welcome["state"]["view"]["projector"] is True
    with server.presenter(sweep) as conn:
        assert _command(conn, {"type": "pause"}, 1)["step"] == 6
    for created in (plain, mid):  # the same future as the uninterrupted run
        reference = restore(before[created["id"]]["trainer"])
        reference.run(5)
        with server.presenter(created) as conn:
            _command(conn, {"type": "step", "n": 5}, 1)
        after = server.export(created)["trainer"]
        assert after["step"] == reference.step_count
        assert np.array_equal(np.array(after["parameters"]), reference.params.values)
    server.stop()


def test_kill_9_loses_at_most_the_last_interval(store: Path) -> None:
    """Saved every 0.5 s: after SIGKILL the session comes back as of its last save (steps
    taken within the last interval may be lost, nothing before it)."""
    server = Server(store, BACKPROP_STORE_INTERVAL_SECONDS="0.5").start()
    created = server.create(SMALL)
    with server.presenter(created) as conn:
        _command(conn, {"type": "step", "n": 9}, 1)
        saved = server.export(created)
        time.sleep(1.5)  # at least one save since
        _command(conn, {"type": "step", "n": 3}, 2)  # may be lost
        server.stop(signal.SIGKILL)
    server.start()
    exported = server.export(created)
    assert exported["trainer"]["step"] in (9, 12)
    if exported["trainer"]["step"] == 9:
        assert exported == saved
    server.stop()


def test_sessions_idle_past_the_window_do_not_come_back(store: Path) -> None:
    """Idle expiry deletes saved sessions: one expired while the server was down is not
    restored (404), and its row is gone."""
    server = Server(store, BACKPROP_IDLE_SESSION_SECONDS="2").start()
    created = server.create(SMALL)
    server.stop()
    assert _rows(store) == 1
    time.sleep(2.5)
    server.start()
    status, _ = server.request("GET", f"/api/sessions/{created['id']}")
    assert status == 404
    server.stop()
    assert _rows(store) == 0


def test_a_stopped_session_is_deleted_from_the_store(store: Path) -> None:
    """An expired session (the reaper) leaves the store too."""
    server = Server(store, BACKPROP_IDLE_SESSION_SECONDS="1",
                    BACKPROP_STORE_INTERVAL_SECONDS="0.2").start()
    created = server.create(SMALL)
    deadline = time.monotonic() + 15
    while server.request("GET", f"/api/sessions/{created['id']}")[0] == 200:
        assert time.monotonic() < deadline, "never expired"
        time.sleep(0.2)
    server.stop()
    assert _rows(store) == 0


def _rows(store: Path) -> int:
    with contextlib.closing(sqlite3.connect(store)) as db:
        count: int = db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
        return count


# ------------------------------------------------------------------ the store alone
def _record(session_id: str, **state: Any) -> StoredSession:
    return StoredSession(session_id, "d" * 64, "127.0.0.1", time.time(), time.time(),
                         {"run": {}, "live": state})


def test_the_store_keeps_replaces_and_deletes(store: Path) -> None:
    kept = SqliteStore(str(store))
    kept.save([_record("a", focus=1), _record("b")])
    kept.save([_record("a", focus=2)])
    kept.delete(["b"])
    loaded = kept.load()
    assert [(r.id, r.state["live"]) for r in loaded] == [("a", {"focus": 2})]
    kept.close()
    again = SqliteStore(str(store))  # the file outlives the process
    assert [r.id for r in again.load()] == ["a"]
    again.close()


def test_one_process_owns_a_store_file(store: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A second store on the same file keeps nothing (and says so) rather than restoring
    the first one's sessions too."""
    first = open_store(str(store))
    second = open_store(str(store))
    assert isinstance(first, SqliteStore) and isinstance(second, NullStore)
    assert "cannot be used" in caplog.text
    first.close()
    third = open_store(str(store))
    assert isinstance(third, SqliteStore)
    third.close()


def test_an_unusable_path_keeps_nothing_but_runs(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert isinstance(open_store(str(blocker / "sessions.sqlite3")), NullStore)
    assert isinstance(open_store(""), NullStore)


def test_unreadable_rows_are_dropped(store: Path) -> None:
    kept = SqliteStore(str(store))
    kept.save([_record("a")])
    with contextlib.closing(sqlite3.connect(store)) as db:
        db.execute("UPDATE sessions SET state = '{broken' WHERE id = 'a'")
        db.commit()
    assert kept.load() == []
    assert _rows(store) == 0
    kept.close()


def test_the_presenter_token_is_not_written(store: Path) -> None:
    """Only a digest of the token is in the file: a copy of it opens nothing."""
    server = Server(store).start()
    created = server.create(SMALL)
    server.stop()
    raw = store.read_bytes() + store.with_name(store.name + "-wal").read_bytes() \
        if store.with_name(store.name + "-wal").exists() else store.read_bytes()
    assert created["presenter_token"].encode() not in raw
    assert created["id"].encode() in raw
