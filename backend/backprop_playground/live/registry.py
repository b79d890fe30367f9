"""All live sessions of this process: creating, finding (here or, through the delivery
backend, on another process), removing, and reaping the idle ones."""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..settings import Settings
from ..trainer import ConfigError, TrainingSession, config_from_dict, restore
from .channels import Backend, Joinable, LocalBackend
from .classroom import end_class
from .codes import JoinCodes, normalize_code
from .handlers import COMMANDS
from .runloop import RunLoop
from .session import LimitError, LiveSession, Services


class SessionRegistry:
    """The sessions of this process, their run loops and join codes."""

    def __init__(self, settings: Settings, backend: Backend | None = None) -> None:
        self.settings = settings
        self.backend: Backend = backend or LocalBackend()
        self.sessions: dict[str, LiveSession] = {}
        self.join_codes = JoinCodes()
        self.executor = ThreadPoolExecutor(settings.trainer_threads, "trainer")
        self._loops: dict[str, RunLoop] = {}
        self._services = Services(settings, self.executor, self.backend, COMMANDS,
                                  self.join_codes)

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
        return await self.backend.session_for_code(normalize_code(code))

    def by_code(self, code: str) -> LiveSession | None:
        """The session presented here with this join code (case and spaces ignored)."""
        session_id = self.join_codes.session_id(code)
        return None if session_id is None else self.sessions.get(session_id)

    def get(self, session_id: str) -> LiveSession | None:
        return self.sessions.get(session_id)

    def create(self, config: dict[str, Any] | None = None,
               exported: dict[str, Any] | None = None) -> LiveSession:
        """A new running session from a config dict, or from an exported run; ConfigError
        or LimitError if that cannot be."""
        if len(self.sessions) >= self.settings.max_sessions:
            raise LimitError(f"the server runs {len(self.sessions)} sessions (the limit)")
        if exported is not None:
            session = self._imported(exported)
        else:
            session = LiveSession(TrainingSession(config_from_dict(config or {})), self._services)
        self.sessions[session.id] = session
        self._loops[session.id] = loop = RunLoop(session)
        loop.start()
        return session

    def _imported(self, exported: dict[str, Any]) -> LiveSession:
        """A session continuing an exported run (trainer, history, speed), validated."""
        if not isinstance(exported, dict) or "trainer" not in exported:
            raise ConfigError("snapshot", "must be an exported run with a 'trainer' part")
        session = LiveSession(restore(exported["trainer"]), self._services)
        if exported.get("history") is not None:
            session.history.load(exported["history"])
        if "speed" in exported:
            speed = exported["speed"]
            if not (isinstance(speed, int | float) and not isinstance(speed, bool)
                    and math.isfinite(speed) and 0.01 <= speed <= 1000):
                raise ConfigError("snapshot.speed", "must be a number from 0.01 to 1000")
            session.speed = float(speed)
        return session

    async def remove(self, session_id: str) -> None:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            end_class(session)
            loop = self._loops.pop(session_id, None)
            if loop is not None:
                await loop.stop()

    async def reap_idle(self) -> None:
        """Forever: every so often, end sessions nobody has used for a while."""
        while True:
            await asyncio.sleep(min(60.0, self.settings.idle_session_seconds / 2))
            now = time.monotonic()
            for session_id in [s.id for s in self.sessions.values() if s.is_idle(now)]:
                await self.remove(session_id)

    async def close(self) -> None:
        for session_id in list(self.sessions):
            await self.remove(session_id)
        self.executor.shutdown(wait=False, cancel_futures=True)
        await self.backend.close()
