"""The per-session run loop: while the session runs, ``speed`` steps per frame at the
session's frame rate (a calmer one while presented to a class); asleep otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import time
from functools import partial

from .scheduler import run_timed
from .session import LiveSession

#: At most this much stepping per frame: a fast speed trains as fast as the frame rate
#: allows without stretching frames.
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
                if session.running and session.steps_left < 1:  # the counter's limit
                    session.running = False
                    await session.emit_frame()
                    session.broadcast(session.state())
                elif session.running:
                    session.after_trainer_work(await self._tick())
            await asyncio.sleep(max(self._period() - (loop.time() - started), 0.001))

    async def _tick(self) -> bytes | None:
        """Run this frame's steps (``speed`` per frame, for at most TICK_BUDGET_SECONDS),
        then build the frame; None when no step was due (slow speeds). The steps run as
        slices of the trainer threads (other sessions take turns in between); a tick whose
        steps fit in one slice builds its frame in the same job."""
        session = self.session
        self._speed_credit += session.speed
        due = min(int(self._speed_credit), session.steps_left)
        self._speed_credit -= int(self._speed_credit)
        if due == 0:
            return None
        slice_seconds = session.settings.trainer_slice_seconds
        deadline = time.perf_counter() + TICK_BUDGET_SECONDS

        def first_slice() -> tuple[int, bytes | None]:
            ran = run_timed(session.trainer, due, slice_seconds)
            return ran, session.frame() if ran >= due else None

        done, frame = await session.in_thread(first_slice)
        while frame is None and done < due and time.perf_counter() < deadline:
            ran = await session.in_thread(
                partial(run_timed, session.trainer, due - done, slice_seconds))
            done += ran
            if ran == 0 or session.trainer.status == "diverged":
                break
        return frame if frame is not None else await session.in_thread(session.frame)
