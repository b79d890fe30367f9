"""Client → server commands: pydantic models, one discriminated union, and ``parse_command``.

Parsing is strict (unknown fields refused, no coercion, finite numbers only) and every
refusal is a :class:`CommandError` naming the field by its dotted path (``target.neuron``).
``set_hyper``'s trainer fields are derived from the trainer's ``Hyperparameters`` and
``LIMITS``, never listed here.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args, get_type_hints

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    create_model,
    field_validator,
)

from ..trainer import LIMITS, Hyperparameters
from ..trainer.config import HYPER_CHOICES
from ..trainer.point_edits import MAX_EDIT_POINTS
from .catalogue import COMMAND_LIMITS

#: A request id: a short string or a whole number that fits a JavaScript number exactly.
RequestId = Annotated[str, Field(max_length=64)] | Annotated[int, Field(ge=0, le=2**53)]
#: Who is on the other end of a socket: the one presenter steers, viewers watch.
Role = Literal["presenter", "viewer"]


class Command(BaseModel):
    """Fields every command has: the protocol version and an optional request id that the
    ack or error echoes."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    v: Literal[1] = 1
    id: RequestId | None = None

    @field_validator("v", mode="before")
    @classmethod
    def _version_is_the_integer_one(cls, value: Any) -> Any:
        """``true`` and ``1.0`` equal 1 in Python; the protocol version is the JSON integer."""
        if type(value) is not int:
            raise ValueError("the protocol version is the whole number 1")
        return value


class Hello(Command):
    """First message on a socket: who is connecting, and the proof: the presenter's token
    (from creating the session; never in the URL), or for a viewer the class's join code."""

    type: Literal["hello"]
    role: Role
    token: Annotated[str, Field(max_length=128)] | None = None
    #: The client reads ``delta`` frames (docs/protocol.md): it is sent frames as their
    #: difference from the one before whenever it can add them back.
    deltas: bool = False


class Play(Command):
    """Train continuously at the current speed."""

    type: Literal["play"]


class Pause(Command):
    """Stop after the current frame."""

    type: Literal["pause"]


class Step(Command):
    """Run ``n`` whole steps (pauses a running session)."""

    type: Literal["step"]
    n: Annotated[int, Field(ge=int(COMMAND_LIMITS["step_n"][0]),
                            le=int(COMMAND_LIMITS["step_n"][1]))] = 1


class PhaseStep(Command):
    """Run the next phase only: forward, loss, backward or update (pauses)."""

    type: Literal["phase_step"]


class Reset(Command):
    """Rebuild the network from the seed; history is cleared."""

    type: Literal["reset"]


HYPER_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(Hyperparameters))


class _SetHyperBase(Command):
    """Change hyperparameters live, from the next step (any of the trainer's
    ``Hyperparameters``, within ``LIMITS``); ``speed`` is steps per frame."""

    type: Literal["set_hyper"]
    speed: Annotated[float, Field(ge=COMMAND_LIMITS["speed"][0],
                                  le=COMMAND_LIMITS["speed"][1])] | None = None
    #: The learning-rate changes of one gesture (a slider being dragged) share a number, so
    #: that the charts show them as one mark "η 0.03 → 3" over the steps they spanned.
    gesture: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None

    def trainer_changes(self) -> dict[str, Any]:
        """The fields that are trainer hyperparameters and were given."""
        return self.model_dump(include=set(HYPER_FIELDS), exclude_none=True)


def _hyper_fields() -> dict[str, Any]:
    """``set_hyper``'s trainer fields, one per ``Hyperparameters`` field, all optional: a
    choice of names (the trainer's ``HYPER_CHOICES``) or a number of the field's type
    within ``LIMITS``."""
    hints = get_type_hints(Hyperparameters)
    result: dict[str, Any] = {}
    for name in HYPER_FIELDS:
        if name in HYPER_CHOICES:
            annotation: Any = Literal[HYPER_CHOICES[name]]
        else:
            low, high = LIMITS[name]
            annotation = Annotated[hints[name], Field(ge=low, le=high)]
        result[name] = (annotation | None, None)
    return result


if TYPE_CHECKING:  # mypy sees what the server reads; the trainer fields come from the trainer
    SetHyper = _SetHyperBase
else:
    SetHyper = create_model("SetHyper", __base__=_SetHyperBase, __module__=__name__,
                            __doc__=_SetHyperBase.__doc__, **_hyper_fields())


class ConfigChanges(BaseModel):
    """The sections of a config to change, each an object of the trainer's fields (or a
    whole number for ``seed``); a section that is missing or null keeps its values. The
    trainer validates the fields and names the first bad one."""

    model_config = ConfigDict(extra="forbid", strict=True)
    network: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    hyper: dict[str, Any] | None = None
    seed: int | None = None

    def sections(self) -> dict[str, Any]:
        """The given sections, as plain values."""
        return {name: value for name, value in self if value is not None}


class Configure(Command):
    """Rebuild with a new config (architecture, features, activation, problem, loss, data,
    seed, custom points). Missing sections keep their current values; the trainer validates
    and names the first bad field."""

    type: Literal["configure"]
    config: ConfigChanges


class Selection(BaseModel):
    """A neuron (``source`` is None: its bias) or an edge ``source → neuron`` of ``layer``
    (0 = first hidden layer; the output layer is the last)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    layer: Annotated[int, Field(ge=0, le=LIMITS["hidden_layers"][1])]
    neuron: Annotated[int, Field(ge=0, le=LIMITS["neurons_per_layer"][1] - 1)]
    source: Annotated[int, Field(ge=0, le=LIMITS["neurons_per_layer"][1] - 1)] | None = None


class Select(Command):
    """Inspect a neuron or an edge (None clears the selection)."""

    type: Literal["select"]
    target: Selection | None = None


class Focus(Command):
    """Follow point ``index`` of the minibatch (0 = its first point) in the forward pass's
    wave and the loss panel; kept across steps (clamped to the batch)."""

    type: Literal["focus"]
    index: Annotated[int, Field(ge=int(COMMAND_LIMITS["focus"][0]),
                                le=int(COMMAND_LIMITS["focus"][1]))]


class SetParameter(Command):
    """Type a weight (``target`` an edge) or a bias (``target`` a neuron) in: between two
    steps, from the next step on (a step in progress is refused)."""

    type: Literal["set_parameter"]
    target: Selection
    value: Annotated[float, Field(ge=LIMITS["parameter"][0], le=LIMITS["parameter"][1])]


class Present(Command):
    """Turn this session into a presented class: a join code for the viewers."""

    type: Literal["present"]


class EndClass(Command):
    """End the class: viewers are told and disconnected; the session goes on privately."""

    type: Literal["end_class"]


class View(Command):
    """What the presenter shows, mirrored on the viewers' pages."""

    type: Literal["view"]
    projector: bool | None = None
    panel: Annotated[str, Field(max_length=32, pattern=r"^[a-z_-]*$")] | None = None


class Sweep(Command):
    """Train 2–8 runs side by side from the same initial weights and data order, one per
    learning rate (None: back to one run at the first rate). Rebuilds from the seed."""

    type: Literal["sweep"]
    learning_rates: Annotated[
        list[Annotated[float, Field(ge=LIMITS["learning_rate"][0],
                                    le=LIMITS["learning_rate"][1])]],
        Field(min_length=2, max_length=int(LIMITS["sweep_runs"][1])),
    ] | None = None


class Promote(Command):
    """Show run ``run`` of a sweep in the main view (network, output plot, inspector)."""

    type: Literal["promote"]
    run: Annotated[int, Field(ge=0, le=int(LIMITS["sweep_runs"][1]) - 1)]


#: A coordinate of the plane, within the trainer's limits.
Coordinate = Annotated[float, Field(ge=LIMITS["coordinate"][0], le=LIMITS["coordinate"][1])]


class EditPoints(Command):
    """Add training points ``[x1, x2, label]`` and erase the points nearest to positions
    ``[x1, x2]``, between two steps, keeping the weights, the optimizer's memory and the
    step counter (a running session keeps running); the data set becomes the user's own."""

    type: Literal["edit_points"]
    add: Annotated[list[Annotated[list[float], Field(min_length=3, max_length=3)]],
                   Field(max_length=MAX_EDIT_POINTS)] = []
    erase: Annotated[list[Annotated[list[Coordinate], Field(min_length=2, max_length=2)]],
                     Field(max_length=MAX_EDIT_POINTS)] = []


#: The questions the presenter can ask the class (see live/questions.py).
QuestionKind = Literal["update_lowers_loss", "weight_direction", "sweep_winner"]
#: The steps a sweep trains before its winner is read, when ``open_question`` gives none.
QUESTION_STEPS_DEFAULT = 50


class OpenQuestion(Command):
    """Ask the class (pauses the run): will the next update lower the batch loss, will
    the selected weight go up or down, which run of the sweep ends lowest after ``steps``
    more steps (only for ``sweep_winner``)."""

    type: Literal["open_question"]
    kind: QuestionKind
    steps: Annotated[int, Field(ge=int(COMMAND_LIMITS["step_n"][0]),
                                le=int(COMMAND_LIMITS["step_n"][1]))] | None = None


class RevealQuestion(Command):
    """Close the answers, run the step (or the sweep's steps) and show the tally beside
    the truth on every screen."""

    type: Literal["reveal_question"]


class CloseQuestion(Command):
    """Cancel the open question, or put the revealed one away."""

    type: Literal["close_question"]


class Answer(Command):
    """A viewer's answer to the open question (the one command a viewer may send besides
    hello); a second answer replaces the first until the reveal."""

    type: Literal["answer"]
    question_id: Annotated[int, Field(ge=1, le=2**53)]
    option: Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[a-z0-9_]+$")]


class SetListing(Command):
    """On a fork of a presented class, its owner: whether the class's presenter may see it in
    the list of forks and show it, read-only (default true)."""

    type: Literal["set_listing"]
    listed: bool


class FrameRate(Command):
    """This socket's pace: at most ``frames_per_second`` frames a second, the newest each
    time (null: every frame the session makes). The page asks for what it can draw, so that
    it is not sent frames it would only drop; the run and the other clients are unchanged."""

    type: Literal["frame_rate"]
    frames_per_second: Annotated[float, Field(ge=1, le=240)] | None


#: Every command but the hello and the answer: what the presenter sends to steer the run.
ControlCommand = (Play | Pause | Step | PhaseStep | Reset | SetHyper | Configure | Select
                  | Focus | SetParameter | Present | EndClass | View | Sweep | Promote
                  | EditPoints
                  | OpenQuestion | RevealQuestion | CloseQuestion | SetListing | FrameRate)
ClientCommand = Annotated[Hello | ControlCommand | Answer, Field(discriminator="type")]
COMMAND_ADAPTER: TypeAdapter[ClientCommand] = TypeAdapter(ClientCommand)
COMMAND_MODELS: tuple[type[Command], ...] = get_args(get_args(ClientCommand)[0])
COMMAND_TYPES: tuple[str, ...] = tuple(
    get_args(model.model_fields["type"].annotation)[0] for model in COMMAND_MODELS)
#: What the presenter may send after the hello (a viewer sends only answers).
CONTROL_COMMANDS = tuple(kind for kind in COMMAND_TYPES if kind not in ("hello", "answer"))
#: The commands an ack can answer: the presenter's and the viewers' answers.
ACKED_COMMANDS = (*CONTROL_COMMANDS, "answer")


class CommandError(Exception):
    """A message could not be accepted; ``field`` names the culprit (or None)."""

    def __init__(self, message: str, field: str | None = None,
                 request_id: str | int | None = None) -> None:
        super().__init__(message)
        self.message, self.field, self.request_id = message, field, request_id


def parse_command(text: str | bytes) -> ClientCommand:
    """A command model from JSON text, or CommandError naming the field and the reason."""
    try:
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise CommandError(f"not valid JSON: {error}") from error
    except RecursionError as error:
        raise CommandError("not a command: nested too deeply") from error
    request_id = request_id_of(text)
    if not isinstance(raw, dict):
        raise CommandError("a command is a JSON object with a 'type'")
    unreadable = _surrogate_key_path(raw)
    if unreadable is not None:
        raise CommandError("a key holds a lone surrogate (\\ud800 to \\udfff): not text",
                           unreadable, request_id)
    non_finite = _non_finite_path(raw)
    if non_finite is not None:
        raise CommandError("numbers must be finite (no NaN or Infinity)", non_finite, request_id)
    try:
        return COMMAND_ADAPTER.validate_python(raw)
    except ValidationError as error:
        raise _refusal(error, raw, request_id) from error


def _refusal(error: ValidationError, raw: dict[str, Any],
             request_id: str | int | None) -> CommandError:
    """The CommandError for pydantic's first complaint, its location as a dotted path."""
    first = error.errors()[0]
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        known = ", ".join(COMMAND_TYPES)
        return CommandError(f"unknown command type {raw.get('type')!r}; known: {known}",
                            "type", request_id)
    parts = [part for part in first["loc"]
             if not _is_union_tag(part, raw) and not _is_branch_label(part)]
    message = first["msg"].removeprefix("Value error, ")
    return CommandError(message, field_path(parts), request_id)


def field_path(parts: list[str | int]) -> str | None:
    """A location as the protocol writes it: ``.`` between keys, ``[i]`` for list indices
    (``learning_rates[1]``, ``config.network.hidden_layers[0]``); None for no parts."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{_key_text(part)}" if path else _key_text(part)
    return path or None


def _key_text(key: str) -> str:
    """A key as a path part, lone surrogates escaped (``\\ud800``) so the path is text."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _is_branch_label(part: str | int) -> bool:
    """pydantic names the branches of a union in error paths (``constrained-str``, ``int``);
    they are not fields."""
    return isinstance(part, str) and (part in ("str", "int", "float", "bool")
                                      or part.startswith(("constrained-", "function-")))


def _is_union_tag(part: Any, raw: dict[str, Any]) -> bool:
    return isinstance(part, str) and part == raw.get("type") and part not in raw


def request_id_of(text: str | bytes) -> str | int | None:
    """The ``id`` of a message if it has a valid one, else None (for replies to messages
    that are refused before they are parsed as commands)."""
    try:
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    value = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(value, str) and len(value) <= 64:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**53:
        return value
    return None


def _non_finite_path(value: Any, parts: tuple[str | int, ...] = ()) -> str | None:
    """The path of the first NaN or ±Infinity in ``value`` (None: there is none)."""
    if isinstance(value, float) and not math.isfinite(value):
        return field_path(list(parts))
    items = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        found = _non_finite_path(item, (*parts, key))
        if found is not None:
            return found
    return None


def _surrogate_key_path(value: Any, parts: tuple[str | int, ...] = ()) -> str | None:
    """The path of the first object key in ``value`` that holds a lone surrogate (JSON
    escapes can write one; it is not a character), None when every key is text."""
    items = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        if isinstance(key, str):
            try:
                key.encode("utf-8")
            except UnicodeEncodeError:
                return field_path([*parts, key])
        found = _surrogate_key_path(item, (*parts, key))
        if found is not None:
            return found
    return None
