"""Item 5: step counters cannot overflow. A run past 2^32 steps keeps running (frames,
states, acks, history, export all carry the count; pause and step still answer); at 2^53 − 1
(the largest count the page's numbers hold exactly) the run stops and says why."""

from __future__ import annotations

from fastapi.testclient import TestClient
from server_helpers import Conn, Json, SessionHandle, create_session, open_socket

from backprop_playground.live.session import STEP_LIMIT

SMALL: Json = {"network": {"hidden_layers": [3]}, "data": {"dataset": "xor"}}


def _export(client: TestClient, session: SessionHandle) -> Json:
    response = client.get(f"/api/sessions/{session.id}/snapshot",
                          headers={"authorization": f"Bearer {session.token}"})
    assert response.status_code == 200, response.text
    exported: Json = response.json()
    return exported


def _at_step(client: TestClient, step: int) -> SessionHandle:
    """A small run imported as if it had taken ``step`` steps."""
    source = create_session(client, SMALL)
    exported = _export(client, source)
    exported["trainer"]["step"] = step
    exported["trainer"]["learning_rate_changes"] = [[0, [0.03]]]
    return create_session(client, snapshot=exported)


def test_a_run_plays_through_two_to_the_32_steps(client: TestClient) -> None:
    """The run loop passes step 2^32 (it used to die there while the state said running);
    pause and step keep answering, and the export carries the count."""
    session = _at_step(client, 2**32 - 3)
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        conn.ack({"type": "play"})
        conn.wait_frame(lambda header: header["step"] >= 2**32 + 3)
        paused = conn.ack({"type": "pause"})["step"]
        assert paused >= 2**32 + 3
        mark = len(conn.messages)
        assert conn.ack({"type": "step", "n": 2})["step"] == paused + 1
        state = conn.wait_json(lambda m: m["type"] == "state" and m["step"] == paused + 2,
                               since=mark)
        assert state["running"] is False
    exported = _export(client, session)
    assert exported["trainer"]["step"] == paused + 2
    steps = [row[0] for row in exported["history"]["rows"]]
    assert max(steps) == paused + 2
    again = create_session(client, snapshot=exported)  # and it imports again
    with open_socket(client, again.id) as conn:
        assert conn.hello_presenter(again.token)["state"]["step"] == paused + 2


def _refused_at_limit(conn: Conn, command: Json, field: str | None) -> None:
    error = conn.error(command)
    assert error["field"] == field
    assert "limit" in error["message"]


def test_the_counter_stops_at_two_to_the_53_minus_one(client: TestClient) -> None:
    """A step of 10 near the limit runs the steps left; then step, phase_step and play are
    refused naming why; reset trains again."""
    session = _at_step(client, STEP_LIMIT - 3)
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        assert conn.ack({"type": "step", "n": 10})["step"] == STEP_LIMIT - 2
        conn.wait_frame(lambda header: header["step"] == STEP_LIMIT)
        _refused_at_limit(conn, {"type": "step", "n": 1}, "n")
        _refused_at_limit(conn, {"type": "phase_step"}, None)
        _refused_at_limit(conn, {"type": "play"}, None)
        conn.ack({"type": "reset"})
        assert conn.ack({"type": "step"})["step"] == 1


def test_a_playing_run_stops_at_the_limit(client: TestClient) -> None:
    """Playing into the limit stops the run (the state says so) instead of overflowing."""
    session = _at_step(client, STEP_LIMIT - 5)
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        conn.ack({"type": "set_hyper", "speed": 4})
        conn.ack({"type": "play"})
        state = conn.wait_json(lambda m: m["type"] == "state" and not m["running"]
                               and m["step"] == STEP_LIMIT)
        assert state["step"] == STEP_LIMIT
