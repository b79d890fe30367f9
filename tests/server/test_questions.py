"""Ask the class: the presenter opens a question, viewers answer (one answer each,
changeable until the reveal, rate-limited, never able to steer the run), the presenter
reveals and the step runs; the tally beside the truth reaches every screen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from server_helpers import (
    Conn,
    Json,
    SessionHandle,
    create_session,
    open_socket,
    wait_until,
)

from backprop_playground.live.session import LiveSession
from backprop_playground.wire.commands import CONTROL_COMMANDS

XOR: Json = {"network": {"hidden_layers": [3]}, "data": {"dataset": "xor"}}
#: One valid example of every presenter command.
PRESENTER_COMMANDS: list[Json] = [
    {"type": "play"}, {"type": "pause"}, {"type": "step", "n": 2}, {"type": "phase_step"},
    {"type": "reset"}, {"type": "set_hyper", "learning_rate": 0.5},
    {"type": "configure", "config": {"seed": 2}},
    {"type": "select", "target": {"layer": 0, "neuron": 0, "source": 1}},
    {"type": "present"}, {"type": "end_class"}, {"type": "view", "projector": True},
    {"type": "sweep", "learning_rates": [0.01, 0.1]}, {"type": "promote", "run": 0},
    {"type": "focus", "index": 2},
    {"type": "set_parameter", "target": {"layer": 0, "neuron": 1, "source": 0}, "value": 0.5},
    {"type": "open_question", "kind": "update_lowers_loss"}, {"type": "reveal_question"},
    {"type": "close_question"},
]


class Classroom:
    """A presented session with its presenter socket and a way to add viewers."""

    def __init__(self, client: TestClient, app: FastAPI, stack: ExitStack) -> None:
        self.client, self.app, self.stack = client, app, stack
        self.session: SessionHandle = create_session(client, XOR)
        self.presenter = stack.enter_context(open_socket(client, self.session.id))
        self.presenter.hello_presenter(self.session.token)
        since = len(self.presenter.messages)
        self.presenter.ack({"type": "present"})
        state = self.presenter.wait_json(
            lambda m: m["type"] == "state" and m["class"] is not None, since=since)
        self.code: str = state["class"]["code"]

    @property
    def live(self) -> LiveSession:
        session: LiveSession = self.app.state.registry.get(self.session.id)
        return session

    def viewer(self) -> Conn:
        conn = self.stack.enter_context(open_socket(self.client, self.session.id))
        conn.hello_viewer(self.code)
        return conn

    def ask(self, kind: str, **fields: Any) -> Json:
        """Open a question; the question as the state after the ack describes it."""
        since = len(self.presenter.messages)
        self.presenter.ack({"type": "open_question", "kind": kind, **fields})
        state = self.presenter.wait_json(
            lambda m: m["type"] == "state" and m["question"] is not None
            and m["question"]["status"] == "open", since=since)
        question: Json = state["question"]
        return question

    def reveal(self) -> Json:
        """Reveal; the revealed question of the state that follows."""
        since = len(self.presenter.messages)
        self.presenter.ack({"type": "reveal_question"})
        return revealed(self.presenter, since)

    def tally(self, predicate: Any, since: int | None = None) -> Json:
        message = self.presenter.wait_json(
            lambda m: m["type"] == "tally" and predicate(m["tally"]), since=since)
        tally: Json = message["tally"]
        return tally


def revealed(conn: Conn, since: int | None = None) -> Json:
    """The revealed question of the next state message (on any socket)."""
    state = conn.wait_json(lambda m: m["type"] == "state" and m["question"] is not None
                           and m["question"]["status"] == "revealed", since=since)
    question: Json = state["question"]
    return question


def answer(conn: Conn, question: Json, option: str) -> Json:
    return conn.request({"type": "answer", "question_id": question["id"], "option": option})


@pytest.fixture
def room(client: TestClient, app: FastAPI) -> Iterator[Classroom]:
    with ExitStack() as stack:
        yield Classroom(client, app, stack)


@pytest.fixture
def slow_room(make_client: Callable[..., TestClient]) -> Iterator[Classroom]:
    """A classroom whose viewers may answer once a second (bursts of two)."""
    client = make_client(max_answers_per_second=1.0)
    with ExitStack() as stack:
        yield Classroom(client, client.app, stack)  # type: ignore[arg-type]


# ------------------------------------------------------------------- opening
def test_a_question_needs_a_presented_class(presenter: Conn) -> None:
    """Questions are for a class: before ``present`` opening one is refused (type)."""
    error = presenter.error({"type": "open_question", "kind": "update_lowers_loss"})
    assert error["field"] == "type" and "present" in error["message"]


def test_opening_pauses_the_run_and_every_screen_gets_the_question(room: Classroom) -> None:
    """Opening pauses a running class; the state (viewers' too) carries the question with
    its options and no tally."""
    viewer = room.viewer()
    room.presenter.ack({"type": "play"})
    assert wait_until(lambda: room.live.trainer.step_count > 2)
    question = room.ask("update_lowers_loss")
    assert not room.live.running
    assert question["prompt"] == "Will this update lower the batch loss?"
    assert [option["id"] for option in question["options"]] == ["yes", "no"]
    assert question["tally"] is None and question["truth"] is None
    seen = viewer.wait_json(lambda m: m["type"] == "state" and m["question"] is not None)
    assert seen["question"]["id"] == question["id"] and not seen["running"]


def test_a_late_joiner_gets_the_open_question_in_its_welcome(room: Classroom) -> None:
    """A viewer joining while a question is open finds it in its welcome's state."""
    question = room.ask("update_lowers_loss")
    with open_socket(room.client, room.session.id) as late:
        welcome = late.hello_viewer(room.code)
    assert welcome["state"]["question"]["id"] == question["id"]
    assert welcome["state"]["question"]["status"] == "open"


def test_weight_direction_needs_a_selected_parameter(room: Classroom) -> None:
    """Without a selected weight the question is refused naming ``selection``."""
    error = room.presenter.error({"type": "open_question", "kind": "weight_direction"})
    assert error["field"] == "selection"


def test_sweep_winner_needs_a_sweep(room: Classroom) -> None:
    """Without a sweep ``sweep_winner`` is refused naming ``kind``; ``steps`` belongs to
    ``sweep_winner`` only."""
    error = room.presenter.error({"type": "open_question", "kind": "sweep_winner"})
    assert error["field"] == "kind"
    error = room.presenter.error({"type": "open_question", "kind": "update_lowers_loss",
                                  "steps": 5})
    assert error["field"] == "steps"


@pytest.mark.parametrize(("fields", "field"), [
    ({"kind": "guess"}, "kind"), ({"kind": "sweep_winner", "steps": 0}, "steps"),
    ({"kind": "sweep_winner", "steps": 10_001}, "steps"),
    ({"kind": "update_lowers_loss", "extra": 1}, "extra"),
])
def test_bad_questions_are_refused_naming_the_field(room: Classroom, fields: Json,
                                                    field: str) -> None:
    """open_question is validated like every command."""
    assert room.presenter.error({"type": "open_question", **fields})["field"] == field


def test_the_run_cannot_move_on_under_an_open_question(room: Classroom) -> None:
    """While a question waits, play/step/phase_step/reset/configure/sweep are refused
    naming the command; after close they work again."""
    room.ask("update_lowers_loss")
    step = room.live.trainer.step_count
    for command in ({"type": "play"}, {"type": "step"}, {"type": "phase_step"},
                    {"type": "reset"}, {"type": "sweep", "learning_rates": [0.1, 1.0]},
                    {"type": "configure", "config": {"seed": 3}}):
        error = room.presenter.error(command)
        assert error["field"] == "type" and f"'{command['type']}'" in error["message"]
    assert room.live.trainer.step_count == step
    room.presenter.ack({"type": "close_question"})
    room.presenter.ack({"type": "step"})
    assert room.live.trainer.step_count == step + 1


# ------------------------------------------------------------------- answers
def test_answers_are_tallied_live_for_the_presenter_only(room: Classroom) -> None:
    """Each answer is acked; the presenter's tally counts it (counts only, no names);
    viewers get no tally before the reveal."""
    first, second = room.viewer(), room.viewer()
    question = room.ask("update_lowers_loss")
    assert answer(first, question, "yes")["command"] == "answer"
    assert answer(second, question, "no")["type"] == "ack"
    tally = room.tally(lambda t: t["answered"] == 2)
    assert tally == {"counts": {"yes": 1, "no": 1}, "answered": 2, "viewers": 2}
    for viewer in (first, second):
        assert not [m for m in viewer.messages if m["type"] == "tally"]


def test_a_second_answer_replaces_the_first(room: Classroom) -> None:
    """One answer per viewer connection: changing it moves the count, counted once."""
    viewer = room.viewer()
    question = room.ask("update_lowers_loss")
    answer(viewer, question, "yes")
    room.tally(lambda t: t["counts"]["yes"] == 1)
    answer(viewer, question, "no")
    answer(viewer, question, "no")
    tally = room.tally(lambda t: t["counts"]["no"] == 1)
    assert tally["counts"] == {"yes": 0, "no": 1} and tally["answered"] == 1


def test_an_option_the_question_does_not_have_is_refused(room: Classroom) -> None:
    """The option must be one of the question's (field ``option``); a malformed one too."""
    viewer = room.viewer()
    question = room.ask("update_lowers_loss")
    error = answer(viewer, question, "up")
    assert error["type"] == "error" and error["field"] == "option"
    assert "yes, no" in error["message"]
    assert answer(viewer, question, "YES!")["field"] == "option"


def test_answers_to_a_gone_or_revealed_question_are_refused(room: Classroom) -> None:
    """No question, another question's id, a revealed or a closed question: refused
    naming ``question_id``."""
    viewer = room.viewer()
    assert answer(viewer, {"id": 1}, "yes")["field"] == "question_id"
    question = room.ask("update_lowers_loss")
    assert answer(viewer, {"id": question["id"] + 1}, "yes")["field"] == "question_id"
    room.reveal()
    error = answer(viewer, question, "no")
    assert error["field"] == "question_id" and "closed" in error["message"]
    room.presenter.ack({"type": "close_question"})
    assert answer(viewer, question, "no")["field"] == "question_id"


def test_a_viewer_who_leaves_takes_its_answer_along(room: Classroom) -> None:
    """The tally counts connected viewers' answers only."""
    stay = room.viewer()
    question = room.ask("update_lowers_loss")
    answer(stay, question, "yes")
    with open_socket(room.client, room.session.id) as leaving:
        leaving.hello_viewer(room.code)
        answer(leaving, question, "no")
        room.tally(lambda t: t["answered"] == 2)
    tally = room.tally(lambda t: t["answered"] == 1)
    assert tally["counts"] == {"yes": 1, "no": 0} and tally["viewers"] == 1


def test_answers_are_rate_limited(slow_room: Classroom) -> None:
    """Past the burst, answers are refused ("too many answers") and not counted."""
    viewer = slow_room.viewer()
    question = slow_room.ask("update_lowers_loss")
    replies = [answer(viewer, question, option) for option in ("yes", "no", "yes", "no")]
    refused = [reply for reply in replies if reply["type"] == "error"]
    assert refused and all("too many answers" in reply["message"] for reply in refused)
    assert replies[0]["type"] == "ack"


def test_viewers_can_never_control_the_run(room: Classroom) -> None:
    """Every presenter command from a viewer is refused naming the command, with a
    question open or not; the presenter cannot answer."""
    viewer = room.viewer()
    question = room.ask("update_lowers_loss")
    assert {command["type"] for command in PRESENTER_COMMANDS} <= set(CONTROL_COMMANDS)
    for command in PRESENTER_COMMANDS:
        error = viewer.error(command)
        assert error["field"] == "type" and f"'{command['type']}'" in error["message"]
    assert room.live.questions.open_question is not None  # nothing was revealed or closed
    error = answer(room.presenter, question, "yes")
    assert error["field"] == "type" and "viewers answer" in error["message"]


# ------------------------------------------------------------------- reveal
def test_reveal_runs_the_update_and_reports_the_truth(room: Classroom) -> None:
    """Reveal runs the phases to the end of the update (one frame each); the truth is the
    batch loss before and after it on the same batch (as the step landscape reads it); the
    tally beside it reaches the viewers too."""
    first, second = room.viewer(), room.viewer()
    room.presenter.ack({"type": "phase_step"})  # mid-step: the question is about this update
    step = room.live.trainer.step_count
    question = room.ask("update_lowers_loss")
    answer(first, question, "yes")
    answer(second, question, "yes")
    room.tally(lambda t: t["answered"] == 2)
    frames = len(first.headers)
    result = room.reveal()
    trainer = room.live.trainer
    assert trainer.step_count == step + 1 and trainer.phase == "update"
    assert len(first.wait_frame(lambda h: h["step"] == step + 1, since=frames)) > 0
    landscape = trainer.step_landscape(0)
    assert landscape is not None
    truth = result["truth"]
    assert truth["loss_before"] == pytest.approx(landscape.loss_before, rel=1e-9)
    assert truth["loss_after"] == pytest.approx(landscape.loss_after, rel=1e-9)
    assert truth["option"] == ("yes" if landscape.loss_after < landscape.loss_before else "no")
    assert "→" in truth["summary"]
    assert result["tally"] == {"counts": {"yes": 2, "no": 0}, "answered": 2, "viewers": 2}
    for viewer in (first, second):
        assert revealed(viewer, since=0) == result


def test_an_overshooting_update_does_not_lower_the_loss(room: Classroom) -> None:
    """With a huge learning rate the update raises its batch loss: the truth is "no"."""
    room.presenter.ack({"type": "step", "n": 5})
    room.presenter.ack({"type": "set_hyper", "learning_rate": 10.0})
    room.ask("update_lowers_loss")
    truth = room.reveal()["truth"]
    assert truth["loss_after"] > truth["loss_before"]
    assert truth["option"] == "no"


def test_weight_direction_is_the_sign_of_the_update_that_ran(room: Classroom) -> None:
    """The truth is the sign of the selected weight's Δw in the revealed update (read from
    the weights before and after), and the question keeps the weight it asked about."""
    target = {"layer": 1, "neuron": 0, "source": 2}
    room.presenter.ack({"type": "select", "target": target})
    question = room.ask("weight_direction")
    assert question["prompt"] == "Will the weight 3 → 1 of layer 2 go up or down?"
    assert [option["id"] for option in question["options"]] == ["up", "down"]
    before = room.live.trainer.get_weights(0)[1][0][0, 2]
    room.presenter.ack({"type": "select", "target": None})  # the question keeps its weight
    truth = room.reveal()["truth"]
    after = room.live.trainer.get_weights(0)[1][0][0, 2]
    assert truth["weight_change"] == pytest.approx(after - before, rel=1e-6, abs=1e-15)
    assert truth["weight_after"] == pytest.approx(after)
    expected = "up" if after > before else "down" if after < before else None
    assert truth["option"] == expected


def test_the_sweep_winner_is_the_lowest_loss_after_n_steps(room: Classroom) -> None:
    """sweep_winner: options are the runs labelled by their rates; reveal trains N steps
    on every run, and the run with the lowest training loss wins."""
    room.presenter.ack({"type": "sweep", "learning_rates": [0.003, 0.3, 3.0]})
    question = room.ask("sweep_winner", steps=30)
    assert question["steps"] == 30
    assert [o["label"] for o in question["options"]] == ["η = 0.003", "η = 0.3", "η = 3"]
    viewer = room.viewer()
    answer(viewer, question, "run1")
    step = room.live.trainer.step_count
    result = room.reveal()
    trainer = room.live.trainer
    assert trainer.step_count == step + 30
    losses = np.array(trainer.evaluate().train_loss, dtype=float)
    losses[np.asarray(trainer.frozen)] = np.inf
    assert result["truth"]["option"] == f"run{int(np.argmin(losses))}"
    assert result["truth"]["run_losses"][int(np.argmin(losses))] == pytest.approx(
        float(losses.min()))
    assert result["tally"]["counts"] == {"run0": 0, "run1": 1, "run2": 0}


def test_reveal_and_close_need_a_question(room: Classroom) -> None:
    """Nothing to reveal or close: refused (type); a revealed question reveals once."""
    assert room.presenter.error({"type": "reveal_question"})["field"] == "type"
    assert room.presenter.error({"type": "close_question"})["field"] == "type"
    room.ask("update_lowers_loss")
    room.reveal()
    assert room.presenter.error({"type": "reveal_question"})["field"] == "type"


def test_ending_the_class_clears_the_question(room: Classroom) -> None:
    """Questions are classroom state: end_class removes them; exports never carry them."""
    room.ask("update_lowers_loss")
    room.presenter.ack({"type": "end_class"})
    assert room.live.questions.current is None
    assert room.live.state().question is None
    assert "question" not in str(room.live.export().keys())
