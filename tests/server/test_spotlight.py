"""Spotlight a fork (live/forks.py): a class member's fork stays linked to the class under a
number; the class's presenter (only) gets an anonymous list of them and can watch one
read-only through a spotlight code; the fork's owner can opt out; forks of an ended class
are unlinked; links survive a restart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from server_helpers import (
    Conn,
    Json,
    SessionHandle,
    bearer,
    create_session,
    open_socket,
    wait_until,
)

from backprop_playground.live.forks import FORKS_INTERVAL_SECONDS, SPOTLIGHT_CODE_LENGTH
from backprop_playground.main import create_app
from backprop_playground.settings import Settings
from backprop_playground.wire.messages import CloseCode

SMALL: Json = {"network": {"hidden_layers": [3]}, "data": {"dataset": "xor"}}
ROW_KEYS = {"number", "step", "running", "train_loss", "test_loss", "test_accuracy"}


class Classroom:
    """A presented class (its presenter socket open) and helpers to join and fork it."""

    def __init__(self, client: TestClient, stack: ExitStack) -> None:
        self.client, self.stack = client, stack
        self.handle = create_session(client, SMALL)
        self.presenter = self.open(self.handle.id)
        self.presenter.hello_presenter(self.handle.token)
        since = len(self.presenter.messages)
        self.presenter.ack({"type": "present"})
        state = self.presenter.wait_json(
            lambda m: m["type"] == "state" and m["class"] is not None, since=since)
        self.code: str = state["class"]["code"]

    def open(self, session_id: str) -> Conn:
        return self.stack.enter_context(open_socket(self.client, session_id))

    def viewer(self) -> tuple[Conn, str]:
        """A viewer socket on the class and its member token."""
        conn = self.open(self.handle.id)
        welcome = conn.hello_viewer(self.code)
        return conn, welcome["member_token"]

    def fork(self, token: str) -> tuple[SessionHandle, Conn]:
        """POST a fork with ``token``; the fork and its owner's socket (past the welcome)."""
        response = self.client.post(f"/api/sessions/{self.handle.id}/fork", headers=bearer(token))
        assert response.status_code == 201, response.text
        data = response.json()
        fork = SessionHandle(data["id"], data["presenter_token"], data["config"])
        owner = self.open(fork.id)
        owner.hello_presenter(fork.token)
        return fork, owner

    def member_fork(self) -> tuple[SessionHandle, Conn]:
        """A viewer joins and forks the class."""
        _, member_token = self.viewer()
        return self.fork(member_token)

    def forks(self, token: str | None = None) -> Any:
        return self.client.get(f"/api/sessions/{self.handle.id}/forks",
                               headers=bearer(token or self.handle.token))

    def spotlight(self, number: int, token: str | None = None) -> Any:
        return self.client.post(f"/api/sessions/{self.handle.id}/forks/{number}/spotlight",
                                headers=bearer(token or self.handle.token))

    def pushed(self, predicate: Any) -> Json:
        """The next ``forks`` message on the presenter's socket that ``predicate`` accepts."""
        return self.presenter.wait_json(lambda m: m["type"] == "forks" and predicate(m))


@pytest.fixture
def classroom(client: TestClient) -> Iterator[Classroom]:
    with ExitStack() as stack:
        yield Classroom(client, stack)


def numbers(listing: Json) -> list[int]:
    return [row["number"] for row in listing["forks"]]


def watch(classroom: Classroom, fork: SessionHandle, code: str) -> Conn:
    """A spotlight socket: a viewer hello with the spotlight code on the fork."""
    conn = classroom.open(fork.id)
    welcome = conn.hello_viewer(code)
    assert welcome["role"] == "viewer" and welcome["session"] == fork.id
    return conn


# ------------------------------------------------------------------------ links
def test_member_forks_are_numbered_and_listed_to_the_presenter(classroom: Classroom) -> None:
    """Forks made with member tokens get numbers 1, 2 …; the presenter's socket is pushed
    the list and the REST list matches it; each fork's own state names its number."""
    _first, first_owner = classroom.member_fork()
    _second, _ = classroom.member_fork()
    pushed = classroom.pushed(lambda m: numbers(m) == [1, 2])
    assert pushed["more"] == 0 and pushed["spotlight"] is None
    response = classroom.forks()
    assert response.status_code == 200, response.text
    assert numbers(response.json()) == [1, 2]
    welcome = first_owner.messages[0]
    assert welcome["type"] == "welcome"
    assert welcome["state"]["fork"] == {"number": 1, "listed": True, "shown": False}


def test_the_list_is_anonymous(classroom: Classroom) -> None:
    """A row is a number and run figures only: no session id, token, code or address of a
    fork appears anywhere in the list."""
    fork, owner = classroom.member_fork()
    owner.ack({"type": "step", "n": 3})
    pushed = classroom.pushed(lambda m: m["forks"] and m["forks"][0]["step"] == 3)
    text = json.dumps(pushed) + classroom.forks().text
    assert set(pushed["forks"][0]) == ROW_KEYS
    for secret in (fork.id, fork.token, classroom.handle.id, "testclient"):
        assert secret not in text
    assert pushed["forks"][0]["train_loss"] is not None


def test_the_list_is_coalesced_to_once_a_second(classroom: Classroom) -> None:
    """A fork training at full speed changes its row every frame; the presenter still gets
    at most one list per FORKS_INTERVAL_SECONDS (plus the one in flight)."""
    _, owner = classroom.member_fork()
    classroom.pushed(lambda m: numbers(m) == [1])
    owner.ack({"type": "play"})
    since = len(classroom.presenter.messages)
    classroom.presenter.frames_for(2.5)
    owner.ack({"type": "pause"})
    lists = [m for m in classroom.presenter.messages[since:] if m["type"] == "forks"]
    assert 1 <= len(lists) <= 2.5 / FORKS_INTERVAL_SECONDS + 1, len(lists)
    assert lists[-1]["forks"][0]["running"] is True


def test_a_presenter_copy_is_not_linked(classroom: Classroom) -> None:
    """A fork made with the presenter token (the owner's own copy) gets no number: only a
    class member's fork is the class's."""
    _fork, owner = classroom.fork(classroom.handle.token)
    assert owner.ack({"type": "step"})
    assert numbers(classroom.forks().json()) == []
    assert owner.messages[0]["state"]["fork"] is None
    assert all(m.get("fork") is None for m in owner.messages if m["type"] == "state")
    assert owner.error({"type": "set_listing", "listed": False})["field"] == "type"


def test_a_fork_of_a_fork_is_not_linked_to_the_first_class(classroom: Classroom) -> None:
    """Forking one's own fork (its presenter token) links nothing: the class lists one fork."""
    fork, _ = classroom.member_fork()
    response = classroom.client.post(f"/api/sessions/{fork.id}/fork", headers=bearer(fork.token))
    assert response.status_code == 201
    assert numbers(classroom.forks().json()) == [1]


def test_only_the_presenter_lists_and_spotlights(classroom: Classroom) -> None:
    """Listing and spotlighting need the class's presenter token: a member token or a
    fork's own token is refused (403), no token is 401."""
    fork, _ = classroom.member_fork()
    _, member_token = classroom.viewer()
    for token in (member_token, fork.token):
        assert classroom.forks(token).status_code == 403
        assert classroom.spotlight(1, token).status_code == 403
    assert classroom.client.get(f"/api/sessions/{classroom.handle.id}/forks").status_code == 401
    assert classroom.spotlight(1).status_code == 201


def test_numbers_are_never_reused(classroom: Classroom, app: FastAPI) -> None:
    """A fork that goes keeps its number used: the next fork gets the next number."""
    first, _ = classroom.member_fork()
    classroom.client.portal.call(app.state.registry.remove, first.id)  # type: ignore[union-attr]
    classroom.member_fork()
    assert numbers(classroom.forks().json()) == [2]


def test_the_list_is_limited(make_client: Any) -> None:
    """At most ``max_listed_forks`` rows (the newest); ``more`` counts the rest."""
    client = make_client(max_listed_forks=2)
    with ExitStack() as stack:
        classroom = Classroom(client, stack)
        for _ in range(3):
            classroom.member_fork()
        listing = classroom.forks().json()
    assert numbers(listing) == [2, 3] and listing["more"] == 1


# -------------------------------------------------------------------- spotlight
def test_a_spotlight_watches_the_fork_read_only(classroom: Classroom, app: FastAPI) -> None:
    """The spotlight code opens a viewer socket on the fork that follows its run and is
    refused every command; the fork's owner is told it is shown; the class is untouched."""
    fork, owner = classroom.member_fork()
    response = classroom.spotlight(1)
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["code"]) == SPOTLIGHT_CODE_LENGTH and body["path"] == f"/join/{body['code']}"
    assert classroom.client.get(f"/api/join/{body['code']}").json()["session"] == fork.id
    class_step = app.state.registry.get(classroom.handle.id).trainer.step_count
    spot = watch(classroom, fork, body["code"])
    assert spot.error({"type": "step", "n": 5})["field"] == "type"
    assert spot.error({"type": "set_listing", "listed": True})["field"] == "type"
    owner.ack({"type": "step", "n": 4})
    assert spot.wait_frame(lambda header: header["step"] >= 4)
    shown = owner.wait_json(lambda m: m["type"] == "state" and (m.get("fork") or {}).get("shown"),
                            since=0)
    assert shown["fork"]["number"] == 1
    assert classroom.pushed(lambda m: m["spotlight"] == 1)
    classmate, _ = classroom.viewer()
    assert classmate.messages[0]["state"]["spotlight"] == 1  # "the teacher is showing fork 1"
    assert app.state.registry.get(classroom.handle.id).trainer.step_count == class_step


def test_back_to_class_closes_the_spotlight(classroom: Classroom) -> None:
    """DELETE …/spotlight closes the spotlight's sockets (4411) and voids the code."""
    fork, _ = classroom.member_fork()
    code = classroom.spotlight(1).json()["code"]
    spot = watch(classroom, fork, code)
    response = classroom.client.delete(f"/api/sessions/{classroom.handle.id}/spotlight",
                                       headers=bearer(classroom.handle.token))
    assert response.status_code == 204
    assert spot.wait_closed() == CloseCode.SPOTLIGHT_ENDED
    assert classroom.presenter.wait_json(lambda m: m["type"] == "state"
                                         and m["spotlight"] is None, since=0)
    assert classroom.client.get(f"/api/join/{code}").status_code == 404
    assert _hello_refused(classroom, fork, code)


def test_a_new_spotlight_ends_the_last(classroom: Classroom) -> None:
    """Showing another fork closes the first one's spotlight sockets."""
    first, _ = classroom.member_fork()
    classroom.member_fork()
    spot = watch(classroom, first, classroom.spotlight(1).json()["code"])
    assert classroom.spotlight(2).status_code == 201
    assert spot.wait_closed() == CloseCode.SPOTLIGHT_ENDED


def test_a_spotlight_code_expires(make_client: Any) -> None:
    """A spotlight code opens sockets only for ``spotlight_code_seconds``."""
    client = make_client(spotlight_code_seconds=0.2)
    with ExitStack() as stack:
        classroom = Classroom(client, stack)
        fork, _ = classroom.member_fork()
        code = classroom.spotlight(1).json()["code"]
        assert wait_until(lambda: client.get(f"/api/join/{code}").status_code == 404)
        assert _hello_refused(classroom, fork, code)


def test_the_fork_number_and_join_code_open_no_spotlight(classroom: Classroom) -> None:
    """A viewer cannot watch a fork with the class's join code or a made-up code."""
    fork, _ = classroom.member_fork()
    classroom.spotlight(1)
    assert _hello_refused(classroom, fork, classroom.code)
    assert _hello_refused(classroom, fork, "A" * SPOTLIGHT_CODE_LENGTH)


def _hello_refused(classroom: Classroom, fork: SessionHandle, code: str) -> bool:
    conn = classroom.open(fork.id)
    conn.send({"type": "hello", "role": "viewer", "token": code})
    return conn.wait_closed() == CloseCode.FORBIDDEN


# ---------------------------------------------------------------------- opt out
def test_an_opted_out_fork_is_neither_listed_nor_shown(classroom: Classroom) -> None:
    """``set_listing`` false takes the fork off the list and refuses its spotlight (404,
    the same answer as for no such fork); true puts it back under its number."""
    _fork, owner = classroom.member_fork()
    owner.ack({"type": "set_listing", "listed": False})
    assert numbers(classroom.forks().json()) == []
    response = classroom.spotlight(1)
    assert response.status_code == 404 and response.json()["detail"]["field"] == "number"
    assert classroom.spotlight(7).status_code == 404
    state = owner.wait_json(lambda m: m["type"] == "state" and bool(m.get("fork"))
                            and not m["fork"]["listed"], since=0)
    assert state["fork"]["number"] == 1
    owner.ack({"type": "set_listing", "listed": True})
    assert numbers(classroom.forks().json()) == [1]


def test_opting_out_ends_a_spotlight_with_a_notice(classroom: Classroom) -> None:
    """Opting out while shown: the presenter and the spotlight socket get a
    ``spotlight_ended`` event and the socket closes with 4411."""
    fork, owner = classroom.member_fork()
    spot = watch(classroom, fork, classroom.spotlight(1).json()["code"])
    owner.ack({"type": "set_listing", "listed": False})
    event = classroom.presenter.wait_json(lambda m: m.get("event") == "spotlight_ended")
    assert event["number"] == 1 and "stopped sharing" in event["message"]
    assert spot.wait_closed() == CloseCode.SPOTLIGHT_ENDED
    assert any(m.get("event") == "spotlight_ended" for m in spot.messages)


def test_only_the_owner_sets_the_listing(classroom: Classroom) -> None:
    """A viewer of the fork (the spotlight) cannot change its listing; neither can the class."""
    fork, _ = classroom.member_fork()
    spot = watch(classroom, fork, classroom.spotlight(1).json()["code"])
    spot.error({"type": "set_listing", "listed": False})
    classroom.presenter.error({"type": "set_listing", "listed": False})
    assert numbers(classroom.forks().json()) == [1]


# -------------------------------------------------------------------- class end
def test_forks_of_an_ended_class_are_unlinked(classroom: Classroom) -> None:
    """``end_class`` unlinks every fork (their pages are told), ends the spotlight and
    empties the list; presenting again starts a new class with no forks."""
    fork, owner = classroom.member_fork()
    spot = watch(classroom, fork, classroom.spotlight(1).json()["code"])
    classroom.presenter.ack({"type": "end_class"})
    assert spot.wait_closed() == CloseCode.SPOTLIGHT_ENDED
    owner.wait_json(lambda m: m["type"] == "state" and m.get("fork") is None)
    assert classroom.presenter.wait_json(lambda m: m["type"] == "forks" and m["forks"] == [],
                                         since=0)
    assert owner.error({"type": "set_listing", "listed": True})["field"] == "type"
    classroom.presenter.ack({"type": "present"})
    assert numbers(classroom.forks().json()) == []


# ---------------------------------------------------------------------- restart
@contextmanager
def _server(store: Path) -> Iterator[TestClient]:
    settings = Settings(allowed_hosts=["testserver"], store_path=str(store))
    with TestClient(create_app(settings)) as client:
        yield client


def test_links_survive_a_restart(tmp_path: Path) -> None:
    """After a restart the class's forks keep their numbers and listing, and the next fork
    gets the next number."""
    store = tmp_path / "sessions.sqlite3"
    with _server(store) as client, ExitStack() as stack:
        classroom = Classroom(client, stack)
        classroom.member_fork()
        second, owner = classroom.member_fork()
        owner.ack({"type": "set_listing", "listed": False})
        handle = classroom.handle
    with _server(store) as client, ExitStack() as stack:
        registry = client.app.state.registry  # type: ignore[attr-defined]
        assert registry.forks.info(second.id).model_dump() == {
            "number": 2, "listed": False, "shown": False}
        response = client.get(f"/api/sessions/{handle.id}/forks", headers=bearer(handle.token))
        assert numbers(response.json()) == [1]
        presenter = stack.enter_context(open_socket(client, handle.id))
        code = presenter.hello_presenter(handle.token)["state"]["class"]["code"]
        viewer = stack.enter_context(open_socket(client, handle.id))
        member = viewer.hello_viewer(code)["member_token"]
        client.post(f"/api/sessions/{handle.id}/fork", headers=bearer(member))
        listing = client.get(f"/api/sessions/{handle.id}/forks", headers=bearer(handle.token))
        assert numbers(listing.json()) == [1, 3]

