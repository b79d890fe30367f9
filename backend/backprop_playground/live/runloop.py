"""The per-session run loop: while the session runs, ``speed`` steps per frame at the
session's frame rate (a calmer one while presented to a class); asleep otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import time

from .session import LiveSession

TICK_BUDGET_SECONDS = 0.03


class RunLoop:
    """One task per session that steps the trainer and publishes the frames."""

    def __init__(self, session: LiveSession) -> None:
        self.session = session
        self._speed_credit = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"session-{self.session.id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def _period(self) -> float:
        settings = self.session.settings
        fps = (settings.presented_frames_per_second if self.session.join_code
               else settings.max_frames_per_second)
        return 1.0 / fps

    async def _run(self) -> None:
        loop, session = asyncio.get_running_loop(), self.session
        while True:
            if not session.running:
                session.wakeup.clear()
                await session.wakeup.wait()
                continue
            started = loop.time()
            async with session.lock:
                if session.running:
                    frame = await session.in_thread(self._tick)
                    session.after_trainer_work(frame)
            await asyncio.sleep(max(self._period() - (loop.time() - started), 0.001))

    def _tick(self) -> bytes | None:
        """Run this frame's steps (``speed`` per frame, within a time budget), then build
        the frame; None when no step was due (slow speeds). Trainer thread."""
        self._speed_credit += self.session.speed
        due = int(self._speed_credit)
        self._speed_credit -= due
        if due == 0:
            return None
        trainer = self.session.trainer
        started, done, chunk = time.perf_counter(), 0, 1
        while done < due:
            ran = trainer.run(min(chunk, due - done))
            done += ran
            if ran < min(chunk, due - done + ran) or trainer.status == "diverged":
                break
            if time.perf_counter() - started > TICK_BUDGET_SECONDS:
                break
            chunk = max(1, min(chunk * 2, due - done))
        return self.session.frame()
