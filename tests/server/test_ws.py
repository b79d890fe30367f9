"""The WebSocket protocol through Starlette's TestClient: hello, welcome and frames, every
command's ack (naming the step it took effect at), viewers, tokens, origins, bad input
(answered, never fatal), oversized messages, configure/select, divergence, rate limit.

Every JSON text received is parsed strictly (NaN/Infinity fail the test) by ``Conn``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from server_helpers import (
    PHASE_CODE,
    SAME_ORIGIN,
    Conn,
    Json,
    SessionHandle,
    class_code,
    create_session,
    export_run,
    layer_sizes,
    open_socket,
    session_info,
    wait_until,
)
from starlette.websockets import WebSocketDisconnect

from backprop_playground.wire.commands import CONTROL_COMMANDS
from backprop_playground.wire.frame import (
    FLAG_DELTA,
    FLAG_DIVERGED,
    FLAG_MAPS_SKIPPED,
    FLAG_RUNNING,
    FLAG_SELECTION,
    FRAME_VERSION,
    PROTOCOL_VERSION,
    body_of,
    decode_header,
)

REGRESSION: Json = {"network": {"hidden_layers": [3], "activation": "relu", "loss": "mse"},
                    "data": {"dataset": "plane"}}
CONTROL_EXAMPLES: list[Json] = [
    {"type": "play"}, {"type": "pause"}, {"type": "step", "n": 3}, {"type": "phase_step"},
    {"type": "reset"}, {"type": "set_hyper", "learning_rate": 0.5, "speed": 4},
    {"type": "configure", "config": {"data": {"dataset": "spiral3"}}},
    {"type": "select", "target": {"layer": 0, "neuron": 0, "source": 1}},
    {"type": "present"},
    {"type": "end_class"},
    {"type": "view", "projector": True},
    {"type": "sweep", "learning_rates": [0.01, 0.1]},
    {"type": "promote", "run": 0},
    {"type": "focus", "index": 2},
    {"type": "set_parameter", "target": {"layer": 0, "neuron": 1, "source": 0}, "value": 0.5},
    {"type": "open_question", "kind": "update_lowers_loss"}, {"type": "reveal_question"},
    {"type": "close_question"},
    {"type": "edit_points", "add": [[1.0, 1.0, 1]]},
    {"type": "set_listing", "listed": False},
    {"type": "frame_rate", "frames_per_second": 20},
]


def fingerprint(app: FastAPI, session_id: str) -> dict[str, Any]:
    """Everything a refused command must leave alone."""
    live = app.state.registry.get(session_id)
    trainer = live.trainer
    return {"info": {k: v for k, v in live.info().items() if k != "viewers"},
            "speed": live.speed, "selection": live.selection, "phase": trainer.phase,
            "weights": [w.tolist() for w, _ in trainer.get_weights()],
            "rates": list(trainer.learning_rate_changes)}


def rate_of(header: Json) -> float:
    """The learning rate in a frame header, as a Python float (it is float32 on the wire)."""
    return float(header["learning_rate"])


# ----------------------------------------------------------------- hello, welcome
def test_presenter_hello_gets_welcome_then_a_frame(client: TestClient,
                                                   session: SessionHandle) -> None:
    """A presenter's hello gets a welcome (config, data, state, history), then a frame."""
    with open_socket(client, session.id) as conn:
        welcome = conn.hello_presenter(session.token)
        assert welcome["session"] == session.id
        assert welcome["role"] == "presenter"
        assert welcome["protocol"] == PROTOCOL_VERSION
        assert welcome["config"] == session.config
        assert welcome["state"]["running"] is False
        assert welcome["state"]["step"] == 0
        assert welcome["history"]["columns"][0] == "step"
        data = welcome["data"]
        assert (data["problem"], data["n_classes"]) == ("binary", 2)
        assert len(data["train"]) + len(data["test"]) == session.config["data"]["n_points"]
        assert all(len(row) == 3 and row[2] in (0, 1) for row in data["train"] + data["test"])
        header = conn.headers[0]  # the hello waited for it
        assert header["step"] == 0
        assert header["version"] == FRAME_VERSION
        assert layer_sizes(conn.last_frame or b"") == [2, 3, 1]


def test_viewer_hello_gets_welcome_and_frames(client: TestClient, session: SessionHandle,
                                              presenter: Conn) -> None:
    """A viewer (with the class's join code) is welcomed as a viewer and receives the
    frames of the run."""
    code = class_code(client, session)
    with open_socket(client, session.id) as viewer:
        welcome = viewer.hello_viewer(code)
        assert welcome["role"] == "viewer"
        viewer.wait_json(lambda m: m["type"] == "viewers" and m["count"] == 1, since=0)
        presenter.ack({"type": "play"})
        first = viewer.wait_frame(lambda h: h["step"] >= 1)
        later = viewer.wait_frame(lambda h: h["step"] > first["step"])
        assert later["sequence"] > first["sequence"]


def test_a_viewer_that_reads_deltas_gets_them_and_reads_every_frame(
        client: TestClient, session: SessionHandle, presenter: Conn) -> None:
    """A hello with ``deltas``: the running frames come as delta frames on the frame before
    (the first one whole), and each reads back to a frame of the run (the step rises); a
    viewer without it gets whole frames only."""
    code = class_code(client, session)
    with open_socket(client, session.id) as reader, open_socket(client, session.id) as plain:
        reader._hello({"type": "hello", "role": "viewer", "token": code, "deltas": True})
        frames = [reader.last_frame or b""]  # the one the hello waited for
        plain.hello_viewer(code)
        presenter.ack({"type": "play"})
        while len(frames) < 12:
            message = reader.receive()
            if isinstance(message, bytes):
                frames.append(message)
        base: tuple[int, bytes] | None = None
        deltas, steps = 0, []
        for data in frames:
            header = decode_header(data)
            if header["flags"] & FLAG_DELTA:
                assert base is not None and header["base"] == base[0]
                deltas += 1
            body = body_of(data, base[1] if base else None)
            assert len(body) == header["body_bytes"]
            if not header["flags"] & FLAG_MAPS_SKIPPED:  # one without maps is no base
                base = (header["sequence"], body)
            steps.append(header["step"])
        assert deltas >= 6 and steps == sorted(steps)
        assert not any(h["flags"] & FLAG_DELTA for h in plain.frames_for(0.3))


def test_wrong_presenter_token_is_refused_with_4403(client: TestClient,
                                                    session: SessionHandle) -> None:
    """A wrong presenter token gets an error naming ``token``, then close 4403."""
    with open_socket(client, session.id) as conn:
        wrong = session.token[:-1] + ("y" if session.token.endswith("x") else "x")
        conn.send({"type": "hello", "role": "presenter", "token": wrong})
        error = conn.wait_type("error")
        assert error["field"] == "token"
        assert conn.wait_closed() == 4403
    assert not client.app.state.registry.get(session.id).subscribers  # type: ignore[attr-defined]


def test_presenter_hello_without_token_is_refused(client: TestClient,
                                                  session: SessionHandle) -> None:
    """A presenter hello without a token is refused with close 4403."""
    with open_socket(client, session.id) as conn:
        conn.send({"type": "hello", "role": "presenter"})
        assert conn.wait_type("error")["field"] == "token"
        assert conn.wait_closed() == 4403


def test_token_of_another_session_is_refused(client: TestClient,
                                             session: SessionHandle) -> None:
    """A presenter token only works for its own session."""
    other = create_session(client)
    with open_socket(client, session.id) as conn:
        conn.send({"type": "hello", "role": "presenter", "token": other.token})
        assert conn.wait_closed() == 4403


@pytest.mark.parametrize("first", [
    '{"type": "play"}', "garbage", "[]", '{"type": "hello", "role": "admin"}',
    '{"type": "hello"}', '{"type": "hello", "role": "viewer", "token": 5}',
])
def test_first_message_must_be_a_valid_hello(client: TestClient, session: SessionHandle,
                                             first: str) -> None:
    """Anything but a valid hello as the first message gets an error, then close 1008."""
    with open_socket(client, session.id) as conn:
        conn.send(first)
        error = conn.wait_type("error")
        assert error["message"]
        assert conn.wait_closed() == 1008


def test_silent_client_is_closed_after_the_hello_timeout(
        make_client: Callable[..., TestClient]) -> None:
    """A client silent past ``hello_timeout_seconds`` gets an error, then close 1008."""
    client = make_client(hello_timeout_seconds=0.3)
    session = create_session(client)
    with open_socket(client, session.id) as conn:
        assert conn.wait_type("error")["field"] == "type"
        assert conn.wait_closed() == 1008


def test_unknown_session_is_closed_with_4404(client: TestClient) -> None:
    """A socket for a session that does not exist gets an error naming ``id``, then 4404."""
    with open_socket(client, "no-such-session") as conn:
        assert conn.wait_type("error")["field"] == "id"
        assert conn.wait_closed() == 4404


def test_second_hello_is_an_error_not_a_close(presenter: Conn) -> None:
    """A hello after the hello is refused (field ``type``); the socket keeps working."""
    assert presenter.error({"type": "hello", "role": "viewer"})["field"] == "type"
    presenter.ack({"type": "pause"})


def test_viewer_limit_closes_with_4429(make_client: Callable[..., TestClient]) -> None:
    """Past ``max_viewers_per_session`` a viewer is refused with 4429."""
    client = make_client(max_viewers_per_session=1)
    session = create_session(client)
    code = class_code(client, session)
    with open_socket(client, session.id) as first:
        first.hello_viewer(code)
        with open_socket(client, session.id) as second:
            second.send({"type": "hello", "role": "viewer", "token": code})
            assert second.wait_closed() == 4429
        assert session_info(client, session.id)["viewers"] == 1


def test_viewer_count_follows_connections(client: TestClient, session: SessionHandle,
                                          presenter: Conn) -> None:
    """Viewers joining and leaving are counted in the info and announced to everyone."""
    code = class_code(client, session)
    with open_socket(client, session.id) as viewer:
        viewer.hello_viewer(code)
        presenter.wait_json(lambda m: m["type"] == "viewers" and m["count"] == 1, since=0)
        assert session_info(client, session.id)["viewers"] == 1
    presenter.wait_json(lambda m: m["type"] == "viewers" and m["count"] == 0)
    assert session_info(client, session.id)["viewers"] == 0


def test_closed_sockets_leave_no_subscriber(client: TestClient, app: FastAPI,
                                            session: SessionHandle) -> None:
    """After presenter and viewers disconnect, the session holds no subscriber."""
    code = class_code(client, session)
    for _ in range(5):
        with open_socket(client, session.id) as conn:
            conn.hello_viewer(code)
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
    live = app.state.registry.get(session.id)
    assert wait_until(lambda: not live.subscribers, timeout=5)


# ------------------------------------------------------------------------ origins
def test_cross_origin_socket_is_refused(client: TestClient, session: SessionHandle) -> None:
    """An Origin that is neither the Host nor allowed is closed before accept (1008)."""
    with pytest.raises(WebSocketDisconnect) as refused, open_socket(
            client, session.id, headers={"origin": "http://evil.example"}):
        pass
    assert refused.value.code == 1008


def test_other_port_on_same_host_is_another_origin(client: TestClient,
                                                   session: SessionHandle) -> None:
    """Same host name on another port is a different origin: refused."""
    with pytest.raises(WebSocketDisconnect), open_socket(
            client, session.id, headers={"origin": "http://testserver:8081"}):
        pass


def test_same_origin_socket_is_allowed(client: TestClient, session: SessionHandle) -> None:
    """An Origin equal to the page's own (the Host) is allowed."""
    with open_socket(client, session.id, headers={"origin": SAME_ORIGIN}) as conn:
        assert conn.hello_presenter(session.token)["role"] == "presenter"


def test_allowlisted_origin_is_allowed(make_client: Callable[..., TestClient]) -> None:
    """An Origin listed in ``Settings.allowed_origins`` is allowed; others still are not."""
    client = make_client(allowed_origins=["https://class.example"])
    session = create_session(client)
    code = class_code(client, session)
    with open_socket(client, session.id, headers={"origin": "https://class.example"}) as conn:
        conn.hello_viewer(code)
    with pytest.raises(WebSocketDisconnect), open_socket(
            client, session.id, headers={"origin": "https://evil.example"}):
        pass


# ------------------------------------------------------------------ run commands
def test_presenter_flow_end_to_end(client: TestClient, app: FastAPI) -> None:
    """play, set_hyper, pause, step 5, four phase_steps and reset compose on one socket."""
    session = create_session(client, {"network": {"hidden_layers": [3]},
                                      "data": {"dataset": "xor"}})
    trainer = app.state.registry.get(session.id).trainer
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        assert conn.ack({"type": "play"})["step"] == 1
        first = conn.wait_frame(lambda h: h["step"] >= 1)
        conn.wait_frame(lambda h: h["step"] > first["step"])
        changed = conn.ack({"type": "set_hyper", "learning_rate": 0.3})["step"]
        assert (changed, (0.3,)) in trainer.learning_rate_changes
        header = conn.wait_frame(lambda h: h["step"] >= changed)
        assert rate_of(header) == pytest.approx(0.3)
        paused = conn.ack({"type": "pause"})["step"]
        mark = len(conn.headers)
        assert conn.ack({"type": "step", "n": 5})["step"] == paused + 1
        conn.wait_frame(lambda h: h["step"] == paused + 5, since=mark)
        for code in (1, 2, 3, 4):
            mark = len(conn.headers)
            assert conn.ack({"type": "phase_step"})["step"] == paused + 6
            conn.wait_frame(lambda h, c=code: h["phase"] == c, since=mark)
        mark = len(conn.headers)
        assert conn.ack({"type": "reset"})["step"] == 0
        assert conn.wait_frame(lambda h: h["step"] == 0, since=mark)["phase"] == 0


def test_play_streams_frames_with_increasing_steps(presenter: Conn,
                                                   session: SessionHandle) -> None:
    """play is acked at step 1; running frames follow with rising steps and sequences."""
    assert presenter.ack({"type": "play"})["step"] == 1
    mark = len(presenter.headers)
    for _ in range(6):
        presenter.wait_frame(lambda h: h["step"] >= 1)
    headers = [h for h in presenter.headers[mark:] if h["step"] >= 1]
    steps = [h["step"] for h in headers]
    assert steps == sorted(steps) and steps[-1] > steps[0]
    sequences = [h["sequence"] for h in headers]
    assert sequences == sorted(set(sequences))
    assert all(h["flags"] & FLAG_RUNNING for h in headers)
    assert all(h["n_layers"] == 2 and h["n_features"] == 2 for h in headers)


def test_set_hyper_applies_from_the_acked_step(presenter: Conn, app: FastAPI,
                                               session: SessionHandle) -> None:
    """A live learning rate is used from the acked step N on, and only from N."""
    presenter.ack({"type": "play"})
    presenter.wait_frame(lambda h: h["step"] >= 3)
    step = presenter.ack({"type": "set_hyper", "learning_rate": 0.25})["step"]
    trainer = app.state.registry.get(session.id).trainer
    assert (step, (0.25,)) in trainer.learning_rate_changes
    presenter.wait_frame(lambda h: h["step"] >= step + 2)
    for header in presenter.headers:
        expected = 0.25 if header["step"] >= step else 0.03
        assert rate_of(header) == pytest.approx(expected, rel=1e-6), header["step"]


def test_set_hyper_mid_step_applies_from_the_next_step(presenter: Conn, app: FastAPI,
                                                       session: SessionHandle) -> None:
    """A change during a step in progress applies from the step after it."""
    presenter.ack({"type": "step", "n": 2})
    assert presenter.ack({"type": "phase_step"})["step"] == 3
    assert presenter.ack({"type": "set_hyper", "learning_rate": 0.5})["step"] == 4
    mark = len(presenter.headers)
    presenter.ack({"type": "step", "n": 2})  # the rest of step 3, then step 4
    assert app.state.registry.get(session.id).trainer.learning_rate_changes[-1] == (4, (0.5,))
    header = presenter.wait_frame(lambda h: h["step"] == 4, since=mark)
    assert rate_of(header) == pytest.approx(0.5)


def test_set_hyper_speed_is_shown_in_the_state(presenter: Conn) -> None:
    """set_hyper speed changes the steps per frame; the state broadcast shows it."""
    presenter.ack({"type": "set_hyper", "speed": 4})
    assert presenter.messages[-2]["type"] == "state"
    assert presenter.messages[-2]["speed"] == 4


def test_pause_stops_the_run(presenter: Conn, client: TestClient,
                             session: SessionHandle) -> None:
    """pause is acked with the current step; the session stops there."""
    presenter.ack({"type": "play"})
    presenter.wait_frame(lambda h: h["step"] >= 2)
    step = presenter.ack({"type": "pause"})["step"]
    info = session_info(client, session.id)
    assert info["running"] is False
    assert info["step"] == step
    presenter.wait_frame(lambda h: not h["flags"] & FLAG_RUNNING and h["step"] == step)
    presenter.ack({"type": "select", "target": None})  # a round trip later, still there
    assert session_info(client, session.id)["step"] == step


def test_step_runs_exactly_n_steps(presenter: Conn, client: TestClient,
                                   session: SessionHandle) -> None:
    """step n=5 is acked at the previous step + 1 and produces a frame at previous + 5."""
    before = presenter.ack({"type": "step", "n": 2})["step"] + 1
    mark = len(presenter.headers)
    assert presenter.ack({"type": "step", "n": 5})["step"] == before + 1
    presenter.wait_frame(lambda h: h["step"] == before + 5, since=mark)
    assert session_info(client, session.id)["step"] == before + 5


def test_step_pauses_a_running_session(presenter: Conn, client: TestClient,
                                       session: SessionHandle) -> None:
    """A step command while running pauses the session."""
    presenter.ack({"type": "play"})
    presenter.wait_frame(lambda h: h["step"] >= 2)
    presenter.ack({"type": "step", "n": 1})
    assert session_info(client, session.id)["running"] is False


def test_phase_step_walks_the_phases(presenter: Conn, client: TestClient,
                                     session: SessionHandle) -> None:
    """Four phase_steps run forward, loss, backward, update (frame phase codes 1-4)."""
    presenter.ack({"type": "step", "n": 3})
    for phase in ("forward", "loss", "backward", "update"):
        mark = len(presenter.headers)
        assert presenter.ack({"type": "phase_step"})["step"] == 4
        header = presenter.wait_frame(lambda h, p=phase: h["phase"] == PHASE_CODE[p],
                                      since=mark)
        assert header["step"] == (4 if phase == "update" else 3)
    assert session_info(client, session.id)["step"] == 4


def test_reset_goes_back_to_step_zero(presenter: Conn, client: TestClient,
                                      session: SessionHandle) -> None:
    """reset is acked at 0, announces the config, sends step 0, restores the weights."""
    initial = export_run(client, session)["trainer"]
    presenter.ack({"type": "step", "n": 7})
    mark = len(presenter.headers)
    assert presenter.ack({"type": "reset"})["step"] == 0
    presenter.wait_frame(lambda h: h["step"] == 0, since=mark)
    assert any(m["type"] == "config" for m in presenter.messages)
    after = export_run(client, session)
    assert after["trainer"]["parameters"] == initial["parameters"]
    assert after["trainer"]["step"] == 0
    assert after["history"]["rows"] == [] or after["history"]["rows"][0][0] == 0


def test_every_command_is_followed_by_a_state_broadcast(client: TestClient,
                                                        session: SessionHandle,
                                                        presenter: Conn) -> None:
    """After a command, presenter and viewers receive the new state."""
    code = class_code(client, session)
    with open_socket(client, session.id) as viewer:
        viewer.hello_viewer(code)
        presenter.ack({"type": "set_hyper", "learning_rate": 0.1})
        state = viewer.wait_json(lambda m: m["type"] == "state"
                                 and m["hyper"]["learning_rate"] == 0.1)
        assert state["running"] is False


def test_commands_are_answered_in_order(presenter: Conn) -> None:
    """Commands sent back to back are answered in the order they were sent."""
    commands = [{"type": "step", "n": 2}, {"type": "set_hyper", "speed": 3},
                {"type": "phase_step"}, {"type": "step", "n": 0}, {"type": "pause"},
                {"type": "select", "target": {"layer": 0, "neuron": 1}}, {"type": "reset"}]
    for index, command in enumerate(commands):
        presenter.send({**command, "id": index})
    answers = [presenter.wait_json(lambda m: m["type"] in ("ack", "error"))
               for _ in commands]
    assert [a["id"] for a in answers] == list(range(len(commands)))
    assert [a["type"] for a in answers] == ["ack"] * 3 + ["error"] + ["ack"] * 3
    assert [a["step"] for a in answers if a["type"] == "ack"] == [1, 3, 3, 2, 2, 0]


def test_null_optional_fields_count_as_not_given(presenter: Conn, app: FastAPI,
                                                 session: SessionHandle) -> None:
    """``null`` for an optional field (id, set_hyper fields, target) means "not given"."""
    before = fingerprint(app, session.id)
    presenter.send('{"type": "set_hyper", "learning_rate": null, "speed": null, "id": null}')
    assert presenter.wait_type("ack")["id"] is None
    assert fingerprint(app, session.id) == before


def test_session_nobody_watches_pauses(client: TestClient, session: SessionHandle) -> None:
    """When the last client leaves, a running session pauses."""
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        conn.ack({"type": "play"})
        conn.wait_frame(lambda h: h["step"] >= 2)
        assert session_info(client, session.id)["running"] is True
    assert wait_until(lambda: session_info(client, session.id)["running"] is False, timeout=5)


def test_a_page_gets_running_frames_at_the_pace_it_asks_for(presenter: Conn,
                                                            session: SessionHandle) -> None:
    """frame_rate 5: about 5 running frames a second, each newer than the last; a pause's
    frame comes at once; null: every frame again. Out of range: refused naming the field."""
    assert presenter.error({"type": "frame_rate", "frames_per_second": 0})["field"] == (
        "frames_per_second")
    presenter.ack({"type": "frame_rate", "frames_per_second": 5})
    presenter.ack({"type": "set_hyper", "speed": 4})
    presenter.ack({"type": "play"})
    presenter.wait_frame(lambda h: h["step"] >= 1)
    paced = presenter.frames_for(1.5)
    assert 4 <= len(paced) <= 9, len(paced)
    steps = [h["step"] for h in paced]
    assert steps == sorted(steps) and steps[-1] - steps[0] >= 4 * (len(paced) - 1)
    presenter.ack({"type": "frame_rate", "frames_per_second": None})
    assert len(presenter.frames_for(1.0)) >= 15
    presenter.ack({"type": "frame_rate", "frames_per_second": 1})
    presenter.frames_for(0.2)
    since = len(presenter.headers)
    presenter.ack({"type": "pause"})
    presenter.wait_frame(lambda h: not h["flags"] & FLAG_RUNNING, timeout=0.8, since=since)


# ---------------------------------------------------------------------- viewers
def test_control_examples_cover_every_control_command() -> None:
    """The viewer test below tries every control command of the protocol."""
    assert {c["type"] for c in CONTROL_EXAMPLES} == set(CONTROL_COMMANDS)


@pytest.mark.parametrize("command", CONTROL_EXAMPLES, ids=lambda c: c["type"])
def test_viewers_are_read_only(viewer: Conn, app: FastAPI, session: SessionHandle,
                               command: Json) -> None:
    """Every control command from a viewer is refused (field ``type``), changing nothing."""
    before = fingerprint(app, session.id)
    error = viewer.error(command)
    assert error["field"] == "type"
    assert "viewer" in error["message"]
    assert fingerprint(app, session.id) == before
    viewer.error({"type": "pause"})  # still connected, still refused


# --------------------------------------------------------------------- bad input
BAD_INPUT: list[tuple[str, str | None]] = [
    ("garbage", None),
    ("{not json", None),
    ("[1, 2, 3]", None),
    ('"set_hyper"', None),
    ("null", None),
    ('{"type": "set_hyper", "learning_rate": "x"}', "learning_rate"),
    ('{"type": "set_hyper", "learning_rate": 100}', "learning_rate"),
    ('{"type": "set_hyper", "learning_rate": 0}', "learning_rate"),
    ('{"type": "set_hyper", "learning_rate": NaN}', "learning_rate"),
    ('{"type": "set_hyper", "learning_rate": Infinity}', "learning_rate"),
    ('{"type": "set_hyper", "learning_rate": 1e999}', "learning_rate"),
    ('{"type": "set_hyper", "learning_rate": 0.5, "colour": 1}', "colour"),
    ('{"type": "set_hyper", "batch_size": 2.5}', "batch_size"),
    ('{"type": "set_hyper", "optimizer": "rmsprop"}', "optimizer"),
    ('{"type": "set_hyper", "speed": 0}', "speed"),
    ('{"type": "step", "n": 0}', "n"),
    ('{"type": "step", "n": "5"}', "n"),
    ('{"type": "step", "n": true}', "n"),
    ('{"type": "play", "v": 2}', "v"),
    ('{"type": "select", "target": {"layer": 0, "neuron": -1}}', "target.neuron"),
    ('{"type": "configure", "config": "spiral"}', "config"),
    ('{"type": "launch"}', None),
    ("{}", None),
]


@pytest.mark.parametrize(("text", "field"), BAD_INPUT, ids=[t for t, _ in BAD_INPUT])
def test_bad_input_is_answered_and_harmless(presenter: Conn, app: FastAPI,
                                            session: SessionHandle, text: str,
                                            field: str | None) -> None:
    """Bad input gets an error naming the field; the session is unchanged; the socket works."""
    before = fingerprint(app, session.id)
    error = presenter.error(text)
    if field is not None:
        assert error["field"] == field
    assert fingerprint(app, session.id) == before
    presenter.ack({"type": "set_hyper", "speed": 2})


def test_binary_garbage_is_answered_and_harmless(presenter: Conn) -> None:
    """A binary message that is not UTF-8 JSON gets an error; the socket keeps working."""
    presenter.error(b"\xff\xfe\x00garbage")
    presenter.ack({"type": "pause"})


def test_error_echoes_the_request_id(presenter: Conn) -> None:
    """An error for a command with an id carries that id (the client matches replies)."""
    error = presenter.error({"type": "step", "n": -1}, request_id=41)
    assert error["id"] == 41
    raw = '{"type": "step", "n": -1, "id": "abc"}'
    assert presenter.error(raw, request_id="abc")["id"] == "abc"


def test_unknown_command_type_names_the_type_field(presenter: Conn) -> None:
    """An unknown command type is refused naming the field ``type``."""
    assert presenter.error({"type": "launch"})["field"] == "type"


def test_bad_request_id_names_the_id_field(presenter: Conn) -> None:
    """A request id that is not a short string or an integer ≥ 0 is refused naming ``id``."""
    presenter.send('{"type": "pause", "id": -1}')
    error = presenter.wait_type("error")
    assert error["id"] is None  # not a valid id: not echoed
    assert error["field"] == "id"


def test_deeply_nested_json_is_answered_and_harmless(client: TestClient,
                                                     session: SessionHandle) -> None:
    """2 KB of 1000 nested arrays gets an error; the socket keeps working."""
    with open_socket(client, session.id, timeout=3) as conn:
        conn.hello_presenter(session.token)
        conn.error("[" * 1000 + "]" * 1000)
        conn.ack({"type": "pause"})


def test_oversized_message_is_closed_with_1009(make_client: Callable[..., TestClient]
                                               ) -> None:
    """A text message over ``max_message_bytes`` closes the socket with 1009."""
    client = make_client(max_message_bytes=2048)
    session = create_session(client)
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        conn.send('{"type": "pause", "id": "' + "x" * 3000 + '"}')
        assert conn.wait_closed() == 1009


def test_oversized_binary_message_is_closed_with_1009(
        make_client: Callable[..., TestClient]) -> None:
    """A binary message over ``max_message_bytes`` closes the socket with 1009."""
    client = make_client(max_message_bytes=2048)
    session = create_session(client)
    code = class_code(client, session)
    with open_socket(client, session.id) as conn:
        conn.hello_viewer(code)
        conn.send(b"x" * 3000)
        assert conn.wait_closed() == 1009


def test_oversized_hello_is_closed_with_1009(make_client: Callable[..., TestClient]) -> None:
    """An oversized first message closes with 1009 too."""
    client = make_client(max_message_bytes=2048)
    session = create_session(client)
    with open_socket(client, session.id) as conn:
        conn.send(" " * 3000)
        assert conn.wait_closed() == 1009


def test_message_at_the_limit_is_accepted(make_client: Callable[..., TestClient]) -> None:
    """A message of exactly ``max_message_bytes`` is not oversized."""
    client = make_client(max_message_bytes=2048)
    session = create_session(client)
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        text = '{"type": "pause", "id": 7}'
        conn.send(text + " " * (2048 - len(text)))
        assert conn.wait_json(lambda m: m["type"] == "ack" and m["id"] == 7)


def test_oversized_multibyte_text_is_closed_with_1009(
        make_client: Callable[..., TestClient]) -> None:
    """The limit is in bytes: 1500 three-byte characters (4500 bytes) close with 1009."""
    client = make_client(max_message_bytes=2048)
    session = create_session(client)
    with open_socket(client, session.id, timeout=2) as conn:
        conn.hello_presenter(session.token)
        conn.send("€" * 1500)
        assert conn.wait_closed() == 1009


# ------------------------------------------------------------- configure, select
def test_configure_rebuilds_and_announces_the_config(presenter: Conn, client: TestClient,
                                                     session: SessionHandle) -> None:
    """configure is acked at 0, announces config and data, and frames show the new net."""
    presenter.ack({"type": "step", "n": 3})
    mark = len(presenter.headers)
    reply = presenter.ack({"type": "configure", "config": {
        "data": {"dataset": "spiral3"}, "network": {"hidden_layers": [5, 4]}}})
    assert reply["step"] == 0
    message = next(m for m in reversed(presenter.messages) if m["type"] == "config")
    config = message["config"]
    assert config["data"]["dataset"] == "spiral3"
    assert message["data"]["problem"] == "multiclass"
    assert {row[2] for row in message["data"]["train"]} == {0, 1, 2}
    assert config["network"]["hidden_layers"] == [5, 4]
    assert config["network"]["problem"] == "multiclass"
    assert config["network"]["loss"] == "cross_entropy"
    header = presenter.wait_frame(lambda h: h["n_layers"] == 3, since=mark)
    assert header["step"] == 0
    assert layer_sizes(presenter.last_frame or b"") == [2, 5, 4, 3]
    assert session_info(client, session.id)["config"] == config


def test_configure_keeps_unmentioned_sections(presenter: Conn, client: TestClient,
                                              session: SessionHandle) -> None:
    """A configure that names only the seed keeps the data set and architecture."""
    presenter.ack({"type": "configure", "config": {"seed": 3}})
    config = session_info(client, session.id)["config"]
    assert config["seed"] == 3
    assert config["data"]["dataset"] == "xor"
    assert config["network"]["hidden_layers"] == [3]


@pytest.mark.parametrize(("config", "field"), [
    ({"network": {"hidden_layers": [99]}}, "network.hidden_layers[0]"),
    ({"data": {"dataset": "nope"}}, "data.dataset"),
    ({"network": {"activation": "swish"}}, "network.activation"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_configure_names_the_field_and_changes_nothing(
        presenter: Conn, app: FastAPI, session: SessionHandle, config: Json,
        field: str) -> None:
    """An invalid configure is refused naming the field; the session is unchanged."""
    presenter.ack({"type": "step", "n": 2})
    before = fingerprint(app, session.id)
    error = presenter.error({"type": "configure", "config": config})
    assert field in error["field"]
    assert fingerprint(app, session.id) == before


def test_configure_error_names_the_path_from_the_command(presenter: Conn) -> None:
    """A configure error's field is the path from the command (``config.…``), as documented."""
    error = presenter.error({"type": "configure",
                             "config": {"network": {"hidden_layers": [3, 99]}}})
    assert error["field"] == "config.network.hidden_layers[1]"


def test_invalid_configure_does_not_pause_a_running_session(
        presenter: Conn, client: TestClient, session: SessionHandle) -> None:
    """A refused configure leaves a running session running."""
    presenter.ack({"type": "play"})
    presenter.error({"type": "configure", "config": {"network": {"hidden_layers": [99]}}})
    assert session_info(client, session.id)["running"] is True


def test_select_edge_adds_a_selection_block(presenter: Conn, app: FastAPI,
                                            session: SessionHandle) -> None:
    """A selected edge puts a selection block (flag 4) in frames; selecting None drops it."""
    mark = len(presenter.headers)
    presenter.ack({"type": "select", "target": {"layer": 1, "neuron": 0, "source": 2}})
    presenter.wait_frame(lambda h: bool(h["flags"] & FLAG_SELECTION), since=mark)
    mark = len(presenter.headers)
    presenter.ack({"type": "step"})
    header = presenter.wait_frame(lambda h: h["step"] == 1, since=mark)
    assert header["flags"] & FLAG_SELECTION
    assert header["selection_samples"] > 0
    assert app.state.registry.get(session.id).selection.source == 2
    mark = len(presenter.headers)
    presenter.ack({"type": "select", "target": None})
    header = presenter.wait_frame(since=mark)
    assert not header["flags"] & FLAG_SELECTION


def test_select_neuron_bias(presenter: Conn) -> None:
    """Selecting a neuron (no source: its bias) is acked and adds the selection block."""
    mark = len(presenter.headers)
    presenter.ack({"type": "select", "target": {"layer": 0, "neuron": 2}})
    presenter.wait_frame(lambda h: bool(h["flags"] & FLAG_SELECTION), since=mark)


@pytest.mark.parametrize(("target", "field"), [
    ({"layer": 2, "neuron": 0}, "target.layer"),
    ({"layer": 0, "neuron": 3}, "target.neuron"),
    ({"layer": 1, "neuron": 1}, "target.neuron"),
    ({"layer": 0, "neuron": 0, "source": 2}, "target.source"),
    ({"layer": 1, "neuron": 0, "source": 3}, "target.source"),
])
def test_select_out_of_range_is_refused(presenter: Conn, app: FastAPI,
                                        session: SessionHandle, target: Json,
                                        field: str) -> None:
    """A selection outside the network is refused naming the field; selection unchanged."""
    presenter.ack({"type": "select", "target": {"layer": 0, "neuron": 1}})
    error = presenter.error({"type": "select", "target": target})
    assert error["field"] == field
    selection = app.state.registry.get(session.id).selection
    assert (selection.layer, selection.neuron, selection.source) == (0, 1, None)


def test_configure_clears_the_selection(presenter: Conn, app: FastAPI,
                                        session: SessionHandle) -> None:
    """A new architecture drops the selection (it may not exist any more)."""
    presenter.ack({"type": "select", "target": {"layer": 0, "neuron": 2}})
    presenter.ack({"type": "configure", "config": {"network": {"hidden_layers": [2]}}})
    assert app.state.registry.get(session.id).selection is None


# ------------------------------------------------------------------- divergence
def test_divergence_pauses_and_tells_everyone(client: TestClient) -> None:
    """Divergence pauses, tells every client (event + state), flags frames; reset recovers."""
    session = create_session(client, REGRESSION)
    code = class_code(client, session)
    with open_socket(client, session.id) as presenter, \
            open_socket(client, session.id) as viewer:
        presenter.hello_presenter(session.token)
        viewer.hello_viewer(code)
        presenter.ack({"type": "set_hyper", "learning_rate": 10})
        presenter.ack({"type": "play"})
        for conn in (presenter, viewer):
            event = conn.wait_json(lambda m: m["type"] == "event")
            assert event["event"] == "diverged"
            assert event["learning_rate"] == 10
            assert event["step"] >= 1
            assert "diverged" in event["message"]
            state = conn.wait_type("state")
            assert state["running"] is False
            assert state["status"] == "diverged"
            conn.wait_frame(lambda h: bool(h["flags"] & FLAG_DIVERGED), since=0)
        assert session_info(client, session.id)["running"] is False
        assert "lower the learning rate" in presenter.error({"type": "play"})["message"]
        presenter.ack({"type": "set_hyper", "learning_rate": 0.01})
        presenter.ack({"type": "reset"})
        presenter.ack({"type": "play"})
        step = presenter.wait_frame(lambda h: not h["flags"] & FLAG_DIVERGED)["step"]
        presenter.wait_frame(lambda h: h["step"] > step and not h["flags"] & FLAG_DIVERGED)


def test_frame_after_divergence_does_not_claim_running(client: TestClient) -> None:
    """After divergence the latest frame (a late joiner's first) is not flagged running."""
    session = create_session(client, REGRESSION)
    with open_socket(client, session.id) as presenter:
        presenter.hello_presenter(session.token)
        presenter.ack({"type": "set_hyper", "learning_rate": 10})
        presenter.ack({"type": "play"})
        presenter.wait_json(lambda m: m["type"] == "event")
    code = class_code(client, session)
    with open_socket(client, session.id) as late:
        late.hello_viewer(code)
        header = late.headers[0]
    assert header["flags"] & FLAG_DIVERGED
    assert not header["flags"] & FLAG_RUNNING


def test_regression_welcome_is_strict_json(client: TestClient) -> None:
    """A regression welcome is strict JSON: NaN accuracies are null, listed in non_finite."""
    session = create_session(client, REGRESSION)
    with open_socket(client, session.id) as presenter:
        presenter.hello_presenter(session.token)
        presenter.ack({"type": "step", "n": 3})
    code = class_code(client, session)
    with open_socket(client, session.id) as late:
        welcome = late.hello_viewer(code)
    rows = welcome["history"]["rows"]
    assert rows and all(row[4] is None and row[5] is None for row in rows)
    assert "history.rows[0][4]" in welcome["non_finite"]


# ------------------------------------------------------------------- rate limit
def test_rate_limit_refuses_floods_and_keeps_the_socket(
        make_client: Callable[..., TestClient]) -> None:
    """A burst past the rate limit is told in one coalesced 'too many messages' error
    counting the dropped messages (tests/server/test_bursts.py has the rule); the socket
    stays usable."""
    client = make_client(max_messages_per_second=5)
    session = create_session(client)
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        for index in range(30):
            conn.send({"type": "set_hyper", "speed": 1, "id": index})
        refused = conn.wait_json(lambda m: m["type"] == "error")
        assert "too many messages" in refused["message"] and "dropped" in refused["message"]
        assert any(m["type"] == "ack" for m in conn.messages)

        def acked() -> bool:
            # A refused-for-rate message is not parsed, so its error carries no id.
            conn.send({"type": "pause", "id": "again"})
            reply = conn.wait_json(lambda m: m["type"] in ("ack", "error")
                                   and m["id"] in ("again", None))
            return reply["type"] == "ack"

        assert wait_until(acked, timeout=5, interval=0.25)
