"""Forks of a class: the link a fork keeps to the class it came from, the presenter's
anonymous list of them, and the spotlight (the presenter's read-only view of one fork).

* **Link.** A fork made with a viewer's *member token* of a presented class is linked to that
  class — its session id and join code, so a class presented again under a new code is
  another class — and gets the class's next fork number (1, 2, 3 …, never reused within
  the class). A copy made with a presenter token (the owner's own copy) is not linked, so a
  fork of a fork is linked only to a class its source itself presents, never to the
  original one. When the class ends (or its session goes) every fork is unlinked; when a
  fork goes, its number is not given again.
* **Listing.** A fork is listed by default; its owner (its presenter token: ``set_listing``
  on its socket) may take it off the list. An unlisted fork is neither in the list nor
  open to a spotlight, and an ongoing spotlight of it ends.
* **List.** The class's presenters get a ``forks`` message — numbers only (no session id,
  token or address) — whenever it changed, at most once per ``FORKS_INTERVAL_SECONDS``.
* **Spotlight.** The class's presenter asks for fork N (REST): the server issues a
  spotlight code (``SPOTLIGHT_CODE_LENGTH`` characters of the join-code alphabet, ≈ 80 bits)
  bound to (class, fork number) that opens *viewer* sockets on that fork — read-only like
  every viewer — for ``spotlight_code_seconds`` after it was issued; sockets opened with it
  stay until the spotlight ends (another fork shown, "back to class", the fork unlisted or
  gone, the class ended), when they get a ``spotlight_ended`` event and close with 4411.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import math
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..settings import Settings
from ..wire.commands import CommandError, SetListing
from ..wire.messages import (
    CloseCode,
    ForkInfo,
    ForkRow,
    ForksMessage,
    SpotlightEndedEvent,
    to_json,
)
from .codes import JOIN_ALPHABET, normalize_code
from .fanout import Subscriber

if TYPE_CHECKING:
    from .session import LiveSession

#: The presenters' fork list goes out at most this often (and only when it changed).
FORKS_INTERVAL_SECONDS = 1.0
#: Characters of a spotlight code (from the join-code alphabet: 32^16 = 2^80 codes).
SPOTLIGHT_CODE_LENGTH = 16
#: Why a spotlight ended, as its owner and the presenter read it.
UNLISTED = "The owner of fork {number} stopped sharing it."
GONE = "Fork {number} is no longer there."
REPLACED = "The presenter is showing another fork."
BACK = "The presenter went back to the class."
CLASS_OVER = "The class ended."


@dataclass(frozen=True)
class ForkLink:
    """What a fork knows of the class it came from."""

    class_id: str
    class_code: str
    number: int


@dataclass
class Spotlight:
    """One fork shown read-only to its class's presenter: the code that opens viewer sockets
    on it until ``expires`` (monotonic seconds), and the sockets it opened."""

    number: int
    fork_id: str
    code: str
    expires: float
    watchers: set[Subscriber] = field(default_factory=set)


@dataclass
class ClassForks:
    """The forks of one class (a session presented under one join code)."""

    code: str
    next_number: int = 1
    #: fork number → fork session id (listed or not).
    forks: dict[int, str] = field(default_factory=dict)
    spotlight: Spotlight | None = None
    #: The last list sent to the presenters, and the presenters that have it.
    sent: str | None = None
    told: set[Subscriber] = field(default_factory=set)


class ForkLinks:
    """Every class's forks in this process, and their spotlights."""

    def __init__(self, settings: Settings, sessions: Mapping[str, LiveSession]) -> None:
        """``sessions``: the registry's live sessions by id (read, never changed here)."""
        self.settings, self.sessions = settings, sessions
        #: fork session id → its link.
        self.links: dict[str, ForkLink] = {}
        #: Forks whose owner took them off the list.
        self.unlisted: set[str] = set()
        #: class session id → its forks.
        self.classes: dict[str, ClassForks] = {}
        self._task: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------- links
    def link(self, fork: LiveSession, source: LiveSession) -> ForkLink | None:
        """Link a fork just made by a member of ``source``'s class (None: ``source`` is not
        presented). The fork gets the class's next number."""
        code = source.join_code
        if code is None:
            return None
        forks = self._class(source.id, code)
        link = ForkLink(source.id, code, forks.next_number)
        forks.next_number += 1
        forks.forks[link.number] = fork.id
        self.links[fork.id] = link
        fork.revision += 1  # the welcome it caches says whose fork it is
        source.revision += 1  # the store keeps the class's next number
        self._start()
        return link

    def restore(self, fork: LiveSession, saved: Any) -> None:
        """Link a fork brought back after a restart, as saved (``{class_id, class_code,
        number, listed}``), if its class came back under the same code; else it stays
        unlinked."""
        if not isinstance(saved, dict):
            return
        class_id, code, number = (saved.get("class_id"), saved.get("class_code"),
                                  saved.get("number"))
        source = self.sessions.get(class_id) if isinstance(class_id, str) else None
        if (source is None or source.join_code is None or source.join_code != code
                or not isinstance(number, int) or isinstance(number, bool) or number < 1):
            return
        forks = self._class(source.id, source.join_code)
        if number in forks.forks:
            return
        forks.forks[number] = fork.id
        forks.next_number = max(forks.next_number, number + 1)
        self.links[fork.id] = ForkLink(source.id, source.join_code, number)
        if saved.get("listed") is False:
            self.unlisted.add(fork.id)
        self._start()

    def restore_class(self, source: LiveSession, saved_next: Any) -> None:
        """A class brought back after a restart numbers its forks on from where it was."""
        if (source.join_code is not None and isinstance(saved_next, int)
                and not isinstance(saved_next, bool) and 1 < saved_next <= 2**53):
            self._class(source.id, source.join_code).next_number = saved_next

    def next_number(self, class_id: str) -> int | None:
        """The number the class's next fork gets (None: it has no forks yet), for the store."""
        forks = self.classes.get(class_id)
        return None if forks is None else forks.next_number

    def saved_link(self, fork_id: str) -> dict[str, Any] | None:
        """What the store keeps of a fork's link (None: not linked)."""
        link = self.links.get(fork_id)
        return None if link is None else {
            "class_id": link.class_id, "class_code": link.class_code,
            "number": link.number, "listed": fork_id not in self.unlisted}

    def info(self, session_id: str) -> ForkInfo | None:
        """What a fork's own page shows of its link (None: not a linked fork)."""
        link = self.links.get(session_id)
        if link is None:
            return None
        spotlight = self.classes[link.class_id].spotlight
        return ForkInfo(number=link.number, listed=session_id not in self.unlisted,
                        shown=spotlight is not None and spotlight.fork_id == session_id)

    def shown_number(self, class_id: str) -> int | None:
        """The number of the fork the class's presenter shows (None: none)."""
        forks = self.classes.get(class_id)
        spotlight = None if forks is None else forks.spotlight
        return None if spotlight is None else spotlight.number

    def set_listed(self, fork: LiveSession, listed: bool, request_id: Any = None) -> None:
        """The owner's choice; unlisting a fork being shown ends its spotlight."""
        link = self.links.get(fork.id)
        if link is None:
            raise CommandError("this session is not a fork of a presented class",
                               "type", request_id)
        if listed:
            self.unlisted.discard(fork.id)
            return
        self.unlisted.add(fork.id)
        spotlight = self.classes[link.class_id].spotlight
        if spotlight is not None and spotlight.fork_id == fork.id:
            self.end_spotlight(link.class_id, UNLISTED.format(number=link.number), tell=True)

    def forget(self, session_id: str) -> None:
        """A session is removed: as a fork it is unlinked (its number stays used), as a
        class its forks are."""
        self.class_ended(session_id)
        link = self.links.pop(session_id, None)
        self.unlisted.discard(session_id)
        if link is not None:
            forks = self.classes.get(link.class_id)
            if forks is not None:
                forks.forks.pop(link.number, None)
                if forks.spotlight is not None and forks.spotlight.fork_id == session_id:
                    self.end_spotlight(link.class_id, GONE.format(number=link.number),
                                       tell=True)

    def class_ended(self, class_id: str) -> None:
        """The class is over: its spotlight ends, its forks are unlinked (their pages are
        told), its presenters get an empty list."""
        forks = self.classes.get(class_id)
        if forks is None:
            return
        self.end_spotlight(class_id, CLASS_OVER, tell=False)
        del self.classes[class_id]
        for fork_id in forks.forks.values():
            self.links.pop(fork_id, None)
            self.unlisted.discard(fork_id)
            self._tell_fork(fork_id)
        source = self.sessions.get(class_id)
        if source is not None:
            for presenter in _presenters(source):
                presenter.offer_latest("forks", to_json(ForksMessage(forks=[], more=0,
                                                                     spotlight=None)))

    def _class(self, class_id: str, code: str) -> ClassForks:
        forks = self.classes.get(class_id)
        if forks is None or forks.code != code:  # presented again: another class
            if forks is not None:
                self.class_ended(class_id)
            forks = self.classes[class_id] = ClassForks(code)
        return forks

    # ------------------------------------------------------------------ list
    def listing(self, class_id: str) -> ForksMessage:
        """The class's listed forks, newest ``max_listed_forks`` by number; ``more``: how
        many listed forks that leaves out."""
        forks = self.classes.get(class_id)
        if forks is None:
            return ForksMessage(forks=[], more=0, spotlight=None)
        rows = [_row(number, fork) for number, fork_id in sorted(forks.forks.items())
                if fork_id not in self.unlisted
                and (fork := self.sessions.get(fork_id)) is not None]
        limit = self.settings.max_listed_forks
        spotlight = forks.spotlight
        return ForksMessage(forks=rows[-limit:], more=max(0, len(rows) - limit),
                            spotlight=None if spotlight is None else spotlight.number)

    def push(self) -> None:
        """Send each class's list to its presenters that do not have it as it is now."""
        for class_id in list(self.classes):
            source = self.sessions.get(class_id)
            if source is None or source.join_code != self.classes[class_id].code:
                self.class_ended(class_id)
                continue
            forks = self.classes[class_id]
            text = to_json(self.listing(class_id))
            if text != forks.sent:
                forks.sent, forks.told = text, set()
            for presenter in _presenters(source):
                if presenter not in forks.told:
                    presenter.offer_latest("forks", text)
            forks.told = set(_presenters(source))

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._push_forever())

    async def _push_forever(self) -> None:
        while self.classes:
            self.push()
            await asyncio.sleep(FORKS_INTERVAL_SECONDS)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # ------------------------------------------------------------- spotlight
    def spotlight(self, class_id: str, number: int) -> Spotlight:
        """Show fork ``number`` of the class (ending the spotlight there was); LookupError
        if the class has no listed fork with that number."""
        forks = self.classes.get(class_id)
        fork_id = None if forks is None else forks.forks.get(number)
        if forks is None or fork_id is None or fork_id in self.unlisted \
                or fork_id not in self.sessions:
            raise LookupError(number)
        self.end_spotlight(class_id, REPLACED, tell=False)
        code = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(SPOTLIGHT_CODE_LENGTH))
        forks.spotlight = Spotlight(number, fork_id, code,
                                    time.monotonic() + self.settings.spotlight_code_seconds)
        self._tell_fork(fork_id)
        self._tell_fork(class_id)  # the class's pages say which fork is shown
        forks.sent = None  # the list says which fork is shown
        return forks.spotlight

    def end_spotlight(self, class_id: str, reason: str, *, tell: bool) -> None:
        """End the class's spotlight, if any: its sockets get ``reason`` and close with
        4411; with ``tell`` the class's presenters get it too."""
        forks = self.classes.get(class_id)
        spotlight = None if forks is None else forks.spotlight
        if forks is None or spotlight is None:
            return
        forks.spotlight, forks.sent = None, None
        event = to_json(SpotlightEndedEvent(number=spotlight.number, message=reason))
        for watcher in spotlight.watchers:
            watcher.offer_control(event)
            watcher.finish(CloseCode.SPOTLIGHT_ENDED)
        source = self.sessions.get(class_id)
        if tell and source is not None:
            for presenter in _presenters(source):
                presenter.offer_control(event)
        self._tell_fork(spotlight.fork_id)
        self._tell_fork(class_id)

    def _active(self, session_id: str, token: str | None) -> Spotlight | None:
        """The spotlight of fork ``session_id`` that ``token`` is the code of, while it
        opens sockets."""
        if not token:
            return None
        code = normalize_code(token)
        for forks in self.classes.values():
            spotlight = forks.spotlight
            if (spotlight is not None and spotlight.fork_id == session_id
                    and hmac.compare_digest(code.encode(), spotlight.code.encode())
                    and time.monotonic() < spotlight.expires):
                return spotlight
        return None

    def admits(self, session_id: str, token: str | None) -> bool:
        """Whether a viewer hello with ``token`` may watch fork ``session_id``."""
        return self._active(session_id, token) is not None

    def session_for_code(self, code: str) -> str | None:
        """The fork a live spotlight code shows (for ``GET /api/join/{code}``)."""
        wanted = normalize_code(code)
        for forks in self.classes.values():
            spotlight = forks.spotlight
            if (spotlight is not None and time.monotonic() < spotlight.expires
                    and hmac.compare_digest(wanted.encode(), spotlight.code.encode())):
                return spotlight.fork_id
        return None

    @contextlib.contextmanager
    def watching(self, session_id: str, token: str | None,
                 subscriber: Subscriber) -> Iterator[None]:
        """While a viewer that joined with a spotlight code is connected, it is one of that
        spotlight's watchers (closed when it ends). A spotlight that ended between the
        hello and now closes it at once; any other viewer is left alone."""
        code = normalize_code(token or "")
        spotlight = None
        if subscriber.role == "viewer" and len(code) == SPOTLIGHT_CODE_LENGTH:
            spotlight = self._watched(session_id, code)
            if spotlight is None:
                subscriber.finish(CloseCode.SPOTLIGHT_ENDED)
            else:
                spotlight.watchers.add(subscriber)
        try:
            yield
        finally:
            if spotlight is not None:
                spotlight.watchers.discard(subscriber)

    def _watched(self, session_id: str, code: str) -> Spotlight | None:
        for forks in self.classes.values():
            spotlight = forks.spotlight
            if spotlight is not None and spotlight.fork_id == session_id \
                    and hmac.compare_digest(code.encode(), spotlight.code.encode()):
                return spotlight
        return None

    def _tell_fork(self, session_id: str) -> None:
        """A fork's link or a class's spotlight changed: its pages get a fresh state (and
        its welcomes are made afresh)."""
        session = self.sessions.get(session_id)
        if session is not None:
            session.revision += 1
            session.broadcast(session.state())


async def set_listing(session: LiveSession, command: SetListing) -> int:
    """The fork's owner lets its class's presenter list and show it, or not."""
    session.services.forks.set_listed(session, command.listed, command.id)
    return session.trainer.step_count


def _presenters(session: LiveSession) -> list[Subscriber]:
    return [subscriber for subscriber in session.subscribers if subscriber.role == "presenter"]


def _row(number: int, fork: LiveSession) -> ForkRow:
    """A fork's anonymous row: its number and how far its run is (the last recorded
    frame's losses and test accuracy; null before any, or when not finite)."""
    last = fork.history.rows[-1] if fork.history.rows else None

    def column(index: int) -> float | None:
        value = None if last is None else last[index]
        return value if value is not None and math.isfinite(value) else None

    return ForkRow(number=number, step=fork.trainer.step_count, running=fork.running,
                   train_loss=column(2), test_loss=column(3), test_accuracy=column(5))
