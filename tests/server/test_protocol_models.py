"""Property tests of the wire models: valid set_hyper values parse, invalid or non-finite
ones are refused naming the field, no JSON input makes parse_command raise anything but
CommandError, and finite_json never emits NaN/Infinity and lists what it replaced."""

from __future__ import annotations

import json
import math
from dataclasses import fields as dataclass_fields
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from server_helpers import strict_json

from backprop_playground.trainer import LIMITS, OPTIMIZERS, REGULARIZATIONS, Hyperparameters
from backprop_playground.wire.commands import (
    COMMAND_ADAPTER,
    CommandError,
    SetHyper,
    parse_command,
)
from backprop_playground.wire.messages import error_message, finite_json

FLOAT_FIELDS = ("learning_rate", "regularization_rate", "momentum", "beta1", "beta2",
                "epsilon", "speed")
RANGES: dict[str, tuple[float, float]] = {
    **{name: LIMITS[name] for name in FLOAT_FIELDS if name != "speed"},
    "speed": (0.01, 1000.0), "batch_size": LIMITS["batch_size"],
}
COMMAND_TYPES = ("hello", "play", "pause", "step", "phase_step", "reset", "set_hyper",
                 "configure", "select")
COMMAND_MODELS = tuple(type(COMMAND_ADAPTER.validate_python({"type": t, **extra})) for t, extra
                       in [("hello", {"role": "viewer"}), ("play", {}), ("pause", {}),
                           ("step", {}), ("phase_step", {}), ("reset", {}),
                           ("set_hyper", {}), ("configure", {"config": {}}), ("select", {})])


def _in_range(name: str) -> st.SearchStrategy[Any]:
    low, high = RANGES[name]
    if name == "batch_size":
        return st.integers(int(low), int(high))
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def _out_of_range(name: str) -> st.SearchStrategy[Any]:
    low, high = RANGES[name]
    if name == "batch_size":
        return st.integers(max_value=int(low) - 1) | st.integers(min_value=int(high) + 1)
    below = st.floats(max_value=low, exclude_max=True, allow_nan=False, allow_infinity=False)
    above = st.floats(min_value=high, exclude_min=True, allow_nan=False, allow_infinity=False)
    whole = st.integers(max_value=math.ceil(low) - 1) | st.integers(min_value=math.floor(high) + 1)
    huge = st.integers(min_value=10**308, max_value=10**400)
    return below | above | whole | huge | st.sampled_from([math.nan, math.inf, -math.inf])


VALID_SET_HYPER = st.fixed_dictionaries({}, optional={
    **{name: _in_range(name) for name in RANGES},
    "optimizer": st.sampled_from(OPTIMIZERS),
    "regularization": st.sampled_from(REGULARIZATIONS),
})
JSON_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
#: Objects that look like commands: a real (or almost real) type and plausible field names.
COMMAND_LIKE = st.builds(
    lambda kind, fields, extra: {**extra, **fields, "type": kind},
    st.sampled_from([*COMMAND_TYPES, "launch", ""]) | JSON_SCALARS,
    st.dictionaries(st.sampled_from(["id", "v", "n", "role", "token", "target", "config",
                                     "learning_rate", "batch_size", "speed", "optimizer"]),
                    JSON_VALUES, max_size=4),
    st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(VALID_SET_HYPER)
def test_valid_set_hyper_values_parse(values: dict[str, Any]) -> None:
    """Any set_hyper with values within LIMITS parses to a SetHyper with those values."""
    command = parse_command(json.dumps({"type": "set_hyper", **values}))
    assert isinstance(command, SetHyper)
    for name, value in values.items():
        assert getattr(command, name) == value
    assert command.trainer_changes() == {k: v for k, v in values.items() if k != "speed"}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(RANGES)).flatmap(
    lambda name: st.tuples(st.just(name), _out_of_range(name))))
def test_out_of_range_or_non_finite_values_are_refused_naming_the_field(
        case: tuple[str, Any]) -> None:
    """Out-of-range, NaN or ±Infinity set_hyper values raise CommandError naming the field."""
    name, value = case
    try:
        parse_command(json.dumps({"type": "set_hyper", name: value, "id": 3}))
    except CommandError as error:
        assert error.field == name
        assert error.request_id == 3
    else:
        raise AssertionError(f"{name}={value!r} was accepted")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["optimizer", "regularization"]), st.text(max_size=10))
def test_unknown_choices_are_refused_naming_the_field(name: str, value: str) -> None:
    """An optimizer or regularization that is not one of the choices is refused."""
    if value in (*OPTIMIZERS, *REGULARIZATIONS):
        return
    try:
        parse_command(json.dumps({"type": "set_hyper", name: value}))
    except CommandError as error:
        assert error.field == name
    else:
        raise AssertionError(f"{name}={value!r} was accepted")


def _parses_or_refuses(text: str | bytes) -> None:
    try:
        command = parse_command(text)
    except CommandError as error:
        assert error.field is None or isinstance(error.field, str)
        assert strict_json(error_message(error))["type"] == "error"
    else:
        assert isinstance(command, BaseModel)
        assert isinstance(command, COMMAND_MODELS)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES | COMMAND_LIKE)
def test_any_json_parses_or_raises_command_error(value: Any) -> None:
    """Any JSON (NaN/Infinity too) parses to a command model or raises CommandError only."""
    _parses_or_refuses(json.dumps(value))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40) | st.binary(max_size=40))
def test_any_text_or_bytes_parses_or_raises_command_error(data: str | bytes) -> None:
    """Arbitrary text or bytes (not JSON, bad UTF-8) only ever raise CommandError."""
    _parses_or_refuses(data)


# ----------------------------------------------------------------------- finite_json
FLOATS = st.floats() | st.floats(width=32).map(np.float32)
MESSAGE_VALUES = st.recursive(
    FLOATS | st.integers(-10, 10) | st.integers(-10, 10).map(np.int64) | st.text(max_size=4)
    | st.none() | st.booleans(),
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(st.text(min_size=1, max_size=4), children, max_size=4),
    max_leaves=25,
)
MESSAGES = st.dictionaries(
    st.text(min_size=1, max_size=4).filter(lambda key: key != "non_finite"), MESSAGE_VALUES,
    max_size=5)


def _expected(value: Any, path: str, found: list[str]) -> Any:
    """``value`` with non-finite numbers as None, their paths appended to ``found``."""
    if isinstance(value, float | np.floating):
        if math.isfinite(value):
            return float(value)
        found.append(path)
        return None
    if isinstance(value, dict):
        return {key: _expected(item, key if not path else f"{path}.{key}", found)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_expected(item, f"{path}[{index}]", found) for index, item in enumerate(value)]
    if isinstance(value, np.integer):
        return int(value)
    return value


@settings(max_examples=300, deadline=None)
@given(MESSAGES)
def test_finite_json_never_emits_nan_and_lists_the_replaced_paths(message: dict[str, Any]
                                                                 ) -> None:
    """finite_json writes strict JSON, non-finite as null with their paths in non_finite."""
    decoded = strict_json(finite_json(message))  # fails on NaN/Infinity
    found: list[str] = []
    expected = _expected(message, "", found)
    if found:
        expected["non_finite"] = found
    assert decoded == expected


def test_error_message_with_a_nan_request_id_is_strict_json() -> None:
    """Even a NaN request id echoed in an error comes out as null, flagged."""
    decoded = strict_json(error_message(CommandError("bad", "x", math.nan)))
    assert decoded["id"] is None
    assert decoded["non_finite"] == ["id"]


def test_set_hyper_is_derived_from_the_trainers_hyperparameters() -> None:
    """set_hyper has one optional field per trainer hyperparameter (plus the server's
    ``speed``): numbers ranged by LIMITS, names from the trainer's choices."""
    schema = SetHyper.model_json_schema()["properties"]
    trainer_fields = [field.name for field in dataclass_fields(Hyperparameters)]
    assert set(schema) == {"v", "id", "type", "speed", "gesture", *trainer_fields}
    for name in trainer_fields:
        allowed = schema[name]["anyOf"][0]
        if name in ("optimizer", "regularization"):
            assert allowed["enum"] == list({"optimizer": OPTIMIZERS,
                                            "regularization": REGULARIZATIONS}[name])
        else:
            assert (allowed["minimum"], allowed["maximum"]) == LIMITS[name]
