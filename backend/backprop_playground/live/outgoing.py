"""A published frame as the clients' mailboxes hold it (:class:`OutgoingFrame`), and what it
can be sent as: whole, without its maps, or as the difference from one of the frames
published shortly before it (``delta`` frames, wire/frame_delta.py) — whichever frame a
client last got with its maps. Each variant is made once, for the first client that needs
it, and shared by every other client that needs the same."""

from __future__ import annotations

from collections import deque

from ..wire.frame import FLAG_RUNNING, body_of, frame_flags, map_shape, without_maps
from ..wire.frame_delta import delta_frame

#: A delta may be on any of this many frames published before (a client whose link lags, or
#: whose page asked for fewer frames, last got one of those).
RECENT_BASES = 8
#: At most this many deltas on different bases are made of one frame (each costs a deflate
#: on the event loop, ~1 ms for the largest net); further clients get it whole.
MAX_DELTAS = 3

#: A frame as a possible base: its serial, bytes and inflated body.
Base = tuple[int, bytes, bytes]


class OutgoingFrame:
    """One published frame: its maps' shape read once; whether it is a running frame (a
    page's pace holds only those: a paused or phase-step frame goes at once); its ``serial``
    in its Audience; and, made once each when a client needs them, the frame without its
    maps and its deltas on the ``bases`` published before it."""

    __slots__ = ("_bare", "_body", "_deltas", "bases", "data", "running", "serial", "shape")

    def __init__(self, data: bytes, serial: int | None = None,
                 bases: tuple[Base, ...] = (), body: bytes | None = None) -> None:
        self.data, self.shape = data, map_shape(data)
        self.running = bool(frame_flags(data) & FLAG_RUNNING)
        self.serial, self.bases, self._body = serial, bases, body
        self._deltas: dict[int, bytes | None] = {}
        self._bare: dict[int | None, bytes] = {}

    def delta_on(self, base: int | None) -> bytes | None:
        """The frame as its difference from the frame of serial ``base``; None when that is
        not one of its bases, their layouts differ, or MAX_DELTAS are made already."""
        if base is None:
            return None
        if base not in self._deltas:
            found = next((b for b in self.bases if b[0] == base), None)
            made = sum(1 for delta in self._deltas.values() if delta is not None)
            if found is None or made >= MAX_DELTAS:
                return None
            if self._body is None:
                self._body = body_of(self.data)
            self._deltas[base] = delta_frame(self.data, self._body, found[1], found[2])
        return self._deltas[base]

    def without_maps(self, base: int | None = None) -> bytes:
        """The frame without its maps; with ``base``, its delta on that frame without them."""
        if base not in self._bare:
            delta = self.delta_on(base)
            self._bare[base] = without_maps(delta if delta is not None else self.data)
        return self._bare[base]


class RecentFrames:
    """The frames an Audience published last (while any of its clients reads deltas): what
    a new frame's deltas may be on."""

    def __init__(self) -> None:
        self._frames: deque[Base] = deque(maxlen=RECENT_BASES)  # the newest first

    def publish(self, data: bytes, serial: int, deltas: bool) -> OutgoingFrame:
        """``data`` as an OutgoingFrame; with ``deltas`` (a client reads them) remembered,
        with the frames before it as its bases."""
        if not deltas or map_shape(data) is None:
            self._frames.clear()
            return OutgoingFrame(data, serial)
        body = body_of(data)
        outgoing = OutgoingFrame(data, serial, tuple(self._frames), body)
        self._frames.appendleft((serial, data, body))
        return outgoing
