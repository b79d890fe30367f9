"""Server figures, printed as JSON lines:

* frame build + encode time (median, and deflate's share) and size, with the Mbit/s a
  viewer needs at 30 frames/s: the default net, six hidden layers of 8, the largest net;
  and the same nets' delta frames at 1, 20 and 100 steps a frame (bytes, the time to make
  one, the Mbit/s a page that reads them needs);
* event-loop lag p50/p99 while one session trains at full speed;
* command-to-ack latency p50/p99 (set_hyper) while a session streams at 60 fps;
* frames delivered to 50 healthy viewers with one stalled viewer, relative to none stalled;
* the loss landscape's cost per frame (``landscape_blocks`` after a fresh step: f(s) at 38
  points, the valley, the saturation scan) and the frame build time with it.

The server runs in its own process on a free loopback port; clients run here.

    python bench/server.py [--viewers 50] [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from backprop_playground.live.fanout import KEY_FRAME_SECONDS
from backprop_playground.live.frames import build_frame
from backprop_playground.live.landscape_block import landscape_blocks
from backprop_playground.trainer import (
    FEATURES,
    NetworkConfig,
    TrainerConfig,
    TrainingSession,
)
from backprop_playground.wire.commands import Selection
from backprop_playground.wire.frame import body_of, encode_frame
from backprop_playground.wire.frame_delta import delta_frame
from processes import free_port, http


def emit(**figures: Any) -> None:
    print(json.dumps(figures), flush=True)


def progress(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def frame_figures() -> None:
    """Build + encode time (median; encoding's and deflate's share of it) and bytes per
    frame of trained runs, and what a viewer needs at the presented 30 frames/s."""
    nets = (("default_4x2", (4, 2), FEATURES[:2]), ("8x6_7_features", (8,) * 6, FEATURES[:7]),
            ("largest_16x8_9_features", (16,) * 8, FEATURES))
    for name, hidden, features in nets:
        trainer = TrainingSession(TrainerConfig(network=NetworkConfig(
            hidden_layers=hidden, features=features)))
        trainer.run(300)
        selection = Selection(layer=0, neuron=0, source=1)
        times, encoding, deflate, sizes = [], [], [], []
        for sequence in range(100):
            trainer.run(1)
            start = time.perf_counter()
            frame = build_frame(trainer, sequence=sequence, running=True,
                                metrics=trainer.evaluate(), selection=selection)
            built = time.perf_counter()
            data = encode_frame(frame)
            done = time.perf_counter()
            encode_frame(frame, level=0)  # the same without deflating
            times.append(done - start)
            encoding.append(done - built)
            deflate.append((done - built) - (time.perf_counter() - done))
            sizes.append(len(data))
        size = statistics.mean(sizes)
        emit(figure="frame_build_encode", net=name,
             median_ms=round(statistics.median(times) * 1e3, 3),
             encode_ms=round(statistics.median(encoding) * 1e3, 3),
             deflate_ms=round(max(0.0, statistics.median(deflate)) * 1e3, 3),
             bytes=round(size), mbit_per_viewer_at_30fps=round(8 * size * 30 / 1e6, 2),
             target_ms=2.0)
        for steps in (1, 20, 100):
            delta_figures(name, trainer, selection, steps)


def delta_figures(name: str, trainer: TrainingSession, selection: Selection,
                  steps: int) -> None:
    """Delta frames of a run, ``steps`` steps a frame: bytes, the time to make one (inflate
    the frame, subtract, deflate), and what a viewer that reads them needs at 30 frames/s
    (a whole frame every KEY_FRAME_SECONDS)."""
    previous, sizes, wholes, times = None, [], [], []
    for sequence in range(30):
        trainer.run(steps)
        data = encode_frame(build_frame(trainer, sequence=sequence, running=True,
                                        metrics=trainer.evaluate(), selection=selection))
        start = time.perf_counter()
        body = body_of(data)
        delta = delta_frame(data, body, *previous) if previous else None
        times.append(time.perf_counter() - start)
        if delta is not None:
            sizes.append(len(delta))
            wholes.append(len(data))
        previous = (data, body)
    per_key = KEY_FRAME_SECONDS * 30
    size = (statistics.mean(wholes) + (per_key - 1) * statistics.mean(sizes)) / per_key
    emit(figure="delta_frames", net=name, steps_per_frame=steps,
         delta_bytes=round(statistics.mean(sizes)), whole_bytes=round(statistics.mean(wholes)),
         make_ms=round(statistics.median(times[1:]) * 1e3, 3),
         mbit_per_viewer_at_30fps=round(8 * size * 30 / 1e6, 2),
         target_mbit=1.0 if name.startswith("default") else 2.0)


@contextlib.contextmanager
def server_process(pids: list[int] | None = None) -> Any:
    """A server on a free loopback port; yields its base URL (its pid goes into ``pids``)."""
    port = free_port()
    env = {**os.environ, "BACKPROP_LOG_LEVEL": "warning", "BACKPROP_SEND_TIMEOUT_SECONDS": "3",
           "BACKPROP_STORE_PATH": ""}  # nothing of a bench outlives it
    process = subprocess.Popen([sys.executable, "-m", "backprop_playground.main", "--port",
                                str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    if pids is not None:
        pids.append(process.pid)
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                http(base, "/api/health")
                break
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(10)


async def presenter(base: str, config: dict[str, Any] | None = None
                    ) -> tuple[str, ClientConnection]:
    created = http(base, "/api/sessions", {"config": config or {}})
    ws = await connect(base.replace("http", "ws") + created["websocket"], max_size=2**22)
    await ws.send(json.dumps({"type": "hello", "role": "presenter",
                              "token": created["presenter_token"]}))
    return created["id"], ws


async def command(ws: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    """Send and wait for the ack or error with this id (frames are skipped)."""
    await ws.send(json.dumps(message))
    while True:
        reply = await ws.recv()
        if isinstance(reply, str):
            parsed = json.loads(reply)
            if parsed.get("type") in ("ack", "error") and parsed.get("id") == message["id"]:
                return parsed


async def lag_figures(base: str, seconds: float) -> None:
    _, ws = await presenter(base)
    await command(ws, {"type": "set_hyper", "speed": 1000, "id": 1})
    await command(ws, {"type": "play", "id": 2})
    http(base, "/api/metrics?reset=true")
    drain = asyncio.create_task(_drain(ws))
    await asyncio.sleep(seconds)
    lag = http(base, "/api/metrics")["event_loop_lag"]
    drain.cancel()
    await ws.close()
    emit(figure="event_loop_lag_training_full_speed", p50_ms=round(lag["p50_ms"], 2),
         p99_ms=round(lag["p99_ms"], 2), max_ms=round(lag["max_ms"], 2), target_p99_ms=20)


async def _drain(ws: ClientConnection) -> int:
    count = 0
    with contextlib.suppress(Exception):
        async for message in ws:
            count += isinstance(message, bytes)
    return count


async def ack_latency(base: str, samples: int = 150) -> None:
    _, ws = await presenter(base)
    await command(ws, {"type": "play", "id": 0})
    latencies = []
    for index in range(1, samples + 1):
        start = time.perf_counter()
        reply = await command(ws, {"type": "set_hyper", "learning_rate": 0.01 + index * 1e-4,
                                   "id": index})
        assert reply["type"] == "ack", reply
        latencies.append(time.perf_counter() - start)
        await asyncio.sleep(0.05)  # 20 commands/s: under the server's rate limit
    await ws.close()
    values = np.array(latencies) * 1e3
    emit(figure="command_to_ack_while_streaming_60fps",
         p50_ms=round(float(np.percentile(values, 50)), 2),
         p99_ms=round(float(np.percentile(values, 99)), 2), samples=samples)


async def present(ws: ClientConnection) -> str:
    """Present the presenter's session; the class's join code (viewers need it)."""
    await ws.send(json.dumps({"type": "present", "id": "present"}))
    while True:
        reply = await ws.recv()
        if isinstance(reply, str):
            parsed = json.loads(reply)
            if parsed.get("type") == "state" and parsed.get("class"):
                code: str = parsed["class"]["code"]
                return code


async def viewer(url: str, code: str) -> ClientConnection:
    ws = await connect(url, max_size=2**22)
    await ws.send(json.dumps({"type": "hello", "role": "viewer", "token": code}))
    return ws


async def delivery(base: str, viewers: int, stalled: bool, seconds: float) -> float:
    session_id, ws = await presenter(base)
    code = await present(ws)
    url = base.replace("http", "ws") + f"/ws/sessions/{session_id}"
    healthy = [await viewer(url, code) for _ in range(viewers)]
    stuck = None
    if stalled:  # a raw socket that says hello and then never reads again
        stuck = await connect(url, max_size=2**22, max_queue=1)
        await stuck.send(json.dumps({"type": "hello", "role": "viewer", "token": code}))
    counters = [asyncio.create_task(_drain(v)) for v in healthy]
    await command(ws, {"type": "play", "id": 1})
    await asyncio.sleep(seconds)
    await command(ws, {"type": "pause", "id": 2})
    for v in healthy:
        await v.close()
    counts = [await task for task in counters]
    await ws.close()
    if stuck is not None:
        with contextlib.suppress(Exception):
            await stuck.close()
    return float(np.mean(counts))


def landscape_figures() -> None:
    """Median ms of the landscape blocks of one frame (after a fresh step, so uncached) and
    of a whole frame build (which includes them, after another fresh step), per net."""
    nets = (("default_4x2", (4, 2), FEATURES[:2]), ("8x6_7_features", (8,) * 6, FEATURES[:7]))
    for name, hidden, features in nets:
        trainer = TrainingSession(TrainerConfig(network=NetworkConfig(
            hidden_layers=hidden, features=features)))
        trainer.run(300)
        landscape, build = [], []
        for sequence in range(100):
            trainer.run(1)
            start = time.perf_counter()
            landscape_blocks(trainer, 0)
            landscape.append(time.perf_counter() - start)
            trainer.run(1)
            start = time.perf_counter()
            build_frame(trainer, sequence=sequence, running=True, metrics=trainer.evaluate(),
                        selection=None)
            build.append(time.perf_counter() - start)
        landscape_ms, build_ms = statistics.median(landscape) * 1e3, statistics.median(build) * 1e3
        emit(figure="landscape_per_frame", net=name, landscape_ms=round(landscape_ms, 3),
             frame_build_ms_with_it=round(build_ms, 3),
             share_pct=round(100 * landscape_ms / build_ms, 1) if build_ms else None)


async def main_async(args: argparse.Namespace) -> None:
    with server_process() as base:
        progress("event-loop lag")
        await lag_figures(base, args.seconds)
        progress("command-to-ack latency")
        await ack_latency(base)
        progress("fan-out, no stalled client")
        clean = await delivery(base, args.viewers, False, args.seconds)
        progress("fan-out, one stalled client")
        with_stalled = await delivery(base, args.viewers, True, args.seconds)
        emit(figure="fanout_delivery_with_one_stalled", viewers=args.viewers,
             frames_per_viewer_clean=round(clean, 1),
             frames_per_viewer_with_stalled=round(with_stalled, 1),
             ratio=round(with_stalled / clean, 4) if clean else None, target_ratio=0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    frame_figures()
    landscape_figures()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
