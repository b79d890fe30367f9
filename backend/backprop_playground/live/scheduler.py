"""The trainer threads, shared fairly by every session.

All trainer work (building and restoring sessions, steps, frames, exports) runs on a few
worker threads, as *jobs* keyed by session. Two rules make that fair:

* one job per key at a time, in the order the key submitted them, so a session's trainer
  is never touched by two threads at once;
* whenever a thread is free it takes the head job of the key that has used the least CPU
  time (its *virtual time*), like a fair-share process scheduler. A key that wakes up after
  waiting starts at the time of the busiest keys minus a small credit, so it cannot bank
  idle time, but it runs before keys that have been working all along.

Jobs are meant to be short: work that could take long (``step`` with n = 10 000, a running
session's tick) is cut into slices of ``slice_seconds`` by its caller (:func:`run_timed`),
so a free thread is never more than one slice away for a session that needs one. The event
loop only ever awaits a job's future; it never blocks on a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..trainer import TrainingSession

T = TypeVar("T")
#: Virtual time a waking key is credited with (seconds of CPU), about one slice.
WAKE_CREDIT_SECONDS = 0.01


@dataclass(eq=False)
class _Job(Generic[T]):
    work: Callable[[], T]
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop
    submitted: float = field(default_factory=time.monotonic)
    cancelled: bool = False


@dataclass
class _Key:
    """One key's queue and the CPU time it used (virtual time)."""

    jobs: deque[_Job[Any]] = field(default_factory=deque)
    virtual_time: float = 0.0
    busy: bool = False
    #: Tie-breaker among equal virtual times: the order the key became runnable.
    ticket: int = 0


class TrainerScheduler:
    """``threads`` worker threads running keyed jobs fairly (see the module docstring)."""

    def __init__(self, threads: int, name: str = "trainer") -> None:
        self._condition = threading.Condition()
        self._keys: dict[Hashable, _Key] = {}
        self._floor = 0.0  # the virtual time of the last job picked (never decreases)
        self._tickets = itertools.count()
        self._closed = False
        self.jobs_run = 0
        #: How long recent jobs waited for a thread (seconds), for the metrics.
        self.waits: deque[float] = deque(maxlen=4096)
        self._threads = [threading.Thread(target=self._serve, name=f"{name}-{index}",
                                          daemon=True) for index in range(threads)]
        for thread in self._threads:
            thread.start()

    async def run(self, key: Hashable, work: Callable[[], T]) -> T:
        """Run ``work`` on a worker thread as ``key``'s next job; its result (or exception).

        Cancelling the caller drops a job that has not started; one that has started runs
        to its end (its result is discarded), and the key's next job waits for it."""
        loop = asyncio.get_running_loop()
        job: _Job[T] = _Job(work, loop.create_future(), loop)
        with self._condition:
            if self._closed:
                raise RuntimeError("the trainer threads have stopped")
            entry = self._keys.get(key)
            if entry is None:
                entry = self._keys[key] = _Key(virtual_time=self._floor)
            if not entry.jobs and not entry.busy:  # waking up: no banked idle time
                entry.virtual_time = max(entry.virtual_time, self._floor - WAKE_CREDIT_SECONDS)
                entry.ticket = next(self._tickets)
            entry.jobs.append(job)
            self._condition.notify()
        try:
            return await job.future
        except asyncio.CancelledError:
            job.cancelled = True
            raise

    def forget(self, key: Hashable) -> None:
        """Drop what is known of ``key`` once it has no job (a removed session)."""
        with self._condition:
            entry = self._keys.get(key)
            if entry is not None and not entry.jobs and not entry.busy:
                del self._keys[key]

    def summary(self) -> dict[str, float]:
        """Threads, jobs waiting now, jobs run, and the wait for a thread (ms: p50, p99,
        max over recent jobs)."""
        with self._condition:
            queued = sum(len(entry.jobs) for entry in self._keys.values())
            waits = sorted(self.waits)
        def at(share: float) -> float:
            return round(waits[min(len(waits) - 1, int(share * len(waits)))] * 1e3, 2) \
                if waits else 0.0
        return {"threads": len(self._threads), "queued": queued, "jobs_run": self.jobs_run,
                "wait_p50_ms": at(0.5), "wait_p99_ms": at(0.99), "wait_max_ms": at(1.0)}

    def reset_summary(self) -> None:
        self.waits.clear()

    def close(self) -> None:
        """Stop the threads after their current jobs; jobs not started are cancelled."""
        with self._condition:
            self._closed = True
            dropped = [job for entry in self._keys.values() for job in entry.jobs]
            for entry in self._keys.values():
                entry.jobs.clear()
            self._condition.notify_all()
        for job in dropped:
            with contextlib.suppress(RuntimeError):  # its loop is already closed
                job.loop.call_soon_threadsafe(_cancel, job.future)

    # ----------------------------------------------------------------- threads
    def _pick(self) -> _Key | None:
        """The runnable key with the least virtual time (the earliest woken among equals)."""
        best: _Key | None = None
        for entry in self._keys.values():
            if entry.busy or not entry.jobs:
                continue
            if best is None or (entry.virtual_time, entry.ticket) < (
                    best.virtual_time, best.ticket):
                best = entry
        return best

    def _serve(self) -> None:
        while True:
            with self._condition:
                while not self._closed and (chosen := self._pick()) is None:
                    self._condition.wait()
                if self._closed or chosen is None:
                    return
                entry = chosen
                job = entry.jobs.popleft()
                entry.busy = True
                self.waits.append(time.monotonic() - job.submitted)
                self._floor = max(self._floor, entry.virtual_time)
            started = time.thread_time()
            outcome: tuple[bool, Any] = (True, None)
            if not job.cancelled:
                try:
                    outcome = (True, job.work())
                except BaseException as error:  # handed to the awaiting coroutine
                    outcome = (False, error)
            used = time.thread_time() - started
            with self._condition:
                entry.busy = False
                entry.virtual_time += used
                self.jobs_run += 1
                if entry.jobs:
                    self._condition.notify()
            if not job.cancelled:
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    job.loop.call_soon_threadsafe(_settle, job.future, outcome)


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.done():
        return
    succeeded, value = outcome
    if succeeded:
        future.set_result(value)
    else:
        future.set_exception(value)


def _cancel(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.cancel()


def run_timed(trainer: TrainingSession, limit: int, budget: float) -> int:
    """Run up to ``limit`` whole steps for about ``budget`` seconds: chunks sized from the
    time the steps so far took (so a tiny network does not pay a clock read per step and a
    big one does not overshoot the budget); fewer when every run stopped. The number of
    steps completed. Trainer thread."""
    started, done, chunk = time.perf_counter(), 0, 1
    while done < limit:
        wanted = min(chunk, limit - done)
        ran = trainer.run(wanted)
        done += ran
        elapsed = time.perf_counter() - started
        if ran < wanted or elapsed >= budget:
            break
        per_step = elapsed / done
        chunk = max(1, min(2 * chunk, int((budget - elapsed) / per_step)))
    return done
