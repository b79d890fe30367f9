"""What every request passes before the routes see it (one ASGI middleware):

* **Host**: the Host header must name this server: the host it binds to, ``localhost``,
  ``127.0.0.1`` or ``::1``, or one of ``allowed_hosts`` (bound to a wildcard address, any IP
  literal and this machine's name too). A page that DNS rebinding pointed at the server
  names another host and is refused (HTTP 400; a socket handshake, 403).
* **Origin**: a browser's request that can change something (POST, PUT, PATCH, DELETE,
  and every WebSocket) must come from the server's own origin — the same scheme, host and
  port — or one of ``allowed_origins``; ``Sec-Fetch-Site: cross-site`` without an Origin is
  refused too (403). Clients that send neither (not browsers) pass.
* **JSON only**: a body must be ``application/json`` (415), so no HTML form or other
  "simple" cross-site request can carry one.
* **Body size**: bodies are counted as they arrive, chunked or not; past
  ``max_request_bytes`` the request is answered 413 and nothing more is read.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import Settings
from .errors import error_body

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})
DEFAULT_PORTS = {"http": 80, "https": 443}


class BodyTooLarge(Exception):
    """The body went past the limit while it was read."""


def split_host(value: str) -> tuple[str, int | None]:
    """``host[:port]`` (IPv6 in brackets) as a lowercase host name and a port (None: not
    given); ("", None) when it cannot be read."""
    try:
        parts = urlsplit(f"//{value.strip()}")
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "", None


def host_names(settings: Settings) -> frozenset[str] | None:
    """The host names this server answers for; None: any (``allowed_hosts`` has "*")."""
    extra = [name.lower() for name in settings.allowed_hosts]
    if "*" in extra:
        return None
    names = {"localhost", "127.0.0.1", "::1", *extra}
    bound = split_host(settings.host)[0] or settings.host.strip("[]").lower()
    if settings.host not in WILDCARD_HOSTS:
        names.add(bound)
    else:
        machine = socket.gethostname().lower()
        names.update({machine, f"{machine}.local"})
    return frozenset(names)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def host_allowed(host_header: str, names: frozenset[str] | None, wildcard: bool) -> bool:
    """Whether a Host header names this server. Bound to every interface, the server is
    reached by any of its addresses: an IP literal cannot be a rebinding attack's name."""
    host, _ = split_host(host_header)
    if not host:
        return False
    return names is None or host in names or (wildcard and _is_ip(host))


def _origin_tuple(origin: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(origin.strip())
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not host or port is None or parts.path not in ("", "/"):
        return None
    return scheme, host, port


def own_origin(scope: Scope, host_header: str) -> tuple[str, str, int] | None:
    """This server's origin as the request reached it: its scheme (ws → http, wss →
    https) and its Host header."""
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"),
                                                scope.get("scheme", "http"))
    return _origin_tuple(f"{scheme}://{host_header}")


def origin_allowed(origin: str, scope: Scope, host_header: str,
                   allowed: Iterable[str]) -> bool:
    """An Origin header equal (scheme, host and port) to the server's own, or allowed."""
    claimed = _origin_tuple(origin)
    if claimed is None:
        return False  # "null", or not an origin at all
    if claimed == own_origin(scope, host_header):
        return True
    return any(claimed == _origin_tuple(other) for other in allowed)


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])}


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                           and media.endswith("+json"))


class RequestGuard:
    """The checks of the module docstring, in that order, before the app sees a request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.names = host_names(settings)
        self.wildcard = settings.host in WILDCARD_HOSTS
        self.limit = settings.max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host", "")
        problem = self._problem(scope, headers, host)
        if problem is not None:
            status, message = problem
            await _refuse(scope, receive, send, status, message)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        length = headers.get("content-length", "")
        if length.strip().isdigit() and int(length) > self.limit:
            await _refuse(scope, receive, send, 413, self._too_large())
            return
        await self._counted(scope, receive, send)

    def _problem(self, scope: Scope, headers: dict[str, str],
                 host: str) -> tuple[int, str] | None:
        if not host_allowed(host, self.names, self.wildcard):
            return 400, "this server does not answer for that Host"
        checked = scope["type"] == "websocket" or scope.get("method") in UNSAFE_METHODS
        if checked:
            origin = headers.get("origin")
            if origin is not None and not origin_allowed(origin, scope, host,
                                                         self.settings.allowed_origins):
                return 403, "cross-origin requests are not allowed"
            if origin is None and headers.get("sec-fetch-site") == "cross-site":
                return 403, "cross-site requests are not allowed"
        if scope["type"] == "http" and scope.get("method") in UNSAFE_METHODS:
            content_type = headers.get("content-type")
            has_body = (headers.get("content-length", "0").strip() not in ("", "0")
                        or "transfer-encoding" in headers)
            if (content_type is not None or has_body) and not is_json(content_type or ""):
                return 415, "the body must be JSON (Content-Type: application/json)"
        return None

    def _too_large(self) -> str:
        return f"request body too large (at most {self.limit} bytes)"

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting its body as it arrives (413 past the limit)."""
        received, started = 0, False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _respond(send, 413, self._too_large())


async def _respond(send: Send, status: int, message: str, field: Any = None) -> None:
    body = error_body(field, message)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int,
                  message: str) -> None:
    """An HTTP error answer, or for a socket a close before the handshake (the server
    then answers the handshake with 403)."""
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
        return
    await _respond(send, status, message)


class AddressBuckets:
    """A token bucket per client address (``rate`` per second, bursts of ``burst``), for
    at most ``capacity`` addresses (the least recently seen are forgotten: a full bucket)."""

    def __init__(self, rate: float, burst: float, capacity: int = 10_000) -> None:
        self.rate, self.burst, self.capacity = rate, burst, capacity
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, address: str, now: float | None = None) -> float:
        """Take a token for ``address``: 0 if there was one, else the seconds until there
        will be (nothing is taken then)."""
        now = time.monotonic() if now is None else now
        tokens, updated = self._buckets.pop(address, (self.burst, now))
        tokens = min(self.burst, tokens + (now - updated) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[address] = (tokens, now)
        while len(self._buckets) > self.capacity:
            self._buckets.popitem(last=False)
        return wait
