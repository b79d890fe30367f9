"""The WebSocket endpoint ``/ws/sessions/{id}``: hello, then commands in, frames out.

One receiver (this coroutine) and one sender task (:class:`live.fanout.Subscriber`) per socket;
cleanup in ``finally``. Errors are answered on the socket, which stays open, except for an
oversized message (closed with 1009) and a failed hello (closed with 4403/4404/4429).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from ..live.channels import Joinable
from ..live.fanout import ClientStalled, RateLimiter, Subscriber
from ..live.registry import SessionRegistry
from ..live.session import LimitError
from ..settings import Settings
from ..wire.commands import CommandError, Hello, Role, parse_command, request_id_of
from ..wire.messages import AckMessage, CloseCode, error_message, to_json

router = APIRouter()
logger = logging.getLogger(__name__)


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """Same origin as the page (Origin's host:port equals Host), or in the allowlist.
    Clients that send no Origin (not browsers) are allowed."""
    origin = websocket.headers.get("origin")
    if origin is None or origin in settings.allowed_origins:
        return True
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


@router.websocket("/ws/sessions/{session_id}")
async def session_socket(websocket: WebSocket, session_id: str) -> None:
    settings: Settings = websocket.app.state.settings
    registry: SessionRegistry = websocket.app.state.registry
    if not origin_allowed(websocket, settings):
        await websocket.close(code=CloseCode.POLICY, reason="origin not allowed")
        return
    await websocket.accept()
    session = await registry.find(session_id)
    if session is None:
        await _refuse(websocket, "no such session", "id", CloseCode.NOT_FOUND)
        return
    hello = await _receive_hello(websocket, session, settings)
    if hello is None:
        return
    subscriber = await _join(websocket, session, hello.role, settings)
    if subscriber is not None:
        await _serve(websocket, session, subscriber, settings)


async def _join(websocket: WebSocket, session: Joinable, role: Role,
                settings: Settings) -> Subscriber | None:
    """The client's subscriber, its welcome and the latest frame queued; None (and the
    socket closed with 4429) when the session has no room."""
    await session.ensure_frame()
    subscriber = Subscriber(websocket, role, settings.send_timeout_seconds)
    subscriber.offer_control(to_json(session.welcome(role)))
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
        for task in (sender, receiver):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ClientStalled, WebSocketDisconnect,
                                     RuntimeError):
                await task
        session.detach(subscriber)
        if websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code=subscriber.close_code or 1000)


async def _refuse(websocket: WebSocket, message: str, field: str | None, code: int) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.send_text(error_message(CommandError(message, field)))
        await websocket.close(code=code, reason=message[:120])


async def _receive_hello(websocket: WebSocket, session: Joinable,
                         settings: Settings) -> Hello | None:
    """The first message must be a hello; a presenter's token must match."""
    try:
        text = await asyncio.wait_for(_receive_text(websocket, settings),
                                      settings.hello_timeout_seconds)
        if text is None:
            return None
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
    if command.role == "presenter" and not hmac.compare_digest(
            (command.token or "").encode(), session.presenter_token.encode()):
        await _refuse(websocket, "wrong presenter token", "token", CloseCode.FORBIDDEN)
        return None
    return command


async def _receive_text(websocket: WebSocket, settings: Settings) -> str | None:
    """The next message as text; None once the socket closed (1009 if it was too big)."""
    message: MutableMapping[str, Any] = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    data = message.get("text") if message.get("text") is not None else message.get("bytes")
    if data is None:
        return ""
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > settings.max_message_bytes:
        await websocket.close(code=CloseCode.TOO_BIG,
                              reason=f"messages are limited to {settings.max_message_bytes} bytes")
        return None
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


async def _receive_commands(websocket: WebSocket, session: Joinable,
                            subscriber: Subscriber,
                            settings: Settings) -> None:
    """Read commands until the socket closes; answer each with an ack or an error."""
    limiter = RateLimiter(settings.max_messages_per_second)
    while True:
        text = await _receive_text(websocket, settings)
        if text is None:
            return
        if not limiter.allow():
            subscriber.offer_control(error_message(CommandError(
                f"too many messages: at most {settings.max_messages_per_second:g} per second",
                None, request_id_of(text))))
            continue
        subscriber.offer_control(await _answer(text, session, subscriber))


async def _answer(text: str, session: Joinable,
                  subscriber: Subscriber) -> str:
    """Carry out one command; the ack or the error as JSON text."""
    try:
        command = parse_command(text)
        if isinstance(command, Hello):
            raise CommandError("already said hello", "type", command.id)
        if subscriber.role != "presenter":
            raise CommandError("viewers are read-only: only the presenter controls the run",
                               "type", command.id)
        step = await session.handle(command)
    except CommandError as error:
        return error_message(error)
    except Exception as error:  # a bug must not end the connection; say what happened
        logger.exception("command failed")
        return error_message(CommandError(f"the server could not do that: {error}", None,
                                          request_id_of(text)))
    return to_json(AckMessage(id=command.id, command=command.type, step=step))
