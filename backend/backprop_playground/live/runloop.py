"""The per-session run loop: while the session runs, a frame every period (``1 /
max_frames_per_second``, a calmer rate while presented to a class) with up to ``speed``
steps in it; asleep otherwise.

Frames keep coming at every speed: the steps of a frame are cut to what fits its period
(:class:`.pacing.FramePacer`, measured on the real cost of a step and of a frame), so a
large network at the top speed gets fewer steps per frame, not fewer frames. The rate
really achieved goes to every client about once a second (a ``rate`` message).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from functools import partial

from ..wire.messages import RateMessage
from .pacing import FramePacer, RateMeter
from .scheduler import run_timed
from .session import LiveSession


class RunLoop:
    """One task per session that steps the trainer and publishes the frames.

    ``clock`` (seconds) times the steps, the frames and the rate; tests give a fake one."""

    def __init__(self, session: LiveSession,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.session = session
        self.pacer = FramePacer()
        self.meter = RateMeter()
        self._clock = clock
        self._speed_credit = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"session-{self.session.id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def period(self) -> float:
        """Seconds between two frames while running."""
        settings = self.session.settings
        fps = (settings.presented_frames_per_second if self.session.join_code
               else settings.max_frames_per_second)
        return 1.0 / fps

    async def _run(self) -> None:
        loop, session = asyncio.get_running_loop(), self.session
        due = loop.time()  # when the next tick should start
        while True:
            if not session.running:
                self.meter.restart()
                session.wakeup.clear()
                await session.wakeup.wait()
                due = loop.time()
                continue
            async with session.lock:
                if session.running and session.steps_left < 1:  # the counter's limit
                    session.running = False
                    await session.emit_frame()
                    session.broadcast(session.state())
                elif session.running:
                    frame, steps = await self.tick()
                    session.after_trainer_work(frame)
                    self.report(steps, frame is not None)
            # Ticks keep to a grid of periods: a sleep that ends late is made up by the next
            # one, so frames come at the full rate; a tick that overran starts a new grid.
            due += self.period()
            if due - loop.time() < 0.001:
                due = loop.time() + 0.001
            await asyncio.sleep(due - loop.time())

    async def tick(self) -> tuple[bytes | None, int]:
        """Run this frame's steps (``speed`` per frame, as many as fit the period), then
        build the frame; the frame (None when no step was due, at slow speeds) and the
        steps run. The steps run as slices of the trainer threads (other sessions take
        turns in between); a tick whose steps fit in one slice builds its frame in the same
        job."""
        session, clock, pacer = self.session, self._clock, self.pacer
        period = self.period()
        self._speed_credit += session.speed
        due = min(int(self._speed_credit), session.steps_left)
        self._speed_credit -= int(self._speed_credit)  # steps that do not fit are dropped
        due = pacer.allowed(due, period)
        if due == 0:
            return None, 0
        slice_seconds = session.settings.trainer_slice_seconds
        deadline = clock() + pacer.budget(period)

        def steps_then_frame(limit: int, with_frame: bool) -> tuple[int, bytes | None]:
            started = clock()
            ran = run_timed(session.trainer, limit, slice_seconds)
            pacer.record_steps(ran, clock() - started)
            return ran, self._timed_frame() if with_frame and ran >= limit else None

        done, frame = await session.in_thread(partial(steps_then_frame, due, True))
        while frame is None and done < due and clock() < deadline:
            ran, _ = await session.in_thread(partial(steps_then_frame, due - done, False))
            done += ran
            if ran == 0 or session.trainer.status == "diverged":
                break
        return (frame if frame is not None else await session.in_thread(self._timed_frame),
                done)

    def _timed_frame(self) -> bytes:
        """Build the frame, measuring its cost (trainer thread)."""
        started = self._clock()
        frame = self.session.frame()
        self.pacer.record_frame(self._clock() - started)
        return frame

    def report(self, steps: int, framed: bool) -> None:
        """Count the tick's steps and frame; tell everyone the rate once a second."""
        session = self.session
        asked = session.speed / self.period()
        rate = self.meter.count(self._clock(), steps, int(framed), asked)
        if rate is not None:
            session.broadcast(RateMessage(
                asked_steps_per_second=rate.asked_steps_per_second,
                steps_per_second=round(rate.steps_per_second, 1),
                frames_per_second=round(rate.frames_per_second, 1)))
