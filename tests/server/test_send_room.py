"""A frame leaves its mailbox only once the socket's earlier bytes have gone (the server's
unsent-bytes extension): meanwhile newer frames replace it, JSON messages still go first,
and a link that never makes room is a stalled client. The uvicorn protocol that offers the
extension counts the event loop's and the kernel's unsent bytes."""

from __future__ import annotations

import asyncio
import socket as sockets
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from backprop_playground.live.fanout import (
    UNSENT_EXTENSION,
    UNSENT_LIMIT,
    ClientStalled,
    Subscriber,
    unsent_bytes,
)
from backprop_playground.live.send_buffers import SmallBufferWebSocketProtocol

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, 5.0)
    return asyncio.run(bounded())


class NarrowSocket:
    """A socket on a slow link: each frame stays unsent until ``drain()``."""

    def __init__(self) -> None:
        self.sent: list[str | bytes] = []
        self.waiting = 0
        self.scope = {"extensions": {UNSENT_EXTENSION: lambda: self.waiting}}

    def drain(self) -> None:
        self.waiting = 0

    async def send_text(self, data: str) -> None:
        self.sent.append(data)

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)
        self.waiting += UNSENT_LIMIT + len(data)  # the link is busy with this frame


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.001)


def test_frames_wait_for_room_and_the_newest_goes() -> None:
    """While the link is busy, offered frames replace each other in the mailbox; when it has
    room the newest is sent — nothing queues up behind a slow link."""
    async def scenario() -> None:
        socket = NarrowSocket()
        subscriber = Subscriber(socket, "viewer", send_timeout=2.0)
        sender = asyncio.create_task(subscriber.run_sender())
        socket.drain()
        subscriber.offer_frame(b"first")
        await _until(lambda: socket.sent == [b"first"])
        for frame in (b"second", b"third", b"fourth"):
            subscriber.offer_frame(frame)
            await asyncio.sleep(0.01)
        assert socket.sent == [b"first"]
        socket.drain()
        await _until(lambda: len(socket.sent) == 2)
        assert socket.sent == [b"first", b"fourth"] and subscriber.frames_replaced == 2
        sender.cancel()
    run(scenario())


def test_messages_do_not_wait_for_room() -> None:
    """An ack offered while a frame waits for room is sent at once, before that frame."""
    async def scenario() -> None:
        socket = NarrowSocket()
        socket.waiting = 2 * UNSENT_LIMIT  # an earlier frame is still on its way
        subscriber = Subscriber(socket, "presenter", send_timeout=2.0)
        sender = asyncio.create_task(subscriber.run_sender())
        subscriber.offer_frame(b"frame")
        await asyncio.sleep(0.01)
        subscriber.offer_control('{"type": "ack"}')
        await _until(lambda: socket.sent)
        assert socket.sent == ['{"type": "ack"}']
        socket.drain()
        await _until(lambda: len(socket.sent) == 2)
        assert socket.sent[1] == b"frame"
        sender.cancel()
    run(scenario())


def test_a_link_that_never_makes_room_is_a_stalled_client() -> None:
    """No room within the send timeout ends the client like a send that makes no progress."""
    async def scenario() -> None:
        socket = NarrowSocket()
        socket.waiting = 2 * UNSENT_LIMIT
        subscriber = Subscriber(socket, "viewer", send_timeout=0.05)
        subscriber.offer_frame(b"frame")
        with pytest.raises(ClientStalled):
            await subscriber.run_sender()
    run(scenario())


def test_without_the_extension_frames_go_as_before() -> None:
    """Test clients and other servers have no extension: nothing to wait for."""
    assert unsent_bytes(object()) is None
    assert unsent_bytes(type("S", (), {"scope": {"extensions": {}}})()) is None


def test_protocol_counts_unsent_bytes_of_a_real_socket() -> None:
    """unsent() is the event loop's buffer plus the kernel's not-yet-sent bytes: a peer that
    reads nothing leaves them there; once it reads, they go."""
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        listener = sockets.create_server(("127.0.0.1", 0))
        listener.setblocking(False)
        peer = sockets.socket()
        peer.setsockopt(sockets.SOL_SOCKET, sockets.SO_RCVBUF, 4096)
        peer.connect(listener.getsockname())
        server_side, _ = await loop.sock_accept(listener)
        transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, server_side)
        protocol = SmallBufferWebSocketProtocol.__new__(SmallBufferWebSocketProtocol)
        protocol.transport = transport
        protocol._fd = server_side.fileno()
        assert protocol.unsent() == 0
        transport.write(b"x" * 4_000_000)
        await asyncio.sleep(0.05)
        assert protocol.unsent() > 1_000_000
        peer.setblocking(False)
        received = 0
        while received < 4_000_000:
            try:
                received += len(peer.recv(1 << 20))
            except BlockingIOError:
                await asyncio.sleep(0.001)
        await asyncio.sleep(0.01)
        assert protocol.unsent() == 0
        transport.close()
        peer.close()
        listener.close()
    run(scenario())
