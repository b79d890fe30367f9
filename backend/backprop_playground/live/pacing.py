"""Frame pacing: how many steps fit in one frame's period, and the rate really achieved.

A running session makes a frame every period ``P = 1 / frames_per_second``. A frame costs
its steps (``n · c``, c the measured seconds per step) plus building and encoding it (``f``,
measured), and the event loop needs some of the period to send it. When the asked steps
per frame do not fit, the session runs fewer steps per frame, never fewer frames:

    budget  = max(MIN_BUDGET_SHARE · P, STEP_SHARE · P − f)
    allowed = max(1, ⌊budget / c⌋)

``c`` and ``f`` are moving averages (weight :data:`SMOOTHING` of the newest measurement),
so the count follows the real cost: a bigger network, a full batch, other sessions sharing
the trainer threads. :class:`RateMeter` counts steps and frames over about a second for the
page's "asked … · getting …".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: The share of a frame's period its steps and frame building may take; the rest is for
#: the event loop (sending, commands) and the other sessions.
STEP_SHARE = 0.6
#: The steps of a frame get at least this share of the period, however costly the frame.
MIN_BUDGET_SHARE = 0.1
#: Weight of the newest measurement in the moving averages.
SMOOTHING = 0.3
#: The rate is reported about this often (seconds).
RATE_INTERVAL_SECONDS = 1.0


class FramePacer:
    """Steps per frame within a frame's time budget, from the measured costs."""

    def __init__(self) -> None:
        #: Seconds per step (NaN until measured: the first frame runs one step to learn it).
        self.step_seconds = math.nan
        #: Seconds to build and encode a frame (0 until measured).
        self.frame_seconds = 0.0

    def budget(self, period: float) -> float:
        """Seconds of stepping one frame of ``period`` seconds may hold."""
        return max(MIN_BUDGET_SHARE * period, STEP_SHARE * period - self.frame_seconds)

    def allowed(self, due: int, period: float) -> int:
        """How many of the ``due`` steps to run this frame: all of them if they fit the
        budget, else as many as fit (at least one)."""
        if due <= 0:
            return 0
        if math.isnan(self.step_seconds):
            return 1
        fit = int(self.budget(period) / self.step_seconds) if self.step_seconds > 0 else due
        return max(1, min(due, fit))

    def record_steps(self, steps: int, seconds: float) -> None:
        """``steps`` whole steps took ``seconds``."""
        if steps > 0:
            self.step_seconds = _blend(self.step_seconds, seconds / steps)

    def record_frame(self, seconds: float) -> None:
        """Building and encoding a frame took ``seconds``."""
        self.frame_seconds = _blend(self.frame_seconds or math.nan, seconds)


def _blend(average: float, value: float) -> float:
    return value if math.isnan(average) else (1 - SMOOTHING) * average + SMOOTHING * value


@dataclass(frozen=True)
class Rate:
    """Steps and frames per second over the last interval, and the steps asked for."""

    asked_steps_per_second: float
    steps_per_second: float
    frames_per_second: float


class RateMeter:
    """Counts the steps and frames of a running session; a :class:`Rate` about once per
    RATE_INTERVAL_SECONDS."""

    def __init__(self) -> None:
        self._since: float | None = None
        self._steps = 0
        self._frames = 0

    def restart(self) -> None:
        """Forget the counts (the run paused: a pause is not a slow rate)."""
        self._since, self._steps, self._frames = None, 0, 0

    def count(self, now: float, steps: int, frames: int, asked: float) -> Rate | None:
        """Add ``steps`` and ``frames`` made by ``now``; the rate once an interval is full
        (then the counts start again), else None. ``asked``: steps per second asked for."""
        if self._since is None:
            self._since = now
            return None
        self._steps += steps
        self._frames += frames
        elapsed = now - self._since
        if elapsed < RATE_INTERVAL_SECONDS:
            return None
        rate = Rate(asked, self._steps / elapsed, self._frames / elapsed)
        self._since, self._steps, self._frames = now, 0, 0
        return rate
