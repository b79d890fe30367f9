"""Hostile-client figures, printed as JSON lines, against a real server process on a free
127.0.0.1 port (clients run here; every loop is bounded and the script stops by itself):

* ``fairness``: the frame rate of a session that plays while two others (8×16 net, 2000
  points, batch 1000) each have 4 sockets looping ``step n=10000``, against the rate with
  no attack (target ≥ 80 %), and a new session's time from POST to welcome under the attack
  (target ≤ 200 ms);
* ``stalled``: 1000 viewers that never read: the server's extra memory (target ≤ 50 MB),
  the healthy client's frame rate against before (target ≥ 90 %), and whether the stalled
  connections are closed;
* ``fuzz``: mutated imports of real exports: 5xx answers, hangs, tracebacks in the
  server's log (targets: 0, 0, 0);
* ``restart``: SIGTERM and a restart: every session comes back with the same token at the
  same step, bit for bit, and goes on like the original.

    python bench/stress.py [--only fairness,stalled,fuzz,restart] [--imports 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import math
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from processes import Json, ServerProcess, stalled_viewer

BIG: Json = {"network": {"hidden_layers": [16] * 8}, "data": {"n_points": 2000},
             "hyper": {"batch_size": 1000}}
SMALL: Json = {"network": {"hidden_layers": [3]}, "data": {"dataset": "xor", "n_points": 60}}


def emit(**figures: Any) -> None:
    print(json.dumps(figures), flush=True)


def progress(text: str) -> None:
    print(f"[stress] {text}", file=sys.stderr, flush=True)


def rss_megabytes(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


@contextlib.contextmanager
def server(**env: str) -> Iterator[ServerProcess]:
    with tempfile.TemporaryDirectory(prefix="bp-stress-") as tmp:
        running = ServerProcess(Path(tmp) / "sessions.sqlite3", Path(tmp) / "server.log", **env)
        running.start()
        try:
            yield running
        finally:
            running.stop()


# ------------------------------------------------------------------- sockets
async def hello(conn: ClientConnection, token: str) -> Json:
    """Say hello as the presenter; the welcome."""
    await conn.send(json.dumps({"type": "hello", "role": "presenter", "token": token}))
    while True:
        message = await conn.recv()
        if isinstance(message, str):
            parsed: Json = json.loads(message)
            if parsed["type"] == "welcome":
                return parsed
            assert parsed["type"] != "error", parsed


async def command(conn: ClientConnection, message: Json, request_id: Any) -> Json:
    await conn.send(json.dumps({**message, "id": request_id}))
    while True:
        reply = await conn.recv()
        if isinstance(reply, str):
            parsed: Json = json.loads(reply)
            if parsed.get("id") == request_id and parsed["type"] in ("ack", "error"):
                return parsed


async def count_frames(conn: ClientConnection, seconds: float) -> int:
    frames, deadline = 0, time.monotonic() + seconds
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while time.monotonic() < deadline:
                if isinstance(await conn.recv(), bytes):
                    frames += 1
    return frames


class FrameClock:
    """Reads a socket all the time, noting when each frame arrives (so no backlog piles up
    in the client while the bench does something else)."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn, self.arrivals = conn, list[float]()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for message in self.conn:
                if isinstance(message, bytes):
                    self.arrivals.append(time.monotonic())

    async def rate(self, seconds: float) -> float:
        """Frames per second over the next ``seconds``."""
        start = time.monotonic()
        await asyncio.sleep(seconds)
        return sum(1 for t in self.arrivals if t >= start) / (time.monotonic() - start)

    async def close(self) -> None:
        await self.conn.close()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def presenter(running: ServerProcess, created: Json) -> ClientConnection:
    conn = await connect(running.ws(created["id"]), max_size=2**24, open_timeout=10)
    await hello(conn, created["presenter_token"])
    return conn


# ------------------------------------------------------------------- fairness
async def attacker(running: ServerProcess, created: Json, stop: float) -> int:
    """One socket looping step n=10000 until ``stop``; the commands answered."""
    answered = 0
    conn = await presenter(running, created)
    try:
        while time.monotonic() < stop:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(stop - time.monotonic(), 0.01)):
                    await command(conn, {"type": "step", "n": 10_000}, answered)
                    answered += 1
    finally:
        await conn.close()
    return answered


async def time_to_welcome(running: ServerProcess) -> float:
    """Seconds from POST /api/sessions to the welcome on the new session's socket."""
    started = time.perf_counter()
    created = await asyncio.to_thread(running.create, None)
    conn = await presenter(running, created)
    elapsed = time.perf_counter() - started
    await conn.close()
    return elapsed


async def fairness(seconds: float) -> None:
    with server() as running:
        victim_socket = await presenter(running, running.create(None))
        await command(victim_socket, {"type": "play"}, "play")
        victim = FrameClock(victim_socket)
        await asyncio.sleep(1.0)
        alone = await victim.rate(seconds)
        welcome_alone = [await time_to_welcome(running) for _ in range(3)]
        big = [running.create(BIG) for _ in range(2)]
        stop = time.monotonic() + seconds + 6
        attack = [asyncio.create_task(attacker(running, created, stop))
                  for created in big for _ in range(4)]
        await asyncio.sleep(2.0)  # the attack is in full swing
        running.request("GET", "/api/metrics?reset=true")
        attacked = await victim.rate(seconds)
        lag = running.request("GET", "/api/metrics")[1]["event_loop_lag"]
        welcomes = [await time_to_welcome(running) for _ in range(5)]
        answered = sum(await asyncio.gather(*attack))
        await victim.close()
    emit(figure="fairness_frame_rate", alone_fps=round(alone, 1),
         under_attack_fps=round(attacked, 1), ratio=round(attacked / alone, 3), target=0.8,
         attack="2 sessions (8x16 net, 2000 points, batch 1000) x 4 sockets looping "
                "step n=10000", attack_commands_answered=answered)
    emit(figure="fairness_new_session_welcome", alone_ms=round(min(welcome_alone) * 1e3, 1),
         under_attack_ms=round(max(welcomes) * 1e3, 1),
         under_attack_median_ms=round(sorted(welcomes)[len(welcomes) // 2] * 1e3, 1),
         target_ms=200)
    emit(figure="fairness_event_loop_lag", p99_ms=round(lag["p99_ms"], 1),
         max_ms=round(lag["max_ms"], 1))


# --------------------------------------------------------------------- stalled
def start_fleet(port: int, session_id: str, code: str, count: int) -> subprocess.Popen[str]:
    """A process of its own holding ``count`` stalled viewers (so that their handshakes do
    not slow the healthy client's reading here); returns once they all said hello."""
    fleet = subprocess.Popen([sys.executable, __file__, "--fleet", str(port), session_id, code,
                              str(count)], stdout=subprocess.PIPE, text=True)
    assert fleet.stdout is not None
    line = fleet.stdout.readline()
    assert line.startswith("ready"), line
    return fleet


def run_fleet(port: int, session_id: str, code: str, count: int) -> None:
    """The fleet process: open the stalled viewers, say so, then hold them until killed
    (at most five minutes)."""
    with ThreadPoolExecutor(32) as pool:
        sockets = list(pool.map(lambda _: stalled_viewer("127.0.0.1", port, session_id, code),
                                range(count)))
    print(f"ready {len(sockets)}", flush=True)
    time.sleep(300)


def open_connections(running: ServerProcess) -> int:
    """The server's established TCP connections on its port (from /proc/net/tcp)."""
    port_hex = f"{running.port:04X}"
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[1].endswith(f":{port_hex}") and fields[3] == "01":
                    count += 1
    return count


async def present(running: ServerProcess, created: Json) -> str:
    conn = await presenter(running, created)
    await conn.send(json.dumps({"type": "present", "id": "present"}))
    try:
        while True:
            message = await conn.recv()
            if isinstance(message, str):
                parsed = json.loads(message)
                if parsed["type"] == "state" and parsed["class"]:
                    code: str = parsed["class"]["code"]
                    return code
    finally:
        await conn.close()


async def stalled(count: int, seconds: float) -> None:
    # A send timeout long enough for every stalled viewer to be connected at once.
    timeout = 15
    with server(BACKPROP_SEND_TIMEOUT_SECONDS=str(timeout),
                BACKPROP_MAX_VIEWERS_PER_SESSION=str(2 * count)) as running:
        created = running.create(None)
        code = await present(running, created)
        healthy_socket = await presenter(running, created)
        await command(healthy_socket, {"type": "play"}, "play")
        healthy = FrameClock(healthy_socket)
        await asyncio.sleep(1.0)
        alone = await healthy.rate(seconds)
        rss_before = rss_megabytes(running.pid)
        started = time.monotonic()
        fleet = await asyncio.to_thread(start_fleet, running.port, created["id"], code, count)
        connected_in = time.monotonic() - started
        status, info = running.request("GET", f"/api/sessions/{created['id']}")
        viewers_connected = info["viewers"] if status == 200 else None
        rss_peak = rss_megabytes(running.pid)
        during = await healthy.rate(min(seconds, 3.0))
        rss_peak = max(rss_peak, rss_megabytes(running.pid))
        deadline = time.monotonic() + 2 * timeout + 10
        while time.monotonic() < deadline and open_connections(running) > 1:
            await asyncio.sleep(0.5)
        dropped_after = time.monotonic() - started
        left_open = open_connections(running) - 1
        after = await healthy.rate(seconds)
        rss_after = rss_megabytes(running.pid)
        fleet.kill()
        fleet.wait(10)
        await healthy.close()
    emit(figure="stalled_sockets_memory", stalled=count, rss_before_mb=round(rss_before, 1),
         peak_extra_mb=round(rss_peak - rss_before, 1),
         extra_after_drop_mb=round(rss_after - rss_before, 1), target_mb=50,
         viewers_when_connected=viewers_connected, connect_seconds=round(connected_in, 1))
    emit(figure="stalled_sockets_frame_rate", alone_fps=round(alone, 1),
         while_stalled_fps=round(during, 1), after_fps=round(after, 1),
         ratio=round(during / alone, 3), target=0.9)
    emit(figure="stalled_sockets_closed", stalled=count, connections_left_open=left_open,
         all_closed_after_s=round(dropped_after, 1), send_timeout_s=timeout)


# ------------------------------------------------------------------------ fuzz
HOSTILE: list[Any] = [
    None, True, False, 0, -1, 1, 3, 2**31, 2**32, 2**53, 2**64, 2**200, 10**60, 10**400,
    -(10**400), 0.5, -0.0, 1e-320, 1e308, -1e308, math.nan, math.inf, -math.inf, "", "x",
    "a", "²", "٣", "\ud800", "forward", "PCG64", [], [[]], [None], [0.03], [[0, []]],
    [[math.inf, [0.03]]], {}, {"\ud800": 1}, {"0": []}, [1e308] * 3, [[[[[[[[1]]]]]]]],
]


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path in a JSON value (long lists: their first two items and the last)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_paths(item, (*prefix, key))
    elif isinstance(value, list):
        indices = range(len(value)) if len(value) <= 4 else (0, 1, len(value) - 1)
        for index in indices:
            yield from json_paths(value[index], (*prefix, index))


def hostile_value(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.6:
        return copy.deepcopy(rng.choice(HOSTILE))
    if roll < 0.8:
        return rng.choice([rng.randint(-(2**70), 2**70), rng.randint(-3, 10)])
    if roll < 0.9:
        return rng.uniform(-1e6, 1e6)
    return "".join(rng.choice("ab²\ud800 1.") for _ in range(rng.randint(0, 4)))


def mutated(exported: Json, paths: list[tuple[Any, ...]], rng: random.Random) -> Any:
    """A copy of ``exported`` with one to three random mutations."""
    result: Any = copy.deepcopy(exported)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        path = rng.choice(paths)
        if not path:
            continue
        parent: Any = result
        try:
            for part in path[:-1]:
                parent = parent[part]
            target = parent[path[-1]]
            operation = rng.choice(("replace", "replace", "replace", "delete", "add",
                                    "grow", "cut"))
            if operation == "delete":
                del parent[path[-1]]
            elif operation == "add" and isinstance(target, dict):
                target[rng.choice(("extra", "\ud800", "0"))] = hostile_value(rng)
            elif operation == "grow" and isinstance(target, list):
                target.extend(copy.deepcopy(target[:1]) or [hostile_value(rng)])
            elif operation == "cut" and isinstance(target, list):
                del target[len(target) // 2:]
            else:
                parent[path[-1]] = hostile_value(rng)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation took this path away
    return result


async def real_exports(running: ServerProcess) -> list[Json]:
    """Exports of real runs: fresh, mid-step, a sweep, Adam, a diverged regression."""
    plans: list[tuple[Json, list[Json]]] = [
        (SMALL, []),
        (SMALL, [{"type": "step", "n": 3}, {"type": "phase_step"}, {"type": "phase_step"}]),
        (SMALL, [{"type": "sweep", "learning_rates": [0.01, 3.0]}, {"type": "step", "n": 4},
                 {"type": "phase_step"}]),
        ({**SMALL, "hyper": {"optimizer": "adam"}}, [{"type": "step", "n": 5}]),
        ({"network": {"hidden_layers": [3], "activation": "relu"},
          "data": {"dataset": "plane", "n_points": 60}},
         [{"type": "set_hyper", "learning_rate": 10}, {"type": "step", "n": 60}]),
    ]
    exports = []
    for config, commands in plans:
        created = running.create(config)
        conn = await presenter(running, created)
        for index, message in enumerate(commands):
            await command(conn, message, index)
        await conn.close()
        exports.append(running.export(created))
    return exports


async def usable(running: ServerProcess, created: Json) -> bool:
    """An accepted import: its presenter is welcomed and a step is answered."""
    try:
        async with asyncio.timeout(15):
            conn = await presenter(running, created)
            reply = await command(conn, {"type": "step", "n": 2}, "usable")
            await conn.close()
            return reply["type"] in ("ack", "error")
    except Exception:
        return False


async def fuzz(imports: int, seed: int) -> None:
    rng = random.Random(seed)
    with server() as running:
        exports = await real_exports(running)
        paths = [list(json_paths(exported)) for exported in exports]
        answers: dict[str, int] = {}
        hangs, unusable, checked = 0, 0, 0
        started = time.monotonic()

        def post(body: bytes) -> tuple[int, Any]:
            try:
                return running.request("POST", "/api/sessions", raw=body, timeout=30)
            except TimeoutError:
                return -1, None

        with ThreadPoolExecutor(4) as pool:
            for batch in range(0, imports, 64):
                bodies = []
                for _ in range(min(64, imports - batch)):
                    which = rng.randrange(len(exports))
                    bodies.append(json.dumps(
                        {"snapshot": mutated(exports[which], paths[which], rng)}).encode())
                for status, answer in await asyncio.to_thread(lambda b=bodies: list(
                        pool.map(post, b))):
                    if status == -1:
                        hangs += 1
                        continue
                    kind = "5xx" if status >= 500 else str(status)
                    answers[kind] = answers.get(kind, 0) + 1
                    if status == 422 and not (isinstance(answer, dict) and isinstance(
                            answer.get("detail"), dict) and answer["detail"].get("message")):
                        answers["422 without a message"] = answers.get(
                            "422 without a message", 0) + 1
                    if status == 201 and checked < 500:
                        checked += 1
                        unusable += not await usable(running, answer)
        elapsed = time.monotonic() - started
        tracebacks = running.tracebacks()
    emit(figure="fuzzed_imports", imports=imports, seconds=round(elapsed, 1),
         answers=dict(sorted(answers.items())), server_errors_5xx=answers.get("5xx", 0),
         hangs=hangs, tracebacks_in_log=tracebacks, accepted_checked=checked,
         accepted_unusable=unusable, targets={"5xx": 0, "hangs": 0, "tracebacks": 0})


# --------------------------------------------------------------------- restart
async def restart() -> None:
    """Sessions of every kind, SIGTERM, restart: each comes back bit for bit and goes on
    as an uninterrupted copy would; then the same with SIGKILL after a save."""
    from backprop_playground.trainer import restore

    with server(BACKPROP_STORE_INTERVAL_SECONDS="1") as running:
        plans: list[tuple[Json, list[Json]]] = [
            (None, [{"type": "step", "n": 25}]),
            (SMALL, [{"type": "step", "n": 7}, {"type": "phase_step"}]),
            (SMALL, [{"type": "step", "n": 3}, {"type": "phase_step"},
                     {"type": "phase_step"}, {"type": "phase_step"}]),
            ({**SMALL, "hyper": {"optimizer": "adam"}}, [{"type": "step", "n": 12}]),
            (SMALL, [{"type": "sweep", "learning_rates": [0.01, 0.1, 1.0]},
                     {"type": "step", "n": 9}]),
            (BIG, [{"type": "step", "n": 3}]),
            (SMALL, [{"type": "present"}, {"type": "step", "n": 4}]),
        ]
        sessions = []
        for config, commands in plans:
            created = running.create(config)
            conn = await presenter(running, created)
            for index, message in enumerate(commands):
                await command(conn, message, index)
            await conn.close()
            sessions.append(created)
        before = [running.export(created) for created in sessions]
        stopped = time.monotonic()
        running.stop(signal.SIGTERM)
        running.start()
        downtime = time.monotonic() - stopped
        identical, continues = 0, 0
        for created, exported in zip(sessions, before, strict=True):
            identical += running.export(created) == exported
            reference = restore(exported["trainer"])
            reference.run(5)
            conn = await presenter(running, created)  # the same token still works
            await command(conn, {"type": "step", "n": 5}, "after")
            await conn.close()
            after = running.export(created)["trainer"]
            continues += (after["step"] == reference.step_count
                          and after["parameters"] == reference.params.values.tolist())
        emit(figure="restart_sigterm", sessions=len(sessions), identical_exports=identical,
             continue_bit_for_bit=continues, restart_seconds=round(downtime, 2),
             target="every session")
        created = running.create(SMALL)
        conn = await presenter(running, created)
        await command(conn, {"type": "step", "n": 10}, 1)
        saved = running.export(created)
        await asyncio.sleep(2.5)  # more than one save interval
        await command(conn, {"type": "step", "n": 10}, 2)
        running.stop(signal.SIGKILL)
        running.start()
        back = running.export(created)["trainer"]["step"]
        emit(figure="restart_kill_9", store_interval_s=1, step_when_killed=20,
             step_restored=back, steps_lost=20 - back,
             restored_as_saved=back == 20 or running.export(created) == saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="fairness,stalled,fuzz,restart")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--imports", type=int, default=10_000)
    parser.add_argument("--stalled", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fleet", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fleet:
        port, session_id, code, count = args.fleet
        run_fleet(int(port), session_id, code, int(count))
        return
    chosen = set(args.only.split(","))
    if "fairness" in chosen:
        progress("fairness")
        asyncio.run(fairness(args.seconds))
    if "stalled" in chosen:
        progress(f"stalled: {args.stalled} sockets")
        asyncio.run(stalled(args.stalled, args.seconds))
    if "fuzz" in chosen:
        progress(f"fuzz: {args.imports} mutated imports")
        asyncio.run(fuzz(args.imports, args.seed))
    if "restart" in chosen:
        progress("restart")
        asyncio.run(restart())


if __name__ == "__main__":
    main()
