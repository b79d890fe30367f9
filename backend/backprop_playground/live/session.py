"""One live session: its trainer, its clients (through its delivery channel), the messages
it sends, and the trainer work behind each frame.

Trainer work (steps, frame building) runs in a thread pool under the session's lock, so the
event loop stays responsive; each frame is encoded once and published to the channel, which
offers it to every client's one-slot mailbox. The run loop is :mod:`.runloop`, the command
handlers :mod:`.handlers` and :mod:`.classroom`.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from ..settings import Settings
from ..trainer import TrainingSession, config_to_dict, snapshot
from ..wire.commands import ControlCommand, Role, Selection
from ..wire.frame import PROTOCOL_VERSION, encode_frame
from ..wire.messages import (
    ClassInfo,
    ConfigMessage,
    DivergedEvent,
    DivergenceInfo,
    Message,
    PlotData,
    StateMessage,
    SweepInfo,
    ViewersMessage,
    ViewState,
    WelcomeMessage,
)
from .channels import Backend, Channel
from .codes import JoinCodes
from .dispatch import CommandTable
from .fanout import Subscriber
from .frames import build_frame
from .history import History

T = TypeVar("T")


class LimitError(Exception):
    """A server limit (sessions, viewers) was reached."""


@dataclass(frozen=True)
class Services:
    """What every session of a registry uses: settings, the trainer threads, the delivery
    backend, the command table and the join codes."""

    settings: Settings
    executor: ThreadPoolExecutor
    backend: Backend
    commands: CommandTable[LiveSession]
    codes: JoinCodes


class LiveSession:
    """One trainer, what its clients see of it, and the channel they see it through."""

    def __init__(self, trainer: TrainingSession, services: Services) -> None:
        self.id = secrets.token_urlsafe(9)
        self.presenter_token = secrets.token_urlsafe(24)
        self.trainer, self.services, self.settings = trainer, services, services.settings
        self.codes: JoinCodes = services.codes
        self.channel: Channel = services.backend.channel(self.id)
        self.running = False
        #: Steps per frame while running.
        self.speed = 1.0
        self.selection: Selection | None = None
        #: The focus point's index in the minibatch (forward wave, loss panel).
        self.focus = 0
        #: step -> the gesture number of the learning-rate change that took effect there.
        self.rate_gestures: dict[int, int] = {}
        self.lock = asyncio.Lock()
        self.history = History()
        self.sequence = 0
        self.last_frame: bytes | None = None
        self.last_activity = time.monotonic()
        #: Set to make the run loop look at ``running`` again.
        self.wakeup = asyncio.Event()
        #: The run of a learning-rate sweep shown in the main view.
        self.main_run = 0
        #: Set while the session is presented to a class: the code viewers join with.
        self.join_code: str | None = None
        #: What the presenter shows (mirrored by the viewers' pages).
        self.view: dict[str, Any] = {"projector": False, "panel": None}

    # --------------------------------------------------------------- clients
    @property
    def subscribers(self) -> set[Subscriber]:
        return self.channel.audience.subscribers

    @property
    def viewers(self) -> int:
        return self.channel.audience.viewers

    def attach(self, subscriber: Subscriber) -> None:
        if subscriber.role == "viewer" and self.viewers >= self.settings.max_viewers_per_session:
            raise LimitError(f"this session already has {self.viewers} viewers (the limit)")
        self.channel.audience.add(subscriber)
        self.last_activity = time.monotonic()
        self.broadcast(ViewersMessage(count=self.viewers))

    def detach(self, subscriber: Subscriber) -> None:
        """Forget a client; with no client left the run pauses (nobody is watching)."""
        self.channel.audience.discard(subscriber)
        self.last_activity = time.monotonic()
        if not self.subscribers:
            self.running = False
        self.broadcast(ViewersMessage(count=self.viewers))

    def is_idle(self, now: float) -> bool:
        idle_for = now - self.last_activity
        return not self.subscribers and idle_for > self.settings.idle_session_seconds

    def play(self) -> None:
        """Run continuously from now on (the run loop wakes up)."""
        self.running = True
        self.wakeup.set()

    # ------------------------------------------------------------ publishing
    def broadcast(self, message: Message) -> None:
        """Send a JSON message to every client of the session."""
        self.channel.publish(message)

    def publish_frame(self, frame: bytes) -> None:
        self.last_frame = frame
        self.channel.publish_frame(frame)

    # -------------------------------------------------------------- messages
    def state(self) -> StateMessage:
        """What the controls show: run state, speed, hyperparameters, selection, phase."""
        trainer, code = self.trainer, self.join_code
        divergence = trainer.divergence
        return StateMessage(
            running=self.running, speed=self.speed, step=trainer.step_count,
            epoch=trainer.epoch, phase=trainer.phase, next_phase=trainer.next_phase,
            hyper=config_to_dict(trainer.config)["hyper"], selection=self.selection,
            focus=self.focus, status=trainer.status,
            divergence=None if divergence is None else DivergenceInfo(
                step=divergence.step, learning_rate=divergence.learning_rate,
                message=divergence.message),
            learning_rate_changes=[(step, rates[0], self.rate_gestures.get(step))
                                   for step, rates in trainer.learning_rate_changes],
            class_=None if code is None else ClassInfo(code=code, path=f"/join/{code}"),
            view=ViewState(**self.view),
            sweep=SweepInfo(learning_rates=[float(r) for r in trainer.learning_rates],
                            main_run=self.main_run) if trainer.sweep else None,
        )

    def data(self) -> PlotData:
        """The data set's points for the output plot: ``[x1, x2, label]`` per split."""
        dataset = self.trainer.model.dataset
        rows = np.column_stack([dataset.points, dataset.labels]).round(6)
        return PlotData(problem=dataset.problem, n_classes=dataset.n_classes,
                        train=rows[dataset.train_index].tolist(),
                        test=rows[dataset.test_index].tolist())

    def config_message(self) -> ConfigMessage:
        """The current config and data, sent after configure, reset and sweep."""
        return ConfigMessage(config=config_to_dict(self.trainer.config), data=self.data())

    def welcome(self, role: Role) -> WelcomeMessage:
        return WelcomeMessage(
            session=self.id, role=role, protocol=PROTOCOL_VERSION,
            config=config_to_dict(self.trainer.config), data=self.data(), state=self.state(),
            history=self.history.as_dict(),
            viewers=self.viewers + (role == "viewer"))  # sent just before attaching

    def diverged_event(self) -> DivergedEvent | None:
        divergence = self.trainer.divergence
        return None if divergence is None else DivergedEvent(
            step=divergence.step, learning_rate=divergence.learning_rate,
            loss=divergence.loss, message=divergence.message)

    def info(self) -> dict[str, Any]:
        """Public facts about the session (no token), for ``GET /api/sessions/{id}``."""
        return {"id": self.id, "step": self.trainer.step_count, "epoch": self.trainer.epoch,
                "running": self.running, "viewers": self.viewers,
                "config": config_to_dict(self.trainer.config)}

    def export(self) -> dict[str, Any]:
        """The whole run: trainer snapshot, history (not-a-number values as null, so that
        the export is plain JSON and imports again), speed."""
        history = self.history.as_dict()
        history["rows"] = [[value if math.isfinite(value) else None for value in row]
                           for row in history["rows"]]
        return {"trainer": snapshot(self.trainer), "history": history, "speed": self.speed}

    # ---------------------------------------------------------- trainer work
    async def in_thread(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.services.executor, work)

    def frame(self) -> bytes:
        """Build and encode the current frame, and record the metrics in the history
        (trainer thread)."""
        trainer = self.trainer
        metrics = trainer.evaluate()
        self.sequence += 1
        run = min(self.main_run, trainer.runs - 1)
        frame = build_frame(trainer, sequence=self.sequence, running=self.running,
                            metrics=metrics, selection=self.selection, run=run,
                            focus=self.focus)
        self.history.record(trainer.step_count, trainer.epoch_progress, metrics,
                            frame.batch_loss, run=run)
        return encode_frame(frame)

    def after_trainer_work(self, frame: bytes | None) -> None:
        """Publish a frame and, if a running session just diverged, stop and tell everyone
        (the event, then the state)."""
        if frame is not None:
            self.publish_frame(frame)
        if self.trainer.status == "diverged" and (self.running or frame is not None):
            was_running, self.running = self.running, False
            if was_running and frame is not None:  # the published frame still said running
                self.publish_frame(self.frame())
            event = self.diverged_event()
            if event is not None and was_running:
                self.broadcast(event)
                self.broadcast(self.state())

    async def trainer_work(self, work: Callable[[], object]) -> None:
        """Run ``work`` in the trainer thread, then publish the frame; tell everyone if the
        run diverged."""
        def run_and_frame() -> bytes:
            work()
            return self.frame()

        self.after_trainer_work(await self.in_thread(run_and_frame))
        event = self.diverged_event() if self.trainer.status == "diverged" else None
        if event is not None:
            self.broadcast(event)

    async def emit_frame(self) -> None:
        """Publish a frame of the current state (after a change that needs no step)."""
        self.after_trainer_work(await self.in_thread(self.frame))

    async def ensure_frame(self) -> None:
        """Build a first frame if none was published yet (a new session, for late joiners)."""
        if self.last_frame is None:
            async with self.lock:
                if self.last_frame is None:
                    await self.emit_frame()

    # -------------------------------------------------------------- commands
    async def handle(self, command: ControlCommand) -> int:
        """Carry out a presenter's command; the step at which it took effect. Raises
        CommandError (with the field) if the command cannot be carried out."""
        self.last_activity = time.monotonic()
        async with self.lock:
            step = await self.services.commands.dispatch(self, command)
        self.broadcast(self.state())
        return step

    async def fork(self) -> dict[str, Any]:
        """The run as it is now (for a private copy), taken between two trainer steps."""
        async with self.lock:
            return self.export()
