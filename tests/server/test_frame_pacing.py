"""Frames keep coming: when the asked steps do not fit a frame's period the run loop runs
fewer steps per frame (measured on the real step and frame cost), and it reports the rate
it really gets. Timed with a fake clock, so the rule is checked, not the machine."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from backprop_playground.live.pacing import (
    MIN_BUDGET_SHARE,
    STEP_SHARE,
    FramePacer,
    RateMeter,
)
from backprop_playground.live.registry import SessionRegistry
from backprop_playground.live.runloop import RunLoop
from backprop_playground.settings import Settings
from backprop_playground.wire.messages import Message, RateMessage

PERIOD = 1 / 60


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_pacer_runs_every_step_that_fits() -> None:
    """Cheap steps: all the due steps run."""
    pacer = FramePacer()
    pacer.record_steps(10, 10 * 20e-6)
    pacer.record_frame(0.5e-3)
    assert pacer.allowed(5, PERIOD) == 5


def test_the_pacer_cuts_the_steps_to_the_budget() -> None:
    """Costly steps: as many as fit STEP_SHARE of the period minus the frame's cost."""
    pacer = FramePacer()
    pacer.record_steps(4, 4 * 1e-3)
    pacer.record_frame(2e-3)
    budget = STEP_SHARE * PERIOD - 2e-3
    assert math.isclose(pacer.budget(PERIOD), budget)
    assert pacer.allowed(1000, PERIOD) == int(budget / 1e-3)


def test_the_pacer_learns_the_cost_first_and_always_runs_a_step() -> None:
    """Before any measurement one step runs; a step dearer than the budget still runs one;
    a frame dearer than the period leaves the steps MIN_BUDGET_SHARE of it."""
    pacer = FramePacer()
    assert pacer.allowed(1000, PERIOD) == 1
    pacer.record_steps(1, 1.0)
    assert pacer.allowed(1000, PERIOD) == 1
    pacer.record_frame(1.0)
    assert math.isclose(pacer.budget(PERIOD), MIN_BUDGET_SHARE * PERIOD)


def test_the_rate_meter_reports_once_an_interval_is_full() -> None:
    """Steps and frames per second over about a second, then it starts again."""
    meter = RateMeter()
    assert meter.count(0.0, 0, 0, 600.0) is None
    reports = [meter.count(tick / 60, 8, 1, 600.0) for tick in range(1, 61)]
    rate = reports[-1]
    assert all(report is None for report in reports[:-1]) and rate is not None
    assert math.isclose(rate.steps_per_second, 480.0)
    assert math.isclose(rate.frames_per_second, 60.0)
    assert rate.asked_steps_per_second == 600.0


def test_the_run_loop_lowers_steps_per_frame_and_reports_what_it_gets() -> None:
    """A net whose step costs 1 ms (fake clock) at 1000 steps per frame: every frame gets
    only the steps that fit the period, frames still come every period, and the rate
    message says asked 60 000 steps/s, getting ~60 × that count."""
    clock = FakeClock()
    sent: list[Message] = []

    async def scenario() -> list[int]:
        registry = SessionRegistry(Settings(store_path=""))
        try:
            session = await registry.create({"network": {"hidden_layers": [3]}})
            trainer, build_frame = session.trainer, session.frame
            real_run = trainer.run

            def costly_run(n: int) -> int:
                clock.now += 1e-3 * n
                return real_run(n)

            def costly_frame() -> bytes:
                clock.now += 2e-3
                return build_frame()

            trainer.run = costly_run  # type: ignore[method-assign]
            session.frame = costly_frame  # type: ignore[method-assign]
            session.broadcast = sent.append  # type: ignore[method-assign,assignment]
            session.speed = 1000  # not running: the registry's own loop stays asleep
            loop = RunLoop(session, clock=clock)
            steps = []
            for _ in range(70):
                started = clock.now
                frame, ran = await loop.tick()
                assert frame is not None
                steps.append(ran)
                loop.report(ran, True)
                clock.now = max(clock.now, started + loop.period())  # the sleep until the next
            return steps
        finally:
            await registry.close()

    steps = asyncio.run(scenario())
    fit = int((STEP_SHARE * PERIOD - 2e-3) / 1e-3)
    assert steps[0] == 1  # learning the cost
    assert all(fit - 1 <= count <= fit for count in steps[2:])
    rates = [message for message in sent if isinstance(message, RateMessage)]
    assert rates, "no rate message after a second of frames"
    rate: Any = rates[0]
    assert rate.asked_steps_per_second == 60_000
    assert math.isclose(rate.frames_per_second, 60.0, rel_tol=0.05)
    assert (fit - 1) * 55 <= rate.steps_per_second <= fit * 61
