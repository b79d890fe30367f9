"""All live sessions of this process: creating, finding (here or, through the delivery
backend, on another process), removing, reaping the idle ones, and keeping them across a
restart (saved to the store, :mod:`.persistence`, and brought back on start)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

from ..settings import Settings
from ..trainer import ConfigError, TrainingSession, config_from_dict, restore
from ..trainer.snapshot_checks import exact_keys, number
from ..wire.catalogue import COMMAND_LIMITS
from ..wire.messages import to_json
from .channels import Backend, Joinable, LocalBackend
from .classroom import end_class, resume_class
from .codes import JoinCodes, normalize_code
from .forks import ForkLinks
from .handlers import COMMANDS, selection_fits
from .history import History
from .persistence import Keeper, apply_live_state
from .runloop import RunLoop
from .scheduler import TrainerScheduler
from .session import LimitError, LiveSession, Services, new_session_id
from .store import SessionStore, StoredSession

logger = logging.getLogger(__name__)


class SessionRegistry:
    """The sessions of this process, their run loops and join codes."""

    def __init__(self, settings: Settings, backend: Backend | None = None,
                 store: SessionStore | None = None) -> None:
        """``store``: where sessions are kept; by default the one at
        ``settings.store_path``, opened when the server starts (:meth:`restore_saved`)."""
        self.settings = settings
        self.keeper = Keeper(settings.store_path, store)
        self.backend: Backend = backend or LocalBackend()
        self.sessions: dict[str, LiveSession] = {}
        self.join_codes = JoinCodes()
        self.scheduler = TrainerScheduler(settings.trainer_threads)
        self._loops: dict[str, RunLoop] = {}
        #: Sessions being built, per owner (they count against the limits already).
        self._creating: Counter[str] = Counter()
        #: Which forks came from which class (their numbers, listing, spotlight).
        self.forks = ForkLinks(settings, self.sessions)
        self._services = Services(settings, self.scheduler, self.backend, COMMANDS,
                                  self.join_codes, self.forks)

    @property
    def codes(self) -> dict[str, str]:
        """Join code → session id, for the sessions presented here."""
        return self.join_codes.by_code

    async def find(self, session_id: str) -> Joinable | None:
        """A session of this process, or a relay of one another process presents."""
        local = self.sessions.get(session_id)
        return local if local is not None else await self.backend.follow(session_id)

    async def find_code(self, code: str) -> str | None:
        """The session id of a join code, here or on another process."""
        local = self.by_code(code)
        if local is not None:
            return local.id
        spotlit = self.forks.session_for_code(code)
        if spotlit is not None:
            return spotlit
        return await self.backend.session_for_code(normalize_code(code))

    def by_code(self, code: str) -> LiveSession | None:
        """The session presented here with this join code (case and spaces ignored)."""
        session_id = self.join_codes.session_id(code)
        return None if session_id is None else self.sessions.get(session_id)

    def get(self, session_id: str) -> LiveSession | None:
        return self.sessions.get(session_id)

    async def create(self, config: dict[str, Any] | None = None,
                     exported: dict[str, Any] | None = None, owner: str = "") -> LiveSession:
        """A new running session of client address ``owner`` from a config dict, or from an
        exported run; ConfigError or LimitError if that cannot be. The trainer is built (or
        restored and replayed) on the trainer threads, and its first frame and welcome
        too, so that a session this answers with is one every client can use."""
        await self._make_room(owner)
        session_id = new_session_id()
        self._creating[owner] += 1
        try:
            if exported is not None:
                trainer, history, speed = await self.scheduler.run(
                    session_id, lambda: imported_run(exported))
            else:
                trainer = await self.scheduler.run(
                    session_id, lambda: TrainingSession(config_from_dict(config or {})))
                history, speed = History(), self._services.settings.default_speed
            session = LiveSession(trainer, self._services, session_id, owner=owner)
            session.history, session.speed = history, speed
            await session.ensure_frame()
            await self.scheduler.run(session_id, lambda: to_json(session.welcome("presenter")))
        except BaseException:
            self.scheduler.forget(session_id)
            raise
        finally:
            self._creating[owner] -= 1
            if self._creating[owner] <= 0:
                del self._creating[owner]
        self._add(session)
        return session

    def _add(self, session: LiveSession) -> None:
        self.sessions[session.id] = session
        self._loops[session.id] = loop = RunLoop(session)
        loop.start()

    async def _make_room(self, owner: str) -> None:
        """Room for one more session of ``owner`` within ``max_sessions`` and
        ``max_sessions_per_address``: if a limit is reached, the owner's longest-idle session
        that nobody is connected to (and that is not presented) is ended; if it has none,
        LimitError."""
        settings = self.settings
        own = [session for session in self.sessions.values() if session.owner == owner]
        over_address = len(own) + self._creating[owner] >= settings.max_sessions_per_address
        total = len(self.sessions) + sum(self._creating.values())
        if not over_address and total < settings.max_sessions:
            return
        idle = [session for session in own if not session.subscribers
                and session.join_code is None and session.id not in self._busy_ids()]
        if idle:
            await self.remove(min(idle, key=lambda session: session.last_activity).id)
            return
        if over_address:
            raise LimitError(f"this address already has {len(own)} sessions in use (the "
                             f"limit is {settings.max_sessions_per_address}): close one first")
        raise LimitError(f"the server runs {total} sessions (the limit)")

    def _busy_ids(self) -> set[str]:
        """Sessions a command is being carried out on (never ended to make room)."""
        return {session.id for session in self.sessions.values() if session.lock.locked()}

    def count_of(self, owner: str) -> int:
        """Sessions ``owner`` holds."""
        return sum(1 for session in self.sessions.values() if session.owner == owner)

    async def remove(self, session_id: str) -> None:
        """End a session for good: its class, its run loop, what the store kept of it."""
        if session_id in self.sessions:
            end_class(self.sessions[session_id])
            self.forks.forget(session_id)
            await self._stop(session_id)
            await self.keeper.delete([session_id])

    async def _stop(self, session_id: str) -> None:
        """Stop a session's run loop and let it go (its class and saved run stay)."""
        self.sessions.pop(session_id, None)
        loop = self._loops.pop(session_id, None)
        if loop is not None:
            await loop.stop()
        self.scheduler.forget(session_id)

    async def reap_idle(self) -> None:
        """Forever: every so often, end sessions nobody has used for a while."""
        while True:
            await asyncio.sleep(min(60.0, self.settings.idle_session_seconds / 2))
            now = time.monotonic()
            for session_id in [s.id for s in self.sessions.values() if s.is_idle(now)]:
                await self.remove(session_id)

    # ------------------------------------------------------------- persistence
    async def save(self) -> int:
        """Save every session that changed since it was last saved; how many."""
        return await self.keeper.save(list(self.sessions.values()),
                                      lambda session_id: session_id in self.sessions)

    async def keep_saving(self) -> None:
        """Forever: save what changed every ``store_interval_seconds``."""
        await self.keeper.run(lambda: list(self.sessions.values()),
                              lambda session_id: session_id in self.sessions,
                              self.settings.store_interval_seconds)

    async def restore_saved(self) -> int:
        """Bring back the sessions the store kept (same id, same presenter token, same class
        code, the run exactly where it was); expired ones, ones beyond ``max_sessions`` and
        ones that do not restore are deleted. How many came back."""
        records = await self.keeper.load()
        now, window = time.time(), self.settings.idle_session_seconds
        fresh = [record for record in records if now - record.last_active <= window]
        kept = fresh[:self.settings.max_sessions]  # the most recently used first
        kept_ids = {record.id for record in kept}
        dropped = [record.id for record in records if record.id not in kept_ids]
        for record in kept:
            try:
                await self._restore(record)
            except ConfigError as error:
                logger.warning("saved session %s not restored: %s: %s", record.id,
                               error.field, error.message)
                dropped.append(record.id)
        self._relink([record for record in kept if record.id in self.sessions])
        await self.keeper.delete(dropped)
        return len(self.sessions)

    def _relink(self, records: list[StoredSession]) -> None:
        """Once every class is back: their fork counters, then the forks' links to them."""
        lives = [(self.sessions[record.id], record.state.get("live")) for record in records]
        for session, live in lives:
            if isinstance(live, dict):
                self.forks.restore_class(session, live.get("next_fork_number"))
        for session, live in lives:
            if isinstance(live, dict):
                self.forks.restore(session, live.get("fork"))

    async def _restore(self, record: StoredSession) -> None:
        state = record.state
        trainer, history, speed = await self.scheduler.run(
            record.id, lambda: imported_run(state.get("run")))
        session = LiveSession(trainer, self._services, record.id, owner=record.owner,
                              token_digest=record.token_digest)
        session.history, session.speed = history, speed
        session.last_activity = time.monotonic() - max(0.0, time.time() - record.last_active)
        code = apply_live_state(session, state.get("live"),
                                lambda target: selection_fits(trainer, target))
        await session.ensure_frame()
        self._add(session)
        if code is not None:
            resume_class(session, code)
        self.keeper.saved(session)

    async def close(self) -> None:
        """Shut down. With a store, every session is saved and stays (classes too: their
        viewers rejoin when the server is back); without one, sessions end."""
        if self.keeper.enabled:
            try:
                await self.save()
            except Exception as error:
                logger.warning("sessions not saved on shutdown: %s", error)
        for session_id in list(self.sessions):
            if self.keeper.enabled:
                await self._stop(session_id)
            else:
                await self.remove(session_id)
        self.scheduler.close()
        await self.forks.close()
        await self.keeper.close()
        await self.backend.close()


def imported_run(exported: Any) -> tuple[TrainingSession, History, float]:
    """The trainer, history and speed of an exported run (``{trainer, history, speed}``),
    each validated strictly (trainer thread)."""
    if not isinstance(exported, dict) or "trainer" not in exported:
        raise ConfigError("snapshot", "must be an exported run with a 'trainer' part")
    exact_keys(exported, "snapshot", ("trainer",), ("history", "speed"))
    trainer = restore(exported["trainer"])
    history = History()
    if exported.get("history") is not None:
        history.load(exported["history"])
    speed = 1.0
    if "speed" in exported:
        low, high = COMMAND_LIMITS["speed"]
        speed = number(exported["speed"], "snapshot.speed", low, high)
    return trainer, history, speed
