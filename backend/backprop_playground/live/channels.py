"""Delivery channels: where a session's frames and JSON messages go.

A session publishes to its :class:`Channel`; the channel delivers to this process's clients
(an :class:`~.fanout.Audience`: bounded, latest-wins mailboxes) and, for a Redis channel, to
the viewers of a presented class on other server processes. A :class:`Backend` makes the
channels of one process and finds sessions that other processes present (the shape of
encode/broadcaster's backends). :class:`LocalBackend` keeps everything in this process;
``live.redis_channel`` goes through Redis pub/sub. The way back — answers and viewer counts
from viewers on other processes — reaches the session as its :class:`ClassOwner`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..wire.commands import Answer, ControlCommand, Role
from ..wire.messages import ClassEndedEvent, CloseCode, Message, WelcomeMessage, to_json
from .fanout import Audience, Subscriber


class Joinable(Protocol):
    """A session as a socket sees it: welcome, frames, commands."""

    @property
    def id(self) -> str: ...
    @property
    def last_frame(self) -> bytes | None: ...
    def admits(self, role: Role, token: str | None) -> bool:
        """Whether a hello with ``token`` (the presenter token, or a viewer's join code)
        may join as ``role``."""
    def welcome(self, role: Role, member_token: str | None = None) -> WelcomeMessage: ...
    def welcome_text(self, role: Role, member_token: str | None = None) -> str:
        """:meth:`welcome` as JSON text."""
    async def ensure_frame(self) -> None: ...
    def attach(self, subscriber: Subscriber) -> None: ...
    def detach(self, subscriber: Subscriber) -> None: ...
    async def handle(self, command: ControlCommand) -> int: ...
    async def answer(self, subscriber: Subscriber, command: Answer) -> int:
        """A viewer's answer to the class's question: the step when it was taken, or
        CommandError naming the field (wherever the class runs, the same rules)."""


class ClassOwner(Protocol):
    """The presented session as its channel sees it: what viewers on other processes send
    reaches it here. ``member`` is the channel's name for one such viewer connection."""

    def take_answer(self, member: str, command: Answer) -> int:
        """Count (or replace) ``member``'s answer, as a local viewer's: the current step,
        or CommandError naming the field."""

    def forget_member(self, member: str) -> None:
        """``member`` left: its answer no longer counts."""

    def viewers_changed(self) -> None:
        """The number of viewers elsewhere changed (tell the clients soon)."""


class Channel(Protocol):
    """One session's way to its clients."""

    audience: Audience

    @property
    def viewers_elsewhere(self) -> int:
        """Viewers of this session connected to other processes (0 for a local channel)."""

    def publish_frame(self, frame: bytes) -> None:
        """Deliver a binary frame (a newer one replaces one not yet sent)."""

    def publish(self, message: Message) -> None:
        """Deliver a JSON message (state and viewers messages supersede unsent ones)."""

    def go_public(self, code: str, welcome: Callable[[], WelcomeMessage],
                  frame: bytes | None) -> None:
        """The session is presented with join ``code``: viewers elsewhere may follow it;
        ``welcome`` is what a late joiner gets first, ``frame`` the latest frame."""

    def dismiss_viewers(self, farewell: ClassEndedEvent) -> None:
        """The class is over: every viewer gets ``farewell`` and is let go (4410)."""


class Backend(Protocol):
    """This process's delivery: channels for its sessions, relays of other processes'."""

    def channel(self, session_id: str, owner: ClassOwner) -> Channel:
        """The channel of a session that runs here; ``owner`` takes what its viewers on
        other processes send (answers, their comings and goings)."""

    async def follow(self, session_id: str) -> Joinable | None:
        """A read-only relay of a session presented by another process, or None."""

    async def session_for_code(self, code: str) -> str | None:
        """The session another process presents with this (normalized) join code."""

    async def close(self) -> None:
        """Stop delivering; release connections."""


class LocalChannel:
    """Delivery to this process's clients only."""

    viewers_elsewhere = 0

    def __init__(self) -> None:
        self.audience = Audience()

    def publish_frame(self, frame: bytes) -> None:
        self.audience.frame(frame)

    def publish(self, message: Message) -> None:
        self.audience.message(message.type, to_json(message))

    def go_public(self, code: str, welcome: Callable[[], WelcomeMessage],
                  frame: bytes | None) -> None:
        """Nothing to do: this process's viewers already get everything."""

    def dismiss_viewers(self, farewell: ClassEndedEvent) -> None:
        self.audience.dismiss(to_json(farewell), CloseCode.CLASS_ENDED)


class LocalBackend:
    """One process, no external service: every session runs and is watched here."""

    def channel(self, session_id: str, owner: ClassOwner) -> Channel:
        return LocalChannel()

    async def follow(self, session_id: str) -> Joinable | None:
        return None

    async def session_for_code(self, code: str) -> str | None:
        return None

    async def close(self) -> None:
        pass
