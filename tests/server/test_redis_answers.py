"""Ask the class across processes: a viewer connected to process B answers a question that
the presenter on process A asked; A validates and counts it exactly as a local viewer's
(one answer per viewer connection, replaced by a later one, gone when the viewer leaves),
B's viewer gets A's ack or error, the tally's viewer count spans both processes, and
nothing B's viewer sends steers the run (a real redis-server, real server processes)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import test_redis as scale_out  # its redis-server and server processes
from websockets.sync.client import ClientConnection

from backprop_playground.live.redis_answers import (
    RELAY_TTL_SECONDS,
    UNREACHABLE,
    Inbox,
    Outbox,
)
from backprop_playground.wire.commands import Answer, CommandError

Json = dict[str, Any]
redis_url = scale_out.redis_url
servers = scale_out.servers
sockets = scale_out.sockets


class Client:
    """A socket that keeps every JSON message it received (frames are skipped)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws, self.messages = ws, list[Json]()
        self._ids = iter(range(100, 10_000))

    def wait(self, predicate: Callable[[Json], bool], seconds: float = 15,
             since: int = 0) -> Json:
        """The first message from index ``since`` on that satisfies ``predicate``."""
        deadline = time.monotonic() + seconds
        index = since
        while True:
            while index < len(self.messages):
                if predicate(self.messages[index]):
                    return self.messages[index]
                index += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no such message; got "
                                     f"{[m.get('type') for m in self.messages[since:]]}")
            received = self.ws.recv(timeout=remaining)
            if isinstance(received, str):
                self.messages.append(json.loads(received))

    def request(self, command: Json) -> Json:
        """Send ``command`` with a fresh id; its ack or error."""
        request_id = next(self._ids)
        since = len(self.messages)
        self.ws.send(json.dumps({**command, "id": request_id}))
        return self.wait(lambda m: m.get("type") in ("ack", "error")
                         and m.get("id") == request_id, since=since)

    def tally(self, predicate: Callable[[Json], bool]) -> Json:
        """The first tally (of the presenter's) that satisfies ``predicate``."""
        message = self.wait(lambda m: m["type"] == "tally" and predicate(m["tally"]))
        tally: Json = message["tally"]
        return tally


class Room:
    """A class presented on process A; viewers join it on A or on B."""

    def __init__(self, servers: tuple[str, str], open_socket: Any) -> None:
        self.first, self.second = servers
        self._open = open_socket
        created = scale_out._post(f"{self.first}/api/sessions")
        self.session_id: str = created["id"]
        self.presenter = Client(open_socket(self.first, self.session_id))
        self.presenter.ws.send(json.dumps({"type": "hello", "role": "presenter",
                                           "token": created["presenter_token"]}))
        assert self.presenter.request({"type": "present"})["type"] == "ack"
        state = self.presenter.wait(lambda m: m["type"] == "state" and m["class"] is not None)
        self.code: str = state["class"]["code"]

    def viewer(self, base: str) -> Client:
        """A viewer on ``base`` (on B once the class is announced there)."""
        scale_out._wait_until(lambda: urllib.request.urlopen(
            f"{base}/api/join/{self.code}", timeout=1).status == 200, "the class's code")
        viewer = Client(self._open(base, self.session_id))
        viewer.ws.send(json.dumps({"type": "hello", "role": "viewer", "token": self.code}))
        welcome = viewer.wait(lambda m: m["type"] == "welcome")
        assert welcome.get("relayed", False) is (base == self.second)
        return viewer

    def ask(self) -> Json:
        """Open "Will this update lower the batch loss?"; the question."""
        since = len(self.presenter.messages)
        assert self.presenter.request({"type": "open_question",
                                       "kind": "update_lowers_loss"})["type"] == "ack"
        state = self.presenter.wait(lambda m: m["type"] == "state"
                                    and m["question"] is not None, since=since)
        question: Json = state["question"]
        return question


@pytest.fixture
def room(servers: tuple[str, str], sockets: Any) -> Room:
    return Room(servers, sockets)


def answer(viewer: Client, question: Json, option: str) -> Json:
    return viewer.request({"type": "answer", "question_id": question["id"], "option": option})


def test_answers_from_both_processes_count_in_one_tally(room: Room) -> None:
    """One viewer on A and one on B answer: the presenter's tally has both, of 2 viewers;
    B's viewer changes its answer: counted once, as the new option; B's viewer leaves: its
    answer and its place in the viewer count leave the tally."""
    here, there = room.viewer(room.first), room.viewer(room.second)
    room.presenter.wait(lambda m: m["type"] == "viewers" and m["count"] == 2)
    question = room.ask()
    assert answer(here, question, "yes")["type"] == "ack"
    relayed = answer(there, question, "no")
    assert relayed["type"] == "ack" and relayed["command"] == "answer"
    assert isinstance(relayed["step"], int)
    tally = room.presenter.tally(lambda t: t["answered"] == 2)
    assert tally == {"counts": {"yes": 1, "no": 1}, "answered": 2, "viewers": 2}
    assert answer(there, question, "yes")["type"] == "ack"
    tally = room.presenter.tally(lambda t: t["counts"]["yes"] == 2)
    assert tally == {"counts": {"yes": 2, "no": 0}, "answered": 2, "viewers": 2}
    there.ws.close()
    tally = room.presenter.tally(lambda t: t["answered"] == 1 and t["viewers"] == 1)
    assert tally["counts"] == {"yes": 1, "no": 0}


def test_a_relayed_answer_is_validated_by_the_class_s_process(room: Room) -> None:
    """B's viewer gets A's errors: an option the question does not have names ``option``,
    another question's id and a question closed by the reveal name ``question_id``."""
    there = room.viewer(room.second)
    question = room.ask()
    wrong_option = answer(there, question, "maybe")
    assert wrong_option["type"] == "error" and wrong_option["field"] == "option"
    assert "yes, no" in wrong_option["message"]
    other = there.request({"type": "answer", "question_id": question["id"] + 1,
                           "option": "yes"})
    assert other["type"] == "error" and other["field"] == "question_id"
    assert room.presenter.request({"type": "reveal_question"})["type"] == "ack"
    late = answer(there, question, "yes")
    assert late["type"] == "error" and late["field"] == "question_id"
    assert "closed" in late["message"]


def test_a_relay_viewer_still_cannot_control_the_run(room: Room) -> None:
    """Every command but ``answer`` from B's viewer is refused naming ``type``; the run on
    A did not move (its step is the same after all of them)."""
    there = room.viewer(room.second)
    before = room.presenter.request({"type": "pause"})["step"]
    for command in ({"type": "play"}, {"type": "step", "n": 5}, {"type": "reset"},
                    {"type": "open_question", "kind": "update_lowers_loss"},
                    {"type": "reveal_question"}, {"type": "end_class"},
                    {"type": "set_hyper", "learning_rate": 3.0}):
        refused = there.request(command)
        assert refused["type"] == "error" and refused["field"] == "type", command
    after = room.presenter.request({"type": "pause"})
    assert after["type"] == "ack" and after["step"] == before


def test_relayed_answers_are_rate_limited_per_viewer(room: Room) -> None:
    """Ten answers at once from B's viewer: past the burst (2 a second, bursts of 4) they
    are refused "too many answers"; the tally still counts that viewer once."""
    there = room.viewer(room.second)
    question = room.ask()
    replies = [answer(there, question, "yes" if k % 2 else "no") for k in range(10)]
    refused = [reply for reply in replies if reply["type"] == "error"]
    assert 4 <= len(replies) - len(refused) <= 6, replies
    assert refused and all("too many answers" in reply["message"] for reply in refused)
    tally = room.presenter.tally(lambda t: t["answered"] == 1)
    assert sum(tally["counts"].values()) == 1


def test_a_relay_viewer_is_told_when_the_class_s_process_is_gone(
        redis_url: str, servers: tuple[str, str], sockets: Any, tmp_path: Any) -> None:
    """The presenter's process stops (keeping its class for a restart): B's viewer stays,
    and its answer gets a clear error at once (nobody takes answers now), not silence."""
    second = servers[1]
    with scale_out._server(redis_url, str(tmp_path / "sessions.sqlite3")) as first:
        room = Room((first, second), sockets)
        there = room.viewer(second)
        question = room.ask()
        room.presenter.ws.close()
    refused = answer(there, question, "yes")
    assert refused["type"] == "error" and refused["message"] == UNREACHABLE


class Owner:
    """A session as the inbox sees it, recording what reaches it."""

    def __init__(self) -> None:
        self.answers: dict[str, str] = {}
        self.changes = 0

    def take_answer(self, member: str, command: Answer) -> int:
        if command.option not in ("yes", "no"):
            raise CommandError("question 1's options are yes, no", "option", command.id)
        self.answers[member] = command.option
        return 7

    def forget_member(self, member: str) -> None:
        self.answers.pop(member, None)

    def viewers_changed(self) -> None:
        self.changes += 1


class Replies:
    """Stands in for Redis: keeps what the inbox publishes."""

    def __init__(self) -> None:
        self.published: list[tuple[str, Json]] = []

    async def publish(self, channel: str, data: str) -> int:
        self.published.append((channel, json.loads(data)))
        return 1


def test_a_relay_that_falls_silent_stops_counting() -> None:
    """Two relays report 3 and 2 viewers (5 elsewhere) and one answer each; relay "r1"
    falls silent for longer than RELAY_TTL_SECONDS while "r2" keeps reporting: r1's viewers
    and its viewer's answer leave, r2's stay."""
    now = [0.0]
    owner, redis = Owner(), Replies()
    inbox = Inbox(redis, "s", owner, asyncio.ensure_future,  # type: ignore[arg-type]
                  clock=lambda: now[0])

    def note(**fields: Any) -> None:
        asyncio.run(inbox.take(json.dumps(fields)))

    note(op="viewers", relay="r1", count=3)
    note(op="viewers", relay="r2", count=2)
    answer_of = {"type": "answer", "question_id": 1}
    note(op="answer", relay="r1", member="m", request=1, answer={**answer_of, "option": "yes"})
    note(op="answer", relay="r2", member="m", request=1, answer={**answer_of, "option": "no"})
    note(op="answer", relay="r2", member="x", request=2, answer={**answer_of, "option": "up"})
    assert inbox.viewers == 5 and owner.answers == {"r1/m": "yes", "r2/m": "no"}
    assert [reply for _, reply in redis.published] == [
        {"request": 1, "step": 7, "error": None, "field": None},
        {"request": 1, "step": 7, "error": None, "field": None},
        {"request": 2, "step": None, "error": "question 1's options are yes, no",
         "field": "option"}]
    assert redis.published[0][0] == "bp:replies:s:r1"
    now[0] = RELAY_TTL_SECONDS * 0.6
    note(op="viewers", relay="r2", count=2)
    now[0] = RELAY_TTL_SECONDS * 1.2
    changes = owner.changes
    inbox.expire()
    assert inbox.viewers == 2 and owner.answers == {"r2/m": "no"}
    assert owner.changes == changes + 1


def test_notes_a_relay_may_not_send_are_ignored() -> None:
    """Only answer, left and viewers notes are read: a command in a note, an extra field
    or a negative count changes nothing and gets no reply."""
    owner, redis = Owner(), Replies()
    inbox = Inbox(redis, "s", owner, asyncio.ensure_future)  # type: ignore[arg-type]
    for note in ({"op": "play", "relay": "r"},
                 {"op": "answer", "relay": "r", "member": "m", "request": 1,
                  "answer": {"type": "play"}},
                 {"op": "viewers", "relay": "r", "count": -4},
                 {"op": "viewers", "relay": "r", "count": 2, "running": True}):
        asyncio.run(inbox.take(json.dumps(note)))
    asyncio.run(inbox.take(b"not json"))
    assert inbox.viewers == 0 and owner.answers == {} and redis.published == []
    assert owner.changes == 0


def test_a_viewer_leaving_mid_answer_leaves_after_its_answer() -> None:
    """A viewer disconnects while its answer waits for the owner's reply: its ``left``
    note goes out only after the answer (so the owner never keeps an answer of a viewer
    who left); the reply still reaches the answer as its step."""
    redis = Replies()

    async def scenario() -> int:
        outbox = Outbox(redis, "s", "r1", 2.0, asyncio.ensure_future)  # type: ignore[arg-type]
        outbox.listening.set()
        command = Answer.model_validate({"type": "answer", "question_id": 1, "option": "yes",
                                         "id": 5})
        pending = asyncio.ensure_future(outbox.answer("m", command))
        while not redis.published:
            await asyncio.sleep(0)
        outbox.left("m")
        await asyncio.sleep(0.01)
        assert [note["op"] for _, note in redis.published] == ["answer"]
        outbox.deliver(json.dumps({"request": 1, "step": 12}).encode())
        step = await pending
        await asyncio.sleep(0.01)
        return step

    assert asyncio.run(scenario()) == 12
    assert [(channel, note["op"]) for channel, note in redis.published] == [
        ("bp:answers:s", "answer"), ("bp:answers:s", "left")]
    assert redis.published[0][1]["answer"]["id"] is None


def test_the_relay_limits_answers_before_they_reach_redis() -> None:
    """On the relay, a viewer's answers past the burst (rate 2 a second: 4 at once) are
    refused "too many answers" (field ``type``) and never published; another viewer there
    has its own allowance."""
    redis = Replies()

    async def scenario() -> list[str]:
        outbox = Outbox(redis, "s", "r1", 2.0, asyncio.ensure_future)  # type: ignore[arg-type]
        outbox.listening.set()

        async def reply_to_each() -> None:
            answered = 0
            while True:
                notes = [note for _, note in redis.published if note["op"] == "answer"]
                for note in notes[answered:]:
                    outbox.deliver(json.dumps({"request": note["request"], "step": 3}).encode())
                answered = len(notes)
                await asyncio.sleep(0.001)

        replier = asyncio.ensure_future(reply_to_each())
        outcomes = []
        for member in ("m", "m", "m", "m", "m", "n"):
            command = Answer.model_validate({"type": "answer", "question_id": 1,
                                             "option": "yes"})
            try:
                outcomes.append(f"step {await outbox.answer(member, command)}")
            except CommandError as error:
                outcomes.append(f"{error.field}: {error.message}")
        replier.cancel()
        return outcomes

    outcomes = asyncio.run(scenario())
    assert outcomes == ["step 3"] * 4 + ["type: too many answers: at most 2 a second",
                                         "step 3"]
    assert [note["member"] for _, note in redis.published] == ["m"] * 4 + ["n"]
