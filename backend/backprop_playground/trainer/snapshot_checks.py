"""Strict checks of imported snapshot data, before any of it reaches the trainer.

An exported run is data from outside: every value is checked for its JSON type (a bool is
not a number, a float is not a whole number, a string is never converted), its range and
its length, and the parts are checked against each other (K runs, P parameters, n training
points). Each check returns the clean value or raises :class:`ConfigError` naming the path
of the first bad value, e.g. ``snapshot.parameters[0][7]``. The work is linear in the size
of the data, which the caller bounds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .config import LIMITS
from .divergence import LOSS_EXPLODED, UPDATE_EXPLODED
from .errors import ConfigError

Array = NDArray[np.float64]
#: Steps stay exact in a double (and in the page's numbers): the live server stops a run
#: there.
MAX_COUNT = 2**53 - 1
#: Points seen (and epochs, at most one per point) after MAX_COUNT steps of the largest
#: batch; below 2^64, the frames' counters.
MAX_POINTS = MAX_COUNT * int(LIMITS["batch_size"][1])
#: Weights beyond this magnitude are not a run's (their squares would overflow).
MAX_PARAMETER = 1e150
#: The learning-rate changes a snapshot may list.
MAX_RATE_CHANGES = 100_000
#: The point edits a snapshot may list (a session keeps its latest ones).
MAX_DATA_CHANGES = 10_000
REASONS = (LOSS_EXPLODED, UPDATE_EXPLODED)
_RUN_KEY = re.compile(r"0|[1-9][0-9]?")
_GENERATOR_KEYS = {"bit_generator", "state", "has_uint32", "uinteger"}


def key_name(key: Any) -> str:
    """A mapping key as a path part: printable, with lone surrogates escaped (a JSON text
    may hold them; they are not Unicode characters)."""
    text = key if isinstance(key, str) else repr(key)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def exact_keys(raw: Any, where: str, required: Iterable[str],
               optional: Iterable[str] = ()) -> dict[str, Any]:
    """``raw`` if it is an object with every required key and no others."""
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be an object")
    required, allowed = set(required), set(required) | set(optional)
    unknown = sorted(key_name(key) for key in raw if key not in allowed)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", "is not a field of this object")
    missing = sorted(required - set(raw))
    if missing:
        raise ConfigError(f"{where}.{missing[0]}", "is missing")
    return raw


def whole(value: Any, where: str, low: int = 0, high: int = MAX_COUNT) -> int:
    """``value`` if it is a JSON whole number (not a bool, not a float) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(where, f"must be a whole number, got {_shown(value)}")
    if not low <= value <= high:
        raise ConfigError(where, f"must be from {low} to {high}")
    return value


def number(value: Any, where: str, low: float = -math.inf, high: float = math.inf) -> float:
    """``value`` as a float if it is a finite JSON number (not a bool) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(where, f"must be a number, got {_shown(value)}")
    try:
        result = float(value)
    except OverflowError as error:
        raise ConfigError(where, "is too large for a number") from error
    if not math.isfinite(result):
        raise ConfigError(where, "must be finite")
    if not low <= result <= high:
        raise ConfigError(where, f"must be between {low:g} and {high:g}")
    return result


def listed(value: Any, where: str, low: int = 0, high: int = MAX_COUNT) -> list[Any]:
    """``value`` if it is a JSON array of ``low`` to ``high`` items."""
    if not isinstance(value, list):
        raise ConfigError(where, "must be a list")
    if not low <= len(value) <= high:
        raise ConfigError(where, f"must have {low} to {high} items, got {len(value)}"
                          if low != high else f"must have {low} items, got {len(value)}")
    return value


def numbers(raw: Any, shape: tuple[int, ...], where: str,
            bound: float = math.inf) -> Array:
    """Nested JSON arrays of finite numbers of exactly ``shape`` (each |x| ≤ ``bound``)."""
    values = np.empty(shape)
    flat = values.reshape(-1)
    for position, (path, item) in enumerate(_leaves(raw, shape, where)):
        flat[position] = number(item, path, -bound, bound)
    return values


def _leaves(raw: Any, shape: tuple[int, ...], where: str) -> Iterable[tuple[str, Any]]:
    if not shape:
        yield where, raw
        return
    items = listed(raw, where, shape[0], shape[0])
    for index, item in enumerate(items):
        yield from _leaves(item, shape[1:], f"{where}[{index}]")


def generator_state(raw: Any, where: str) -> dict[str, Any]:
    """A PCG64 state as numpy writes it: ``{bit_generator, state: {state, inc},
    has_uint32, uinteger}`` with each integer in its range."""
    exact_keys(raw, where, _GENERATOR_KEYS)
    if raw["bit_generator"] != "PCG64":
        raise ConfigError(f"{where}.bit_generator", "must be 'PCG64'")
    inner = exact_keys(raw["state"], f"{where}.state", ("state", "inc"))
    for name in ("state", "inc"):
        if isinstance(inner[name], float):
            raise ConfigError(f"{where}.state.{name}", "must be an integer written in full "
                              "(read as a double, e.g. by a browser's JSON.parse, it lost "
                              "its digits)")
    return {
        "bit_generator": "PCG64",
        "state": {name: whole(inner[name], f"{where}.state.{name}", 0, 2**128 - 1)
                  for name in ("state", "inc")},
        "has_uint32": whole(raw["has_uint32"], f"{where}.has_uint32", 0, 1),
        "uinteger": whole(raw["uinteger"], f"{where}.uinteger", 0, 2**32 - 1),
    }


def permutation(raw: Any, n: int, where: str) -> list[int]:
    """An epoch order: empty, or each of 0 … n − 1 exactly once."""
    order = listed(raw, where, 0, n)
    if not order:
        return []
    if len(order) != n:
        raise ConfigError(where, f"must be a permutation of 0..{n - 1}")
    seen = np.zeros(n, dtype=bool)
    for index, value in enumerate(order):
        whole(value, f"{where}[{index}]", 0, n - 1)
        if seen[value]:
            raise ConfigError(where, f"must be a permutation of 0..{n - 1}")
        seen[value] = True
    return [int(value) for value in order]


def marks(frozen: Any, divergences: Any, runs: int, step: int) -> tuple[list[bool], list[Any]]:
    """The runs' divergence marks: ``frozen`` (K bools) and ``divergences`` (K records or
    null, a record exactly where a run is frozen)."""
    flags = listed(frozen, "snapshot.frozen", runs, runs)
    for index, flag in enumerate(flags):
        if not isinstance(flag, bool):
            raise ConfigError(f"snapshot.frozen[{index}]", "must be true or false")
    records = listed(divergences, "snapshot.divergences", runs, runs)
    clean: list[Any] = []
    for run, record in enumerate(records):
        where = f"snapshot.divergences[{run}]"
        if (record is None) == flags[run]:
            raise ConfigError(where, "a frozen run needs its divergence record"
                              if flags[run] else "only a frozen run has a divergence record")
        clean.append(None if record is None else _divergence(record, run, step, where))
    return list(flags), clean


def _divergence(raw: Any, run: int, step: int, where: str) -> dict[str, Any]:
    record = exact_keys(raw, where, ("run", "step", "learning_rate", "loss", "reason"))
    if whole(record["run"], f"{where}.run", 0, MAX_COUNT) != run:
        raise ConfigError(f"{where}.run", f"must be {run}")
    loss = record["loss"]
    if record["reason"] not in REASONS:
        raise ConfigError(f"{where}.reason", f"must be one of: {', '.join(REASONS)}")
    low, high = LIMITS["learning_rate"]
    return {"run": run, "step": whole(record["step"], f"{where}.step", 0, step),
            "learning_rate": number(record["learning_rate"], f"{where}.learning_rate",
                                    low, high),
            "loss": None if loss is None else number(loss, f"{where}.loss"),
            "reason": record["reason"]}


def rate_changes(raw: Any, runs: int, step: int) -> list[list[Any]]:
    """``[[step, [K rates]], …]``: 1 … MAX_RATE_CHANGES changes, steps from 0 to the next
    step, in order, every rate in the learning-rate range."""
    where = "snapshot.learning_rate_changes"
    changes = listed(raw, where, 1, MAX_RATE_CHANGES)
    low, high = LIMITS["learning_rate"]
    clean: list[list[Any]] = []
    previous = 0
    for index, change in enumerate(changes):
        entry = listed(change, f"{where}[{index}]", 2, 2)
        at = whole(entry[0], f"{where}[{index}][0]", previous, step + 1)
        rates = listed(entry[1], f"{where}[{index}][1]", runs, runs)
        clean.append([at, [number(rate, f"{where}[{index}][1][{k}]", low, high)
                           for k, rate in enumerate(rates)]])
        previous = at
    return clean


def data_changes(raw: Any, step: int) -> list[int]:
    """``[step, …]``: the steps from which point edits took effect, 1 … the next step, in
    order, at most MAX_DATA_CHANGES of them."""
    where = "snapshot.data_changes"
    clean: list[int] = []
    previous = 1
    for index, at in enumerate(listed(raw, where, 0, MAX_DATA_CHANGES)):
        previous = whole(at, f"{where}[{index}]", previous, step + 1)
        clean.append(previous)
    return clean


def recovery_points(raw: Any, frozen: list[bool], size: int) -> dict[int, Array]:
    """``{"run": weights (P,)}`` for frozen runs only; run keys written as in JSON ("0"…)."""
    where = "snapshot.recovery"
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be an object")
    points: dict[int, Array] = {}
    for key, weights in raw.items():
        name = key_name(key)
        if not (isinstance(key, str) and _RUN_KEY.fullmatch(key) and int(key) < len(frozen)
                and frozen[int(key)]):
            raise ConfigError(f"{where}.{name}", "names no diverged run")
        points[int(key)] = numbers(weights, (size,), f"{where}.{name}", MAX_PARAMETER)
    return points


def checkpoint(raw: Any, shape: tuple[int, int]) -> tuple[Array, Array]:
    """The recovery checkpoints: ``{weights (K, P), reference (K numbers ≥ 0 or null)}``."""
    where = "snapshot.checkpoint"
    exact_keys(raw, where, ("weights", "reference"))
    weights = numbers(raw["weights"], shape, f"{where}.weights", MAX_PARAMETER)
    reference = listed(raw["reference"], f"{where}.reference", shape[0], shape[0])
    losses = np.array([math.nan if value is None else number(value, f"{where}.reference[{k}]",
                                                             0.0)
                       for k, value in enumerate(reference)])
    return weights, losses


def _shown(value: Any) -> str:
    """A short description of a bad value for an error message."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a number of about {int(value.bit_length() * 0.30103)} digits"
    if isinstance(value, bool | int | float) or value is None:
        return repr(value)
    return f"a {type(value).__name__}" if not isinstance(value, str) else "a string"
