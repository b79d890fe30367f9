"""Delivery through Redis pub/sub: viewers on any server process can follow a class.

The process that owns a presented session publishes its frames and JSON messages to
``bp:frames:<id>`` and ``bp:messages:<id>`` (``<type>\\n<json>``; ``ended\\n<json>`` when
the class ends), and keeps in keys what a late joiner needs: the join code
(``bp:code:<CODE>`` → id), the welcome message and the last frame. Another process serves
viewers of that session through a :class:`RelayedSession`, which hands what the channels
carry to its own :class:`~.fanout.Audience`; its viewers' answers and its viewer count go
back to the owner through ``live.redis_answers``. Only used with ``BACKPROP_REDIS_URL``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..wire.commands import Answer, CommandError, ControlCommand, Role
from ..wire.messages import (
    ClassEndedEvent,
    CloseCode,
    Message,
    WelcomeMessage,
    to_json,
)
from .channels import ClassOwner
from .codes import normalize_code
from .fanout import Audience, Subscriber
from .redis_answers import HEARTBEAT_SECONDS, Inbox, Outbox

logger = logging.getLogger(__name__)
KEY_TTL_SECONDS = 6 * 3600  # keys outlive a class day at most; the owner refreshes them
ANNOUNCED = ("state", "config")  # after these the late joiners' welcome is refreshed


def _key(kind: str, name: str) -> str:
    return f"bp:{kind}:{name}"


class RedisBackend:
    """This process's Redis connection: channels for its sessions, relays of others'."""

    def __init__(self, url: str, answers_per_second: float) -> None:
        self.redis: Redis = Redis.from_url(url)
        self.relays: dict[str, RelayedSession] = {}
        #: This process's name as a relay (the owner keeps its viewers' answers under it).
        self.relay_id = secrets.token_hex(8)
        #: A relayed viewer's answers per second (``max_answers_per_second``).
        self.answers_per_second = answers_per_second
        self._tasks: set[asyncio.Task[Any]] = set()

    def channel(self, session_id: str, owner: ClassOwner) -> RedisChannel:
        return RedisChannel(self, session_id, owner)

    async def follow(self, session_id: str) -> RelayedSession | None:
        relay = self.relays.get(session_id)
        if relay is None:
            welcome: bytes | None = await self.redis.get(_key("welcome", session_id))  # type: ignore[assignment]
            if welcome is None:
                return None
            frame: bytes | None = await self.redis.get(_key("frame", session_id))  # type: ignore[assignment]
            relay = RelayedSession(self, session_id, WelcomeMessage.model_validate(
                json.loads(welcome)), frame)
            self.relays[session_id] = relay
        return relay

    async def session_for_code(self, code: str) -> str | None:
        value: bytes | None = await self.redis.get(_key("code", code))  # type: ignore[assignment]
        return None if value is None else value.decode()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.redis.aclose()

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run ``work`` in the background (until done, or :meth:`close`); a failure is
        logged, never raised."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("redis publish failed: %s", task.exception())


class RedisChannel:
    """A session's delivery to this process's clients and, while the session is presented,
    through Redis to its viewers on other processes."""

    def __init__(self, backend: RedisBackend, session_id: str, owner: ClassOwner) -> None:
        self.backend, self.session_id = backend, session_id
        self.audience = Audience()
        #: Answers and viewer counts from the relays, while presented.
        self.inbox = Inbox(backend.redis, session_id, owner, backend.spawn)
        self.code: str | None = None  # set while presented: then Redis carries everything
        self._welcome: Callable[[], WelcomeMessage] | None = None
        self._frame: bytes | None = None  # the latest frame not yet in Redis
        self._flushing = False

    @property
    def viewers_elsewhere(self) -> int:
        return self.inbox.viewers

    def publish_frame(self, frame: bytes) -> None:
        self.audience.frame(frame)
        if self.code is not None:
            self._publish_remote_frame(frame)

    def publish(self, message: Message) -> None:
        text = to_json(message)
        self.audience.message(message.type, text)
        if self.code is not None:
            self._send("messages", f"{message.type}\n{text}")
            if message.type in ANNOUNCED and self._welcome is not None:
                self._announce(self.code, self._welcome())

    def go_public(self, code: str, welcome: Callable[[], WelcomeMessage],
                  frame: bytes | None) -> None:
        self.code, self._welcome = code, welcome
        self.inbox.open()
        self._announce(code, welcome())
        if frame is not None:
            self._publish_remote_frame(frame)

    def dismiss_viewers(self, farewell: ClassEndedEvent) -> None:
        text = to_json(farewell)
        if self.code is not None:
            self._retire(self.code, text)
            self.code = self._welcome = None
        self.inbox.close()
        self.audience.dismiss(text, CloseCode.CLASS_ENDED)

    def _publish_remote_frame(self, frame: bytes) -> None:
        """Publish a frame soon; a newer one replaces an unsent one (latest wins)."""
        self._frame = frame
        if not self._flushing:
            self._flushing = True
            self.backend.spawn(self._flush_frames())

    async def _flush_frames(self) -> None:
        try:
            while (frame := self._frame) is not None:
                self._frame = None
                async with self.backend.redis.pipeline(transaction=False) as pipe:
                    pipe.publish(_key("frames", self.session_id), frame)
                    pipe.set(_key("frame", self.session_id), frame, ex=KEY_TTL_SECONDS)
                    await pipe.execute()
        finally:
            self._flushing = False

    def _send(self, kind: str, data: str) -> None:
        self.backend.spawn(self.backend.redis.publish(_key(kind, self.session_id), data))

    def _announce(self, code: str, message: WelcomeMessage) -> None:
        """Make the class joinable from any process: its code and what a joiner first sees
        (NaN kept as such: the relay writes the welcome out with the never-NaN rule)."""
        welcome = json.dumps(message.model_dump())

        async def write() -> None:
            async with self.backend.redis.pipeline(transaction=False) as pipe:
                pipe.set(_key("code", code), self.session_id, ex=KEY_TTL_SECONDS)
                pipe.set(_key("welcome", self.session_id), welcome, ex=KEY_TTL_SECONDS)
                await pipe.execute()

        self.backend.spawn(write())

    def _retire(self, code: str, farewell: str) -> None:
        """The class ended: forget its code and tell the viewers elsewhere."""
        redis, session_id = self.backend.redis, self.session_id

        async def write() -> None:
            await redis.delete(_key("code", code), _key("welcome", session_id),
                               _key("frame", session_id))
            await redis.publish(_key("messages", session_id), f"ended\n{farewell}")

        self.backend.spawn(write())


class RelayedSession:
    """Viewers here of a session that steps in another process: read-only, fed by Redis;
    their answers (and how many they are) go to the owner, which counts them."""

    def __init__(self, backend: RedisBackend, session_id: str, welcome: WelcomeMessage,
                 frame: bytes | None) -> None:
        self.backend, self.id = backend, session_id
        self._welcome = welcome
        self.last_frame = frame
        self.audience = Audience()
        self.outbox = Outbox(backend.redis, session_id, backend.relay_id,
                             backend.answers_per_second, backend.spawn)
        self._task: asyncio.Task[None] | None = None

    def admits(self, role: Role, token: str | None) -> bool:
        """Viewers with the class's join code only: nobody presents through a relay."""
        info = self._welcome.state.class_
        return role == "viewer" and info is not None and hmac.compare_digest(
            normalize_code(token or "").encode(), info.code.encode())

    def welcome(self, role: Role, member_token: str | None = None) -> WelcomeMessage:
        """The owner's welcome, as relayed (no member token: forks are made there)."""
        return self._welcome.relayed_to(role)

    def welcome_text(self, role: Role, member_token: str | None = None) -> str:
        return to_json(self.welcome(role))

    async def ensure_frame(self) -> None:
        """Nothing to build here: frames come from the owner."""

    def attach(self, subscriber: Subscriber) -> None:
        self.audience.add(subscriber)
        self.outbox.count_soon(self._viewers)
        if self._task is None:
            self._task = asyncio.create_task(self._follow())

    def detach(self, subscriber: Subscriber) -> None:
        """Forget a viewer (its answer leaves the owner's tally); with none left, stop
        following (a later one starts afresh)."""
        self.audience.discard(subscriber)
        if subscriber.member_token is not None:
            self.outbox.left(subscriber.member_token)
        self.outbox.count_soon(self._viewers)
        if not self.audience.subscribers:
            if self._task is not None:
                self._task.cancel()
                self._task = None
            self.backend.relays.pop(self.id, None)

    async def handle(self, command: ControlCommand) -> int:
        raise CommandError("this server only relays the class: viewers are read-only",
                           "type", command.id)

    async def answer(self, subscriber: Subscriber, command: Answer) -> int:
        """Sent on to the owner, which validates and counts it (:class:`Outbox`)."""
        if subscriber.member_token is None:
            raise CommandError("only a viewer of the class answers its questions", "type",
                               command.id)
        return await self.outbox.answer(subscriber.member_token, command)

    def _viewers(self) -> int:
        return self.audience.viewers

    async def _follow(self) -> None:
        """Frames, messages and replies from Redis, and the heartbeat, while followed; a
        lost Redis connection is opened again after a second, and the last frame the owner
        left in Redis is passed on at once (what was published meanwhile is gone)."""
        beat = asyncio.create_task(self._beat())
        try:
            while True:
                try:
                    await self._follow_once()
                except RedisError as error:
                    self.outbox.listening.clear()
                    logger.warning("following %s through Redis failed (%s): again in 1 s",
                                   self.id, error)
                    await asyncio.sleep(1.0)
                    await self._catch_up()
        finally:
            beat.cancel()

    async def _follow_once(self) -> None:
        pubsub = self.backend.redis.pubsub()
        replies = self.outbox.reply_channel
        try:
            await pubsub.subscribe(_key("frames", self.id), _key("messages", self.id), replies)
            async for message in pubsub.listen():
                channel = message["channel"].decode()
                if message["type"] == "message":
                    self._deliver(channel, message["data"])
                elif message["type"] == "subscribe" and channel == replies:
                    self.outbox.listening.set()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _catch_up(self) -> None:
        """After a lost connection: the newest frame the owner keeps in Redis, if any."""
        with contextlib.suppress(RedisError):
            frame: bytes | None = await self.backend.redis.get(_key("frame", self.id))  # type: ignore[assignment]
            if frame is not None and frame != self.last_frame:
                self._deliver(_key("frames", self.id), frame)

    async def _beat(self) -> None:
        """Repeat the viewer count: a restarted owner learns it, and a relay that stops
        repeating it (its process died) stops counting there."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            self.outbox.send_count(self.audience.viewers)

    def _deliver(self, channel: str, data: bytes) -> None:
        if channel.startswith("bp:frames:"):
            self.last_frame = data
            self.audience.frame(data)
            return
        if channel == self.outbox.reply_channel:
            self.outbox.deliver(data)
            return
        kind, _, text = data.decode().partition("\n")
        if kind == "ended":
            self.audience.dismiss(text, CloseCode.CLASS_ENDED, viewers_only=False)
        else:
            self.audience.message(kind, text)
