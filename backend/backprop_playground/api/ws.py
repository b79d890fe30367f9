"""The WebSocket endpoint ``/ws/sessions/{id}``: hello, then commands in, frames out.

One receiver (this coroutine) and one sender task (:class:`live.fanout.Subscriber`) per socket;
cleanup in ``finally``. Errors are answered on the socket, which stays open, except for an
oversized message (closed with 1009), a failed hello (closed with 1008/4403/4404/4429) and
a sustained flood of messages (4429, with a reason; a burst only has its excess dropped,
told in one error a second: :class:`live.fanout.FloodGuard`).
A client found stalled is dropped at the transport (:mod:`.transport`). Host and Origin are
checked before the handshake (:mod:`.guards`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import Counter
from collections.abc import MutableMapping
from functools import partial
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from ..live.channels import Joinable
from ..live.fanout import ClientStalled, FloodGuard, Subscriber
from ..live.registry import SessionRegistry
from ..live.session import LimitError
from ..settings import Settings
from ..wire.commands import (
    Answer,
    CommandError,
    FrameRate,
    Hello,
    parse_command,
    request_id_of,
)
from ..wire.frame import decode_header
from ..wire.messages import AckMessage, CloseCode, error_message, to_json
from .transport import aborter

router = APIRouter()
#: The answer to a binary message (the page only ever sends text).
BINARY_REFUSED = ("binary messages are not commands: send each command as a JSON text "
                  "message")
logger = logging.getLogger(__name__)


def client_address(connection: WebSocket) -> str:
    """The client's IP address (what per-address limits count)."""
    return connection.client.host if connection.client else "unknown"


@router.websocket("/ws/sessions/{session_id}")
async def session_socket(websocket: WebSocket, session_id: str) -> None:
    settings: Settings = websocket.app.state.settings
    registry: SessionRegistry = websocket.app.state.registry
    await websocket.accept()  # Host and Origin were checked before (api.guards)
    session = await registry.find(session_id)
    if session is None:
        await _refuse(websocket, "no such session", "id", CloseCode.NOT_FOUND)
        return
    hello = await _receive_hello(websocket, session, settings)
    if hello is None:
        return
    subscriber = await _join(websocket, session, hello, settings)
    if subscriber is not None:
        # a viewer let in by a spotlight code is closed when that spotlight ends
        with registry.forks.watching(session_id, hello.token, subscriber):
            await _serve(websocket, session, subscriber, settings)


async def _join(websocket: WebSocket, session: Joinable, hello: Hello,
                settings: Settings) -> Subscriber | None:
    """The client's subscriber, its welcome and the latest frame queued; None (and the
    socket closed with 4429) when the session has no room."""
    await session.ensure_frame()
    role = hello.role
    subscriber = Subscriber(websocket, role, settings.send_timeout_seconds)
    subscriber.deltas = hello.deltas
    if role == "viewer":
        subscriber.member_token = secrets.token_urlsafe(18)
    subscriber.offer_control(session.welcome_text(role, subscriber.member_token))
    if session.last_frame is not None:
        subscriber.offer_frame(session.last_frame)
    try:
        session.attach(subscriber)
    except LimitError as error:
        await _refuse(websocket, str(error), None, CloseCode.FULL)
        return None
    return subscriber


async def _serve(websocket: WebSocket, session: Joinable, subscriber: Subscriber,
                 settings: Settings) -> None:
    """One sender and one receiver task until either ends; then detach and close."""
    sender = asyncio.create_task(subscriber.run_sender())
    receiver = asyncio.create_task(_receive_commands(websocket, session, subscriber, settings))
    try:
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stalled = (sender.done() and not sender.cancelled()
                   and isinstance(sender.exception(), ClientStalled))
        for task in (sender, receiver):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ClientStalled, WebSocketDisconnect,
                                     RuntimeError):
                await task
        session.detach(subscriber)
        await _close(websocket, subscriber.close_code or 1000, stalled,
                     settings.send_timeout_seconds, subscriber.close_reason)


async def _close(websocket: WebSocket, code: int, stalled: bool, timeout: float,
                 reason: str = "") -> None:
    """Close the socket: a stalled client's at the transport (its buffers are full, so no
    closing handshake could get through), anyone else's with ``code``, dropped too if the
    handshake does not go out within ``timeout``."""
    abort = aborter(websocket.scope)
    if stalled and abort is not None:
        abort()
        return
    if websocket.application_state == WebSocketState.DISCONNECTED:
        return
    try:
        await asyncio.wait_for(websocket.close(code=code, reason=reason or None), timeout)
    except TimeoutError:
        if abort is not None:
            abort()
    except (RuntimeError, WebSocketDisconnect):
        pass


async def _refuse(websocket: WebSocket, message: str, field: str | None, code: int) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.send_text(error_message(CommandError(message, field)))
        await websocket.close(code=code, reason=message[:120])


async def _receive_hello(websocket: WebSocket, session: Joinable,
                         settings: Settings) -> Hello | None:
    """The first message must be a hello: the presenter's with the presenter token, a
    viewer's (only while the session is presented) with the class's join code."""
    try:
        text = await asyncio.wait_for(_receive_text(websocket, settings),
                                      settings.hello_timeout_seconds)
        if text is None:
            return None
        if isinstance(text, bytes):
            raise CommandError(BINARY_REFUSED)
        command = parse_command(text)
    except TimeoutError:
        await _refuse(websocket, "say hello first", "type", CloseCode.POLICY)
        return None
    except CommandError as error:
        await _refuse(websocket, error.message, error.field, CloseCode.POLICY)
        return None
    except WebSocketDisconnect:
        return None
    if not isinstance(command, Hello):
        await _refuse(websocket, "the first message must be a hello", "type", CloseCode.POLICY)
        return None
    if not session.admits(command.role, command.token):
        reason = ("wrong presenter token" if command.role == "presenter" else
                  "viewers join a presented class with its join code (as token)")
        await _refuse(websocket, reason, "token", CloseCode.FORBIDDEN)
        return None
    return command


async def _receive_text(websocket: WebSocket, settings: Settings) -> str | bytes | None:
    """The next message: text, or bytes for a binary message (which is refused: commands
    are JSON text); None once the socket closed (1009 if the message was too big)."""
    message: MutableMapping[str, Any] = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    data = message.get("text") if message.get("text") is not None else message.get("bytes")
    if data is None:
        return ""
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if size > settings.max_message_bytes:
        await websocket.close(code=CloseCode.TOO_BIG,
                              reason=f"messages are limited to {settings.max_message_bytes} bytes")
        return None
    return data if isinstance(data, str) else bytes(data)


async def _receive_commands(websocket: WebSocket, session: Joinable,
                            subscriber: Subscriber,
                            settings: Settings) -> None:
    """Read commands until the socket closes; answer each with an ack or an error. One
    command at a time per socket, and at most ``max_pending_commands_per_address`` for all
    the sockets of one client address."""
    guard = FloodGuard(settings.max_messages_per_second, settings.flood_seconds)
    notices = _Notices(guard, subscriber)
    pending: Counter[str] = websocket.app.state.pending_commands
    address = client_address(websocket)
    while True:
        await subscriber.wait_for_room()
        text = await _receive_text(websocket, settings)
        if text is None:
            return
        verdict = guard.admit(partial(_text_id, text))
        if verdict == "flood":
            await _end_flood(guard, notices, subscriber, settings)
            return
        if verdict == "dropped":
            notices.schedule()
            continue
        if isinstance(text, bytes):
            subscriber.offer_control(error_message(CommandError(BINARY_REFUSED)))
            continue
        if pending[address] >= settings.max_pending_commands_per_address:
            subscriber.offer_control(error_message(CommandError(
                f"too many commands in progress from your address (at most "
                f"{settings.max_pending_commands_per_address}): wait for their answers",
                None, request_id_of(text))))
            continue
        pending[address] += 1
        try:
            # Shielded: a client that leaves mid-command does not cut the command short
            # half way through its bookkeeping (a long step stops by itself once nobody
            # is left to watch).
            subscriber.offer_control(await asyncio.shield(_answer(text, session, subscriber)))
        finally:
            pending[address] -= 1
            if pending[address] <= 0:
                del pending[address]


async def _take_answer(session: Joinable, subscriber: Subscriber, command: Answer) -> int:
    """A viewer's answer to the class's question (the presenter asks, it does not answer);
    a relaying server sends it on to the process that runs the class, which counts it."""
    if subscriber.role == "presenter":
        raise CommandError("the presenter asks the question; viewers answer it", "type",
                           command.id)
    return await session.answer(subscriber, command)


def _pace(session: Joinable, subscriber: Subscriber, command: FrameRate) -> int:
    """This socket's frames at the page's pace (the session is not touched): the step of
    the newest frame."""
    subscriber.pace(command.frames_per_second)
    return int(decode_header(session.last_frame)["step"]) if session.last_frame else 0


def _text_id(text: str | bytes) -> str | int | None:
    """A message's request id, if it is a text command that has one."""
    return request_id_of(text) if isinstance(text, str) else None


class _Notices:
    """The one pending error that tells a client how many of its messages were dropped
    (at most one a second, see :class:`FloodGuard`)."""

    def __init__(self, guard: FloodGuard, subscriber: Subscriber) -> None:
        self.guard, self.subscriber = guard, subscriber
        self._timer: asyncio.TimerHandle | None = None

    def schedule(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.guard.notice_delay(),
                                                                self.send)

    def send(self) -> None:
        self._timer = None
        notice = self.guard.take_notice()
        if notice is not None:
            self.subscriber.offer_control(error_message(CommandError(notice[0]), notice[1]))

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


async def _end_flood(guard: FloodGuard, notices: _Notices, subscriber: Subscriber,
                     settings: Settings) -> None:
    """A sustained flood: say how many messages were dropped, then close with 4429 and a
    reason once what is queued has gone (the sender ends the connection)."""
    notices.cancel()
    notices.send()
    logger.info("closing a flooding client (%d messages dropped)", guard.dropped_total)
    subscriber.finish(CloseCode.FULL, guard.flood_reason())
    await asyncio.sleep(settings.send_timeout_seconds)  # the sender finishes first


async def _answer(text: str, session: Joinable,
                  subscriber: Subscriber) -> str:
    """Carry out one command; the ack or the error as JSON text."""
    try:
        command = parse_command(text)
        if isinstance(command, Hello):
            raise CommandError("already said hello", "type", command.id)
        if isinstance(command, Answer):
            step = await _take_answer(session, subscriber, command)
        elif subscriber.role != "presenter":
            raise CommandError(f"viewers are read-only: '{command.type}' is the presenter's; "
                               "a viewer may only answer a question", "type", command.id)
        elif isinstance(command, FrameRate):
            step = _pace(session, subscriber, command)
        else:
            step = await session.handle(command)
    except CommandError as error:
        return error_message(error)
    except Exception as error:  # a bug must not end the connection; say what happened
        logger.exception("command failed")
        return error_message(CommandError(f"the server could not do that: {error}", None,
                                          request_id_of(text)))
    return to_json(AckMessage(id=command.id, command=command.type, step=step))
