"""Classroom mode through Starlette's TestClient: ``present`` gives a join code (REST lookup,
QR code, the page at /join/CODE), viewers follow read-only and mirror the presenter's view,
``end_class`` lets them go with 4410 while the presenter carries on, codes die with their
sessions, and ``fork`` copies a run into an independent private session."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from server_helpers import (
    Conn,
    Json,
    SessionHandle,
    SocketClosed,
    bearer,
    create_session,
    open_socket,
    session_info,
    wait_until,
)

from backprop_playground.live.codes import JOIN_ALPHABET, JOIN_CODE_LENGTH
from backprop_playground.live.session import LiveSession
from backprop_playground.wire.commands import CONTROL_COMMANDS
from backprop_playground.wire.messages import CloseCode

CLOSE_CLASS_ENDED = CloseCode.CLASS_ENDED

SMALL: Json = {"network": {"hidden_layers": [3]}, "data": {"dataset": "xor"}}
CODE_PATTERN = re.compile(rf"^[{JOIN_ALPHABET}]{{{JOIN_CODE_LENGTH}}}$")
VIEWER_COMMANDS: list[Json] = [
    {"type": "play"}, {"type": "pause"}, {"type": "step", "n": 2}, {"type": "phase_step"},
    {"type": "reset"}, {"type": "set_hyper", "learning_rate": 0.5, "speed": 4},
    {"type": "configure", "config": {"data": {"dataset": "circle"}}},
    {"type": "select", "target": {"layer": 0, "neuron": 0, "source": 1}},
    {"type": "present"}, {"type": "end_class"}, {"type": "view", "projector": True},
    {"type": "sweep", "learning_rates": [0.01, 0.1]}, {"type": "promote", "run": 0},
    {"type": "view", "panel": "loss"},
    {"type": "focus", "index": 2},
    {"type": "set_parameter", "target": {"layer": 0, "neuron": 1, "source": 0}, "value": 0.5},
    {"type": "open_question", "kind": "update_lowers_loss"}, {"type": "reveal_question"},
    {"type": "close_question"},
    {"type": "set_listing", "listed": False},
    {"type": "edit_points", "add": [[0.5, 0.5, 1]]},
    {"type": "frame_rate", "frames_per_second": 10},
]


def live(app: FastAPI, session_id: str) -> LiveSession:
    session: LiveSession = app.state.registry.get(session_id)
    assert session is not None, f"no live session {session_id}"
    return session


def params(app: FastAPI, session_id: str) -> np.ndarray:
    """A copy of the session's trainer parameters."""
    return np.array(live(app, session_id).trainer.params.values, copy=True)


def present(presenter: Conn) -> Json:
    """Send ``present``; the class info (``{code, path}``) of the state that follows."""
    since = len(presenter.messages)
    presenter.ack({"type": "present"})
    state = presenter.wait_json(lambda m: m["type"] == "state" and m["class"] is not None,
                                since=since)
    info: Json = state["class"]
    return info


def join(client: TestClient, code: str) -> Json:
    response = client.get(f"/api/join/{code}")
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def fingerprint(app: FastAPI, session_id: str) -> dict[str, Any]:
    """Everything a refused command must leave alone (classroom state included)."""
    session = live(app, session_id)
    trainer = session.trainer
    return {"info": {k: v for k, v in session.info().items() if k != "viewers"},
            "running": session.running, "speed": session.speed,
            "selection": session.selection, "phase": trainer.phase,
            "params": trainer.params.values.tolist(), "code": session.join_code,
            "view": dict(session.view), "rates": list(trainer.learning_rate_changes)}


def nulls_for_nan(rows: list[list[Any]]) -> list[list[Any]]:
    """History rows as JSON sends them (NaN as null)."""
    return [[None if isinstance(v, float) and math.isnan(v) else v for v in row] for row in rows]


def fork(client: TestClient, source: SessionHandle, token: str | None = None) -> SessionHandle:
    """Fork ``source`` with its presenter token (or ``token``: a member token)."""
    response = client.post(f"/api/sessions/{source.id}/fork",
                           headers=bearer(token or source.token))
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["websocket"] == f"/ws/sessions/{data['id']}"
    return SessionHandle(data["id"], data["presenter_token"], data["config"])


# ------------------------------------------------------------------------ present
def test_present_acks_and_the_state_carries_the_class(presenter: Conn, app: FastAPI,
                                                      session: SessionHandle) -> None:
    """``present`` is acked and the next state names the code and the page's path."""
    since = len(presenter.messages)
    ack = presenter.ack({"type": "present"})
    assert ack["step"] == 0
    state = presenter.wait_json(lambda m: m["type"] == "state", since=since)
    info = state["class"]
    assert set(info) == {"code", "path"}
    assert CODE_PATTERN.match(info["code"]), info
    assert info["path"] == f"/join/{info['code']}"
    assert live(app, session.id).join_code == info["code"]
    assert app.state.registry.codes[info["code"]] == session.id


def test_a_new_session_is_not_presented(client: TestClient, session: SessionHandle) -> None:
    with open_socket(client, session.id) as conn:
        welcome = conn.hello_presenter(session.token)
    assert welcome["state"]["class"] is None
    assert welcome["state"]["view"] == {"projector": False, "panel": None}


def test_presenting_twice_keeps_the_code(presenter: Conn, app: FastAPI) -> None:
    first = present(presenter)
    second = present(presenter)
    assert first == second
    assert list(app.state.registry.codes) == [first["code"]]


def test_codes_of_different_sessions_differ(client: TestClient, app: FastAPI) -> None:
    codes: dict[str, str] = {}
    for _ in range(8):
        handle = create_session(client, SMALL)
        with open_socket(client, handle.id) as conn:
            conn.hello_presenter(handle.token)
            codes[present(conn)["code"]] = handle.id
    assert len(codes) == 8
    assert all(CODE_PATTERN.match(code) for code in codes)
    assert app.state.registry.codes == codes  # the code outlives the presenter's socket
    for code, session_id in codes.items():
        assert join(client, code)["session"] == session_id


# ---------------------------------------------------------------------- join REST
def test_join_code_resolves_to_the_session(client: TestClient, presenter: Conn,
                                           session: SessionHandle) -> None:
    code = present(presenter)["code"]
    expected = {"session": session.id, "code": code, "websocket": f"/ws/sessions/{session.id}"}
    assert join(client, code) == expected
    assert join(client, code.lower()) == expected
    assert join(client, f"{code[:3]}-{code[3:]}") == expected


def test_unknown_join_code_is_404(client: TestClient) -> None:
    for path in ("/api/join/ZZZZZZ", "/api/join/ZZZZZZ/qr.svg"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["detail"]["field"] == "code"


def test_qr_code_is_an_svg(client: TestClient, presenter: Conn) -> None:
    code = present(presenter)["code"]
    for variant in (code, code.lower()):
        response = client.get(f"/api/join/{variant}/qr.svg")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert "<svg" in response.text


def test_join_page_serves_the_html(client: TestClient, presenter: Conn) -> None:
    """/join/CODE is the page itself (it finds its code in the path), also for a code that
    does not exist (the page then says so)."""
    code = present(presenter)["code"]
    index = client.get("/").text
    for path in (f"/join/{code}", f"/join/{code.lower()}", "/join/NOSUCH"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert response.text == index
        assert '<script type="module" src="/main.js">' in response.text


# ------------------------------------------------------------------------ viewers
def test_viewer_joins_by_code_and_the_presenter_sees_the_count(
        client: TestClient, presenter: Conn, session: SessionHandle) -> None:
    code = present(presenter)["code"]
    session_id = join(client, code)["session"]
    with open_socket(client, session_id) as first, open_socket(client, session_id) as second:
        welcome = first.hello_viewer(code)
        assert welcome["role"] == "viewer" and welcome["session"] == session.id
        assert welcome["state"]["class"]["code"] == code
        assert first.last_frame is not None
        presenter.wait_json(lambda m: m["type"] == "viewers" and m["count"] == 1, since=0)
        second.hello_viewer(code.lower())  # codes ignore case
        presenter.wait_json(lambda m: m["type"] == "viewers" and m["count"] == 2, since=0)
        assert session_info(client, session.id)["viewers"] == 2
    presenter.wait_json(lambda m: m["type"] == "viewers" and m["count"] == 0)


def test_every_control_command_from_a_viewer_is_refused(
        client: TestClient, app: FastAPI, presenter: Conn, session: SessionHandle) -> None:
    code = present(presenter)["code"]
    presenter.ack({"type": "step", "n": 2})
    before = fingerprint(app, session.id)
    assert {command["type"] for command in VIEWER_COMMANDS} == set(CONTROL_COMMANDS)
    with open_socket(client, join(client, code)["session"]) as viewer:
        viewer.hello_viewer(code)
        for index, command in enumerate(VIEWER_COMMANDS):
            reply = viewer.error(command, request_id=f"v{index}")
            assert reply["id"] == f"v{index}"
            assert reply["field"] == "type", (command, reply)
            assert fingerprint(app, session.id) == before, command
        assert not viewer.frames_for(0.3)  # nothing ran: no new frame
    assert fingerprint(app, session.id) == before
    assert join(client, code)["session"] == session.id


def test_presenter_view_is_mirrored_to_viewers(client: TestClient, presenter: Conn,
                                               session: SessionHandle) -> None:
    code = present(presenter)["code"]
    with open_socket(client, session.id) as viewer:
        assert viewer.hello_viewer(code)["state"]["view"]["projector"] is False
        presenter.ack({"type": "view", "projector": True})
        state = viewer.wait_json(lambda m: m["type"] == "state" and m["view"]["projector"])
        assert state["view"] == {"projector": True, "panel": None}
        presenter.ack({"type": "view", "panel": "loss"})
        state = viewer.wait_json(lambda m: m["type"] == "state" and m["view"]["panel"])
        assert state["view"] == {"projector": True, "panel": "loss"}
        presenter.ack({"type": "view", "panel": ""})  # empty: no panel
        viewer.wait_json(lambda m: m["type"] == "state" and m["view"]["panel"] is None)
    with open_socket(client, session.id) as late:  # a late joiner gets it in the welcome
        assert late.hello_viewer(code)["state"]["view"] == {"projector": True, "panel": None}


@pytest.mark.parametrize("view", [{"panel": "Loss"}, {"panel": "x" * 33}, {"projector": 1},
                                  {"colour": "red"}])
def test_bad_view_commands_are_refused(presenter: Conn, app: FastAPI, session: SessionHandle,
                                       view: Json) -> None:
    reply = presenter.error({"type": "view", **view})
    assert reply["field"] in ("panel", "projector", "colour")
    assert live(app, session.id).view == {"projector": False, "panel": None}


def test_viewer_follows_the_presenters_steps(client: TestClient, presenter: Conn,
                                             session: SessionHandle) -> None:
    code = present(presenter)["code"]
    with open_socket(client, session.id) as viewer:
        viewer.hello_viewer(code)
        presenter.ack({"type": "step", "n": 3})
        viewer.wait_frame(lambda h: h["step"] == 3 and h["phase"] == 4)
        presenter.ack({"type": "phase_step"})
        viewer.wait_frame(lambda h: h["step"] == 3 and h["phase"] == 1)


# ---------------------------------------------------------------------- end class
def test_end_class_lets_viewers_go_and_the_presenter_goes_on(
        client: TestClient, app: FastAPI, presenter: Conn, session: SessionHandle) -> None:
    code = present(presenter)["code"]
    with open_socket(client, session.id) as first, open_socket(client, session.id) as second:
        first.hello_viewer(code)
        second.hello_viewer(code)
        presenter.wait_json(lambda m: m["type"] == "viewers" and m["count"] == 2, since=0)
        since = len(presenter.messages)
        presenter.ack({"type": "end_class"})
        for viewer in (first, second):
            event = viewer.wait_json(lambda m: m["type"] == "event")
            assert event["event"] == "class_ended"
            assert "ended" in event["message"]
            assert viewer.wait_closed() == CLOSE_CLASS_ENDED == 4410
    state = presenter.wait_json(lambda m: m["type"] == "state", since=since)
    assert state["class"] is None
    presenter.wait_json(lambda m: m["type"] == "viewers" and m["count"] == 0, since=since)
    assert presenter.ack({"type": "step", "n": 2})["step"] == 1
    presenter.wait_frame(lambda h: h["step"] == 2)
    assert client.get(f"/api/join/{code}").status_code == 404
    assert client.get(f"/api/join/{code}/qr.svg").status_code == 404
    assert code not in app.state.registry.codes
    assert live(app, session.id).join_code is None
    again = present(presenter)["code"]  # a new class gets a new code
    assert join(client, again)["session"] == session.id


def test_end_class_without_a_class_is_harmless(presenter: Conn, client: TestClient,
                                               session: SessionHandle) -> None:
    presenter.ack({"type": "end_class"})
    presenter.ack({"type": "step"})
    assert session_info(client, session.id)["step"] == 1


def test_removed_sessions_drop_their_codes(client: TestClient, app: FastAPI) -> None:
    handles = [create_session(client, SMALL) for _ in range(2)]
    codes = []
    for handle in handles:
        with open_socket(client, handle.id) as conn:
            conn.hello_presenter(handle.token)
            codes.append(present(conn)["code"])
    gone, kept = handles
    with open_socket(client, gone.id) as viewer:
        viewer.hello_viewer(codes[0])
        client.portal.call(app.state.registry.remove, gone.id)
        assert viewer.wait_json(lambda m: m["type"] == "event")["event"] == "class_ended"
        assert viewer.wait_closed() == CLOSE_CLASS_ENDED
    assert client.get(f"/api/join/{codes[0]}").status_code == 404
    assert app.state.registry.codes == {codes[1]: kept.id}
    assert join(client, codes[1])["session"] == kept.id


def test_expired_sessions_drop_their_codes(make_client: Callable[..., TestClient]) -> None:
    client = make_client(idle_session_seconds=0.2)
    handle = create_session(client, SMALL)
    with open_socket(client, handle.id) as conn:
        conn.hello_presenter(handle.token)
        code = present(conn)["code"]
    registry = client.app.state.registry  # type: ignore[attr-defined]
    assert wait_until(lambda: handle.id not in registry.sessions, timeout=5)
    assert registry.codes == {}
    assert client.get(f"/api/join/{code}").status_code == 404


def test_presented_sessions_stream_at_the_class_rate(
        make_client: Callable[..., TestClient]) -> None:
    client = make_client(presented_frames_per_second=8, max_frames_per_second=60)
    handle = create_session(client, SMALL)
    with open_socket(client, handle.id) as conn:
        conn.hello_presenter(handle.token)
        present(conn)
        conn.ack({"type": "play"})
        presented = len(conn.frames_for(0.75))
        conn.ack({"type": "end_class"})
        conn.frames_for(0.15)
        private = len(conn.frames_for(0.75))
        conn.ack({"type": "pause"})
    assert 2 <= presented <= 8, presented
    assert private >= 2 * presented, (presented, private)


# --------------------------------------------------------------------------- fork


def test_fork_of_a_fresh_session(client: TestClient, app: FastAPI) -> None:
    """A session that never sent a frame (empty history) forks into an equal, independent
    one with its own id and token."""
    source = create_session(client, SMALL)
    copy = fork(client, source)
    assert copy.id != source.id and copy.token not in ("", source.token)
    assert copy.config == source.config
    assert np.array_equal(params(app, copy.id), params(app, source.id))
    before = params(app, source.id)
    with open_socket(client, copy.id) as conn:
        conn.hello_presenter(copy.token)
        conn.ack({"type": "step", "n": 3})
        conn.wait_frame(lambda h: h["step"] == 3)
    assert live(app, source.id).trainer.step_count == 0
    assert np.array_equal(params(app, source.id), before)
    assert not np.array_equal(params(app, copy.id), before)


def test_fork_of_a_session_that_sent_frames(client: TestClient, app: FastAPI,
                                            presenter: Conn, session: SessionHandle) -> None:
    """The smallest repro: connect (the step-0 frame records batch_loss NaN), step, fork."""
    presenter.ack({"type": "step"})
    assert math.isnan(live(app, session.id).history.rows[0][-1])
    response = client.post(f"/api/sessions/{session.id}/fork", headers=bearer(session.token))
    assert response.status_code == 201, response.text


def test_fork_copies_the_run_at_that_moment(client: TestClient, app: FastAPI,
                                            presenter: Conn, session: SessionHandle) -> None:
    present(presenter)
    presenter.ack({"type": "set_hyper", "learning_rate": 0.3, "speed": 5})
    presenter.ack({"type": "step", "n": 7})
    class_frame = presenter.wait_frame(lambda h: h["step"] == 7, since=0)
    copy = fork(client, session)
    assert copy.id != session.id
    assert copy.token != session.token and copy.token
    source, forked = live(app, session.id), live(app, copy.id)
    assert forked.trainer.step_count == source.trainer.step_count == 7
    assert np.array_equal(forked.trainer.params.values, source.trainer.params.values)
    assert forked.trainer.config == source.trainer.config
    assert forked.speed == 5
    assert forked.join_code is None  # a private session, not a second class
    assert copy.config == session_info(client, session.id)["config"]
    with open_socket(client, copy.id) as conn:
        welcome = conn.hello_presenter(copy.token)
        assert welcome["state"]["class"] is None
        assert welcome["state"]["step"] == 7
        assert welcome["history"]["rows"] == nulls_for_nan(source.history.as_dict()["rows"])
        header = conn.headers[-1]
        assert header["step"] == 7
        assert header["train_loss"] == class_frame["train_loss"]
        assert header["test_loss"] == class_frame["test_loss"]


def test_fork_mid_step_keeps_the_phase(client: TestClient, app: FastAPI, presenter: Conn,
                                       session: SessionHandle) -> None:
    presenter.ack({"type": "step", "n": 2})
    presenter.ack({"type": "phase_step"})
    presenter.ack({"type": "phase_step"})  # forward and loss of step 3 done
    copy = fork(client, session)
    source, forked = live(app, session.id).trainer, live(app, copy.id).trainer
    assert (forked.step_count, forked.phase) == (source.step_count, source.phase) == (2, "loss")
    assert np.array_equal(forked.params.values, source.params.values)


def test_fork_and_source_evolve_independently(client: TestClient, app: FastAPI,
                                              presenter: Conn, session: SessionHandle) -> None:
    presenter.ack({"type": "step", "n": 4})
    copy = fork(client, session)
    source_before = params(app, session.id)
    with open_socket(client, copy.id) as conn:
        conn.hello_presenter(copy.token)
        conn.ack({"type": "step", "n": 5})
        conn.wait_frame(lambda h: h["step"] == 9)
        assert live(app, copy.id).trainer.step_count == 9
        assert live(app, session.id).trainer.step_count == 4
        assert np.array_equal(params(app, session.id), source_before)
        assert not np.array_equal(params(app, copy.id), source_before)
        # the same future: five steps of the source land where the fork's five did
        presenter.ack({"type": "step", "n": 5})
        assert np.array_equal(params(app, session.id), params(app, copy.id))
        fork_now = params(app, copy.id)
        presenter.ack({"type": "step", "n": 3})
        presenter.ack({"type": "set_hyper", "learning_rate": 1.0})
        assert live(app, copy.id).trainer.step_count == 9
        assert np.array_equal(params(app, copy.id), fork_now)
        assert live(app, copy.id).trainer.config.hyper.learning_rate != 1.0


def test_fork_tokens_are_not_interchangeable(client: TestClient, presenter: Conn,
                                             session: SessionHandle) -> None:
    copy = fork(client, session)
    with open_socket(client, copy.id) as conn:
        conn.send({"type": "hello", "role": "presenter", "token": session.token})
        with pytest.raises(SocketClosed) as closed:
            conn.wait_json(lambda m: False)
        assert closed.value.code == 4403


def test_fork_of_a_running_session(client: TestClient, app: FastAPI, presenter: Conn,
                                   session: SessionHandle) -> None:
    """A running source is copied between two steps; the copy is paused."""
    presenter.ack({"type": "play"})
    presenter.wait_frame(lambda h: h["step"] >= 5)
    copy = fork(client, session)
    presenter.ack({"type": "pause"})
    forked = live(app, copy.id)
    assert not forked.running
    assert forked.trainer.step_count >= 5
    assert forked.trainer.phase in (None, "update")


def test_fork_of_an_unknown_session_is_404(client: TestClient, app: FastAPI) -> None:
    response = client.post("/api/sessions/no-such-session/fork", headers=bearer("x"))
    assert response.status_code == 404
    assert response.json()["detail"]["field"] == "id"
    assert app.state.registry.sessions == {}
