"""WebSocket connections that tell the sender how much of what it wrote has not been sent
yet, so that a slow client's frames wait in its one-slot mailbox (:mod:`.fanout`, latest
wins) instead of in buffers.

A client on a slow link takes frames more slowly than the session makes them. The socket
accepts every frame at once all the same — the kernel's send buffer grows to hundreds of
kilobytes — and the client watches the run seconds late (measured at 0.3 Mbit/s, 20 ms
delay: frames 2.5 s old at the median, 4 s at p99). :class:`SmallBufferWebSocketProtocol`
offers the ASGI scope extension :data:`~.fanout.UNSENT_EXTENSION`: the event loop's buffer
plus the kernel's not-yet-sent bytes (``SIOCOUTQNSD``; bytes in flight do not count, so a
fast link keeps its throughput). The sender takes the next frame from the mailbox only
when few bytes wait (fanout.UNSENT_LIMIT): the client gets fewer but fresh frames (0.3 s
old at the median, 1.1 s at p99, on the same link).

``backprop-playground`` serves WebSockets with this protocol (main.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import socket
import struct
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from .fanout import UNSENT_EXTENSION

SIOCOUTQNSD = 0x894B  # Linux ioctl: bytes in the send queue not sent yet
_INT = struct.Struct("i")


class SmallBufferWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol plus the unsent-bytes extension."""

    _fd = -1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            self._fd = sock.fileno()

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)  # set unless the handshake was refused
        if scope is not None:
            scope["extensions"][UNSENT_EXTENSION] = self.unsent

    def unsent(self) -> int:
        """Bytes written but not sent yet: the event loop's buffer and the kernel's."""
        queued = self.transport.get_write_buffer_size()
        if self._fd < 0 or self.transport.is_closing():
            return queued
        with contextlib.suppress(OSError):
            kernel = fcntl.ioctl(self._fd, SIOCOUTQNSD, bytes(_INT.size))
            return queued + int(_INT.unpack(kernel)[0])
        return queued
