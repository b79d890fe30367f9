"""Live point edits over the socket: a running session keeps running with the same weights,
everyone gets the new data, the edit is marked, and an export of the edited run imports."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from server_helpers import (
    Conn,
    SessionHandle,
    class_code,
    create_session,
    export_run,
    open_socket,
)


def test_an_edit_while_playing_keeps_playing_from_the_same_weights(
        presenter: Conn, app: FastAPI, session: SessionHandle) -> None:
    """edit_points while training: acked at the next step, the run goes on (the step
    counter keeps rising from where it was), a data message carries the new point, and the
    frames after it are at later steps."""
    presenter.ack({"type": "set_hyper", "speed": 2})
    presenter.ack({"type": "play"})
    before = presenter.wait_frame(lambda h: h["step"] >= 10)
    mark_messages, mark_frames = len(presenter.messages), len(presenter.headers)
    ack = presenter.ack({"type": "edit_points", "add": [[1.25, -2.5, 1]]})
    assert ack["step"] > before["step"]
    data = presenter.wait_json(lambda m: m["type"] == "data", since=mark_messages)
    assert data["step"] == ack["step"]
    assert [1.25, -2.5, 1.0] in data["data"]["train"]
    assert data["config"]["data"]["dataset"] == "custom"
    presenter.wait_frame(lambda h: h["step"] >= ack["step"] + 5, since=mark_frames)
    live = app.state.registry.get(session.id)
    assert live.running and live.trainer.step_count >= ack["step"] + 5
    state = presenter.wait_json(lambda m: m["type"] == "state", since=mark_messages)
    assert ack["step"] in state["data_changes"]


def test_an_edit_keeps_the_weights_of_a_paused_run(presenter: Conn, app: FastAPI,
                                                   session: SessionHandle) -> None:
    """Paused: an edit changes the data and nothing of the network; a frame follows."""
    presenter.ack({"type": "step", "n": 20})
    live = app.state.registry.get(session.id)
    weights = live.trainer.params.values.copy()
    mark = len(presenter.headers)
    assert presenter.ack({"type": "edit_points", "add": [[0.5, 0.5, 0]]})["step"] == 21
    presenter.wait_frame(lambda h: h["step"] == 20, since=mark)
    assert (live.trainer.params.values == weights).all()
    assert not live.running


def test_viewers_get_the_new_points(client: TestClient, session: SessionHandle) -> None:
    """A viewer of the class receives the data message with the added point."""
    code = class_code(client, session)
    with open_socket(client, session.id) as presenter, open_socket(client, session.id) as viewer:
        presenter.hello_presenter(session.token)
        viewer.hello_viewer(code)
        presenter.ack({"type": "edit_points", "add": [[-3.0, 3.0, 1]]})
        data = viewer.wait_type("data")
        assert [-3.0, 3.0, 1.0] in data["data"]["train"]


def test_a_bad_edit_is_refused_naming_the_field(presenter: Conn) -> None:
    """An erase with no point near it, a label that is no class, or a step half done."""
    far = presenter.request({"type": "edit_points", "erase": [[6.0, 6.0]]})
    assert far["type"] == "error" and far["field"] == "erase[0]"
    label = presenter.request({"type": "edit_points", "add": [[0.0, 0.0, 5]]})
    assert label["type"] == "error" and label["field"] == "add[0]"
    presenter.ack({"type": "phase_step"})
    half = presenter.request({"type": "edit_points", "add": [[0.0, 0.0, 1]]})
    assert half["type"] == "error" and "half done" in half["message"]


def test_an_exported_edited_run_imports_with_its_data_and_marks(
        client: TestClient, presenter: Conn, session: SessionHandle) -> None:
    """Export after an edit → import: the same points, the same mark, the same step."""
    presenter.ack({"type": "step", "n": 5})
    presenter.ack({"type": "edit_points", "add": [[2.0, -1.0, 1]]})
    presenter.ack({"type": "step", "n": 5})
    exported = export_run(client, session)
    copy = create_session(client, snapshot=exported)
    imported = export_run(client, copy)
    assert imported["trainer"]["config"] == exported["trainer"]["config"]
    assert imported["trainer"]["data_changes"] == [6]
    assert imported["trainer"]["parameters"] == exported["trainer"]["parameters"]


def test_the_frame_after_an_edit_trains_on_the_new_data_set(presenter: Conn, app: FastAPI,
                                                            session: SessionHandle) -> None:
    """Full batch: the first step after adding two points trains on n_train + 2 points (the
    frame's batch size says so)."""
    presenter.ack({"type": "set_hyper", "batch_size": 2000})
    presenter.ack({"type": "step", "n": 3})
    n_train = app.state.registry.get(session.id).trainer.model.n_train
    presenter.ack({"type": "edit_points", "add": [[1.0, 1.0, 1], [-1.0, -1.0, 1]]})
    mark = len(presenter.headers)
    presenter.ack({"type": "step"})
    header = presenter.wait_frame(lambda h: h["step"] == 4, since=mark)
    assert header["batch_size"] == n_train + 2
