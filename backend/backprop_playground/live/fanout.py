"""Per-client delivery: a one-slot frame mailbox (latest wins), a small bounded control
queue, and one sender task with a send timeout. A slow client only ever loses frames;
it never slows the trainer or other clients, and it holds at most one frame in memory.
A frame leaves the mailbox only once the socket's previous bytes have nearly all gone (the
server's :data:`UNSENT_EXTENSION`, see live/send_buffers.py), so that on a slow link the
frames wait here, where newer ones replace them, and not in socket buffers.
:class:`Audience` is one session's clients in this process and the rule for each kind of
message; every delivery channel hands what it carries to an Audience.
A client that reads ``delta`` frames (its hello says so) gets a frame as the difference from
the last frame it got with its maps, when that is one of the few published just before
(live/outgoing.py): each such delta is made once, for every client on that base.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from ..wire.commands import Role
from ..wire.messages import SUPERSEDED
from .outgoing import OutgoingFrame, RecentFrames

#: ASGI scope extension a server may offer: a callable giving the bytes the connection
#: has been handed but not sent yet (event loop and kernel buffers).
UNSENT_EXTENSION = "backprop.unsent_bytes"
#: A frame leaves the mailbox once at most this many bytes wait unsent before it.
UNSENT_LIMIT = 4096
#: How often a sender waiting for its link looks again (a frame period is 33 ms).
UNSENT_POLL_SECONDS = 0.005
#: ... and at least this often, however long it has waited.
UNSENT_POLL_MAX_SECONDS = 0.1
#: Dropped (rate-limited) messages are told at most this often, in one error...
NOTICE_INTERVAL_SECONDS = 1.0
#: ... the first this long after the burst began.
NOTICE_DELAY_SECONDS = 0.05
#: A notice echoes at most this many request ids of the messages it drops.
MAX_DROPPED_IDS = 1000
#: While its link lags a client gets frames without their maps, but one with them at
#: least this often.
FULL_FRAME_SECONDS = 0.5
#: A client that reads delta frames gets a whole one at least this often (a page that lost
#: its base somehow is back in step by then).
KEY_FRAME_SECONDS = 5.0


class Socket(Protocol):
    async def send_text(self, data: str) -> None: ...
    async def send_bytes(self, data: bytes) -> None: ...


def unsent_bytes(socket: object) -> Callable[[], int] | None:
    """``socket``'s unsent-bytes counter (its ASGI scope's extension), or None."""
    scope: Any = getattr(socket, "scope", None)
    extensions = scope.get("extensions") if isinstance(scope, dict) else None
    counter = extensions.get(UNSENT_EXTENSION) if isinstance(extensions, dict) else None
    return counter if callable(counter) else None


class ClientStalled(Exception):
    """The client did not take a message within the send timeout, or let its control queue
    overflow; the connection is closed."""


class Subscriber:
    """One connected client of a session."""

    def __init__(self, socket: Socket, role: Role, send_timeout: float,
                 control_limit: int = 64) -> None:
        self.socket, self.role = socket, role
        self._unsent = unsent_bytes(socket)
        self._waiting_since: float | None = None  # for room on the link, since
        self.send_timeout, self.control_limit = send_timeout, control_limit
        self._frame: OutgoingFrame | None = None
        # One ordered queue of [kind, text]; kind is None for messages that must all arrive
        # (acks, errors, events) and names the status messages that supersede each other.
        self._control: deque[list[str | None]] = deque()
        self._counted = 0  # messages with kind None: these are bounded by control_limit
        self._latest: dict[str, list[str | None]] = {}
        self._overflowed = False
        self._wake = asyncio.Event()
        self._room = asyncio.Event()  # set when a counted message has left the queue
        self.close_code: int | None = None
        #: What the close frame says (at most 123 bytes), with ``close_code``.
        self.close_reason = ""
        #: A viewer's proof of its class membership (fork, export); None for others.
        self.member_token: str | None = None
        self.frames_sent = 0
        self.frames_replaced = 0
        self.frames_without_maps = 0
        self._lagged = False  # a newer frame replaced an unsent one since the last send
        self._maps_shape: tuple[Any, ...] | None = None  # of the last frame sent with maps
        self._maps_sent_at = -math.inf
        #: The client reads delta frames (its hello said so).
        self.deltas = False
        self.frames_as_delta = 0
        self._base: int | None = None  # serial of the last frame it got with its maps
        self._whole_sent_at = -math.inf  # a frame that is no delta
        #: Seconds between two frames at the most (0: every frame): what the page asked
        #: for with ``frame_rate``, so that it gets no more frames than it can draw.
        self.frame_interval = 0.0
        self._next_frame_at = -math.inf  # the pace lets the next frame go then
        self._pace_timer: asyncio.TimerHandle | None = None
        self._held = False  # the mailbox's frame waits for the pace (not for the link)
        self.connected_at = time.monotonic()

    def offer_frame(self, frame: bytes | OutgoingFrame) -> None:
        """Put ``frame`` in the mailbox, replacing one not yet sent."""
        if self._frame is not None:
            self.frames_replaced += 1
            # held by the link, not by the page's pace: the link lags
            self._lagged = self._lagged or not self._held
        self._frame = frame if isinstance(frame, OutgoingFrame) else OutgoingFrame(frame)
        self._wake.set()

    def offer_control(self, text: str) -> None:
        """Queue a JSON message; a client that lets the queue fill up is disconnected."""
        if self._counted >= self.control_limit:
            self._overflowed = True
        else:
            self._control.append([None, text])
            self._counted += 1
        self._wake.set()

    def offer_latest(self, kind: str, text: str) -> None:
        """Queue a status message that supersedes an unsent one of the same ``kind`` (viewer
        counts, run state): a burst of them costs one slot, not the control queue."""
        previous = self._latest.get(kind)
        if previous is not None:
            previous[1] = None  # superseded: skipped when its turn comes
        entry: list[str | None] = [kind, text]
        self._control.append(entry)
        self._latest[kind] = entry
        self._wake.set()

    def finish(self, close_code: int, reason: str = "") -> None:
        """Send what is queued, then stop (the endpoint closes with ``close_code`` and
        ``reason``)."""
        self.close_code, self.close_reason = close_code, reason
        self._wake.set()

    async def wait_for_room(self) -> None:
        """Wait until the control queue is at most half full: the receiver reads the next
        command only then, so the answers to a burst of commands wait in the client's
        socket, not in an overflowing queue (a client that reads nothing is dropped by the
        send timeout)."""
        while self._counted > self.control_limit // 2 and self.close_code is None:
            self._room.clear()
            await self._room.wait()

    async def run_sender(self) -> None:
        """Send queued control messages first, then the latest frame; until finished."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._overflowed:
                raise ClientStalled("control queue overflow")
            while self._control:
                entry = self._control.popleft()
                kind, text = entry
                if kind is None:
                    self._counted -= 1
                    self._room.set()
                elif self._latest.get(kind) is entry:
                    del self._latest[kind]
                if text is not None:
                    await self._send(self.socket.send_text(text))
            if self.close_code is not None:
                return
            if self._frame is not None and self._frame.running and not self._paced():
                continue  # the page's pace: woken when the frame may go
            if self._frame is not None and not await self._link_has_room():
                continue  # something else came first (a message, the end, a newer frame)
            frame, self._frame, self._held = self._frame, None, False
            if frame is not None:
                await self._send(self.socket.send_bytes(self._fitted(frame)))
                self.frames_sent += 1
                self._next_frame_at = time.monotonic() + self.frame_interval

    def pace(self, frames_per_second: float | None) -> None:
        """Send this client at most ``frames_per_second`` frames a second (None: every
        frame), the newest each time: the page asks for what it can draw."""
        interval = 1.0 / frames_per_second if frames_per_second else 0.0
        self._next_frame_at += interval - self.frame_interval
        self.frame_interval = interval
        self._wake.set()

    def _paced(self) -> bool:
        """Whether the page's pace lets a frame go now; if not, the sender is woken when it
        does (the mailbox keeps the newest frame meanwhile)."""
        wait = self._next_frame_at - time.monotonic()
        self._held = wait > 0
        if not self._held:
            return True
        if self._pace_timer is not None:
            self._pace_timer.cancel()
        self._pace_timer = asyncio.get_running_loop().call_later(wait, self._wake.set)
        return False

    def _fitted(self, frame: OutgoingFrame) -> bytes:
        """``frame``, or while the link lags (a newer frame replaced an unsent one since the
        last send) ``frame`` without its maps: the client keeps the maps it has, which must
        be of the same shape, and gets them new at least every FULL_FRAME_SECONDS. So a
        slow link loses map updates before it loses frames. To a client that reads them,
        the frame goes as its delta when the client's last frame with maps was its base."""
        lagged, self._lagged = self._lagged, False
        now = time.monotonic()
        if frame.shape is None:
            self._base = None
            return frame.data
        delta = (frame.delta_on(self._base) if self.deltas
                 and now - self._whole_sent_at < KEY_FRAME_SECONDS else None)
        if delta is not None:
            self.frames_as_delta += 1
        else:
            self._whole_sent_at = now
        if (lagged and frame.shape == self._maps_shape
                and now - self._maps_sent_at < FULL_FRAME_SECONDS):
            self.frames_without_maps += 1
            # the client keeps its base: this frame has no maps to be one
            return frame.without_maps(self._base if delta is not None else None)
        self._maps_shape, self._maps_sent_at, self._base = frame.shape, now, frame.serial
        return delta if delta is not None else frame.data

    async def _link_has_room(self) -> bool:
        """Wait until the socket's earlier bytes have (nearly) all gone; False as soon as
        the sender is woken meanwhile, ClientStalled when the link has made no room within
        the send timeout of the first wait."""
        if self._unsent is None:
            return True
        while self._unsent() > UNSENT_LIMIT:
            now = time.monotonic()
            if self._waiting_since is None:
                self._waiting_since = now
            elif now - self._waiting_since > self.send_timeout:
                raise ClientStalled(f"no progress sending for {self.send_timeout:g} s")
            if self._control or self.close_code is not None:
                return False  # a message or the end goes first (a newer frame just waits)
            # Look again after a tenth of the time waited so far: a link that drains soon is
            # seen at once, and a thousand stalled ones cost a few polls a second each.
            waited = now - self._waiting_since
            await asyncio.sleep(min(UNSENT_POLL_MAX_SECONDS,
                                    max(UNSENT_POLL_SECONDS, waited / 10)))
        self._waiting_since = None
        return True

    async def _send(self, sending: object) -> None:
        try:
            await asyncio.wait_for(sending, self.send_timeout)  # type: ignore[arg-type]
        except TimeoutError as error:
            raise ClientStalled(f"no progress sending for {self.send_timeout:g} s") from error


class RateLimiter:
    """Token bucket: ``rate`` messages per second on average, bursts of ``burst``."""

    def __init__(self, rate: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else 2 * rate
        self.tokens = self.burst
        self._clock = clock
        self.updated = clock()

    def allow(self) -> bool:
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class FloodGuard:
    """A client's message rate: bursts are not floods.

    Each message asks the token bucket (``rate`` per second, bursts of ``2 · rate``). A
    refused message is dropped and counted; the count goes back to the client as one error
    at most every NOTICE_INTERVAL_SECONDS (the first :data:`NOTICE_DELAY_SECONDS` after the
    burst began, so that a burst is one notice), saying how many were dropped. A client
    whose messages keep being dropped — drops less than NOTICE_INTERVAL_SECONDS apart for
    ``flood_seconds`` or longer, at least ``rate`` of them per second of that (it sent twice
    its rate or more all along) — floods: :meth:`admit` says so and the socket is closed (4429, with
    :meth:`flood_reason`). A client a little over its rate only loses its excess.
    ``clock`` gives seconds (tests give a fake one)."""

    def __init__(self, rate: float, flood_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.flood_seconds, self._clock = rate, flood_seconds, clock
        self._limiter = RateLimiter(rate, clock=clock)
        self.dropped = 0  # dropped since the last notice
        #: The request ids of those (the first MAX_DROPPED_IDS), echoed by the notice.
        self.dropped_ids: list[str | int] = []
        self.dropped_total = 0
        self._last_notice = -math.inf
        self._flood_since: float | None = None
        self._flood_dropped = 0  # dropped since _flood_since
        self._last_drop = -math.inf

    def admit(self, request_id: Callable[[], str | int | None] = lambda: None) -> str:
        """One message arrived: ``"ok"`` (carry it out), ``"dropped"`` or ``"flood"``;
        ``request_id`` reads its id (only for a dropped one, for the notice)."""
        now = self._clock()
        if self._limiter.allow():
            return "ok"
        if len(self.dropped_ids) < MAX_DROPPED_IDS:
            found = request_id()
            if found is not None:
                self.dropped_ids.append(found)
        if now - self._last_drop >= NOTICE_INTERVAL_SECONDS:
            self._flood_since, self._flood_dropped = now, 0  # a new run of drops
        self._last_drop = now
        self.dropped += 1
        self.dropped_total += 1
        self._flood_dropped += 1
        assert self._flood_since is not None
        lasted = now - self._flood_since
        return ("flood" if lasted >= self.flood_seconds
                and self._flood_dropped >= self.rate * lasted else "dropped")

    def notice_delay(self) -> float:
        """Seconds until the count of dropped messages may go out."""
        return max(NOTICE_DELAY_SECONDS,
                   self._last_notice + NOTICE_INTERVAL_SECONDS - self._clock())

    def take_notice(self) -> tuple[str, list[str | int]] | None:
        """The text of the error for the messages dropped since the last one and their
        request ids (None: none dropped)."""
        if self.dropped == 0:
            return None
        count, self.dropped = self.dropped, 0
        ids, self.dropped_ids = self.dropped_ids, []
        self._last_notice = self._clock()
        noun = "message was" if count == 1 else "messages were"
        return (f"too many messages: {count} {noun} dropped (at most {self.rate:g} per "
                f"second, bursts of {2 * self.rate:g}); wait for answers before sending more",
                ids)

    def flood_reason(self) -> str:
        """The close reason of a flood (at most 123 bytes, as a close frame allows)."""
        return (f"flood: over {self.rate:g} messages/s for {self.flood_seconds:g} s. "
                "Send fewer (wait for each answer), then reconnect")


class Audience:
    """This process's clients of one session, and how each kind of message reaches them."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self._serials = itertools.count(1)
        self._recent = RecentFrames()

    @property
    def viewers(self) -> int:
        return sum(1 for s in self.subscribers if s.role == "viewer")

    def add(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)

    def discard(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def frame(self, frame: bytes) -> None:
        """Offer a frame to every client (each keeps only the latest unsent one); while any
        reads deltas, with the frames before it as the bases of its deltas."""
        deltas = any(subscriber.deltas for subscriber in self.subscribers)
        outgoing = self._recent.publish(frame, next(self._serials), deltas)
        for subscriber in self.subscribers:
            subscriber.offer_frame(outgoing)

    def message(self, kind: str, text: str) -> None:
        """Queue a JSON message of type ``kind`` for every client; run states and viewer
        counts supersede their unsent predecessors, everything else is kept."""
        latest = kind in SUPERSEDED
        for subscriber in self.subscribers:
            if latest:
                subscriber.offer_latest(kind, text)
            else:
                subscriber.offer_control(text)

    def dismiss(self, text: str, close_code: int, *, viewers_only: bool = True) -> None:
        """Send ``text`` to the viewers (or everyone), then close their sockets."""
        for subscriber in list(self.subscribers):
            if subscriber.role == "viewer" or not viewers_only:
                subscriber.offer_control(text)
                subscriber.finish(close_code)
