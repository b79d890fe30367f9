"""Bursts are not floods: a burst's excess is dropped and told in one error a second, only a
sustained flood closes the socket (4429, with a reason), and the control queue never
overflows from the answers to a burst."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from server_helpers import Json, SocketClosed, create_session, open_socket

from backprop_playground.live.fanout import (
    NOTICE_DELAY_SECONDS,
    NOTICE_INTERVAL_SECONDS,
    FloodGuard,
)
from backprop_playground.wire.messages import CloseCode


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def dropped_counts(messages: list[Json]) -> list[int]:
    """The counts the coalesced 'too many messages' errors give."""
    counts = []
    for message in messages:
        if message["type"] == "error" and "too many messages" in message["message"]:
            found = re.search(r"(\d+) messages? w(?:as|ere) dropped", message["message"])
            assert found, message["message"]
            counts.append(int(found.group(1)))
    return counts


def test_a_burst_is_dropped_past_its_allowance_and_counted_once() -> None:
    """200 messages at once: 2·rate are admitted, the rest dropped and told in one notice."""
    clock = FakeClock()
    guard = FloodGuard(rate=30, flood_seconds=5, clock=clock)
    verdicts = [guard.admit() for _ in range(200)]
    assert verdicts.count("ok") == 60 and verdicts.count("dropped") == 140
    assert "flood" not in verdicts
    assert guard.notice_delay() == NOTICE_DELAY_SECONDS
    notice = guard.take_notice()
    assert notice is not None and "140 messages were dropped" in notice[0]
    assert guard.take_notice() is None  # nothing new to tell


def test_notices_go_out_at_most_once_a_second() -> None:
    """After a notice, the next waits until NOTICE_INTERVAL_SECONDS have passed."""
    clock = FakeClock()
    guard = FloodGuard(rate=1, flood_seconds=60, clock=clock)
    for _ in range(5):
        guard.admit()
    guard.take_notice()
    clock.now += 0.2
    guard.admit()
    assert abs(guard.notice_delay() - (NOTICE_INTERVAL_SECONDS - 0.2)) < 1e-9


def test_drops_that_go_on_for_flood_seconds_are_a_flood() -> None:
    """A client dropped again and again (gaps under a second) for flood_seconds floods;
    one that pauses for a second starts afresh."""
    clock = FakeClock()
    guard = FloodGuard(rate=10, flood_seconds=3, clock=clock)
    verdicts = []
    for _ in range(400):  # 100 messages a second: 10 admitted, 90 dropped each second
        clock.now += 0.01
        verdicts.append(guard.admit())
    assert verdicts[-1] == "flood" and verdicts.index("flood") > 290
    calm = FloodGuard(rate=10, flood_seconds=3, clock=clock)
    for _second in range(5):
        for _ in range(30):  # a burst of 30 …
            calm.admit()
        clock.now += 2.5  # … then quiet long enough to refill
    assert calm.admit() == "ok"


def test_a_client_a_little_over_its_rate_only_loses_its_excess() -> None:
    """35 messages a second at a rate of 30, for a minute: drops, never a flood."""
    clock = FakeClock()
    guard = FloodGuard(rate=30, flood_seconds=5, clock=clock)
    verdicts = []
    for _ in range(35 * 60):
        clock.now += 1 / 35
        verdicts.append(guard.admit())
    assert "dropped" in verdicts and "flood" not in verdicts


def test_the_flood_reason_fits_a_close_frame() -> None:
    """The close reason says what happened and what to do, in at most 123 bytes."""
    reason = FloodGuard(rate=30, flood_seconds=5).flood_reason()
    assert len(reason.encode()) <= 123
    assert "30 messages/s" in reason and "reconnect" in reason


def test_200_quick_messages_keep_the_socket_open(make_client: Callable[..., TestClient]
                                                  ) -> None:
    """A burst of 200 commands: every admitted one is acked, the rest are told in a few
    coalesced errors counting them, and the socket stays open and usable."""
    client = make_client()
    session = create_session(client)
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        mark = len(conn.messages)
        for index in range(200):
            conn.send({"type": "select", "target": None, "id": index})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            acks = [m for m in conn.messages[mark:] if m["type"] == "ack"]
            if len(acks) + sum(dropped_counts(conn.messages[mark:])) >= 200:
                break
            conn.receive(timeout=5)
        acks = [m for m in conn.messages[mark:] if m["type"] == "ack"]
        counts = dropped_counts(conn.messages[mark:])
        assert len(acks) + sum(counts) == 200
        assert len(acks) >= 60 and 1 <= len(counts) <= 3
        notices = [m for m in conn.messages[mark:] if m["type"] == "error"]
        dropped_ids = [i for m in notices for i in m["dropped"]]  # every one answered once
        assert sorted([m["id"] for m in acks] + dropped_ids) == list(range(200))
        assert conn.request({"type": "pause"})["type"] == "ack"  # still open


def test_a_sustained_flood_is_closed_with_4429_and_a_reason(
        make_client: Callable[..., TestClient]) -> None:
    """Messages over the rate for flood_seconds close the socket with 4429; the reason
    says it was a flood and what to do."""
    client = make_client(max_messages_per_second=5, flood_seconds=0.5)
    session = create_session(client)
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        closed: SocketClosed | None = None
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline:
                conn.send({"type": "select", "target": None})
                time.sleep(0.005)
                while True:
                    try:
                        conn.receive(timeout=0.001)
                    except TimeoutError:
                        break
        except SocketClosed as error:
            closed = error
        if closed is None:  # the deadline passed first: read on until the close
            try:
                while True:
                    conn.receive(timeout=5)
            except SocketClosed as error:
                closed = error
        assert closed is not None and closed.code == CloseCode.FULL == 4429
        assert "flood" in closed.reason and "reconnect" in closed.reason
        assert dropped_counts(conn.messages)  # told how many were dropped first
