"""Item 6: trainer work is shared fairly. The scheduler runs one job per session at a time
and gives a free thread to the session that used the least CPU; long commands run as short
slices. So a session under a bounded attack (other sessions looping ``step n=10000``) keeps
most of its frame rate, and a new session is welcomed promptly."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from server_helpers import Json, create_session, open_socket

from backprop_playground.live.scheduler import TrainerScheduler

T = TypeVar("T")
HEAVY: Json = {"network": {"hidden_layers": [16] * 6}, "data": {"n_points": 1000},
               "hyper": {"batch_size": 500}}


def run(coroutine: Coroutine[Any, Any, T], deadline: float = 20.0) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, deadline)
    return asyncio.run(bounded())


def burn(seconds: float) -> Callable[[], None]:
    """A job that uses ``seconds`` of this thread's CPU."""
    def work() -> None:
        started = time.thread_time()
        while time.thread_time() - started < seconds:
            pass
    return work


def test_one_job_per_key_at_a_time_in_submission_order() -> None:
    """Jobs of one key never overlap (even with free threads) and run in the order given."""
    scheduler = TrainerScheduler(threads=3)
    running, order, overlaps = [0], list[int](), [0]

    def job(index: int) -> Callable[[], None]:
        def work() -> None:
            running[0] += 1
            overlaps[0] = max(overlaps[0], running[0])
            burn(0.001)()
            order.append(index)
            running[0] -= 1
        return work

    async def scenario() -> None:
        await asyncio.gather(*(scheduler.run("one", job(i)) for i in range(30)))

    try:
        run(scenario())
    finally:
        scheduler.close()
    assert overlaps[0] == 1
    assert order == list(range(30))


def test_a_light_key_gets_a_thread_within_a_slice_of_heavy_keys() -> None:
    """Two keys that keep both threads busy with 5 ms jobs do not make a key that needs a
    little work now and then wait much longer than one of their jobs."""
    scheduler = TrainerScheduler(threads=2)
    waits: list[float] = []

    def note_wait(submitted: float) -> None:
        waits.append(time.monotonic() - submitted)

    async def heavy(key: str, stop: float) -> int:
        jobs = 0
        while time.monotonic() < stop:
            await scheduler.run(key, burn(0.005))
            jobs += 1
        return jobs

    async def light(stop: float) -> None:
        while time.monotonic() < stop:
            await scheduler.run("light", partial(note_wait, time.monotonic()))
            await asyncio.sleep(0.02)

    async def scenario() -> list[int]:
        stop = time.monotonic() + 1.5
        *counts, _ = await asyncio.gather(heavy("a", stop), heavy("b", stop), light(stop))
        return counts

    try:
        counts = run(scenario())
    finally:
        scheduler.close()
    waits.sort()
    assert len(waits) >= 10, len(waits)
    assert waits[int(0.9 * len(waits))] < 0.03, waits[-10:]
    assert min(counts) > 0.5 * max(counts), counts  # the heavy ones share evenly


def test_busy_keys_share_one_thread_evenly() -> None:
    """Three keys that always have work get about a third of one thread each."""
    scheduler = TrainerScheduler(threads=1)

    async def busy(key: str, stop: float) -> int:
        jobs = 0
        while time.monotonic() < stop:
            await scheduler.run(key, burn(0.002))
            jobs += 1
        return jobs

    async def scenario() -> list[int]:
        stop = time.monotonic() + 1.0
        return list(await asyncio.gather(*(busy(key, stop) for key in "abc")))

    try:
        counts = run(scenario())
    finally:
        scheduler.close()
    assert min(counts) >= 0.7 * max(counts), counts


def test_a_cancelled_job_that_has_not_started_never_runs() -> None:
    """Cancelling the caller drops its queued job; the key's later jobs still run."""
    scheduler = TrainerScheduler(threads=1)
    ran: list[str] = []

    async def scenario() -> None:
        blocker = asyncio.ensure_future(scheduler.run("k", burn(0.05)))
        await asyncio.sleep(0.01)
        queued = asyncio.ensure_future(scheduler.run("k", lambda: ran.append("dropped")))
        await asyncio.sleep(0.005)
        queued.cancel()
        await blocker
        await scheduler.run("k", lambda: ran.append("later"))

    try:
        run(scenario())
    finally:
        scheduler.close()
    assert ran == ["later"]


def _attack(client: TestClient, handle: Any, stop: float, answered: list[int]) -> None:
    """One presenter socket looping step n=10000 until ``stop``, then leaving (a command
    still running stops once its session has no client left)."""
    with open_socket(client, handle.id, timeout=30) as conn:
        conn.hello_presenter(handle.token)
        while time.monotonic() < stop:
            conn.send({"type": "step", "n": 10_000, "id": "attack"})
            try:
                conn.wait_json(lambda m: m.get("id") == "attack",
                               timeout=max(stop - time.monotonic(), 0.05))
            except TimeoutError:
                return
            answered.append(1)


def test_a_session_keeps_its_frames_under_a_bounded_attack(
        make_client: Callable[..., TestClient]) -> None:
    """Two heavy sessions, each with two sockets looping step n=10000 for a few seconds:
    the playing session keeps most of its frame rate, and a new session's welcome comes
    quickly (the suite's bounds are loose; bench/stress.py measures the targets)."""
    client = make_client()
    victim = create_session(client, {"network": {"hidden_layers": [3]},
                                     "data": {"dataset": "xor"}})
    with open_socket(client, victim.id) as conn:
        conn.hello_presenter(victim.token)
        conn.ack({"type": "play"})
        conn.frames_for(0.3)
        alone = len(conn.frames_for(1.5))
        heavy = [create_session(client, HEAVY) for _ in range(2)]
        stop = time.monotonic() + 3.5
        answered: list[int] = []
        attackers = [threading.Thread(target=_attack, args=(client, handle, stop, answered),
                                      daemon=True) for handle in heavy for _ in range(2)]
        for thread in attackers:
            thread.start()
        conn.frames_for(0.5)
        attacked = len(conn.frames_for(1.5))
        started = time.monotonic()
        newcomer = create_session(client)
        with open_socket(client, newcomer.id) as other:
            other.hello_presenter(newcomer.token)
        welcome_seconds = time.monotonic() - started
        conn.ack({"type": "pause"})
    for thread in attackers:
        thread.join(10)
        assert not thread.is_alive()
    assert alone >= 20, alone
    assert attacked >= 0.6 * alone, (alone, attacked)
    assert welcome_seconds < 1.0, welcome_seconds
    summary = client.get("/api/metrics").json()["trainer_threads"]
    assert summary["threads"] == 2 and summary["jobs_run"] > 0
