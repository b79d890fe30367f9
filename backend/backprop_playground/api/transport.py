"""The WebSocket protocol ``backprop-playground`` serves with: uvicorn's, with small send
buffers (:mod:`..live.send_buffers`), plus a way to drop a connection at the transport.

A client that stopped reading fills every buffer between the server and itself, so the
closing handshake can never get through: ``websocket.close()`` would wait, and the
connection (with its buffered frames) would stay open for good. The ASGI scope extension
:data:`ABORT_EXTENSION` is a callable that aborts the TCP connection at once (its buffers
are freed); the socket endpoint calls it for a client it found stalled.
"""

from __future__ import annotations

from typing import Any

from websockets.http11 import Request

from ..live.send_buffers import SmallBufferWebSocketProtocol

#: ASGI scope extension: a callable that drops the connection without a closing handshake.
ABORT_EXTENSION = "backprop.abort"


class ServedWebSocketProtocol(SmallBufferWebSocketProtocol):
    """Small send buffers and :data:`ABORT_EXTENSION`."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)  # set unless the handshake was refused
        if scope is not None:
            scope["extensions"][ABORT_EXTENSION] = self.abort

    def abort(self) -> None:
        """Drop the connection now (RST); what is buffered for it is freed."""
        if self.transport is not None:
            self.close_sent = True
            self.transport.abort()


def aborter(scope: Any) -> Any:
    """The scope's abort callable, or None (a server without the extension)."""
    extensions = scope.get("extensions") if isinstance(scope, dict) else None
    abort = extensions.get(ABORT_EXTENSION) if isinstance(extensions, dict) else None
    return abort if callable(abort) else None
