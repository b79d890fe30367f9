"""Every wire message: client commands (pydantic, one discriminated union), server JSON
messages (never NaN or Infinity). The binary frame lives in :mod:`wire.frame`.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .trainer import LIMITS, OPTIMIZERS, REGULARIZATIONS
from .wire.frame import PROTOCOL_VERSION as PROTOCOL_VERSION

RequestId = Annotated[str, Field(max_length=64)] | Annotated[int, Field(ge=0, le=2**53)]


def _range(key: str) -> dict[str, float]:
    low, high = LIMITS[key]
    return {"ge": low, "le": high}


class Command(BaseModel):
    """Fields every command has: the protocol version and an optional request id that the
    ack or error echoes."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    v: Literal[1] = 1
    id: RequestId | None = None


class Hello(Command):
    """First message on a socket: who is connecting. The presenter proves it with the token
    it got when it created the session (never in the URL)."""

    type: Literal["hello"]
    role: Literal["presenter", "viewer"]
    token: Annotated[str, Field(max_length=128)] | None = None


class Play(Command):
    """Train continuously at the current speed."""

    type: Literal["play"]


class Pause(Command):
    """Stop after the current frame."""

    type: Literal["pause"]


class Step(Command):
    """Run ``n`` whole steps (pauses a running session)."""

    type: Literal["step"]
    n: Annotated[int, Field(ge=1, le=10_000)] = 1


class PhaseStep(Command):
    """Run the next phase only: forward, loss, backward or update (pauses)."""

    type: Literal["phase_step"]


class Reset(Command):
    """Rebuild the network from the seed; history is cleared."""

    type: Literal["reset"]


class SetHyper(Command):
    """Change hyperparameters live, from the next step; ``speed`` is steps per frame."""

    type: Literal["set_hyper"]
    learning_rate: Annotated[float, Field(**_range("learning_rate"))] | None = None
    regularization_rate: Annotated[float, Field(**_range("regularization_rate"))] | None = None
    batch_size: Annotated[int, Field(**_range("batch_size"))] | None = None
    optimizer: Literal[OPTIMIZERS] | None = None  # type: ignore[valid-type]
    regularization: Literal[REGULARIZATIONS] | None = None  # type: ignore[valid-type]
    momentum: Annotated[float, Field(**_range("momentum"))] | None = None
    beta1: Annotated[float, Field(**_range("beta1"))] | None = None
    beta2: Annotated[float, Field(**_range("beta2"))] | None = None
    epsilon: Annotated[float, Field(**_range("epsilon"))] | None = None
    speed: Annotated[float, Field(ge=0.01, le=1000)] | None = None

    def trainer_changes(self) -> dict[str, Any]:
        """The fields that are trainer hyperparameters and were given."""
        given = self.model_dump(exclude_none=True, exclude={"v", "id", "type", "speed"})
        return given


class Configure(Command):
    """Rebuild with a new config (architecture, features, activation, problem, loss, data,
    seed, custom points). Missing sections keep their current values; the trainer validates
    and names the first bad field."""

    type: Literal["configure"]
    config: dict[str, Any]


class Selection(BaseModel):
    """A neuron (``source`` is None: its bias) or an edge ``source → neuron`` of ``layer``
    (0 = first hidden layer; the output layer is the last)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    layer: Annotated[int, Field(ge=0, le=8)]
    neuron: Annotated[int, Field(ge=0, le=15)]
    source: Annotated[int, Field(ge=0, le=15)] | None = None


class Select(Command):
    """Inspect a neuron or an edge (None clears the selection)."""

    type: Literal["select"]
    target: Selection | None = None


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
        list[Annotated[float, Field(**_range("learning_rate"))]],
        Field(min_length=2, max_length=8),
    ] | None = None


class Promote(Command):
    """Show run ``run`` of a sweep in the main view (network, output plot, inspector)."""

    type: Literal["promote"]
    run: Annotated[int, Field(ge=0, le=7)]


ClientCommand = Annotated[
    Hello | Play | Pause | Step | PhaseStep | Reset | SetHyper | Configure | Select | Present
    | EndClass | View | Sweep | Promote,
    Field(discriminator="type"),
]
COMMAND_ADAPTER: TypeAdapter[Any] = TypeAdapter(ClientCommand)
COMMAND_TYPES = ("hello", "play", "pause", "step", "phase_step", "reset", "set_hyper",
                 "configure", "select", "present", "end_class", "view", "sweep", "promote")
CONTROL_COMMANDS = COMMAND_TYPES[1:]


class CommandError(Exception):
    """A message could not be accepted; ``field`` names the culprit (or None)."""

    def __init__(self, message: str, field: str | None = None, request_id: Any = None) -> None:
        super().__init__(message)
        self.message, self.field, self.request_id = message, field, request_id


def parse_command(text: str | bytes) -> Any:
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
    if _has_non_finite(raw):
        raise CommandError("numbers must be finite (no NaN or Infinity)",
                           _non_finite_path(raw), request_id)
    try:
        return COMMAND_ADAPTER.validate_python(raw)
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            known = ", ".join(COMMAND_TYPES)
            raise CommandError(f"unknown command type {raw.get('type')!r}; known: {known}",
                               "type", request_id) from error
        parts = [str(part) for part in first["loc"] if not _is_union_tag(part, raw)]
        where = ".".join(part for part in parts if not _is_branch_label(part))
        raise CommandError(first["msg"], where or None, request_id) from error


def _is_branch_label(part: str) -> bool:
    """pydantic names the branches of a union in error paths (``constrained-str``, ``int``);
    they are not fields."""
    return part in ("str", "int", "float", "bool") or part.startswith(("constrained-", "function-"))


def request_id_of(text: str | bytes) -> Any:
    """The ``id`` of a message if it has a valid one, else None (for replies to messages
    that are refused before they are parsed as commands)."""
    try:
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    value = raw.get("id") if isinstance(raw, dict) else None
    valid = (isinstance(value, str) and len(value) <= 64) or (
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**53)
    return value if valid else None


def _is_union_tag(part: Any, raw: dict[str, Any]) -> bool:
    return isinstance(part, str) and part == raw.get("type") and part not in raw


def _has_non_finite(value: Any) -> bool:
    return _non_finite_path(value) is not None


def _non_finite_path(value: Any, path: str = "") -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return path or None
    items = value.items() if isinstance(value, dict) else (
        enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        found = _non_finite_path(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


# --------------------------------------------------------------- server JSON messages
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


def error_message(error: CommandError) -> str:
    """The JSON error reply for ``error``."""
    return finite_json({"type": "error", "id": error.request_id, "field": error.field,
                        "message": error.message})


