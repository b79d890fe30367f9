"""Delta frames (wire/frame_delta.py, live/fanout.py): a client that reads them gets each
frame as its difference from the one before when it has that one's body, whole otherwise;
what it reads back is the frame byte for byte; clients that did not ask get whole frames."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest
from test_fanout import FakeSocket, run, stop, until

from backprop_playground.live import fanout
from backprop_playground.live.fanout import Audience, Subscriber
from backprop_playground.live.frames import build_frame
from backprop_playground.live.outgoing import (
    MAX_DELTAS,
    RECENT_BASES,
    OutgoingFrame,
    RecentFrames,
)
from backprop_playground.trainer import FEATURES, NetworkConfig, TrainerConfig, TrainingSession
from backprop_playground.wire.commands import Selection
from backprop_playground.wire.frame import (
    FLAG_DELTA,
    FLAG_MAPS_SKIPPED,
    body_of,
    decode_blocks,
    decode_header,
    encode_frame,
    without_maps,
)
from backprop_playground.wire.frame_delta import delta_frame


def _frames(config: TrainerConfig, count: int, steps: int = 1,
            selection: Selection | None = None) -> list[bytes]:
    session = TrainingSession(config)
    session.run(50)
    encoded = []
    for sequence in range(count):
        session.run(steps)
        encoded.append(encode_frame(build_frame(session, sequence=sequence, running=True,
                                                metrics=session.evaluate(),
                                                selection=selection)))
    return encoded


@pytest.fixture(scope="module")
def frames() -> list[bytes]:
    """Real frames of one running session, one step apart."""
    return _frames(TrainerConfig(), 12)


class Reader:
    """What the page does with what it is sent: keep the last body it read with its maps,
    add a delta frame's to it (frontend/frame_decoder.js does the same)."""

    def __init__(self) -> None:
        self.base: tuple[int, bytes] | None = None

    def read(self, data: bytes) -> bytes:
        header = decode_header(data)
        if header["flags"] & FLAG_DELTA:
            assert self.base is not None and self.base[0] == header["base"]
        body = body_of(data, self.base[1] if self.base else None)
        if not header["flags"] & FLAG_MAPS_SKIPPED:  # one without maps is no base
            self.base = (header["sequence"], body)
        return body


def _flags(data: bytes | str) -> int:
    assert isinstance(data, bytes)
    return int(decode_header(data)["flags"])


def test_a_delta_frame_is_its_frame_byte_for_byte(frames: list[bytes]) -> None:
    """delta_frame: added back to its base's body, the body of the frame; the header the
    frame's but for the flag and base; cut before its maps, the head of the frame's body."""
    for base, frame in itertools.pairwise(frames):
        delta = delta_frame(frame, body_of(frame), base, body_of(base))
        assert delta is not None and len(delta) < len(frame)
        header, whole = decode_header(delta), decode_header(frame)
        assert header["flags"] == whole["flags"] | FLAG_DELTA
        assert header["base"] == decode_header(base)["sequence"] and whole["base"] == 0
        assert body_of(delta, body_of(base)) == body_of(frame)
        cut = body_of(without_maps(delta), body_of(base))
        assert cut == body_of(without_maps(frame))
    with pytest.raises(ValueError, match="base"):
        body_of(delta)


def test_no_delta_between_frames_of_different_layouts(frames: list[bytes]) -> None:
    """A selection, another net or a frame without maps: no delta (None)."""
    selected = _frames(TrainerConfig(), 1, selection=Selection(layer=0, neuron=0, source=1))[0]
    other = _frames(TrainerConfig(network=NetworkConfig(hidden_layers=(3,))), 1)[0]
    for base in (selected, other, without_maps(frames[0])):
        assert delta_frame(frames[1], body_of(frames[1]), base, body_of(base)) is None


def _class(count: int) -> tuple[Audience, list[FakeSocket], list[Subscriber]]:
    audience, sockets, subscribers = Audience(), [], []
    for index in range(count):
        socket = FakeSocket()
        subscriber = Subscriber(socket, "viewer", send_timeout=5.0)
        subscriber.deltas = index > 0  # the first one did not ask
        audience.add(subscriber)
        sockets.append(socket)
        subscribers.append(subscriber)
    return audience, sockets, subscribers


def test_clients_that_read_deltas_get_them_and_read_every_frame(frames: list[bytes]) -> None:
    """Frame after frame on a free link: a client that asked gets the first frame whole and
    every later one as a delta, and reads each back byte for byte; one that did not ask gets
    the frames as they are."""
    async def scenario() -> None:
        audience, sockets, subscribers = _class(3)
        senders = [asyncio.create_task(s.run_sender()) for s in subscribers]
        for count, frame in enumerate(frames, 1):
            audience.frame(frame)
            await until(lambda count=count: all(len(s.sent) == count for s in sockets))
        assert [bytes(data) for data in sockets[0].sent] == frames
        for socket, subscriber in zip(sockets[1:], subscribers[1:], strict=True):
            reader = Reader()
            assert [reader.read(bytes(data)) for data in socket.sent] == [
                body_of(frame) for frame in frames]
            deltas = [bool(_flags(data) & FLAG_DELTA) for data in socket.sent]
            assert deltas == [False] + [True] * (len(frames) - 1)
            assert subscriber.frames_as_delta == len(frames) - 1
            assert sum(map(len, socket.sent)) < 0.9 * sum(map(len, frames))
        for sender in senders:
            await stop(sender)
    run(scenario())


def test_a_lagging_client_gets_deltas_on_the_last_frame_it_got(frames: list[bytes]) -> None:
    """Frames replaced while the link is held up: the next goes as its delta on the last
    frame the client got, without maps (so it is no base), the one after on the same base;
    the reader reads every one."""
    async def scenario() -> None:
        audience, sockets, subscribers = _class(2)
        socket, sender = sockets[1], asyncio.create_task(subscribers[1].run_sender())
        for count, frame in enumerate(frames[:2], 1):
            audience.frame(frame)
            await until(lambda count=count: len(socket.sent) == count)
        socket.gate.clear()
        audience.frame(frames[2])
        await until(socket.sending.is_set)
        for frame in frames[3:6]:
            audience.frame(frame)  # replaced while the link is held up
        socket.gate.set()
        await until(lambda: len(socket.sent) == 4)
        for count, frame in enumerate(frames[6:9], 5):
            audience.frame(frame)
            await until(lambda count=count: len(socket.sent) == count)
        sent = [bytes(data) for data in socket.sent]
        kinds = [("delta" if _flags(d) & FLAG_DELTA else "whole")
                 + ("-maps" if _flags(d) & FLAG_MAPS_SKIPPED else "") for d in sent]
        # frame 5 goes as its delta on frame 2, the client's last (without maps: the link
        # lagged), and so does frame 6: frame 5 without maps is no base
        assert kinds == ["whole", "delta", "delta", "delta-maps", "delta", "delta", "delta"]
        assert [decode_header(d)["base"] for d in sent[3:5]] == [2, 2]
        reader = Reader()
        bodies = [reader.read(data) for data in sent]
        assert bodies[4:] == [body_of(frame) for frame in frames[6:9]]
        assert bodies[3] == body_of(without_maps(frames[5]))
        await stop(sender)
    run(scenario())


def test_deltas_reach_back_a_few_frames_and_are_made_once_per_base(
        frames: list[bytes]) -> None:
    """A frame's deltas may be on any of the RECENT_BASES frames before it, each made once
    (the same bytes for every client on that base), at most MAX_DELTAS of them; an older
    base, or one it does not know, gets none."""
    def publish_all() -> list[OutgoingFrame]:
        recent = RecentFrames()
        return [recent.publish(frame, serial, True) for serial, frame in enumerate(frames)]

    last, newest = publish_all()[-1], len(frames) - 1
    assert last.delta_on(newest - 1) is last.delta_on(newest - 1)  # made once, shared
    oldest = newest - RECENT_BASES
    for base in (oldest, newest - 2):
        delta = last.delta_on(base)
        assert delta is not None and decode_header(delta)["base"] == base
        assert body_of(delta, body_of(frames[base])) == body_of(frames[-1])
    assert MAX_DELTAS == 3 and last.delta_on(newest - 3) is None  # three made already
    other = publish_all()[-1]
    assert other.delta_on(oldest - 1) is None  # older than RECENT_BASES
    assert other.delta_on(None) is None and other.delta_on(99) is None
    assert RecentFrames().publish(frames[0], 0, False).delta_on(0) is None  # nobody asked


def test_a_paced_client_gets_deltas_on_the_frame_it_got_last(frames: list[bytes]) -> None:
    """A page that asked for fewer frames (frame_rate) gets every other frame or so, each as
    its delta on the one it got before, not on the frame published before it."""
    async def scenario() -> None:
        audience, sockets, subscribers = _class(2)
        subscribers[1].pace(25.0)  # a frame every 40 ms at most; they come every 15
        sender = asyncio.create_task(subscribers[1].run_sender())
        for frame in frames:
            audience.frame(frame)
            await asyncio.sleep(0.015)
        await until(lambda: len(sockets[1].sent) >= 3)
        sent = [bytes(data) for data in sockets[1].sent]
        assert len(sent) < len(frames)
        reader = Reader()
        assert [reader.read(data) for data in sent] == [
            body_of(frames[decode_header(data)["sequence"]]) for data in sent]
        headers = [decode_header(data) for data in sent]
        reaching = 0  # deltas on a frame more than one before them
        for before, header in itertools.pairwise(headers):
            if header["flags"] & FLAG_DELTA:
                assert header["base"] == before["sequence"]
                reaching += header["base"] < header["sequence"] - 1
        assert reaching >= 1
        await stop(sender)
    run(scenario())


def test_a_whole_frame_at_least_every_key_frame_period(frames: list[bytes],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """However well the link keeps up, a client gets a whole frame every KEY_FRAME_SECONDS
    (a page out of step is back in step by then)."""
    monkeypatch.setattr(fanout, "KEY_FRAME_SECONDS", 0.05)

    async def scenario() -> None:
        audience, sockets, subscribers = _class(2)
        sender = asyncio.create_task(subscribers[1].run_sender())
        for count, frame in enumerate(frames, 1):
            audience.frame(frame)
            await until(lambda count=count: len(sockets[1].sent) == count)
            await asyncio.sleep(0.02)
        whole = [i for i, data in enumerate(sockets[1].sent) if not _flags(data) & FLAG_DELTA]
        assert whole[0] == 0 and 3 <= len(whole) <= 8
        await stop(sender)
    run(scenario())


def test_the_largest_net_as_deltas_decodes_to_the_same_blocks() -> None:
    """The largest net, running fast with an edge selected: every block of a delta frame
    read back equals the whole frame's."""
    largest = TrainerConfig(network=NetworkConfig(hidden_layers=(16,) * 8, features=FEATURES))
    first, second = _frames(largest, 2, steps=20, selection=Selection(layer=0, neuron=0, source=1))
    delta = delta_frame(second, body_of(second), first, body_of(first))
    assert delta is not None and len(delta) < len(second)
    back, whole = decode_blocks(delta, body_of(first)), decode_blocks(second)
    assert back.keys() == whole.keys()
    for name, arrays in whole.items():
        for got, want in zip(back[name], arrays, strict=True):
            np.testing.assert_array_equal(got, want, err_msg=name)
