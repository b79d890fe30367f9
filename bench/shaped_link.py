"""A shaped network link for benches and tests: the server in one Linux network namespace,
the clients in others, behind a router namespace whose links are shaped like a classroom
Wi-Fi.

    with ShapedLink([LinkShape(rate_mbit=50, delay_ms=20, jitter_ms=5, loss=0.005)]) as link:
        server = link.popen(link.server_ns, [python, "-m", "backprop_playground.main", ...])
        viewers = link.popen(link.clients[0].ns, [python, "viewers.py", ...])

    server ns ──veth── router ns ──veth (shaped)── client ns 0
                                 └─veth (shaped)── client ns 1 …

Each client namespace has its own veth pair to the router and its own shape, the same in
both directions: the rate is a token bucket (``tc qdisc … tbf``) on the router's end of
each pair, towards the clients and towards the server; delay, jitter and loss come from a
small delay line (:func:`delay_line`, one process per direction) that holds every forwarded
IPv4 packet in an NFQUEUE for delay ± jitter, first in first out, and drops a share of
them. (``tc … netem`` would do the same in the kernel, but not every kernel has it — the
one these tests were written on has neither netem nor any tc classifier — while NFQUEUE and
tbf are wherever iptables is.) Delaying in a router rather than on the server's own egress
matters: a sending host's packets held there count against TCP's small-queue limit and
would throttle every flow to a trickle. NFQUEUE splits TCP's large offloaded packets before
queueing them, so loss and delay apply per wire packet.

Everything stays inside the namespaces made here, on private addresses (10.200.0.0/24 for
the server's side, 10.200.k+1.0/24 for client namespace k); :meth:`ShapedLink.close`
removes it all, also after an error. Needs root, ``ip`` (iproute2), ``tc`` and
``iptables``: :func:`unavailable` says what is missing.

    python bench/shaped_link.py --delay-line …   (internal: one direction's delay line)
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import random
import select
import shutil
import socket
import struct
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from processes import stop_process

SERVER_ADDRESS = "10.200.0.1"
ROUTER_HOST = 254
MTU = 1514  # bytes of an Ethernet frame as the token bucket counts it


@dataclass(frozen=True)
class LinkShape:
    """A client link's rate, delay, jitter and loss, the same each way (a shared cell)."""

    rate_mbit: float
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss: float = 0.0
    #: How much the token bucket may queue (an access point's buffer), in ms at the rate.
    queue_ms: float = 50.0


@dataclass
class ClientSide:
    """One client namespace behind its own shaped link; ``addresses`` are its own."""

    ns: str
    shape: LinkShape
    addresses: list[str]


@dataclass
class ShapedLink:
    """Namespaces, veth pairs, token buckets and delay lines; a context manager."""

    shapes: list[LinkShape]
    addresses_per_client: int = 1
    prefix: str = field(default_factory=lambda: f"bp{os.getpid() % 100000}")
    server_ns: str = ""
    server_address: str = SERVER_ADDRESS
    clients: list[ClientSide] = field(default_factory=list)
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _namespaces: list[str] = field(default_factory=list)

    def __enter__(self) -> ShapedLink:
        problem = unavailable()
        if problem:
            raise RuntimeError(problem)
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.server_ns = self._namespace(f"{self.prefix}srv")
        router = self._namespace(f"{self.prefix}rt")
        _run(["ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        towards_server = self._pair(router, f"{self.prefix}r0", self.server_ns,
                                    f"{self.prefix}s0", 0, [SERVER_ADDRESS])
        for k, shape in enumerate(self.shapes):
            ns = self._namespace(f"{self.prefix}c{k}")
            addresses = [f"10.200.{k + 1}.{10 + i}" for i in range(self.addresses_per_client)]
            towards_client = self._pair(router, f"{self.prefix}r{k + 1}", ns,
                                        f"{self.prefix}c{k}", k + 1, addresses)
            # Downlink on the router's end towards the client, uplink towards the server
            # (one token bucket each way for all the client links: a shared cell).
            self._shape(router, towards_client, shape, f"10.200.{k + 1}.0/24", "-d")
            self._shape(router, towards_server, shape, f"10.200.{k + 1}.0/24", "-s",
                        rate=k == 0)
            self.clients.append(ClientSide(ns, shape, addresses))

    def _namespace(self, name: str) -> str:
        _ip("netns", "add", name)
        self._namespaces.append(name)
        _ip("-n", name, "link", "set", "lo", "up")
        return name

    def _pair(self, router: str, router_end: str, ns: str, far_end: str, subnet: int,
              addresses: list[str]) -> str:
        """A veth pair from the router to ``ns``; ``ns`` routes everything through it."""
        _ip("link", "add", router_end, "netns", router, "type", "veth",
            "peer", "name", far_end, "netns", ns)
        _ip("-n", router, "addr", "add", f"10.200.{subnet}.{ROUTER_HOST}/24", "dev", router_end)
        for address in addresses:
            _ip("-n", ns, "addr", "add", f"{address}/24", "dev", far_end)
        _ip("-n", router, "link", "set", router_end, "up")
        _ip("-n", ns, "link", "set", far_end, "up")
        _ip("-n", ns, "route", "add", "10.200.0.0/16", "via", f"10.200.{subnet}.{ROUTER_HOST}")
        return router_end

    def _shape(self, router: str, device: str, shape: LinkShape, subnet: str, side: str,
               rate: bool = True) -> None:
        """A token bucket at ``shape.rate_mbit`` on the router's ``device`` (when ``rate``)
        and a delay line for the packets it forwards there to or from ``subnet``."""
        if rate:
            speed = shape.rate_mbit * 1e6 / 8  # bytes per second
            burst = max(2 * MTU, int(speed * 0.002))  # 2 ms at the rate: no big bursts
            limit = max(burst + 2 * MTU, int(speed * shape.queue_ms / 1000))
            _run(["ip", "netns", "exec", router, "tc", "qdisc", "replace", "dev", device,
                  "root", "tbf", "rate", f"{int(speed * 8)}bit", "burst", str(burst),
                  "limit", str(limit)])
        if not (shape.delay_ms or shape.jitter_ms or shape.loss):
            return
        queue = len(self._processes)
        line = self.popen(router, [
            sys.executable, str(Path(__file__).resolve()), "--delay-line", "--queue", str(queue),
            "--delay-ms", str(shape.delay_ms), "--jitter-ms", str(shape.jitter_ms),
            "--loss", str(shape.loss), "--seed", str(queue)], stdout=subprocess.PIPE)
        self._processes.append(line)
        if line.stdout is None or line.stdout.readline().strip() != b"READY":
            raise RuntimeError(f"the delay line of {device} did not start")
        _run(["ip", "netns", "exec", router, "iptables", "-A", "FORWARD", "-o", device,
              side, subnet, "-j", "NFQUEUE", "--queue-num", str(queue)])

    # --------------------------------------------------------------------- using
    def popen(self, ns: str, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start ``argv`` inside namespace ``ns``."""
        return subprocess.Popen(["ip", "netns", "exec", ns, *argv], **kwargs)

    def close(self) -> None:
        """Stop the delay lines and remove every namespace made here (and with them their
        veths, queues and iptables rules)."""
        for process in self._processes:
            stop_process(process, 5)
        self._processes.clear()
        for ns in reversed(self._namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        self._namespaces.clear()


def unavailable() -> str | None:
    """Why a shaped link cannot be built here, or None."""
    if os.geteuid() != 0:
        return "a shaped link needs root (network namespaces, tc and iptables)"
    for tool in ("ip", "tc", "iptables", "sysctl"):
        if shutil.which(tool) is None:
            return f"a shaped link needs {tool!r} on PATH (iproute2, iptables, procps)"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"`ip netns` is not available: {probe.stderr.strip() or probe.returncode}"
    return None


def _ip(*args: str) -> None:
    _run(["ip", *args])


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip() or result.returncode}")


# ----------------------------------------------------------------- the delay line
NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG, NFQNL_MSG_VERDICT_BATCH = 0, 1, 2, 3
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN = 1, 2, 3
NFQNL_CFG_CMD_BIND, NFQNL_COPY_META = 1, 1
NF_DROP, NF_ACCEPT = 0, 1
NLM_F_REQUEST = 1
NLMSG_HEADER = struct.Struct("=IHHII")


def _attribute(kind: int, data: bytes) -> bytes:
    length = 4 + len(data)
    return struct.pack("=HH", length, kind) + data + bytes(-length % 4)


def _message(kind: int, queue: int, attributes: bytes) -> bytes:
    payload = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + attributes
    return NLMSG_HEADER.pack(NLMSG_HEADER.size + len(payload),
                             (NFNL_SUBSYS_QUEUE << 8) | kind, NLM_F_REQUEST, 0, 0) + payload


def _packet_ids(data: bytes) -> list[int]:
    """The queued packets' ids in one datagram of netlink messages."""
    ids, offset = [], 0
    while offset + NLMSG_HEADER.size <= len(data):
        length, kind, _, _, _ = NLMSG_HEADER.unpack_from(data, offset)
        if length < NLMSG_HEADER.size:
            break
        if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            position = offset + NLMSG_HEADER.size + 4  # after struct nfgenmsg
            while position + 4 <= offset + length:
                size, attribute = struct.unpack_from("=HH", data, position)
                if size < 4:
                    break
                if attribute & 0x7FFF == NFQA_PACKET_HDR:
                    ids.append(struct.unpack_from("!I", data, position + 4)[0])
                position += (size + 3) & ~3
        offset += (length + 3) & ~3
    return ids


def delay_line(queue: int, delay_ms: float, jitter_ms: float, loss: float, seed: int) -> None:
    """Hold each packet of NFQUEUE ``queue`` for delay ± jitter (uniform, never reordered:
    a packet leaves no earlier than the one before it), drop a ``loss`` share of them."""
    rng = random.Random(seed)
    # The delay line stands in for the kernel's netem: it must not wait for a CPU behind the
    # server and the clients it carries, or their packets would wait with it.
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    except OSError:
        with contextlib.suppress(OSError):
            os.nice(-15)
    link = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    link.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: bursts of packets
    link.bind((0, 0))
    link.send(_message(NFQNL_MSG_CONFIG, queue, _attribute(
        NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_INET))))
    link.send(_message(NFQNL_MSG_CONFIG, queue, _attribute(
        NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META))
        + _attribute(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 20_000))))
    link.setblocking(False)
    print("READY", flush=True)
    held: deque[tuple[float, int]] = deque()  # (due, id), due never decreasing
    last_due = 0.0
    while True:
        timeout = max(0.0, held[0][0] - time.monotonic()) if held else None
        readable, _, _ = select.select([link], [], [], timeout)
        if readable:
            while True:
                try:
                    data = link.recv(1 << 16)
                except BlockingIOError:
                    break
                except OSError as error:  # ENOBUFS: notifications lost; the next
                    if error.errno == errno.ENOBUFS:  # batch verdict releases them too
                        continue
                    raise
                now = time.monotonic()
                for packet in _packet_ids(data):
                    if rng.random() < loss:
                        link.send(_message(NFQNL_MSG_VERDICT, queue, _attribute(
                            NFQA_VERDICT_HDR, struct.pack("!II", NF_DROP, packet))))
                        continue
                    wait = delay_ms + rng.uniform(-jitter_ms, jitter_ms)
                    last_due = max(last_due, now + wait / 1000)
                    held.append((last_due, packet))
        now, release = time.monotonic(), None
        while held and held[0][0] <= now:
            release = held.popleft()[1]
        if release is not None:  # accepts every packet still queued up to this id
            link.send(_message(NFQNL_MSG_VERDICT_BATCH, queue, _attribute(
                NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, release))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-line", action="store_true", required=True)
    parser.add_argument("--queue", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--loss", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        delay_line(args.queue, args.delay_ms, args.jitter_ms, args.loss, args.seed)


if __name__ == "__main__":
    main()
