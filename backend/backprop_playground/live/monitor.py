"""Event-loop lag: how late a 10 ms sleep wakes up, sampled continuously."""

from __future__ import annotations

import asyncio
from collections import deque

import numpy as np


class LagMonitor:
    """Keeps the last ``capacity`` lag samples (seconds)."""

    def __init__(self, interval: float = 0.01, capacity: int = 3000) -> None:
        self.interval = interval
        self.samples: deque[float] = deque(maxlen=capacity)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.interval)
            self.samples.append(max(0.0, loop.time() - before - self.interval))

    def summary(self) -> dict[str, float]:
        """p50, p99 and max lag in milliseconds over the kept samples."""
        if not self.samples:
            return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "samples": 0}
        values = np.array(self.samples) * 1e3
        return {"p50_ms": float(np.percentile(values, 50)),
                "p99_ms": float(np.percentile(values, 99)),
                "max_ms": float(values.max()), "samples": len(values)}

    def reset(self) -> None:
        self.samples.clear()
