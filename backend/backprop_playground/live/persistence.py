"""What of a live session the store keeps, and the saving: :class:`Keeper` writes the
sessions that changed to a :class:`~.store.SessionStore` on a thread of its own (file I/O
and JSON never run on the event loop, trainer state is read by a job of the session).

A session is kept as its exact export (``LiveSession.export``) plus what its clients see
besides the run (:func:`live_state`): the class code, the mirrored view, the selection,
the focus point, the run shown from a sweep, the learning-rate gesture marks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from pydantic import ValidationError

from ..wire.commands import Selection
from .codes import JOIN_ALPHABET, JOIN_CODE_LENGTH
from .session import LiveSession
from .store import NullStore, SessionStore, StoredSession, open_store

logger = logging.getLogger(__name__)
T = TypeVar("T")
#: Learning-rate gesture marks kept for a session.
MAX_GESTURES = 100_000


def live_state(session: LiveSession) -> dict[str, Any]:
    """What the session's clients see besides its run."""
    return {"class_code": session.join_code, "view": dict(session.view),
            "selection": None if session.selection is None else session.selection.model_dump(),
            "focus": session.focus, "main_run": session.main_run,
            "rate_gestures": [[step, gesture] for step, gesture in session.rate_gestures.items()],
            "fork": session.services.forks.saved_link(session.id),
            "next_fork_number": session.services.forks.next_number(session.id)}


def apply_live_state(session: LiveSession, raw: Any,
                     selection_fits: Callable[[Selection], bool]) -> str | None:
    """Give a restored session what its clients saw (each part checked: a part that is not
    as saved is left at its default); the class code it was presented with, if any."""
    state = raw if isinstance(raw, dict) else {}
    view = state.get("view")
    if isinstance(view, dict) and isinstance(view.get("projector"), bool) and (
            view.get("panel") is None or isinstance(view.get("panel"), str)):
        session.view = {"projector": view["projector"], "panel": view.get("panel")}
    try:
        selection = (None if state.get("selection") is None
                     else Selection.model_validate(state["selection"]))
    except ValidationError:
        selection = None
    session.selection = selection if selection is None or selection_fits(selection) else None
    focus, run = state.get("focus"), state.get("main_run")
    if isinstance(focus, int) and not isinstance(focus, bool) and 0 <= focus < 2**16:
        session.focus = focus
    if isinstance(run, int) and not isinstance(run, bool) and 0 <= run < session.trainer.runs:
        session.main_run = run
    gestures = state.get("rate_gestures")
    if isinstance(gestures, list) and len(gestures) <= MAX_GESTURES:
        session.rate_gestures = {
            pair[0]: pair[1] for pair in gestures
            if isinstance(pair, list) and len(pair) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in pair)}
    code = state.get("class_code")
    if isinstance(code, str) and len(code) == JOIN_CODE_LENGTH and set(code) <= set(JOIN_ALPHABET):
        return code
    return None


def marker(session: LiveSession) -> tuple[Any, ...]:
    """Changes whenever anything the store keeps of the session may have changed."""
    return (session.sequence, session.revision, session.join_code, session.last_activity,
            tuple(session.view.items()))


def wall_clock(monotonic: float) -> float:
    """A ``time.monotonic()`` instant as ``time.time()`` seconds."""
    return time.time() - (time.monotonic() - monotonic)


class Keeper:
    """Saves sessions that changed since they were last saved; loads and deletes them. One
    thread does the store's I/O, in the order it is asked (a delete after a save wins)."""

    def __init__(self, path: str = "", store: SessionStore | None = None) -> None:
        """A keeper of the store at ``path``, opened by :meth:`load` (when the server
        starts: building an app touches no file), or of ``store``."""
        self._path = path
        self.store: SessionStore = store or NullStore()
        self._thread = ThreadPoolExecutor(1, "store")
        self._saved: dict[str, tuple[Any, ...]] = {}

    @property
    def enabled(self) -> bool:
        return not isinstance(self.store, NullStore)

    async def _io(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, partial(work, *args))

    async def load(self) -> list[StoredSession]:
        """Open the store (if not yet) and read every kept session."""
        if not self.enabled and self._path:
            self.store = await self._io(open_store, self._path)
            self._path = ""
        return await self._io(self.store.load) if self.enabled else []

    def saved(self, session: LiveSession) -> None:
        """Note ``session`` as just saved (or restored): unchanged, it is not saved again."""
        self._saved[session.id] = marker(session)

    async def save(self, sessions: Iterable[LiveSession],
                   alive: Callable[[str], bool]) -> int:
        """Save the sessions that changed (their exports taken by their own trainer jobs);
        ``alive(id)`` says whether a session still exists when its export is written. The
        number saved."""
        if not self.enabled:
            return 0
        changed = [session for session in sessions
                   if self._saved.get(session.id) != marker(session)]
        taken = await asyncio.gather(*(self._take(session) for session in changed),
                                     return_exceptions=True)
        records: list[tuple[StoredSession, tuple[Any, ...]]] = []
        for session, result in zip(changed, taken, strict=True):
            if isinstance(result, BaseException):
                logger.warning("session %s not saved: %s", session.id, result)
            elif alive(session.id):  # not removed while its export was taken
                records.append(result)
        if records:
            await self._io(self.store.save, [record for record, _ in records])
            for record, mark in records:
                self._saved[record.id] = mark
        return len(records)

    async def _take(self, session: LiveSession) -> tuple[StoredSession, tuple[Any, ...]]:
        mark = marker(session)
        run = await session.in_thread(session.export)
        record = StoredSession(
            id=session.id, token_digest=session.token_digest, owner=session.owner,
            last_active=wall_clock(session.last_activity), saved_at=time.time(),
            state={"run": run, "live": live_state(session)})
        return record, mark

    async def delete(self, session_ids: Iterable[str]) -> None:
        ids = list(session_ids)
        for session_id in ids:
            self._saved.pop(session_id, None)
        if self.enabled and ids:
            await self._io(self.store.delete, ids)

    async def run(self, sessions: Callable[[], list[LiveSession]],
                  alive: Callable[[str], bool], interval: float) -> None:
        """Forever: every ``interval`` seconds, save what changed."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.save(sessions(), alive)
            except Exception as error:  # a full disk must not stop the server
                logger.warning("sessions not saved: %s", error)

    async def close(self) -> None:
        """Close the store once every save and delete asked for is done."""
        await self._io(self.store.close)
        self._thread.shutdown(wait=False)  # idle now: nothing to wait for
