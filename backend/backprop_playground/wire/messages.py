"""Server → client JSON messages: one pydantic model per message, named by direction, and the
never-NaN rule they are written with.

Every field of a message model is always sent. :func:`to_json` writes a message as strict
JSON: a non-finite number becomes ``null`` and its path is listed under ``"non_finite"``.
The page's types (``frontend/types/messages.gen.d.ts``) are generated from these models by
:mod:`.gen_types`; close codes are :class:`CloseCode`.
"""

from __future__ import annotations

import json
import math
from enum import IntEnum
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, WithJsonSchema

from ..trainer import PHASES, PROBLEMS, STATUSES, Hyperparameters, TrainerConfig
from .commands import ACKED_COMMANDS, CommandError, QuestionKind, Role, Selection


class CloseCode(IntEnum):
    """WebSocket close codes the server uses."""

    POLICY = 1008  #: origin not allowed, missing or malformed hello
    TOO_BIG = 1009  #: a message over ``max_message_bytes``
    FORBIDDEN = 4403  #: wrong presenter token
    NOT_FOUND = 4404  #: no such session
    CLASS_ENDED = 4410  #: the presenter ended the class
    SPOTLIGHT_ENDED = 4411  #: the spotlight this viewer socket was opened for ended
    #: the session's viewer limit is reached, or the client kept sending more messages than
    #: ``max_messages_per_second`` (a sustained flood); the close reason says which
    FULL = 4429


def names(choices: tuple[str, ...]) -> WithJsonSchema:
    """The JSON Schema of a string that is one of ``choices`` (a union type in TypeScript)."""
    return WithJsonSchema({"type": "string", "enum": list(choices)})


#: A number that is sent as null when it is not finite (its path is then in ``non_finite``).
WireFloat = Annotated[float, WithJsonSchema(
    {"anyOf": [{"type": "number"}, {"type": "null"}],
     "description": "null when not finite (the path is listed in non_finite)"})]
#: A request id as the command gave it: a string or a whole number.
EchoedId = str | int


class Message(BaseModel):
    """Fields every server message has (``non_finite`` is added by :func:`to_json`)."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)
    type: str


class Part(BaseModel):
    """A part of a message (not a message by itself)."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------- message parts
class PlotData(Part):
    """The data set for the output plot: ``[x1, x2, label]`` per point (label: class index,
    or the target value for regression)."""

    problem: Annotated[str, names(PROBLEMS)]
    n_classes: int
    train: list[tuple[float, float, float]]
    test: list[tuple[float, float, float]]


class HistoryData(Part):
    """The loss/accuracy history: one row per recorded frame (every ``stride``-th frame once
    the history is long)."""

    columns: list[str]
    rows: list[list[WireFloat]]
    stride: int


class ClassInfo(Part):
    """A presented class: its join code and the page's path for viewers."""

    code: str
    path: str


class ViewState(Part):
    """What the presenter shows, mirrored on the viewers' pages."""

    projector: bool
    panel: str | None


class DivergenceInfo(Part):
    """Where and why training diverged."""

    step: int
    learning_rate: float
    message: str


class SweepInfo(Part):
    """A learning-rate sweep: its rates and the run shown in the main view."""

    learning_rates: list[float]
    main_run: int


class ForkInfo(Part):
    """This session is fork ``number`` of a presented class (what its owner's page shows)."""

    number: int
    listed: bool = Field(description="The class's presenter may list and show it.")
    shown: bool = Field(description="The class's presenter is showing it now (read-only).")


class ForkRow(Part):
    """One fork in the presenter's list: its number and how far its run is, nothing that
    says whose it is or opens it."""

    number: int
    step: int
    running: bool
    train_loss: WireFloat | None
    test_loss: WireFloat | None
    test_accuracy: WireFloat | None = Field(description="Null for regression.")


class QuestionOption(Part):
    """One answer a question offers: its id (what an answer sends) and its label."""

    id: str
    label: str


class QuestionTally(Part):
    """How the class answered, counts only (never who): answers per option id."""

    counts: dict[str, int]
    answered: int = Field(description="Viewers who answered.")
    viewers: int = Field(description="Connected viewers.")


class QuestionTruth(Part):
    """What really happened: the correct option (null: none, e.g. a weight that did not
    move, or an update refused because training diverged) and the numbers behind it."""

    option: str | None
    summary: str = Field(description="The truth in words, e.g. 'batch loss 0.412 → 0.398'.")
    loss_before: WireFloat | None = Field(
        description="Batch loss (plus penalty) of the update's batch before the update.")
    loss_after: WireFloat | None = Field(description="… and after it.")
    weight_change: WireFloat | None = Field(description="Δw of the selected parameter.")
    weight_after: WireFloat | None = Field(description="The parameter after the update.")
    run_losses: list[WireFloat] | None = Field(
        description="Each sweep run's training loss after the steps (null: diverged).")


class QuestionInfo(Part):
    """The question the presenter asked the class."""

    id: int
    kind: QuestionKind
    prompt: str
    options: list[QuestionOption]
    status: Literal["open", "revealing", "revealed"] = Field(
        description="open: answers taken; revealing: the step runs; revealed: truth known.")
    steps: int | None = Field(description="sweep_winner: the steps the runs train.")
    tally: QuestionTally | None = Field(description="Set once revealed (the presenter "
                                        "gets it live as tally messages).")
    truth: QuestionTruth | None = Field(description="Set once revealed.")


# ------------------------------------------------------------------------- messages
class StateMessage(Message):
    """What the controls show; sent after every command and when the run stops by itself
    (a newer one replaces one not yet sent)."""

    type: Literal["state"] = "state"
    running: bool
    speed: float = Field(description="Steps per frame while running.")
    step: int = Field(description="Completed steps (updates).")
    epoch: int
    phase: Annotated[str, names(PHASES)] | None = Field(
        description="The last completed phase of the current step (null: none has run).")
    next_phase: Annotated[str, names(PHASES)]
    hyper: Hyperparameters
    selection: Selection | None = Field(description="The inspected neuron or edge.")
    focus: int = Field(description="The focus point: its index in the minibatch.")
    status: Annotated[str, names(STATUSES)] = Field(
        description="ok, saturated (gradients vanished: units pinned) or diverged.")
    divergence: DivergenceInfo | None
    learning_rate_changes: list[tuple[int, float, int | None]] = Field(
        description="[step, rate, gesture]: from step on, the learning rate was rate; "
                    "changes of one gesture (a slider drag) share its number, else null.")
    data_changes: list[int] = Field(
        description="The steps from which the data set was edited (points added or erased "
                    "while the run went on), oldest first.")
    class_: ClassInfo | None = Field(alias="class", description="Set while presented.")
    view: ViewState
    sweep: SweepInfo | None = Field(description="Set while a learning-rate sweep runs.")
    question: QuestionInfo | None = Field(
        default=None, description="The question asked of the class (null: none).")
    fork: ForkInfo | None = Field(
        default=None, description="Set on a fork linked to the class it was made from.")
    spotlight: int | None = Field(
        default=None, description="On a class: the number of the fork its presenter shows.")


class WelcomeMessage(Message):
    """The answer to a hello: everything a client needs to draw the session."""

    type: Literal["welcome"] = "welcome"
    session: str
    role: Role
    protocol: int = Field(description="The protocol version.")
    config: TrainerConfig
    data: PlotData
    state: StateMessage
    history: HistoryData
    viewers: int = Field(description="Connected viewers (the presenter not counted).")
    member_token: str | None = Field(
        default=None,
        description="A viewer's proof of its class membership, valid while this socket is "
                    "open and the class is presented: send it as 'Authorization: Bearer …' "
                    "to fork or export the class's run. Null for the presenter (its own "
                    "token does that) and on a relaying server.")

    def relayed_to(self, role: Role) -> RelayedWelcomeMessage:
        """This welcome as another server process relays it to ``role`` (no member token:
        forks are made where the session runs)."""
        return RelayedWelcomeMessage.model_validate({**dict(self), "role": role,
                                                     "member_token": None})


class RelayedWelcomeMessage(WelcomeMessage):
    """A welcome from a server process that relays a class presented on another."""

    relayed: Literal[True] = True


class AckMessage(Message):
    """A command was carried out; ``step`` is the step at which it took effect."""

    type: Literal["ack"] = "ack"
    id: EchoedId | None = Field(description="The command's request id (null: it had none).")
    command: Annotated[str, names(ACKED_COMMANDS)] = Field(description="Its type.")
    step: int = Field(description="The step at which the command took effect.")


class ErrorMessage(Message):
    """A message was refused; ``field`` is the dotted path of the culprit (or null). The
    socket stays open unless a close code follows."""

    type: Literal["error"] = "error"
    id: EchoedId | None = Field(
        description="The message's request id (null: it had none or could not be read).")
    field: str | None = Field(description="Dotted path of the culprit, e.g. target.neuron.")
    message: str = Field(description="What is wrong, in plain words.")
    dropped: list[EchoedId] | None = Field(
        default=None,
        description="For the error that tells rate-limited messages: the request ids of the "
                    "dropped messages that had one (they get no other answer); else null.")


class DataMessage(Message):
    """The data set after a point edit (``edit_points``): the run goes on with the same
    weights and the history is kept; from ``step`` on, training uses the new data. Each
    carries the whole data set, so a newer one replaces one not yet sent."""

    type: Literal["data"] = "data"
    config: TrainerConfig
    data: PlotData
    step: int = Field(description="The first step that trains on the new data.")
    _text: str | None = PrivateAttr(default=None)

    def prepared(self) -> DataMessage:
        """This message with its JSON text written now (up to 2000 points take tens of ms:
        written on a trainer thread, not on the event loop); :func:`to_json` returns it."""
        self._text = finite_json(self.model_dump())
        return self

    @property
    def prepared_text(self) -> str | None:
        return self._text


class RateMessage(Message):
    """The training rate a running session really gets, about once a second: fewer steps per
    frame when the asked ones do not fit a frame's period (a newer one replaces one not
    yet sent)."""

    type: Literal["rate"] = "rate"
    asked_steps_per_second: float = Field(description="Speed × frames per second.")
    steps_per_second: float = Field(description="Steps run per second, measured.")
    frames_per_second: float = Field(description="Frames made per second, measured.")


class ConfigMessage(Message):
    """The config and data after ``configure``, ``reset`` and ``sweep``; the history restarts."""

    type: Literal["config"] = "config"
    config: TrainerConfig
    data: PlotData


class ViewersMessage(Message):
    """A client joined or left (a newer count replaces one not yet sent)."""

    type: Literal["viewers"] = "viewers"
    count: int = Field(description="Connected viewers (the presenter not counted).")


class TallyMessage(Message):
    """The presenter's live tally of the open question (at most 5 a second; a newer one
    replaces one not yet sent). Viewers see the tally only at the reveal (in the state)."""

    type: Literal["tally"] = "tally"
    question_id: int
    tally: QuestionTally


class DivergedEvent(Message):
    """Training stopped because the loss or the update exploded; the session is paused."""

    type: Literal["event"] = "event"
    event: Literal["diverged"] = "diverged"
    step: int
    learning_rate: float
    loss: WireFloat | None
    message: str


class ClassEndedEvent(Message):
    """The presenter ended the class; the viewer's socket closes with 4410."""

    type: Literal["event"] = "event"
    event: Literal["class_ended"] = "class_ended"
    message: str


class ForksMessage(Message):
    """The class's forks, to its presenters only, when the list changed (at most once a
    second; a newer list replaces one not yet sent)."""

    type: Literal["forks"] = "forks"
    forks: list[ForkRow] = Field(description="Listed forks by number, the newest "
                                             "max_listed_forks of them.")
    more: int = Field(description="Listed forks left out of forks (beyond the limit).")
    spotlight: int | None = Field(description="The number of the fork shown, or null.")


class SpotlightEndedEvent(Message):
    """The spotlight of fork ``number`` ended (its owner stopped sharing it, it is gone, or
    the class ended): to the class's presenters, and to the spotlight's sockets, which then
    close with 4411."""

    type: Literal["event"] = "event"
    event: Literal["spotlight_ended"] = "spotlight_ended"
    number: int
    message: str


EventMessage = DivergedEvent | ClassEndedEvent | SpotlightEndedEvent
ServerMessage = (WelcomeMessage | RelayedWelcomeMessage | AckMessage | ErrorMessage
                 | StateMessage | ConfigMessage | DataMessage | RateMessage | ViewersMessage
                 | TallyMessage | ForksMessage | EventMessage)
#: Message types of which only the latest unsent one matters.
SUPERSEDED = ("state", "viewers", "rate", "forks", "data")


def to_json(message: Message) -> str:
    """The message as strict JSON text (see :func:`finite_json`); a :class:`DataMessage`'s
    text as :meth:`DataMessage.prepared` wrote it, if it did."""
    text = message.prepared_text if isinstance(message, DataMessage) else None
    return text if text is not None else finite_json(message.model_dump())


def error_message(error: CommandError, dropped: list[str | int] | None = None) -> str:
    """The JSON error reply for ``error`` (``dropped``: the ids of rate-limited messages).

    Built unvalidated: an error reply goes out whatever the echoed id holds (a non-finite
    one becomes null like any other number)."""
    reply = ErrorMessage.model_construct(id=error.request_id, field=error.field,
                                         message=error.message, dropped=dropped)
    return finite_json(reply.model_dump(warnings=False))


def finite_json(message: dict[str, Any]) -> str:
    """JSON text with every non-finite number replaced by null; the paths of the replaced
    values are listed under ``"non_finite"`` so that a null is never ambiguous."""
    replaced: list[str] = []
    clean = _replace_non_finite(message, "", replaced)
    if replaced:
        clean["non_finite"] = replaced
    return json.dumps(clean, allow_nan=False, separators=(",", ":"))


def _replace_non_finite(value: Any, path: str, replaced: list[str]) -> Any:
    if isinstance(value, float | np.floating):
        if math.isfinite(value):
            return float(value)
        replaced.append(path)
        return None
    if isinstance(value, dict):
        return {key: _replace_non_finite(item, f"{path}.{key}" if path else key, replaced)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_replace_non_finite(item, f"{path}[{i}]", replaced)
                for i, item in enumerate(value)]
    if isinstance(value, np.integer):
        return int(value)
    return value
