"""Frames per second a single viewer really receives at the top speed, and the steps per
second the run gets, printed as JSON lines (one per net and repeat):

* the default net; six hidden layers of 8 with 7 features; [8, 8] with a full batch; the
  largest net the limits allow (8 hidden layers of 16) with all 9 features.

Target: ≥ 55 frames/s received for each (the session makes 60), whatever the steps cost:
the run loop runs fewer steps per frame when the asked ones do not fit (live/pacing.py).
The presenter's socket is the one viewer; frames are counted as they arrive over the
loopback WebSocket, after a warm-up second. ``rate_message`` is what the page shows
("asked … · getting …"). The machine's load average is printed too: on a shared machine
the frames a process can make follow the CPU it gets.

    python bench/frame_rate.py [--seconds 4] [--repeats 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

from backprop_playground.trainer import FEATURES, LIMITS
from backprop_playground.wire.catalogue import COMMAND_LIMITS
from backprop_playground.wire.frame import HEADER, HEADER_FIELDS
from server import command, emit, presenter, progress, server_process

TOP_SPEED = COMMAND_LIMITS["speed"][1]
LARGEST = [int(LIMITS["neurons_per_layer"][1])] * int(LIMITS["hidden_layers"][1])
NETS: dict[str, dict[str, Any]] = {
    "default_4x2": {},
    "8x6_7_features": {"network": {"hidden_layers": [8] * 6, "features": list(FEATURES[:7])}},
    "8x8_full_batch": {"network": {"hidden_layers": [8, 8]},
                       "hyper": {"batch_size": int(LIMITS["batch_size"][1])}},
    "largest_16x8_9_features": {"network": {"hidden_layers": LARGEST,
                                            "features": list(FEATURES)}},
}
TARGET_FPS = 55.0
STEP_FIELD = [field.name for field in HEADER_FIELDS].index("step")


async def measure(base: str, name: str, config: dict[str, Any], seconds: float) -> None:
    """Play at the top speed; count the frames received and the steps they carry."""
    _, ws = await presenter(base, config)
    await command(ws, {"type": "set_hyper", "id": 1, "speed": TOP_SPEED})
    await command(ws, {"type": "play", "id": 2})
    rate: dict[str, Any] = {}
    frames, first_step, last_step, started = 0, None, 0, 0.0
    warm_until = time.perf_counter() + 1.0
    end = warm_until + seconds
    while (now := time.perf_counter()) < end:
        try:
            message = await asyncio.wait_for(ws.recv(), end - now)
        except TimeoutError:
            break
        if isinstance(message, str):
            parsed = json.loads(message)
            if parsed.get("type") == "rate" and now > warm_until:
                rate = parsed
            continue
        if now < warm_until:
            continue
        step = HEADER.unpack_from(message)[STEP_FIELD]
        if first_step is None:
            first_step, started = step, now
        frames, last_step = frames + 1, step
    elapsed = time.perf_counter() - started
    await ws.close()
    fps = frames / elapsed if elapsed > 0 else 0.0
    emit(figure="frame_rate_top_speed", net=name, speed_steps_per_frame=TOP_SPEED,
         frames_per_second=round(fps, 1),
         steps_per_second=round((last_step - (first_step or 0)) / elapsed, 0),
         target_frames_per_second=TARGET_FPS, meets_target=fps >= TARGET_FPS,
         steps_per_frame=round((last_step - (first_step or 0)) / max(frames, 1), 1),
         load_average_1min=round(os.getloadavg()[0], 1), cpus=os.cpu_count(),
         rate_message={key: rate.get(key) for key in
                       ("asked_steps_per_second", "steps_per_second", "frames_per_second")})


async def main_async(args: argparse.Namespace) -> None:
    with server_process() as base:
        for repeat in range(args.repeats):
            for name, config in NETS.items():
                progress(f"{name} (repeat {repeat + 1})")
                await measure(base, name, config, args.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=2)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
