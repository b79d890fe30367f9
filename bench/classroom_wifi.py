"""A classroom over a shaped Wi-Fi link: one server and N viewers (WebSocket clients in a
few processes, each viewer from its own address) behind a shared link of 50 Mbit/s with
20 ± 5 ms delay and 0.5 % loss each way (bench/shaped_link.py: network namespaces, veth
pairs, tc token buckets, a delay line). The presenter presents a session, plays it and
sends a live set_hyper ten times a second, over a link of the same delay and loss but its
own queue (a per-station queue or the projector's cable; ``--presenter-link shared`` puts
it in the class's queue, behind the viewers' frames). Counting starts after 2 s of play.

Prints JSON lines: per group of viewers, the bytes each receives per second, frames per
second and delivery (frames received / frames published while it watched; min and mean),
the share of its frames that came without their maps (its link lagged; mean and max), how
stale its frames were (arrival after the first viewer's, ms), disconnections; and the
presenter's command-to-ack latency. Targets: every viewer ≥ 90 % of 30 frames/s, ack p99
≤ 150 ms, no viewer disconnected. Viewers ask for delta frames as the page does
(``--whole-frames``: not); ``--net largest`` presents the largest net the limits allow. Needs
root (it says so and exits 0 otherwise).

    sudo .venv/bin/python bench/classroom_wifi.py [--viewers 60] [--rate-mbit 50] [--seconds 20]
                                                  [--net largest] [--whole-frames]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from backprop_playground.wire.frame import FLAGS as FRAME_FLAGS
from backprop_playground.wire.frame import layout_document
from processes import http, stop_process
from shaped_link import LinkShape, ShapedLink, unavailable

PORT = 8800
FRAMES_PER_SECOND = 30.0
#: Where the frame header holds the frame counter and the flags.
AT = {field["name"]: field["offset"] for field in layout_document()["header"]}
SEQUENCE, FLAGS = struct.Struct("<I"), struct.Struct("<H")
MAPS_SKIPPED = 1 << FRAME_FLAGS.index("maps_skipped")
PER_PROCESS = 16  # viewers per client process
#: Seconds of play before counting: every flow past TCP's start-up, as in a class underway.
WARMUP_SECONDS = 2.0


@dataclass(frozen=True)
class Group:
    """Viewers behind one link shape (a client namespace of their own)."""

    name: str
    viewers: int
    shape: LinkShape


def largest_network(base: str) -> dict[str, Any]:
    """The network part of a config for the largest net the served limits allow."""
    options = http(base, "/api/options")
    layers, neurons = (int(options["limits"][name][1])
                       for name in ("hidden_layers", "neurons_per_layer"))
    return {"hidden_layers": [neurons] * layers,
            "features": [feature["name"] for feature in options["features"]]}


# ----------------------------------------------------------------- the children
async def presenter_main(base: str, address: str, seconds: float, speed: float) -> None:
    """Create, present and play a session; then time a set_hyper every 100 ms."""
    from websockets.asyncio.client import connect

    for _ in range(300):
        with contextlib.suppress(OSError):
            http(base, "/api/health")
            break
        await asyncio.sleep(0.05)
    created = http(base, "/api/sessions", {})
    url = base.replace("http", "ws") + created["websocket"]
    async with connect(url, max_size=2**22, local_addr=(address, 0)) as ws:
        waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        frames = 0
        join: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def read() -> None:
            nonlocal frames
            async for message in ws:
                if isinstance(message, bytes):
                    frames += 1
                    continue
                parsed = json.loads(message)
                code = (parsed.get("class") or {}).get("code") if parsed.get(
                    "type") == "state" else None
                if code and not join.done():
                    join.set_result(code)
                future = waiting.pop(parsed.get("id"), None) if parsed.get("type") in (
                    "ack", "error") else None
                if future is not None:
                    future.set_result(parsed)

        reader = asyncio.create_task(read())

        async def command(message: dict[str, Any]) -> tuple[dict[str, Any], float]:
            future = asyncio.get_running_loop().create_future()
            waiting[message["id"]] = future
            started = time.perf_counter()
            await ws.send(json.dumps(message))
            reply = await asyncio.wait_for(future, 10)
            return reply, time.perf_counter() - started

        await ws.send(json.dumps({"type": "hello", "role": "presenter",
                                  "token": created["presenter_token"]}))
        await command({"type": "set_hyper", "speed": speed, "id": 1})
        if os.environ.get("BENCH_NET") == "largest":
            reply, _ = await command({"type": "configure", "id": 9,
                                      "config": {"network": largest_network(base)}})
            assert reply["type"] == "ack", reply
        await command({"type": "present", "id": 2})
        code = await asyncio.wait_for(join, 10)  # viewers join with the class's code
        print(json.dumps({"session": created["id"], "code": code}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        await command({"type": "play", "id": 3})
        await asyncio.sleep(WARMUP_SECONDS)
        latencies, frames_before, started = [], frames, time.monotonic()
        index = 10
        while time.monotonic() - started < seconds:
            index += 1
            # momentum: a live change every step sees, with no history to grow (SGD runs)
            reply, latency = await command({"type": "set_hyper", "id": index,
                                            "momentum": 0.9 + (index % 2) * 1e-3})
            if reply["type"] == "ack":
                latencies.append(latency * 1e3)
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - started
        print(json.dumps({"ack_ms": latencies,
                          "frames_per_s": (frames - frames_before) / elapsed}), flush=True)
        reader.cancel()


async def viewers_main(url: str, code: str, addresses: list[str], seconds: float) -> None:
    """Connect one viewer per address; on "go" (and a warm-up), count what each receives for
    ``seconds``."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    ready = 0
    start = asyncio.Event()

    async def one(address: str) -> dict[str, Any]:
        nonlocal ready
        arrivals: list[tuple[int, float]] = []
        received_bytes, closed, without_maps = 0, None, 0
        async with connect(url, max_size=2**22, local_addr=(address, 0)) as ws:
            # as the page does, unless the run compares whole frames
            await ws.send(json.dumps({"type": "hello", "role": "viewer", "token": code,
                                      "deltas": os.environ.get("BENCH_WHOLE_FRAMES") != "1"}))
            ready += 1
            await start.wait()
            loop = asyncio.get_running_loop()
            counting = loop.time() + WARMUP_SECONDS
            deadline = counting + seconds
            while (left := deadline - loop.time()) > 0:
                try:
                    message = await asyncio.wait_for(ws.recv(), left)
                except TimeoutError:
                    break
                except ConnectionClosed as error:
                    closed = error.rcvd.code if error.rcvd else 1006
                    break
                if loop.time() < counting:
                    continue
                received_bytes += len(message)
                if isinstance(message, bytes):
                    arrivals.append((SEQUENCE.unpack_from(message, AT["sequence"])[0], time.time()))
                    without_maps += bool(FLAGS.unpack_from(message, AT["flags"])[0] & MAPS_SKIPPED)
        return {"address": address, "bytes": received_bytes, "arrivals": arrivals,
                "closed": closed, "without_maps": without_maps}

    tasks = [asyncio.create_task(one(address)) for address in addresses]
    while ready < len(addresses):
        if any(task.done() for task in tasks):
            break
        await asyncio.sleep(0.05)
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    start.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps([r if isinstance(r, dict) else {"error": repr(r), "arrivals": [],
                                                      "bytes": 0, "closed": -1,
                                                      "without_maps": 0}
                      for r in results]), flush=True)


# ---------------------------------------------------------------- the conductor
def run_classroom(groups: list[Group], seconds: float, speed: float = 20.0,
                  presenter_link: LinkShape | None = None) -> list[dict[str, Any]]:
    """Build the link, run the class for ``seconds`` and return the figures (JSON lines):
    one per group of viewers, then the presenter's. The presenter shares the first group's
    link (and its queue), or with ``presenter_link`` has a link of its own."""
    python = sys.executable
    here = str(Path(__file__).resolve())
    env = {**os.environ, "BACKPROP_LOG_LEVEL": "warning", "BACKPROP_STORE_PATH": "",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(here).parents[1] / "backend"),
                                                       os.environ.get("PYTHONPATH")]))}
    shared = presenter_link is None
    shapes = [g.shape for g in groups] + ([] if presenter_link is None else [presenter_link])
    addresses = [group.viewers + (k == 0 and shared) for k, group in enumerate(groups)]
    with ShapedLink(shapes, addresses_per_client=max(addresses)) as link:
        own = link.clients[0] if shared else link.clients[-1]
        base = f"http://{link.server_address}:{PORT}"
        children: list[subprocess.Popen[bytes]] = []
        try:
            server = link.popen(link.server_ns, [
                python, "-m", "backprop_playground.main", "--host", link.server_address,
                "--port", str(PORT)], env=env)  # `ip netns exec` execs: the server's own pid
            children.append(server)
            presenter = link.popen(own.ns, [
                python, here, "--child", "presenter", base, own.addresses[0],
                str(seconds), str(speed)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                env=env)
            children.append(presenter)
            presented = json.loads(_line(presenter))
            url = base.replace("http", "ws") + f"/ws/sessions/{presented['session']}"
            crowds: list[tuple[str, subprocess.Popen[bytes]]] = []
            for k, group in enumerate(groups):
                mine = link.clients[k].addresses[int(k == 0 and shared):][:group.viewers]
                for first in range(0, len(mine), PER_PROCESS):
                    crowd = link.popen(link.clients[k].ns, [
                        python, here, "--child", "viewers", url, presented["code"],
                        str(seconds), *mine[first:first + PER_PROCESS]],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
                    children.append(crowd)
                    crowds.append((group.name, crowd))
            for _, crowd in crowds:
                if _line(crowd) != "READY":
                    raise RuntimeError("a viewer process did not get ready")
            cpu, started = _cpu_seconds(server.pid), time.monotonic()
            for child in [presenter] + [crowd for _, crowd in crowds]:
                assert child.stdin is not None
                child.stdin.write(b"go\n")
                child.stdin.flush()
            per_group: dict[str, list[dict[str, Any]]] = {g.name: [] for g in groups}
            for name, crowd in crowds:
                per_group[name] += json.loads(_line(crowd, WARMUP_SECONDS + seconds + 60))
            figures = json.loads(_line(presenter, WARMUP_SECONDS + seconds + 60))
            figures["server_cpu_percent"] = round(
                100 * (_cpu_seconds(server.pid) - cpu) / (time.monotonic() - started), 1)
        finally:
            for child in reversed(children):
                stop_process(child, 10)
    return summarise(groups, per_group, figures, seconds)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _line(child: subprocess.Popen[bytes], timeout: float = 60.0) -> str:
    """The child's next line of output (RuntimeError after ``timeout`` s or at its end)."""
    assert child.stdout is not None
    result: list[bytes] = []

    def read() -> None:
        assert child.stdout is not None
        result.append(child.stdout.readline())

    import threading
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not result or not result[0]:
        raise RuntimeError(f"a child process said nothing within {timeout:g} s "
                           f"(exit code {child.poll()})")
    return result[0].decode().strip()


def summarise(groups: list[Group], per_group: dict[str, list[dict[str, Any]]],
              presenter: dict[str, Any], seconds: float) -> list[dict[str, Any]]:
    """The JSON lines: per group of viewers, then the presenter."""
    first_seen: dict[int, float] = {}
    for viewers in per_group.values():
        for viewer in viewers:
            for sequence, at in viewer["arrivals"]:
                first_seen[sequence] = min(at, first_seen.get(sequence, math.inf))
    lines = []
    for group in groups:
        viewers = per_group[group.name]
        fps, delivery, stale, rates, bare = [], [], [], [], []
        for viewer in viewers:
            arrivals = viewer["arrivals"]
            fps.append(len(arrivals) / seconds)
            rates.append(viewer["bytes"] / seconds)
            if arrivals:
                span = arrivals[-1][0] - arrivals[0][0] + 1
                delivery.append(len(arrivals) / span)
                bare.append(viewer["without_maps"] / len(arrivals))
                stale += [(at - first_seen[seq]) * 1e3 for seq, at in arrivals]
        stale.sort()
        lines.append({
            "figure": "classroom_wifi_viewers", "group": group.name, "viewers": group.viewers,
            "rate_mbit": group.shape.rate_mbit, "delay_ms": group.shape.delay_ms,
            "jitter_ms": group.shape.jitter_ms, "loss": group.shape.loss, "seconds": seconds,
            "bytes_per_viewer_per_s": round(sum(rates) / max(1, len(rates))),
            "mbit_per_viewer": round(8 * sum(rates) / max(1, len(rates)) / 1e6, 3),
            "frames_per_s_min": round(min(fps, default=0.0), 1),
            "frames_per_s_mean": round(sum(fps) / max(1, len(fps)), 1),
            "delivery_min": round(min(delivery, default=0.0), 3),
            "delivery_mean": round(sum(delivery) / max(1, len(delivery)), 3),
            "stale_ms_p50": round(_quantile(stale, 0.5), 1),
            "stale_ms_p99": round(_quantile(stale, 0.99), 1),
            "without_maps_mean": round(sum(bare) / max(1, len(bare)), 3),
            "without_maps_max": round(max(bare, default=0.0), 3),
            "disconnected": sum(1 for v in viewers if v["closed"] is not None),
            "target_frames_per_s": 0.9 * FRAMES_PER_SECOND,
        })
    acks = sorted(presenter["ack_ms"])
    lines.append({"figure": "classroom_wifi_presenter", "commands": len(acks),
                  "ack_ms_p50": round(_quantile(acks, 0.5), 1),
                  "ack_ms_p90": round(_quantile(acks, 0.9), 1),
                  "ack_ms_p99": round(_quantile(acks, 0.99), 1),
                  "ack_ms_max": round(acks[-1], 1) if acks else None,
                  "ack_ms_slowest": [round(a) for a in acks[-5:]],
                  "acks_over_150_ms": sum(1 for a in acks if a > 150),
                  "frames_per_s": round(presenter["frames_per_s"], 1),
                  "server_cpu_percent": presenter.get("server_cpu_percent"),
                  "target_ack_ms_p99": 150})
    return lines


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        role, rest = sys.argv[2], sys.argv[3:]
        if role == "presenter":
            asyncio.run(presenter_main(rest[0], rest[1], float(rest[2]), float(rest[3])))
        else:
            asyncio.run(viewers_main(rest[0], rest[1], rest[3:], float(rest[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=60)
    parser.add_argument("--rate-mbit", type=float, default=50.0)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--jitter-ms", type=float, default=5.0)
    parser.add_argument("--loss", type=float, default=0.005)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--speed", type=float, default=20.0, help="steps per frame")
    parser.add_argument("--slow-viewers", type=int, default=0,
                        help="more viewers, each behind a slow link of its own kind")
    parser.add_argument("--slow-rate-mbit", type=float, default=0.3)
    parser.add_argument("--presenter-link", choices=("shared", "own"), default="own",
                        help="the presenter in the class's queue, or on a link of its own "
                             "(same delay and loss: a per-station queue, or a cable)")
    parser.add_argument("--net", choices=("default", "largest"), default="default",
                        help="the default net, or the largest the limits allow")
    parser.add_argument("--whole-frames", action="store_true",
                        help="viewers read whole frames only (no delta frames, as a page does)")
    args = parser.parse_args()
    os.environ["BENCH_NET"] = args.net  # the children read these
    os.environ["BENCH_WHOLE_FRAMES"] = "1" if args.whole_frames else "0"
    problem = unavailable()
    if problem:
        print(f"classroom_wifi: skipped: {problem} (run it as root)", file=sys.stderr)
        print(json.dumps({"figure": "classroom_wifi", "skipped": problem}))
        return
    shape = LinkShape(args.rate_mbit, args.delay_ms, args.jitter_ms, args.loss)
    groups = [Group("wifi", args.viewers, shape)]
    if args.slow_viewers:
        slow = LinkShape(args.slow_rate_mbit, args.delay_ms, args.jitter_ms, args.loss)
        groups.append(Group("slow", args.slow_viewers, slow))
    own = None if args.presenter_link == "shared" else shape
    for line in run_classroom(groups, args.seconds, args.speed, own):
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
