"""One live session: its trainer, its clients (through its delivery channel), the messages
it sends, and the trainer work behind each frame.

Trainer work (steps, frame building, exports) runs on the shared trainer threads of
:mod:`.scheduler`, as jobs of this session (one at a time, taking turns fairly with other
sessions), while the session's lock keeps one command or tick at a time; the event loop
only awaits. Each frame is encoded once and published to the channel, which offers it to
every client's one-slot mailbox. The run loop is :mod:`.runloop`, the command handlers
:mod:`.handlers` and :mod:`.classroom`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import numpy as np

from ..settings import Settings
from ..trainer import TrainingSession, config_to_dict, snapshot
from ..trainer.snapshot_checks import MAX_COUNT
from ..wire.commands import Answer, ControlCommand, Role, Selection
from ..wire.frame import HEADER_FIELDS, PROTOCOL_VERSION, FrameData, encode_frame
from ..wire.messages import (
    ClassInfo,
    ConfigMessage,
    DataMessage,
    DivergedEvent,
    DivergenceInfo,
    Message,
    PlotData,
    StateMessage,
    SweepInfo,
    ViewersMessage,
    ViewState,
    WelcomeMessage,
    finite_json,
    to_json,
)
from .channels import Backend, Channel
from .codes import JoinCodes, normalize_code
from .dispatch import CommandTable
from .fanout import Subscriber
from .forks import ForkLinks
from .frames import build_frame
from .history import History
from .questions import Questions
from .scheduler import TrainerScheduler, run_timed

T = TypeVar("T")
#: The viewer count goes out at most this often.
VIEWERS_INTERVAL_SECONDS = 0.1
#: The step counter stops here: beyond it the page's numbers would not be exact.
STEP_LIMIT = MAX_COUNT


class LimitError(Exception):
    """A server limit (sessions, viewers) was reached."""


@dataclass(frozen=True)
class Services:
    """What every session of a registry uses: settings, the trainer threads, the delivery
    backend, the command table, the join codes and the forks' links to their classes."""

    settings: Settings
    scheduler: TrainerScheduler
    backend: Backend
    commands: CommandTable[LiveSession]
    codes: JoinCodes
    forks: ForkLinks


class LiveSession:
    """One trainer, what its clients see of it, and the channel they see it through."""

    def __init__(self, trainer: TrainingSession, services: Services,
                 session_id: str | None = None, owner: str = "",
                 token_digest: str | None = None) -> None:
        self.id = session_id or new_session_id()
        #: The presenter's token, known only to a session created in this process (to give
        #: it to its creator once); what proves it, always, is its digest.
        self.presenter_token: str | None = None
        if token_digest is None:
            self.presenter_token = secrets.token_urlsafe(24)
            token_digest = digest(self.presenter_token)
        self.token_digest = token_digest
        #: The client address that created the session (its per-address limit counts it).
        self.owner = owner
        self.trainer, self.services, self.settings = trainer, services, services.settings
        self.codes: JoinCodes = services.codes
        self.channel: Channel = services.backend.channel(self.id, self)
        self.running = False
        #: Steps per frame while running.
        self.speed = self.settings.default_speed
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
        #: Member token → viewer: what lets a viewer of the class fork or export it.
        self.members: dict[str, Subscriber] = {}
        #: Counts the commands carried out (with the frame sequence, when a welcome is stale).
        self.revision = 0
        self._welcomes: dict[Role, tuple[tuple[Any, ...], str]] = {}
        self._viewers_due = False
        #: The question asked of the class and its answers (classroom state, never saved).
        self.questions = Questions(self.settings.max_answers_per_second, self._send_tally)

    # --------------------------------------------------------------- clients
    @property
    def subscribers(self) -> set[Subscriber]:
        return self.channel.audience.subscribers

    @property
    def viewers(self) -> int:
        """The class's viewers: this process's and (with Redis) other processes'."""
        return self.channel.audience.viewers + self.channel.viewers_elsewhere

    def admits(self, role: Role, token: str | None) -> bool:
        """Whether a hello with ``token`` may join as ``role``: the presenter with the
        presenter token; a viewer only while the session is presented, with its join code
        (case, spaces and dashes ignored), or on a fork the spotlight code its class's
        presenter was given. A session id alone grants nothing."""
        if role == "presenter":
            return token is not None and self.is_presenter_token(token)
        code = self.join_code
        return (code is not None and hmac.compare_digest(
            normalize_code(token or "").encode(), code.encode())
        ) or self.services.forks.admits(self.id, token)

    def attach(self, subscriber: Subscriber) -> None:
        here = self.channel.audience.viewers  # the limit is this process's (its sockets)
        if subscriber.role == "viewer" and here >= self.settings.max_viewers_per_session:
            raise LimitError(f"this session already has {here} viewers (the limit)")
        self.channel.audience.add(subscriber)
        if subscriber.member_token is not None:
            self.members[subscriber.member_token] = subscriber
        self.last_activity = time.monotonic()
        self._announce_viewers()
        if self.questions.open_question is not None:
            self.questions.tally_soon()  # a presenter joining sees the tally; viewers count

    def detach(self, subscriber: Subscriber) -> None:
        """Forget a client; with no client left the run pauses (nobody is watching)."""
        self.channel.audience.discard(subscriber)
        if subscriber.member_token is not None:
            self.members.pop(subscriber.member_token, None)
        self.questions.forget(subscriber.member_token)
        self.last_activity = time.monotonic()
        if not self.subscribers:
            self.running = False
        self._announce_viewers()

    def _announce_viewers(self) -> None:
        """Tell everyone the viewer count soon: a class joining at once costs one message
        per client every VIEWERS_INTERVAL_SECONDS, not one per client and joiner."""
        if not self._viewers_due:
            self._viewers_due = True
            asyncio.get_running_loop().call_later(VIEWERS_INTERVAL_SECONDS, self._send_viewers)

    def _send_viewers(self) -> None:
        self._viewers_due = False
        self.broadcast(ViewersMessage(count=self.viewers))

    async def answer(self, subscriber: Subscriber, command: Answer) -> int:
        """A viewer's answer (:meth:`.questions.Questions.answer`); the current step."""
        self.questions.answer(subscriber.member_token, command)
        return self.trainer.step_count

    def take_answer(self, member: str, command: Answer) -> int:
        """The answer of a viewer on another process (its channel's ``member``): counted
        and validated exactly as a local viewer's."""
        self.questions.answer(member, command)
        return self.trainer.step_count

    def forget_member(self, member: str) -> None:
        """A viewer on another process left: its answer no longer counts."""
        self.questions.forget(member)

    def viewers_changed(self) -> None:
        """Viewers elsewhere came or went: the count (and an open question's tally) soon."""
        self._announce_viewers()
        if self.questions.open_question is not None:
            self.questions.tally_soon()

    def _send_tally(self) -> None:
        """The open question's tally to the presenter only (counts, never who)."""
        message = self.questions.tally_message(self.viewers)
        if message is not None:
            text = to_json(message)
            for subscriber in self.subscribers:
                if subscriber.role == "presenter":
                    subscriber.offer_latest(message.type, text)

    def is_idle(self, now: float) -> bool:
        idle_for = now - self.last_activity
        return not self.subscribers and idle_for > self.settings.idle_session_seconds

    def play(self) -> None:
        """Run continuously from now on (the run loop wakes up)."""
        self.running = True
        self.wakeup.set()

    @property
    def steps_left(self) -> int:
        """Whole steps the run may still take before its counter reaches STEP_LIMIT."""
        return max(0, STEP_LIMIT - self.trainer.step_count)

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
            data_changes=list(trainer.data_changes),
            class_=None if code is None else ClassInfo(code=code, path=f"/join/{code}"),
            view=ViewState(**self.view),
            sweep=SweepInfo(learning_rates=[float(r) for r in trainer.learning_rates],
                            main_run=self.main_run) if trainer.sweep else None,
            question=self.questions.info(),
            fork=self.services.forks.info(self.id),
            spotlight=self.services.forks.shown_number(self.id),
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

    def data_message(self, step: int) -> DataMessage:
        """The config and data after a point edit that took effect at ``step``."""
        return DataMessage(config=config_to_dict(self.trainer.config), data=self.data(),
                           step=step)

    def welcome(self, role: Role, member_token: str | None = None) -> WelcomeMessage:
        return WelcomeMessage(
            session=self.id, role=role, protocol=PROTOCOL_VERSION,
            config=config_to_dict(self.trainer.config), data=self.data(), state=self.state(),
            history=self.history.as_dict(),
            viewers=self.viewers + (role == "viewer"),  # sent just before attaching
            member_token=member_token)

    def welcome_text(self, role: Role, member_token: str | None = None) -> str:
        """:meth:`welcome` as JSON text. The bulk of it (config, data, state, history) is
        written once per frame and command and shared by the clients that join meanwhile
        (a class of hundreds joining at once); the viewer count and member token are each
        client's own."""
        key = (self.sequence, self.revision, self.running, self.join_code, self.main_run)
        cached = self._welcomes.get(role)
        if cached is None or cached[0] != key:
            shared = self.welcome(role).model_dump()
            del shared["viewers"], shared["member_token"]
            cached = self._welcomes[role] = (key, finite_json(shared))
        own = json.dumps({"viewers": self.viewers + (role == "viewer"),
                          "member_token": member_token})
        return f"{cached[1][:-1]},{own[1:]}"

    def is_presenter_token(self, token: str) -> bool:
        return hmac.compare_digest(digest(token), self.token_digest)

    def credential(self, token: str) -> Role | None:
        """What an ``Authorization: Bearer`` token opens: the presenter's token, or a live
        viewer's member token while the class is presented; None: nothing."""
        if self.is_presenter_token(token):
            return "presenter"
        if self.join_code is not None and token in self.members:
            return "viewer"
        return None

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
        """Run ``work`` as this session's next job on the trainer threads."""
        return await self.services.scheduler.run(self.id, work)

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
        return encode_frame(_float32_header(frame))

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
        """Run ``work`` (one short job) in the trainer thread, then publish the frame; tell
        everyone if the run diverged."""
        def run_and_frame() -> bytes:
            work()
            return self.frame()

        self.after_trainer_work(await self.in_thread(run_and_frame))
        self._announce_divergence()

    async def run_steps(self, n: int) -> int:
        """Run ``n`` whole steps as slices of ``trainer_slice_seconds`` (other sessions take
        their turns in between), then publish the frame; the steps completed (fewer when
        every run stopped, or every client left)."""
        budget, done = self.settings.trainer_slice_seconds, 0
        while done < n:
            ran = await self.in_thread(partial(run_timed, self.trainer, n - done, budget))
            done += ran
            if ran == 0 or self.trainer.status == "diverged" or not self.subscribers:
                break  # stopped, or nobody is left to watch: the rest is not run
        self.after_trainer_work(await self.in_thread(self.frame))
        self._announce_divergence()
        return done

    def _announce_divergence(self) -> None:
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
            self.questions.check_allowed(command)
            try:
                step = await self.services.commands.dispatch(self, command)
            finally:
                self.revision += 1
        self.broadcast(self.state())
        return step

    async def fork(self) -> dict[str, Any]:
        """The run as it is now (an export, for a private copy or a download), taken between
        two commands, in the trainer thread."""
        async with self.lock:
            return await self.in_thread(self.export)


def _float32_header(frame: FrameData) -> FrameData:
    """The frame with every float32 header value as float32 holds it: a finite number too
    large for float32 (a loss of 1e300 on weights far out) becomes ±inf instead of an
    OverflowError in the encoder."""
    with np.errstate(over="ignore"):
        for field in F32_HEADER_FIELDS:
            setattr(frame, field, float(np.float32(getattr(frame, field))))
    return frame


F32_HEADER_FIELDS = tuple(field.name for field in HEADER_FIELDS if field.type == "f32")


def digest(token: str) -> str:
    """What proves a presenter token without keeping it (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_session_id() -> str:
    """A fresh, unguessable session id."""
    return secrets.token_urlsafe(9)
