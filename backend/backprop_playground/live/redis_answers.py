"""The way back through Redis: answers and viewer counts from relays to the class's owner.

A process that relays a presented class (``live.redis_channel.RelayedSession``) sends
notes to ``bp:answers:<id>`` (JSON, one of :data:`Note`): a viewer's ``answer`` (with a
request number), a viewer that ``left`` after answering, and the relay's ``viewers`` count
(on every change, and every :data:`HEARTBEAT_SECONDS`). The process that runs the session
listens there while the class is presented (:class:`Inbox`), counts the answers exactly as
a local viewer's (same validation, same tally; the member is ``<relay>/<member token>``)
and replies on ``bp:replies:<id>:<relay>`` with the step or the error, which the relay
hands to its viewer as the ack or error (:class:`Outbox`). A relay not heard from for
:data:`RELAY_TTL_SECONDS` (its process died) no longer counts: its viewers and their
answers leave the tally. Nothing but these three notes is read, so nothing a relay sends
can steer the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..wire.commands import Answer, CommandError
from .channels import ClassOwner
from .questions import AnswerLimits

logger = logging.getLogger(__name__)
#: A relay repeats its viewer count this often while it has viewers.
HEARTBEAT_SECONDS = 5.0
#: A relay not heard from for this long is gone (its viewers and answers no longer count).
RELAY_TTL_SECONDS = 3 * HEARTBEAT_SECONDS
#: A relayed answer with no reply from the owner within this time is refused.
REPLY_TIMEOUT_SECONDS = 5.0
#: A relay's count goes out at most this often (a class joining at once: one note).
COUNT_INTERVAL_SECONDS = 0.1
UNREACHABLE = ("the class's server is not taking answers right now (it may be restarting): "
               "answer again in a moment")
NO_REPLY = "the class's server did not confirm the answer in time: answer again"


def answers_key(session_id: str) -> str:
    """Relays → owner: the notes about one session."""
    return f"bp:answers:{session_id}"


def replies_key(session_id: str, relay: str) -> str:
    """Owner → one relay: the replies to its viewers' answers."""
    return f"bp:replies:{session_id}:{relay}"


class _Note(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    relay: Annotated[str, Field(min_length=1, max_length=64)]


class AnswerNote(_Note):
    """A relay viewer's answer, numbered by the relay (``request``) for the reply."""

    op: Literal["answer"]
    member: Annotated[str, Field(min_length=1, max_length=64)]
    request: Annotated[int, Field(ge=1)]
    answer: Answer


class LeftNote(_Note):
    """A relay viewer that had answered disconnected."""

    op: Literal["left"]
    member: Annotated[str, Field(min_length=1, max_length=64)]


class ViewersNote(_Note):
    """How many viewers of the session the relay has now."""

    op: Literal["viewers"]
    count: Annotated[int, Field(ge=0)]


Note = Annotated[AnswerNote | LeftNote | ViewersNote, Field(discriminator="op")]
NOTES: TypeAdapter[AnswerNote | LeftNote | ViewersNote] = TypeAdapter(Note)


class Reply(BaseModel):
    """The owner's answer to one relayed answer: the step, or the error and its field."""

    model_config = ConfigDict(extra="forbid")
    request: int
    step: int | None = None
    error: str | None = None
    field: str | None = None


@dataclass
class _Relay:
    """What the owner knows of one relaying process: its count, when it was last heard
    from, and its members with an answer here."""

    count: int = 0
    heard: float = 0.0
    members: set[str] = field(default_factory=set)


class Inbox:
    """The owner's end for one presented session: listens to ``bp:answers:<id>`` from
    :meth:`open` to :meth:`close`; :attr:`viewers` is the sum of the relays' counts."""

    def __init__(self, redis: Redis, session_id: str, owner: ClassOwner,
                 spawn: Callable[[Awaitable[Any]], asyncio.Task[Any]],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.redis, self.session_id, self.owner = redis, session_id, owner
        self._spawn, self._clock = spawn, clock
        self.relays: dict[str, _Relay] = {}
        self._task: asyncio.Task[Any] | None = None

    @property
    def viewers(self) -> int:
        return sum(relay.count for relay in self.relays.values())

    def open(self) -> None:
        if self._task is None:
            self._task = self._spawn(self._listen())

    def close(self) -> None:
        """The class ended: stop listening; the relays' viewers were let go."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.relays.clear()

    async def _listen(self) -> None:
        """Listen until closed; a lost Redis connection is opened again after a second."""
        while True:
            try:
                await self._listen_once()
            except RedisError as error:
                logger.warning("listening for answers failed (%s): again in 1 s", error)
                await asyncio.sleep(1.0)

    async def _listen_once(self) -> None:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(answers_key(self.session_id))
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                   timeout=1.0)
                if message is not None and message["type"] == "message":
                    await self.take(message["data"])
                self.expire()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def take(self, data: bytes | str) -> None:
        """Act on one note (a malformed one is logged and ignored)."""
        try:
            note = NOTES.validate_json(data)
        except ValidationError as error:
            logger.warning("ignored a malformed note from a relay: %s", error)
            return
        relay = self.relays.setdefault(note.relay, _Relay())
        relay.heard = self._clock()
        if isinstance(note, AnswerNote):
            await self._answer(note, relay)
        elif isinstance(note, LeftNote):
            relay.members.discard(note.member)
            self.owner.forget_member(f"{note.relay}/{note.member}")
        elif note.count != relay.count:
            relay.count = note.count
            if note.count == 0 and not relay.members:
                del self.relays[note.relay]
            self.owner.viewers_changed()

    async def _answer(self, note: AnswerNote, relay: _Relay) -> None:
        """Count the answer as a local viewer's would be; reply with the step or error."""
        try:
            step = self.owner.take_answer(f"{note.relay}/{note.member}", note.answer)
        except CommandError as error:
            reply = Reply(request=note.request, error=error.message, field=error.field)
        else:
            relay.members.add(note.member)
            reply = Reply(request=note.request, step=step)
        await self.redis.publish(replies_key(self.session_id, note.relay),
                                 reply.model_dump_json())

    def expire(self) -> None:
        """Forget relays not heard from for RELAY_TTL_SECONDS: their viewers and answers."""
        now = self._clock()
        gone = [name for name, relay in self.relays.items()
                if now - relay.heard > RELAY_TTL_SECONDS]
        for name in gone:
            for member in self.relays.pop(name).members:
                self.owner.forget_member(f"{name}/{member}")
        if gone:
            self.owner.viewers_changed()


class Outbox:
    """A relay's end for one session: sends its viewers' answers (rate-limited per viewer
    here, as on the owner), its count and its leavers to the owner, and matches the replies
    that come back on :func:`replies_key` (fed in by :meth:`deliver`)."""

    def __init__(self, redis: Redis, session_id: str, relay: str, answers_per_second: float,
                 spawn: Callable[[Awaitable[Any]], object]) -> None:
        self.redis, self.session_id, self.relay = redis, session_id, relay
        self._spawn = spawn
        self.limits = AnswerLimits(answers_per_second)
        #: Set once this relay's subscription to its replies is confirmed.
        self.listening = asyncio.Event()
        self._replies: dict[int, asyncio.Future[Reply]] = {}
        self._requests = itertools.count(1)
        self._answered: set[str] = set()  # members that sent an answer on
        self._in_flight: set[str] = set()
        self._leaving: set[str] = set()  # left while their answer was in flight
        self._count_due = False

    @property
    def reply_channel(self) -> str:
        return replies_key(self.session_id, self.relay)

    async def answer(self, member: str, command: Answer) -> int:
        """Send a viewer's answer to the owner; its step, or CommandError as the owner
        gave it (or naming why no reply came)."""
        self.limits.check(member, command.id)
        request = next(self._requests)
        reply = asyncio.get_running_loop().create_future()
        self._replies[request] = reply
        self._in_flight.add(member)
        self._answered.add(member)
        note = AnswerNote(op="answer", relay=self.relay, member=member, request=request,
                          answer=command.model_copy(update={"id": None}))
        try:
            async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
                await self.listening.wait()
                if await self.redis.publish(answers_key(self.session_id),
                                            note.model_dump_json()) == 0:
                    raise CommandError(UNREACHABLE, None, command.id)
                result = await reply
        except TimeoutError:
            raise CommandError(NO_REPLY, None, command.id) from None
        finally:
            self._replies.pop(request, None)
            self._in_flight.discard(member)
            if member in self._leaving:
                self._leaving.discard(member)
                self._send_left(member)
        if result.error is not None:
            raise CommandError(result.error, result.field, command.id)
        assert result.step is not None
        return result.step

    def deliver(self, data: bytes) -> None:
        """A reply from the owner (one for another relay's request is ignored)."""
        try:
            reply = Reply.model_validate_json(data)
        except ValidationError:
            logger.warning("ignored a malformed reply from the class's server")
            return
        waiting = self._replies.get(reply.request)
        if waiting is not None and not waiting.done():
            waiting.set_result(reply)

    def left(self, member: str) -> None:
        """A viewer disconnected: its answer (if it sent one) leaves the owner's tally —
        after the answer it may still have in flight."""
        self.limits.forget(member)
        if member in self._in_flight:
            self._leaving.add(member)
        elif member in self._answered:
            self._send_left(member)

    def _send_left(self, member: str) -> None:
        self._answered.discard(member)
        self._send(LeftNote(op="left", relay=self.relay, member=member))

    def count_soon(self, viewers: Callable[[], int]) -> None:
        """Send ``viewers()`` within COUNT_INTERVAL_SECONDS (one note for a burst)."""
        if not self._count_due:
            self._count_due = True

            def send() -> None:
                self._count_due = False
                self.send_count(viewers())

            asyncio.get_running_loop().call_later(COUNT_INTERVAL_SECONDS, send)

    def send_count(self, count: int) -> None:
        self._send(ViewersNote(op="viewers", relay=self.relay, count=count))

    def _send(self, note: LeftNote | ViewersNote) -> None:
        self._spawn(self.redis.publish(answers_key(self.session_id), note.model_dump_json()))
