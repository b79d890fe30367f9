"""Classroom scale: N viewers (WebSocket clients in one separate process) on one presented
session at 30 frames per second, N = 0, 50, 100, 200. Prints one JSON line per N:
per-viewer frames received / frames sent, the bytes (frames and JSON) each viewer receives
per second, the trainer's step rate relative to 0 viewers, and the server's CPU and memory.
Viewers ask for delta frames as the page does (``--whole-frames``: not); ``--net largest``
presents the largest net the limits allow.

    python bench/classroom.py [--seconds 8] [--speed 20] [--net largest] [--whole-frames]
                              [--counts 0 50 100 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classroom_wifi import largest_network
from server import _drain, command, http, presenter, server_process

SEQUENCE_AND_STEP = struct.Struct("<II")  # header bytes 8..16: sequence, step


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def viewers_main(url: str, code: str, count: int, seconds: float) -> None:
    """(Child process) connect ``count`` viewers, count frames for ``seconds``, print JSON."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async def one() -> tuple[int, int, int, int]:
        received, first, last, size = 0, None, None, 0
        async with connect(url, max_size=2**22) as ws:
            await ws.send(json.dumps({"type": "hello", "role": "viewer", "token": code,
                                      "deltas": os.environ.get("BENCH_WHOLE_FRAMES") != "1"}))
            ready.append(1)

            async def discard() -> None:  # until "go": what arrives before is not counted
                while True:
                    await ws.recv()

            early = asyncio.create_task(discard())
            await start.wait()
            early.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await early
            deadline = asyncio.get_running_loop().time() + seconds
            while (left := deadline - asyncio.get_running_loop().time()) > 0:
                try:
                    message = await asyncio.wait_for(ws.recv(), left)
                except (TimeoutError, ConnectionClosed):
                    break
                size += len(message)
                if isinstance(message, bytes):
                    sequence, _ = SEQUENCE_AND_STEP.unpack_from(message, 8)
                    first = sequence if first is None else first
                    last, received = sequence, received + 1
        return received, first or 0, last or 0, size

    ready: list[int] = []
    start = asyncio.Event()
    tasks = [asyncio.create_task(one()) for _ in range(count)]
    while len(ready) < count:
        await asyncio.sleep(0.05)
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    start.set()
    results = [await task for task in tasks]
    ratios = [r / (last - first + 1) for r, first, last, _ in results if last >= first and r]
    print(json.dumps({"ratios": ratios, "received": [r for r, _, _, _ in results],
                      "bytes": [b for _, _, _, b in results]}), flush=True)


async def present(ws: Any) -> str:
    """Present the session; the join code viewers say hello with (from the state message
    that comes with the ack)."""
    await ws.send(json.dumps({"type": "present", "id": 2}))
    code = None
    while True:
        reply = await ws.recv()
        if isinstance(reply, str):
            parsed = json.loads(reply)
            if parsed.get("type") == "state" and parsed.get("class"):
                code = parsed["class"]["code"]
            if parsed.get("type") in ("ack", "error") and parsed.get("id") == 2:
                assert parsed["type"] == "ack" and code is not None, parsed
                return str(code)


async def measure(base: str, pid: int, viewers: int, seconds: float, speed: float) -> dict:
    session_id, ws = await presenter(base)
    await command(ws, {"type": "set_hyper", "speed": speed, "id": 1})
    if os.environ.get("BENCH_NET") == "largest":
        reply = await command(ws, {"type": "configure", "id": 9,
                                   "config": {"network": largest_network(base)}})
        assert reply["type"] == "ack", reply
    code = await present(ws)
    child = None
    if viewers:
        url = base.replace("http", "ws") + f"/ws/sessions/{session_id}"
        child = subprocess.Popen([sys.executable, __file__, "--child", url, code, str(viewers),
                                  str(seconds)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True)
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "READY"
    await command(ws, {"type": "play", "id": 3})
    reading = asyncio.create_task(_drain(ws))  # a presenter's page reads what it is sent
    await asyncio.sleep(1.0)
    step0 = http(base, f"/api/sessions/{session_id}")["step"]
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    if child is not None:
        child.stdin.write("go\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
    report = None
    if child is not None:  # the viewers count for ``seconds`` and then report
        line = await asyncio.get_running_loop().run_in_executor(None, child.stdout.readline)
        report = json.loads(line)
    else:
        await asyncio.sleep(seconds)
    step1 = http(base, f"/api/sessions/{session_id}")["step"]
    elapsed = time.monotonic() - t0
    cpu = (cpu_seconds(pid) - cpu0) / elapsed
    result = {"viewers": viewers, "steps_per_s": round((step1 - step0) / elapsed, 1),
              "server_cpu_percent": round(100 * cpu, 1),
              "server_rss_mb": round(rss_megabytes(pid), 1)}
    if child is not None and report is not None:
        child.wait(30)
        ratios = report["ratios"]
        per_second = sum(report["bytes"]) / viewers / seconds
        result |= {"frames_per_viewer_per_s": round(sum(report["received"]) / viewers / seconds, 1),
                   "bytes_per_viewer_per_s": round(per_second),
                   "mbit_per_viewer": round(8 * per_second / 1e6, 3),
                   "delivery_min": round(min(ratios), 3) if ratios else 0.0,
                   "delivery_mean": round(sum(ratios) / len(ratios), 3) if ratios else 0.0}
    reading.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reading
    await command(ws, {"type": "end_class", "id": 4})
    await ws.close()
    return result


async def main_async(args: argparse.Namespace) -> None:
    pids: list[int] = []
    with server_process(pids) as base:
        baseline = None
        for viewers in args.counts:
            result = await measure(base, pids[0], viewers, args.seconds, args.speed)
            baseline = baseline or result["steps_per_s"]
            result["step_rate_vs_0_viewers"] = round(result["steps_per_s"] / baseline, 3)
            result |= {"target_delivery": 0.9, "target_step_rate": 0.8}
            print(json.dumps(result), flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        asyncio.run(viewers_main(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--speed", type=float, default=20.0, help="steps per frame")
    parser.add_argument("--net", choices=("default", "largest"), default="default",
                        help="the default net, or the largest the limits allow")
    parser.add_argument("--whole-frames", action="store_true",
                        help="viewers read whole frames only (no delta frames, as a page does)")
    parser.add_argument("--counts", type=int, nargs="+", default=[0, 50, 100, 200],
                        help="numbers of viewers to measure")
    args = parser.parse_args()
    os.environ["BENCH_NET"] = args.net  # the viewers' process reads these
    os.environ["BENCH_WHOLE_FRAMES"] = "1" if args.whole_frames else "0"
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
