"""Live training sessions: the registry, one run loop per session, commands, fan-out.

Trainer work (steps, frame building) runs in a thread pool under the session's lock, so the
event loop stays responsive; each frame is encoded once and offered to every subscriber's
one-slot mailbox (see :mod:`fanout`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from .fanout import Subscriber
from .frames import build_frame
from .history import History
from .protocol import (
    CommandError,
    Configure,
    EndClass,
    PhaseStep,
    Present,
    Promote,
    Select,
    Selection,
    SetHyper,
    Step,
    Sweep,
    View,
    finite_json,
)
from .settings import Settings
from .trainer import (
    ConfigError,
    TrainerConfig,
    TrainingSession,
    config_from_dict,
    config_to_dict,
    restore,
    snapshot,
)
from .trainer.validation import validate_config
from .wire.frame import encode_frame

if TYPE_CHECKING:
    from .broker import Broker, RemoteSession

T = TypeVar("T")
TICK_BUDGET_SECONDS = 0.03
CLOSE_CLASS_ENDED = 4410
SUPERSEDED = ("state", "viewers")  # message types where only the latest matters
JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud
JOIN_CODE_LENGTH = 6


class LimitError(Exception):
    """A server limit (sessions, viewers) was reached."""


class LiveSession:
    """One trainer, its run loop and its subscribers."""

    def __init__(self, trainer: TrainingSession, settings: Settings,
                 executor: ThreadPoolExecutor) -> None:
        self.id = secrets.token_urlsafe(9)
        self.presenter_token = secrets.token_urlsafe(24)
        self.trainer, self.settings, self.executor = trainer, settings, executor
        self.running = False
        self.speed = 1.0
        self._speed_credit = 0.0
        self.selection: Selection | None = None
        self.subscribers: set[Subscriber] = set()
        self.lock = asyncio.Lock()
        self.history = History()
        self.sequence = 0
        self.last_frame: bytes | None = None
        self.last_activity = time.monotonic()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: The run of a learning-rate sweep shown in the main view.
        self.main_run = 0
        #: Set while the session is presented to a class: the code viewers join with.
        self.join_code: str | None = None
        #: What the presenter shows (mirrored by the viewers' pages).
        self.view: dict[str, Any] = {"projector": False, "panel": None}
        self.codes: Callable[[LiveSession | None, str | None], str | None] = lambda s, c: None
        #: Set when frames also go to viewers on other server processes (Redis).
        self.broker: Broker | None = None

    # ------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self._task = asyncio.create_task(self._run_loop(), name=f"session-{self.id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    @property
    def viewers(self) -> int:
        return sum(1 for s in self.subscribers if s.role == "viewer")

    def attach(self, subscriber: Subscriber) -> None:
        if subscriber.role == "viewer" and self.viewers >= self.settings.max_viewers_per_session:
            raise LimitError(f"this session already has {self.viewers} viewers (the limit)")
        self.subscribers.add(subscriber)
        self.last_activity = time.monotonic()
        self.broadcast({"type": "viewers", "count": self.viewers})

    def detach(self, subscriber: Subscriber) -> None:
        """Forget a client; with no client left the run pauses (nobody is watching)."""
        self.subscribers.discard(subscriber)
        self.last_activity = time.monotonic()
        if not self.subscribers:
            self.running = False
        self.broadcast({"type": "viewers", "count": self.viewers})

    def is_idle(self, now: float) -> bool:
        idle_for = now - self.last_activity
        return not self.subscribers and idle_for > self.settings.idle_session_seconds

    # ------------------------------------------------------------- publishing
    def broadcast(self, message: dict[str, Any]) -> None:
        """Send a JSON message to every client; run states and viewer counts supersede
        their unsent predecessors."""
        text = finite_json(message)
        latest = message["type"] in SUPERSEDED
        for subscriber in self.subscribers:
            if latest:
                subscriber.offer_latest(message["type"], text)
            else:
                subscriber.offer_control(text)
        if self.broker is not None and self.join_code is not None:
            self.broker.publish_message(self.id, message["type"], text)
            if message["type"] in ("state", "config"):
                self.broker.announce(self.id, self.join_code, self.welcome("viewer"))

    def publish(self, frame: bytes) -> None:
        self.last_frame = frame
        for subscriber in self.subscribers:
            subscriber.offer_frame(frame)
        if self.broker is not None and self.join_code is not None:
            self.broker.publish_frame(self.id, frame)

    def info(self) -> dict[str, Any]:
        """Public facts about the session (no token)."""
        return {"id": self.id, "step": self.trainer.step_count, "epoch": self.trainer.epoch,
                "running": self.running, "viewers": self.viewers,
                "config": config_to_dict(self.trainer.config)}

    def state(self) -> dict[str, Any]:
        """What the controls show: run state, speed, hyperparameters, selection, phase."""
        trainer = self.trainer
        divergence = trainer.divergence
        return {
            "type": "state", "running": self.running, "speed": self.speed,
            "step": trainer.step_count, "epoch": trainer.epoch, "phase": trainer.phase,
            "next_phase": trainer.next_phase,
            "hyper": config_to_dict(trainer.config)["hyper"],
            "selection": None if self.selection is None else self.selection.model_dump(),
            "status": trainer.status,
            "divergence": None if divergence is None else {
                "step": divergence.step, "learning_rate": divergence.learning_rate,
                "message": divergence.message},
            "learning_rate_changes": [[s, r[0]] for s, r in trainer.learning_rate_changes],
            "class": None if self.join_code is None else {
                "code": self.join_code, "path": f"/join/{self.join_code}"},
            "view": dict(self.view),
            "sweep": {"learning_rates": [float(r) for r in trainer.learning_rates],
                      "main_run": self.main_run} if trainer.sweep else None,
        }

    def data(self) -> dict[str, Any]:
        """The data set's points for the output plot: ``[[x1, x2, label], …]`` per split."""
        dataset = self.trainer.model.dataset
        rows = np.column_stack([dataset.points, dataset.labels]).round(6)
        return {"problem": dataset.problem, "n_classes": dataset.n_classes,
                "train": rows[dataset.train_index].tolist(),
                "test": rows[dataset.test_index].tolist()}

    def config_message(self) -> dict[str, Any]:
        """The current config and data, sent after configure and reset."""
        return {"type": "config", "config": config_to_dict(self.trainer.config),
                "data": self.data()}

    def welcome(self, role: str) -> dict[str, Any]:
        return {"type": "welcome", "session": self.id, "role": role, "protocol": 1,
                "config": config_to_dict(self.trainer.config), "data": self.data(),
                "state": self.state(), "history": self.history.as_dict(),
                "viewers": self.viewers + (role == "viewer")}  # sent just before attaching

    def export(self) -> dict[str, Any]:
        """The whole run: trainer snapshot, history (not-a-number values as null, so that
        the export is plain JSON and imports again), speed."""
        history = self.history.as_dict()
        history["rows"] = [[value if math.isfinite(value) else None for value in row]
                           for row in history["rows"]]
        return {"trainer": snapshot(self.trainer), "history": history, "speed": self.speed}

    # -------------------------------------------------------------- run loop
    async def _run_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            fps = (self.settings.presented_frames_per_second if self.join_code
                   else self.settings.max_frames_per_second)
            period = 1.0 / fps
            if not self.running:
                self._wake.clear()
                await self._wake.wait()
                continue
            started = loop.time()
            async with self.lock:
                if self.running:
                    frame = await self._in_thread(self._tick)
                    self._after_trainer_work(frame)
            await asyncio.sleep(max(period - (loop.time() - started), 0.001))

    def _tick(self) -> bytes | None:
        """Run this frame's steps (``speed`` per frame, within a time budget), then build
        the frame; None when no step was due (slow speeds)."""
        self._speed_credit += self.speed
        due = int(self._speed_credit)
        self._speed_credit -= due
        if due == 0:
            return None
        started, done, chunk = time.perf_counter(), 0, 1
        while done < due:
            ran = self.trainer.run(min(chunk, due - done))
            done += ran
            if ran < min(chunk, due - done + ran) or self.trainer.status == "diverged":
                break
            elapsed = time.perf_counter() - started
            if elapsed > TICK_BUDGET_SECONDS:
                break
            chunk = max(1, min(chunk * 2, due - done))
        return self._frame()

    def _frame(self) -> bytes:
        """Build and encode the current frame, and record the metrics in the history."""
        trainer = self.trainer
        metrics = trainer.evaluate()
        self.sequence += 1
        run = min(self.main_run, trainer.runs - 1)
        frame = build_frame(trainer, sequence=self.sequence, running=self.running,
                            metrics=metrics, selection=self.selection, run=run)
        self.history.record(trainer.step_count, trainer.epoch_progress, metrics, frame.batch_loss,
                            run=run)
        return encode_frame(frame)

    def _after_trainer_work(self, frame: bytes | None) -> None:
        """Publish a frame and, if the run just diverged, stop and tell everyone."""
        if frame is not None:
            self.publish(frame)
        if self.trainer.status == "diverged" and (self.running or frame is not None):
            divergence = self.trainer.divergence
            was_running, self.running = self.running, False
            if was_running and frame is not None:  # the published frame still said running
                self.publish(self._frame())
            if divergence is not None and was_running:
                self.broadcast({"type": "event", "event": "diverged", "step": divergence.step,
                                "learning_rate": divergence.learning_rate,
                                "loss": divergence.loss, "message": divergence.message})
                self.broadcast(self.state())

    async def _in_thread(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, work)

    # --------------------------------------------------------------- commands
    async def handle(self, command: Any) -> int:
        """Carry out a presenter's command; return the step at which it took effect.
        Raises CommandError (with the field) if the command cannot be carried out."""
        self.last_activity = time.monotonic()
        async with self.lock:
            step = await self._dispatch(command)
        self.broadcast(self.state())
        return step

    async def _dispatch(self, command: Any) -> int:
        trainer = self.trainer
        kind = command.type
        if kind == "play":
            if trainer.status == "diverged":
                raise CommandError(
                    f"{trainer.divergence.message if trainer.divergence else 'diverged'}; "
                    "lower the learning rate or reset", None, command.id)
            self.running = True
            self._wake.set()
            return trainer.step_count + 1
        if kind == "pause":
            self.running = False
            await self._emit_frame()
            return trainer.step_count
        if isinstance(command, SetHyper):
            return await self._set_hyper(command)
        if isinstance(command, Present | EndClass | View):
            self._classroom(command)
            return trainer.step_count
        if isinstance(command, Promote):
            if command.run >= trainer.runs:
                raise CommandError(f"the sweep has {trainer.runs} runs", "run", command.id)
            self.main_run = command.run
            self.history.clear()
            await self._emit_frame()
            return trainer.step_count
        if isinstance(command, Sweep):
            self.running = False
            await self._sweep(command.learning_rates)
            return 0
        if isinstance(command, Select):
            self._check_selection(command.target, command.id)
            self.selection = command.target
            await self._emit_frame()
            return trainer.step_count
        if isinstance(command, Configure):
            config = self._validated_config(command)
            self.running = False
            await self._configure(config)
            return 0
        self.running = False
        if isinstance(command, Step):
            first = trainer.step_count + 1
            await self._trainer_work(lambda: trainer.run(command.n))
            return first
        if isinstance(command, PhaseStep):
            await self._trainer_work(trainer.advance)
            return trainer.step_count + (0 if trainer.phase in (None, "update") else 1)
        await self._trainer_work(trainer.reset)  # reset
        self.history.clear()
        self.broadcast(self.config_message())
        return 0

    async def _trainer_work(self, work: Callable[[], object]) -> None:
        def run_and_frame() -> bytes:
            work()
            return self._frame()

        self._after_trainer_work(await self._in_thread(run_and_frame))
        if self.trainer.status == "diverged" and self.trainer.divergence is not None:
            divergence = self.trainer.divergence
            self.broadcast({"type": "event", "event": "diverged", "step": divergence.step,
                            "learning_rate": divergence.learning_rate,
                            "loss": divergence.loss, "message": divergence.message})

    def _classroom(self, command: Present | EndClass | View) -> None:
        """Start or end presenting, or change what the viewers' pages show."""
        if isinstance(command, View):
            if command.projector is not None:
                self.view["projector"] = command.projector
            if command.panel is not None:
                self.view["panel"] = command.panel or None
        elif isinstance(command, Present):
            if self.join_code is None:
                self.join_code = self.codes(self, None)
                if self.broker is not None and self.join_code is not None:
                    self.broker.announce(self.id, self.join_code, self.welcome("viewer"))
                    if self.last_frame is not None:
                        self.broker.publish_frame(self.id, self.last_frame)
        else:
            self.end_class()

    def end_class(self) -> None:
        """Tell the viewers the class is over and let them go; the code stops working."""
        if self.join_code is not None:
            self.codes(None, self.join_code)
            if self.broker is not None:
                self.broker.retire(self.id, self.join_code)
            self.join_code = None
        text = finite_json({"type": "event", "event": "class_ended",
                            "message": "The presenter ended the class."})
        for subscriber in list(self.subscribers):
            if subscriber.role == "viewer":
                subscriber.offer_control(text)
                subscriber.finish(CLOSE_CLASS_ENDED)

    async def fork(self) -> dict[str, Any]:
        """The run as it is now (for a private copy), taken between two trainer steps."""
        async with self.lock:
            return self.export()

    async def ensure_frame(self) -> None:
        """Build a first frame if none was published yet (a new session, for late joiners)."""
        if self.last_frame is None:
            async with self.lock:
                if self.last_frame is None:
                    await self._emit_frame()

    async def _emit_frame(self) -> None:
        self._after_trainer_work(await self._in_thread(self._frame))

    async def _set_hyper(self, command: SetHyper) -> int:
        changes = command.trainer_changes()
        step = self.trainer.step_count + 1
        if changes:
            try:
                step = self.trainer.set_hyperparameters(**changes)
            except ConfigError as error:
                raise CommandError(error.message, error.field, command.id) from error
        if command.speed is not None:
            self.speed = command.speed
        if changes and not self.running:  # the views show the new values at once
            await self._emit_frame()
        return step

    async def _sweep(self, rates: list[float] | None) -> None:
        """Rebuild as a sweep over ``rates`` (or as one run again) from the same seed."""
        config = self.trainer.config
        if rates is not None:
            config = replace(config, hyper=replace(config.hyper, learning_rate=rates[0]))
        fresh = TrainingSession(config, rates)

        def swap() -> None:
            self.trainer = fresh

        self.main_run = 0
        self.selection = None
        await self._trainer_work(swap)
        self.history.clear()
        self.broadcast(self.config_message())

    def _validated_config(self, command: Configure) -> TrainerConfig:
        """The merged, fully validated config of a configure command, or CommandError
        naming ``config.<field>``."""
        try:
            config = config_from_dict(merge_config(config_to_dict(self.trainer.config),
                                                   command.config))
            return validate_config(config)
        except ConfigError as error:
            field = error.field if error.field.startswith("config") else f"config.{error.field}"
            raise CommandError(error.message, field, command.id) from error

    async def _configure(self, config: TrainerConfig) -> None:
        await self._trainer_work(lambda: self.trainer.configure(config))
        self.selection = None
        self.history.clear()
        self.broadcast(self.config_message())

    def _check_selection(self, target: Selection | None, request_id: Any) -> None:
        if target is None:
            return
        sizes = self.trainer.model.layout.sizes
        if target.layer >= len(sizes) - 1:
            raise CommandError(f"the network has {len(sizes) - 1} layers", "target.layer",
                               request_id)
        if target.neuron >= sizes[target.layer + 1]:
            raise CommandError(f"layer {target.layer} has {sizes[target.layer + 1]} neurons",
                               "target.neuron", request_id)
        if target.source is not None and target.source >= sizes[target.layer]:
            raise CommandError(f"layer {target.layer} has {sizes[target.layer]} inputs",
                               "target.source", request_id)


def normalize_code(code: str) -> str:
    """Join codes are read aloud and typed: case, spaces and dashes do not matter."""
    return code.strip().upper().replace(" ", "").replace("-", "")


def merge_config(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``current`` with the fields of ``changes`` replaced, section by section.

    What follows from a replaced field is reset rather than kept stale: a new data set
    drops custom points and lets the problem and loss follow it (unless given); new layer
    sizes with per-layer activations keep the first activation for every layer.
    """
    merged = {key: dict(value) if isinstance(value, dict) else value
              for key, value in current.items()}
    for section, values in changes.items():
        if isinstance(values, dict) and isinstance(merged.get(section), dict):
            merged[section].update(values)
        else:
            merged[section] = values
    network, data = changes.get("network"), changes.get("data")
    if isinstance(data, dict) and "dataset" in data:
        if data["dataset"] != "custom" and "points" not in data:
            merged["data"]["points"] = None
        for key in ("problem", "loss"):
            if not (isinstance(network, dict) and key in network):
                merged["network"][key] = None
    if isinstance(network, dict) and "hidden_layers" in network and "activation" not in network:
        activation = merged["network"].get("activation")
        if isinstance(activation, list):
            merged["network"]["activation"] = activation[0] if activation else "tanh"
    return merged


class SessionRegistry:
    """All live sessions of this process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sessions: dict[str, LiveSession] = {}
        self.codes: dict[str, str] = {}  # join code -> session id
        self.executor = ThreadPoolExecutor(settings.trainer_threads, "trainer")
        self.broker: Broker | None = None
        self.remote: dict[str, RemoteSession] = {}  # sessions of other processes we relay
        if settings.redis_url:
            from .broker import Broker  # Redis is needed only for scale-out

            self.broker = Broker(settings.redis_url)

    async def find(self, session_id: str) -> LiveSession | RemoteSession | None:
        """A session of this process, or (with a broker) a relay of another process's."""
        local = self.sessions.get(session_id)
        if local is not None or self.broker is None:
            return local
        remote = self.remote.get(session_id)
        if remote is None:
            remote = await self.broker.remote(session_id)
            if remote is not None:
                remote.on_empty = lambda relay: self.remote.pop(relay.id, None)
                self.remote[session_id] = remote
        return remote

    async def find_code(self, code: str) -> str | None:
        """The session id of a join code, here or (with a broker) on another process."""
        local = self.by_code(code)
        if local is not None:
            return local.id
        if self.broker is None:
            return None
        return await self.broker.session_for_code(normalize_code(code))

    def _code(self, session: LiveSession | None, code: str | None) -> str | None:
        """Give ``session`` a fresh join code, or (session None) retire ``code``."""
        if session is None:
            self.codes.pop(code or "", None)
            return None
        while True:
            new = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
            if new not in self.codes:
                self.codes[new] = session.id
                return new

    def by_code(self, code: str) -> LiveSession | None:
        """The presented session with this join code (case and spaces ignored)."""
        session_id = self.codes.get(normalize_code(code))
        return None if session_id is None else self.sessions.get(session_id)

    def create(self, config: dict[str, Any] | None = None,
               exported: dict[str, Any] | None = None) -> LiveSession:
        """A new session from a config dict, or from an exported run; ConfigError or
        LimitError if that cannot be."""
        if len(self.sessions) >= self.settings.max_sessions:
            raise LimitError(f"the server runs {len(self.sessions)} sessions (the limit)")
        history = None
        if exported is not None:
            if not isinstance(exported, dict) or "trainer" not in exported:
                raise ConfigError("snapshot", "must be an exported run with a 'trainer' part")
            trainer = restore(exported["trainer"])
            history = exported.get("history")
        else:
            trainer = TrainingSession(config_from_dict(config or {}))
        session = LiveSession(trainer, self.settings, self.executor)
        session.codes = self._code
        session.broker = self.broker
        if history is not None:
            session.history.load(history)
        if exported is not None and "speed" in exported:
            speed = exported["speed"]
            if not (isinstance(speed, int | float) and not isinstance(speed, bool)
                    and math.isfinite(speed) and 0.01 <= speed <= 1000):
                raise ConfigError("snapshot.speed", "must be a number from 0.01 to 1000")
            session.speed = float(speed)
        self.sessions[session.id] = session
        session.start()
        return session

    def get(self, session_id: str) -> LiveSession | None:
        return self.sessions.get(session_id)

    async def remove(self, session_id: str) -> None:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            session.end_class()
            await session.stop()

    async def reap_idle(self) -> None:
        """Forever: every so often, end sessions nobody has used for a while."""
        while True:
            await asyncio.sleep(min(60.0, self.settings.idle_session_seconds / 2))
            now = time.monotonic()
            for session_id in [s.id for s in self.sessions.values() if s.is_idle(now)]:
                await self.remove(session_id)

    async def close(self) -> None:
        for session_id in list(self.sessions):
            await self.remove(session_id)
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.broker is not None:
            await self.broker.close()
