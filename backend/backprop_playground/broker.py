"""Optional scale-out across server processes through Redis pub/sub.

The process that owns a presented session publishes its frames and status messages to
``bp:frames:<id>`` and ``bp:messages:<id>``, and keeps in keys what a late joiner needs: the
join code (``bp:code:<CODE>`` → id), the welcome message and the last frame. Another process
serves viewers of that session through a :class:`RemoteSession`, a read-only proxy that
relays the channels to its local subscribers. Without ``BACKPROP_REDIS_URL`` none of this
runs and nothing but this process is involved.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from redis.asyncio import Redis

from .fanout import Subscriber
from .protocol import CommandError, finite_json

logger = logging.getLogger(__name__)
KEY_TTL_SECONDS = 6 * 3600  # keys outlive a class day at most; the owner refreshes them


def _key(kind: str, name: str) -> str:
    return f"bp:{kind}:{name}"


class Broker:
    """This process's Redis connection: publishing for owned sessions, lookups for others."""

    def __init__(self, url: str) -> None:
        self.redis: Redis = Redis.from_url(url)
        self._frames: dict[str, bytes] = {}  # latest unpublished frame per session
        self._flushing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.redis.aclose()

    # ------------------------------------------------------------ owner side
    def publish_frame(self, session_id: str, frame: bytes) -> None:
        """Publish a frame soon; a newer one replaces an unsent one (latest wins)."""
        self._frames[session_id] = frame
        if session_id not in self._flushing:
            self._flushing.add(session_id)
            self._spawn(self._flush_frames(session_id))

    async def _flush_frames(self, session_id: str) -> None:
        try:
            while (frame := self._frames.pop(session_id, None)) is not None:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.publish(_key("frames", session_id), frame)
                    pipe.set(_key("frame", session_id), frame, ex=KEY_TTL_SECONDS)
                    await pipe.execute()
        finally:
            self._flushing.discard(session_id)

    def publish_message(self, session_id: str, kind: str, text: str) -> None:
        """Publish a JSON message (``kind``: its type) to the session's viewers elsewhere."""
        self._spawn(self.redis.publish(_key("messages", session_id), f"{kind}\n{text}"))

    def announce(self, session_id: str, code: str, welcome: dict[str, Any]) -> None:
        """Make the class joinable from any process: its code and what a joiner first sees."""
        async def write() -> None:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(_key("code", code), session_id, ex=KEY_TTL_SECONDS)
                pipe.set(_key("welcome", session_id), finite_json(welcome), ex=KEY_TTL_SECONDS)
                await pipe.execute()

        self._spawn(write())

    def retire(self, session_id: str, code: str) -> None:
        """The class ended: forget its code and tell remote viewers."""
        async def write() -> None:
            await self.redis.delete(_key("code", code), _key("welcome", session_id),
                                    _key("frame", session_id))
            await self.redis.publish(_key("messages", session_id), "ended\n{}")

        self._spawn(write())

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("broker publish failed: %s", task.exception())

    # ----------------------------------------------------------- viewer side
    async def session_for_code(self, code: str) -> str | None:
        value: bytes | None = await self.redis.get(_key("code", code))  # type: ignore[assignment]
        return None if value is None else value.decode()

    async def remote(self, session_id: str) -> RemoteSession | None:
        """A proxy for a session presented by another process, or None."""
        welcome: bytes | None = await self.redis.get(_key("welcome", session_id))  # type: ignore[assignment]
        if welcome is None:
            return None
        frame: bytes | None = await self.redis.get(_key("frame", session_id))  # type: ignore[assignment]
        return RemoteSession(self, session_id, json.loads(welcome), frame)


class RemoteSession:
    """Viewers of a session that steps in another process: read-only, fed by Redis."""

    presenter_token = ""  # nobody presents through a relay

    def __init__(self, broker: Broker, session_id: str, welcome_message: dict[str, Any],
                 frame: bytes | None) -> None:
        self.broker, self.id = broker, session_id
        self._welcome = welcome_message
        self.last_frame = frame
        self.subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self.on_empty: Any = None

    @property
    def viewers(self) -> int:
        return len(self.subscribers)

    def welcome(self, role: str) -> dict[str, Any]:
        return {**self._welcome, "role": role, "relayed": True}

    async def ensure_frame(self) -> None:
        """Nothing to build here: frames come from the owner."""

    def attach(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)
        if self._task is None:
            self._task = asyncio.create_task(self._follow())

    def detach(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        if not self.subscribers:
            if self._task is not None:
                self._task.cancel()
                self._task = None
            if self.on_empty is not None:
                self.on_empty(self)

    async def handle(self, command: Any) -> int:
        raise CommandError("this server only relays the class: viewers are read-only",
                           "type", command.id)

    async def _follow(self) -> None:
        pubsub = self.broker.redis.pubsub()
        await pubsub.subscribe(_key("frames", self.id), _key("messages", self.id))
        try:
            async for message in pubsub.listen():
                if message["type"] != "message":
                    continue
                channel = message["channel"].decode()
                if channel.startswith("bp:frames:"):
                    self.last_frame = message["data"]
                    for subscriber in self.subscribers:
                        subscriber.offer_frame(message["data"])
                else:
                    self._relay(message["data"].decode())
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _relay(self, data: str) -> None:
        kind, _, text = data.partition("\n")
        if kind == "ended":
            from .sessions import CLOSE_CLASS_ENDED

            ended = finite_json({"type": "event", "event": "class_ended",
                                 "message": "The presenter ended the class."})
            for subscriber in list(self.subscribers):
                subscriber.offer_control(ended)
                subscriber.finish(CLOSE_CLASS_ENDED)
            return
        for subscriber in self.subscribers:
            if kind in ("state", "viewers"):
                subscriber.offer_latest(kind, text)
            else:
                subscriber.offer_control(text)
