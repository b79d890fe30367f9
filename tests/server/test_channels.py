"""Delivery through a LocalChannel to fake sockets: status messages supersede unsent ones,
others all arrive in order, frames are latest-wins, and dismissing viewers tells them and
closes them with 4410 while the presenter stays."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any, TypeVar

from backprop_playground.live.channels import LocalChannel
from backprop_playground.live.fanout import Subscriber
from backprop_playground.wire.messages import (
    AckMessage,
    ClassEndedEvent,
    CloseCode,
    ViewersMessage,
)

T = TypeVar("T")


class Recorder:
    """A socket that keeps what it was sent."""

    def __init__(self) -> None:
        self.sent: list[str | bytes] = []

    async def send_text(self, data: str) -> None:
        self.sent.append(data)

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, 5)
    return asyncio.run(bounded())


def test_status_messages_supersede_and_acks_are_kept() -> None:
    """Three viewer counts, two acks and two frames published before the sender runs: the
    client gets both acks in order, only the last count, and only the newer frame."""
    async def scenario() -> list[str | bytes]:
        channel, socket = LocalChannel(), Recorder()
        subscriber = Subscriber(socket, "presenter", 1.0)
        channel.audience.add(subscriber)
        for count in (1, 2, 3):
            channel.publish(ViewersMessage(count=count))
        channel.publish(AckMessage(id=1, command="play", step=1))
        channel.publish(AckMessage(id=2, command="pause", step=1))
        channel.publish_frame(b"old")
        channel.publish_frame(b"new")
        sender = asyncio.create_task(subscriber.run_sender())
        while len(socket.sent) < 4:
            await asyncio.sleep(0.01)
        sender.cancel()
        return socket.sent

    sent = run(scenario())
    messages = [json.loads(m) for m in sent if isinstance(m, str)]
    assert [m.get("count", m.get("id")) for m in messages] == [3, 1, 2]
    assert [m for m in sent if isinstance(m, bytes)] == [b"new"]


def test_dismissing_viewers_tells_them_and_keeps_the_presenter() -> None:
    """Viewers get the farewell and close with 4410; the presenter is not touched."""
    channel, viewer_socket = LocalChannel(), Recorder()
    viewer = Subscriber(viewer_socket, "viewer", 1.0)
    presenter = Subscriber(Recorder(), "presenter", 1.0)
    channel.audience.add(viewer)
    channel.audience.add(presenter)
    channel.dismiss_viewers(ClassEndedEvent(message="bye"))
    assert viewer.close_code == CloseCode.CLASS_ENDED == 4410
    assert presenter.close_code is None
    run(viewer.run_sender())
    assert [json.loads(text) for text in viewer_socket.sent] == [
        {"type": "event", "event": "class_ended", "message": "bye"}]
