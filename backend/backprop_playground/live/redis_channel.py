"""Delivery through Redis pub/sub: viewers on any server process can follow a class.

The process that owns a presented session publishes its frames and JSON messages to
``bp:frames:<id>`` and ``bp:messages:<id>`` (``<type>\\n<json>``; ``ended\\n<json>`` when
the class ends), and keeps in keys what a late joiner needs: the join code
(``bp:code:<CODE>`` → id), the welcome message and the last frame. Another process serves
viewers of that session through a :class:`RelayedSession`, which hands what the channels
carry to its own :class:`~.fanout.Audience`. Only used with ``BACKPROP_REDIS_URL``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from ..wire.commands import CommandError, ControlCommand, Role
from ..wire.messages import (
    ClassEndedEvent,
    CloseCode,
    Message,
    WelcomeMessage,
    to_json,
)
from .codes import normalize_code
from .fanout import Audience, Subscriber

logger = logging.getLogger(__name__)
KEY_TTL_SECONDS = 6 * 3600  # keys outlive a class day at most; the owner refreshes them
ANNOUNCED = ("state", "config")  # after these the late joiners' welcome is refreshed


def _key(kind: str, name: str) -> str:
    return f"bp:{kind}:{name}"


class RedisBackend:
    """This process's Redis connection: channels for its sessions, relays of others'."""

    def __init__(self, url: str) -> None:
        self.redis: Redis = Redis.from_url(url)
        self.relays: dict[str, RelayedSession] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def channel(self, session_id: str) -> RedisChannel:
        return RedisChannel(self, session_id)

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

    def spawn(self, work: Awaitable[Any]) -> None:
        """Run ``work`` in the background; a failure is logged, never raised."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("redis publish failed: %s", task.exception())


class RedisChannel:
    """A session's delivery to this process's clients and, while the session is presented,
    through Redis to its viewers on other processes."""

    def __init__(self, backend: RedisBackend, session_id: str) -> None:
        self.backend, self.session_id = backend, session_id
        self.audience = Audience()
        self.code: str | None = None  # set while presented: then Redis carries everything
        self._welcome: Callable[[], WelcomeMessage] | None = None
        self._frame: bytes | None = None  # the latest frame not yet in Redis
        self._flushing = False

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
        self._announce(code, welcome())
        if frame is not None:
            self._publish_remote_frame(frame)

    def dismiss_viewers(self, farewell: ClassEndedEvent) -> None:
        text = to_json(farewell)
        if self.code is not None:
            self._retire(self.code, text)
            self.code = self._welcome = None
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
    """Viewers here of a session that steps in another process: read-only, fed by Redis."""

    def __init__(self, backend: RedisBackend, session_id: str, welcome: WelcomeMessage,
                 frame: bytes | None) -> None:
        self.backend, self.id = backend, session_id
        self._welcome = welcome
        self.last_frame = frame
        self.audience = Audience()
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
        if self._task is None:
            self._task = asyncio.create_task(self._follow())

    def detach(self, subscriber: Subscriber) -> None:
        """Forget a viewer; with none left, stop following (a later one starts afresh)."""
        self.audience.discard(subscriber)
        if not self.audience.subscribers:
            if self._task is not None:
                self._task.cancel()
                self._task = None
            self.backend.relays.pop(self.id, None)

    async def handle(self, command: ControlCommand) -> int:
        raise CommandError("this server only relays the class: viewers are read-only",
                           "type", command.id)

    async def _follow(self) -> None:
        pubsub = self.backend.redis.pubsub()
        await pubsub.subscribe(_key("frames", self.id), _key("messages", self.id))
        try:
            async for message in pubsub.listen():
                if message["type"] == "message":
                    self._deliver(message["channel"].decode(), message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _deliver(self, channel: str, data: bytes) -> None:
        if channel.startswith("bp:frames:"):
            self.last_frame = data
            self.audience.frame(data)
            return
        kind, _, text = data.decode().partition("\n")
        if kind == "ended":
            self.audience.dismiss(text, CloseCode.CLASS_ENDED, viewers_only=False)
        else:
            self.audience.message(kind, text)
