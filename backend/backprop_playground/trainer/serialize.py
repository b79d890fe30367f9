"""Configs and whole runs as plain JSON-ready dicts, and back, validated.

``config_from_dict`` rejects unknown fields and wrong types with a ConfigError naming the
path. ``snapshot`` captures everything a run's future depends on (weights, optimizer memory,
the order generator's state, the position in the epoch, the phase in progress); ``restore``
rebuilds a session whose next step equals, bit for bit, the next step of the original.
"""

from __future__ import annotations

import math
from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import DataConfig, Hyperparameters, NetworkConfig, TrainerConfig
from .errors import ConfigError

if TYPE_CHECKING:
    from .session import TrainingSession

SNAPSHOT_VERSION = 1
_SECTIONS: dict[str, type] = {
    "network": NetworkConfig, "data": DataConfig, "hyper": Hyperparameters,
}
_TUPLE_FIELDS = {"hidden_layers", "features", "points"}


def config_to_dict(config: TrainerConfig) -> dict[str, Any]:
    """The config as plain lists, numbers and strings."""
    result: dict[str, Any] = asdict(config)
    if result["data"]["points"] is not None:
        result["data"]["points"] = [list(row) for row in result["data"]["points"]]
    for section in result.values():
        if isinstance(section, dict):
            for key, value in section.items():
                if isinstance(value, tuple):
                    section[key] = list(value)
    return result


def config_from_dict(raw: Any, where: str = "config") -> TrainerConfig:
    """A TrainerConfig from a dict; missing fields take their defaults. The result still
    needs :func:`validate_config` for ranges (the session does that)."""
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be an object")
    unknown = sorted(set(raw) - {*_SECTIONS, "seed"})
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", "is not a config field")
    sections = {name: _section(raw.get(name, {}), cls, f"{where}.{name}")
                for name, cls in _SECTIONS.items()}
    seed = raw.get("seed", 0)
    return TrainerConfig(seed=seed, **sections)


def _section(raw: Any, cls: type, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be an object")
    names = {field.name for field in fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", "is not a known field")
    values = {}
    for key, value in raw.items():
        if key in _TUPLE_FIELDS and isinstance(value, list):
            value = tuple(tuple(row) if isinstance(row, list) else row for row in value)
        elif key == "activation" and isinstance(value, list):
            value = tuple(value)
        values[key] = value
    return cls(**values)


def snapshot(session: TrainingSession) -> dict[str, Any]:
    """Everything needed to continue the run exactly, as JSON-ready data."""
    start = _step_start(session)
    return {
        "version": SNAPSHOT_VERSION,
        "config": config_to_dict(session.config),
        "learning_rates": [float(rate) for rate in session.learning_rates],
        "sweep": session.sweep,
        "parameters": session.params.values.tolist(),
        "optimizer": {name: np.asarray(value).tolist()
                      for name, value in session.optimizer.state().items()},
        "order_generator": start["generator"],
        "order": start["order"],
        "cursor": start["cursor"],
        "points_seen": start["points_seen"],
        "step": session.step_count,
        "epoch": session.epoch,
        "phase": session.phase if session.phase not in (None, "update") else None,
        "given_batch": start["given_batch"],
        "frozen": session.frozen.tolist(),
        "recovery": {str(run): weights.tolist() for run, weights in session.recovery.items()},
        "checkpoint": _checkpoint(session),
        "divergences": [None if d is None else asdict(d) for d in session.divergences],
        "learning_rate_changes": [[step, list(rates)]
                                  for step, rates in session.learning_rate_changes],
    }


def _checkpoint(session: TrainingSession) -> dict[str, Any]:
    """The recovery checkpoints: weights ``(K, P)`` and reference losses (None: unset)."""
    weights, reference = session.recovery_checkpoint()
    return {"weights": weights.tolist(),
            "reference": [None if math.isnan(value) else float(value) for value in reference]}


def _step_start(session: TrainingSession) -> dict[str, Any]:
    """The data position at the start of the step in progress (or now, between steps).

    A step that is mid-way is replayed on restore: its batch started at ``cursor − B``, and if
    that is 0 the step drew the current epoch order, which the restored generator (saved
    before the draw) draws again.
    """
    order, cursor, points_seen = session.order, session.cursor, session.points_seen
    generator = session.order_generator_state()
    given = None
    if session.phase not in (None, "update"):
        if session.batch_index is None:
            given = session.given_batch
        else:
            cursor -= len(session.batch_index)
            points_seen -= len(session.batch_index)
            if cursor == 0:
                order, generator = np.arange(0), session.order_generator_state(before_draw=True)
    return {"order": [int(i) for i in order], "cursor": int(cursor), "points_seen": points_seen,
            "generator": generator, "given_batch": given}


def restore(data: Any) -> TrainingSession:
    """A session from :func:`snapshot` data; ConfigError (field ``snapshot.…``) if the data
    is malformed, inconsistent or tampered with."""
    if not isinstance(data, dict):
        raise ConfigError("snapshot", "must be an object")
    if data.get("version") != SNAPSHOT_VERSION:
        raise ConfigError("snapshot.version", f"must be {SNAPSHOT_VERSION}")
    config = config_from_dict(data.get("config"), "snapshot.config")
    rates = _list(data, "learning_rates")
    session = _new_session(config, rates if data.get("sweep") else None)
    session.params.values[...] = _array(data, "parameters", session.params.values.shape)
    _load_optimizer(session, data.get("optimizer"))
    session.restore_position(
        generator=data.get("order_generator"), order=_list(data, "order"),
        cursor=data.get("cursor"), points_seen=data.get("points_seen"),
        step=data.get("step"), epoch=data.get("epoch"),
    )
    session.restore_history(
        frozen=_list(data, "frozen"), divergences=_list(data, "divergences"),
        learning_rate_changes=_list(data, "learning_rate_changes"),
    )
    _load_checkpoint(session, data.get("checkpoint"))
    _load_recovery(session, data.get("recovery", {}))
    phase = data.get("phase")
    if phase is not None:
        session.replay_to(phase, data.get("given_batch"))
    return session


def _new_session(config: TrainerConfig, rates: list[Any] | None) -> TrainingSession:
    """A fresh session; its ConfigError's field is put under ``snapshot.``."""
    from .session import TrainingSession

    try:
        return TrainingSession(config, rates)
    except ConfigError as error:
        field = error.field if error.field.startswith("snapshot") else f"snapshot.{error.field}"
        raise ConfigError(field, error.message) from error


def _load_optimizer(session: TrainingSession, state: Any) -> None:
    """Load saved optimizer memory, which must name exactly the configured optimizer's."""
    optimizer = session.optimizer
    if not isinstance(state, dict) or set(state) != set(optimizer.memory):
        raise ConfigError("snapshot.optimizer", "does not match the configured optimizer")
    optimizer.load_state({
        name: _array(state, name, getattr(optimizer, name).shape, "snapshot.optimizer")
        for name in optimizer.memory
    })


def _load_checkpoint(session: TrainingSession, saved: Any) -> None:
    """Load the recovery checkpoints; a snapshot without them starts them from its weights."""
    if saved is None:
        session.restore_checkpoint(None, None)
        return
    if not isinstance(saved, dict) or not isinstance(saved.get("reference"), list):
        raise ConfigError("snapshot.checkpoint", "must be {weights, reference}")
    shape = session.params.values.shape
    weights = _array(saved, "weights", shape, "snapshot.checkpoint")
    reference = [math.nan if value is None else value for value in saved["reference"]]
    if len(reference) != shape[0] or not all(
            is_finite_number(value) or value != value for value in reference):
        raise ConfigError("snapshot.checkpoint.reference", f"must be {shape[0]} numbers or null")
    session.restore_checkpoint(weights, np.array(reference, dtype=np.float64))


def _load_recovery(session: TrainingSession, recovery: Any) -> None:
    """Load saved recovery points ``{run: weights (P,)}``, each for a diverged run."""
    if not isinstance(recovery, dict):
        raise ConfigError("snapshot.recovery", "must be an object")
    for run in recovery:
        if not (run.isdigit() and int(run) < session.runs and session.frozen[int(run)]):
            raise ConfigError("snapshot.recovery", f"names no diverged run: {run!r}")
        session.recovery[int(run)] = _array(recovery, run, session.params.values.shape[1:],
                                            "snapshot.recovery")


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ConfigError(f"snapshot.{key}", "must be a list")
    return value


def _array(
    data: dict[str, Any], key: str, shape: tuple[int, ...], where: str = "snapshot"
) -> np.ndarray[Any, Any]:
    try:
        array = np.asarray(data.get(key), dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where}.{key}", "must be numbers") from error
    if array.shape != shape:
        raise ConfigError(f"{where}.{key}", f"must have shape {shape}, got {array.shape}")
    if not np.isfinite(array).all():
        raise ConfigError(f"{where}.{key}", "values must be finite")
    return array


def is_finite_number(value: Any) -> bool:
    """True for an int or float (not bool) that is finite."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))
