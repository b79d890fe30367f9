"""Per-client delivery (fanout.Subscriber) against fake sockets: latest frame wins, control
messages first and never dropped, stalled sockets and control overflow end the client, one
stalled client never holds up another, a lagging link gets frames without their maps; and
the RateLimiter token bucket."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from backprop_playground.live.fanout import (
    FULL_FRAME_SECONDS,
    ClientStalled,
    RateLimiter,
    Subscriber,
)
from backprop_playground.live.frames import build_frame
from backprop_playground.trainer import NetworkConfig, TrainerConfig, TrainingSession
from backprop_playground.wire.frame import (
    FLAG_MAPS_SKIPPED,
    decode_header,
    encode_frame,
    without_maps,
)

T = TypeVar("T")
DEADLINE = 5.0


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on a fresh loop, failing (not hanging) after DEADLINE seconds."""
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, DEADLINE)
    return asyncio.run(bounded())


class FakeSocket:
    """Records what is sent; ``gate`` (when cleared) holds every send until it is set."""

    def __init__(self) -> None:
        self.sent: list[str | bytes] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.sending = asyncio.Event()  # set while a send waits at the gate

    async def _send(self, data: str | bytes) -> None:
        self.sending.set()
        await self.gate.wait()
        self.sending.clear()
        self.sent.append(data)

    async def send_text(self, data: str) -> None:
        await self._send(data)

    async def send_bytes(self, data: bytes) -> None:
        await self._send(data)


class StalledSocket:
    """A client that never takes anything: every send waits forever."""

    async def send_text(self, data: str) -> None:
        await asyncio.Event().wait()

    async def send_bytes(self, data: bytes) -> None:
        await asyncio.Event().wait()


async def until(condition: Any, timeout: float = DEADLINE) -> None:
    """Yield to the loop until ``condition()`` holds (or fail after ``timeout``)."""
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.001)
    await asyncio.wait_for(poll(), timeout)


async def stop(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_latest_frame_wins() -> None:
    """Three frames offered before the sender runs: only the last is sent; two replaced."""
    async def scenario() -> None:
        socket = FakeSocket()
        subscriber = Subscriber(socket, "viewer", send_timeout=1.0)
        for frame in (b"one", b"two", b"three"):
            subscriber.offer_frame(frame)
        sender = asyncio.create_task(subscriber.run_sender())
        await until(lambda: socket.sent)
        await asyncio.sleep(0.01)
        assert socket.sent == [b"three"]
        assert subscriber.frames_replaced == 2
        assert subscriber.frames_sent == 1
        await stop(sender)
    run(scenario())


def test_control_messages_go_before_the_frame_and_in_order() -> None:
    """Queued control messages are all sent, in order, before the pending frame."""
    async def scenario() -> None:
        socket = FakeSocket()
        subscriber = Subscriber(socket, "presenter", send_timeout=1.0)
        subscriber.offer_frame(b"frame")
        for text in ("a", "b", "c"):
            subscriber.offer_control(text)
        sender = asyncio.create_task(subscriber.run_sender())
        await until(lambda: len(socket.sent) == 4)
        assert socket.sent == ["a", "b", "c", b"frame"]
        await stop(sender)
    run(scenario())


def test_slow_client_only_loses_frames() -> None:
    """A held-up send: newer frames replace each other, control messages all wait."""
    async def scenario() -> None:
        socket = FakeSocket()
        socket.gate.clear()
        subscriber = Subscriber(socket, "viewer", send_timeout=5.0)
        sender = asyncio.create_task(subscriber.run_sender())
        subscriber.offer_frame(b"f0")
        await until(socket.sending.is_set)
        for index in range(1, 10):
            subscriber.offer_frame(f"f{index}".encode())
        subscriber.offer_control("ack")
        socket.gate.set()
        await until(lambda: len(socket.sent) == 3)
        await asyncio.sleep(0.01)
        assert socket.sent == [b"f0", "ack", b"f9"]
        assert subscriber.frames_replaced == 8
        await stop(sender)
    run(scenario())


def test_stalled_socket_raises_client_stalled_after_the_send_timeout() -> None:
    """A socket whose send never completes ends the sender with ClientStalled."""
    async def scenario() -> None:
        subscriber = Subscriber(StalledSocket(), "viewer", send_timeout=0.05)
        subscriber.offer_frame(b"frame")
        with pytest.raises(ClientStalled):
            await subscriber.run_sender()
    run(scenario())


def test_stalled_control_send_raises_client_stalled() -> None:
    """A stalled send of a control message ends the sender too."""
    async def scenario() -> None:
        subscriber = Subscriber(StalledSocket(), "viewer", send_timeout=0.05)
        subscriber.offer_control('{"type":"state"}')
        with pytest.raises(ClientStalled):
            await subscriber.run_sender()
    run(scenario())


def test_control_overflow_raises_client_stalled() -> None:
    """Overflowing the control queue ends the client; the queue never exceeds its limit."""
    async def scenario() -> None:
        socket = FakeSocket()
        subscriber = Subscriber(socket, "viewer", send_timeout=1.0, control_limit=4)
        for index in range(10):
            subscriber.offer_control(str(index))
        assert len(subscriber._control) <= 4
        with pytest.raises(ClientStalled):
            await subscriber.run_sender()
    run(scenario())


def test_a_stalled_subscriber_does_not_hold_up_another() -> None:
    """A stalled subscriber never delays a healthy one's frames, and ends ClientStalled."""
    async def scenario() -> None:
        healthy_socket = FakeSocket()
        healthy = Subscriber(healthy_socket, "viewer", send_timeout=5.0)
        stalled = Subscriber(StalledSocket(), "viewer", send_timeout=0.5)
        senders = [asyncio.create_task(s.run_sender()) for s in (healthy, stalled)]
        for index in range(20):
            frame = f"frame {index}".encode()
            for subscriber in (stalled, healthy):
                subscriber.offer_frame(frame)
            await until(lambda n=index: len(healthy_socket.sent) == n + 1, timeout=1.0)
        assert healthy.frames_replaced == 0
        assert stalled.frames_sent == 0
        with pytest.raises(ClientStalled):
            await senders[1]
        assert not senders[0].done()
        await stop(senders[0])
    run(scenario())


def test_sender_waits_quietly_when_nothing_is_offered() -> None:
    """With nothing offered the sender sends nothing and stays alive."""
    async def scenario() -> None:
        socket = FakeSocket()
        subscriber = Subscriber(socket, "viewer", send_timeout=1.0)
        sender = asyncio.create_task(subscriber.run_sender())
        await asyncio.sleep(0.05)
        assert socket.sent == [] and not sender.done()
        subscriber.offer_control("late")
        await until(lambda: socket.sent == ["late"])
        await stop(sender)
    run(scenario())


# ---------------------------------------------------------------------- RateLimiter
def test_rate_limiter_allows_a_burst_then_limits() -> None:
    """A fresh bucket allows its burst (2 × rate by default), then refuses."""
    limiter = RateLimiter(rate=5)
    allowed = [limiter.allow() for _ in range(10)]
    assert all(allowed)
    assert not limiter.allow()


def test_rate_limiter_refills_over_time() -> None:
    """One (simulated) second after the burst, ``rate`` more messages are allowed."""
    limiter = RateLimiter(rate=5, burst=5)
    while limiter.allow():
        pass
    limiter.updated -= 1.0
    assert sum(limiter.allow() for _ in range(20)) == 5


def test_rate_limiter_never_exceeds_its_burst() -> None:
    """A long quiet spell refills the bucket only up to the burst."""
    limiter = RateLimiter(rate=5, burst=3)
    limiter.updated -= 3600.0
    assert sum(limiter.allow() for _ in range(50)) == 3


# ------------------------------------------------------------ frames without maps
@pytest.fixture(scope="module")
def frames() -> list[bytes]:
    """Real encoded frames of one running session, one step apart."""
    session = TrainingSession(TrainerConfig())
    encoded = []
    for sequence in range(12):
        session.run(1)
        encoded.append(encode_frame(build_frame(session, sequence=sequence, running=True,
                                                metrics=session.evaluate(), selection=None)))
    return encoded


def _has_maps(data: bytes) -> bool:
    return not decode_header(data)["flags"] & FLAG_MAPS_SKIPPED


def test_a_lagging_link_gets_frames_without_their_maps(frames: list[bytes]) -> None:
    """Frames replaced while a send is held up: the next one goes without its maps (the
    client has maps of that shape), the one after, on a free link, with them again."""
    async def scenario() -> None:
        socket = FakeSocket()
        socket.gate.clear()
        subscriber = Subscriber(socket, "viewer", send_timeout=5.0)
        sender = asyncio.create_task(subscriber.run_sender())
        subscriber.offer_frame(frames[0])
        await until(socket.sending.is_set)
        for frame in frames[1:4]:
            subscriber.offer_frame(frame)
        socket.gate.set()
        await until(lambda: len(socket.sent) == 2)
        subscriber.offer_frame(frames[4])
        await until(lambda: len(socket.sent) == 3)
        sent = [bytes(data) for data in socket.sent]
        assert sent[0] == frames[0] and sent[1] == without_maps(frames[3])
        assert sent[2] == frames[4]
        assert [_has_maps(data) for data in sent] == [True, False, True]
        assert subscriber.frames_without_maps == 1
        await stop(sender)
    run(scenario())


def test_maps_come_at_least_every_full_frame_period(frames: list[bytes]) -> None:
    """However long the link lags, a frame with maps goes out every FULL_FRAME_SECONDS;
    the first frame always has them."""
    async def scenario() -> None:
        socket = FakeSocket()
        subscriber = Subscriber(socket, "viewer", send_timeout=5.0)
        sender = asyncio.create_task(subscriber.run_sender())
        started = time.monotonic()
        index = 0
        while time.monotonic() - started < 3 * FULL_FRAME_SECONDS:
            socket.gate.clear()
            subscriber.offer_frame(frames[index % len(frames)])
            subscriber.offer_frame(frames[(index + 1) % len(frames)])  # always one replaced
            sent = len(socket.sent)
            socket.gate.set()
            await until(lambda sent=sent: len(socket.sent) > sent)
            await asyncio.sleep(0.01)
            index += 2
        with_maps = [data for data in socket.sent if _has_maps(bytes(data))]
        assert _has_maps(bytes(socket.sent[0]))
        assert 3 <= len(with_maps) <= 5 < len(socket.sent)
        await stop(sender)
    run(scenario())


def test_a_new_shape_always_comes_with_its_maps(frames: list[bytes]) -> None:
    """After the net changes shape the client's maps do not fit: the frame keeps its own."""
    session = TrainingSession(TrainerConfig(network=NetworkConfig(hidden_layers=(3,))))
    other = encode_frame(build_frame(session, sequence=99, running=True,
                                     metrics=session.evaluate(), selection=None))

    async def scenario() -> None:
        socket = FakeSocket()
        subscriber = Subscriber(socket, "viewer", send_timeout=5.0)
        sender = asyncio.create_task(subscriber.run_sender())
        subscriber.offer_frame(frames[0])
        await until(lambda: len(socket.sent) == 1)
        socket.gate.clear()
        subscriber.offer_frame(frames[1])
        await until(socket.sending.is_set)
        subscriber.offer_frame(frames[2])
        subscriber.offer_frame(other)  # replaces frames[2]: lagging, but a new shape
        socket.gate.set()
        await until(lambda: len(socket.sent) == 3)
        assert bytes(socket.sent[2]) == other
        await stop(sender)
    run(scenario())


class TimedSocket(FakeSocket):
    """A FakeSocket that also notes when each message went."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    async def _send(self, data: str | bytes) -> None:
        await super()._send(data)
        self.times.append(time.monotonic())


def test_a_paced_client_gets_the_newest_frame_at_its_pace(frames: list[bytes]) -> None:
    """A page that asked for 20 frames/s, offered one every 5 ms: frames at least 50 ms
    apart, each the newest at the time, all with their maps (a pace is not a lagging link);
    messages are not held; back to every frame once the pace is lifted."""
    async def scenario() -> None:
        socket = TimedSocket()
        subscriber = Subscriber(socket, "presenter", send_timeout=5.0)
        subscriber.pace(20)
        sender = asyncio.create_task(subscriber.run_sender())
        started = time.monotonic()
        index = 0
        while time.monotonic() - started < 0.5:
            subscriber.offer_frame(frames[index % len(frames)])
            index += 1
            if index == 50:
                subscriber.offer_control("ack")
            await asyncio.sleep(0.005)
        await until(lambda: subscriber._frame is None)
        sent = [(data, at) for data, at in zip(socket.sent, socket.times, strict=True)
                if isinstance(data, bytes)]
        gaps = [b - a for (_, a), (_, b) in itertools.pairwise(sent)]
        assert 8 <= len(sent) <= 12 and min(gaps) >= 0.045, gaps
        assert all(_has_maps(data) for data, _ in sent)
        assert subscriber.frames_without_maps == 0
        assert bytes(sent[-1][0]) == frames[(index - 1) % len(frames)]
        assert "ack" in socket.sent
        subscriber.pace(None)
        for frame in frames[:5]:  # each sent at once, none replaced
            count = len(socket.sent)
            subscriber.offer_frame(frame)
            await until(lambda count=count: len(socket.sent) == count + 1, timeout=0.04)
        await stop(sender)
    run(scenario())
