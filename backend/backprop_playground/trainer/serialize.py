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

from . import snapshot_checks as check
from .config import DataConfig, Hyperparameters, NetworkConfig, TrainerConfig
from .errors import ConfigError

if TYPE_CHECKING:
    from .session import TrainingSession

SNAPSHOT_VERSION = 1
_SECTIONS: dict[str, type] = {
    "network": NetworkConfig, "data": DataConfig, "hyper": Hyperparameters,
}
_LIST_FIELDS = {"hidden_layers": "a list of layer sizes", "features": "a list of feature names",
                "points": "a list of points (x1, x2, label)",
                "test_points": "a list of points (x1, x2, label)"}
#: Every key of a snapshot; ``recovery``, ``checkpoint`` and ``data_changes`` may be missing
#: (older exports).
SNAPSHOT_KEYS = ("version", "config", "learning_rates", "sweep", "parameters", "optimizer",
                 "order_generator", "order", "cursor", "points_seen", "step", "epoch",
                 "phase", "given_batch", "frozen", "divergences", "learning_rate_changes")
OPTIONAL_SNAPSHOT_KEYS = ("recovery", "checkpoint", "data_changes")


def config_to_dict(config: TrainerConfig) -> dict[str, Any]:
    """The config as plain lists, numbers and strings."""
    result: dict[str, Any] = asdict(config)
    for key in ("points", "test_points"):
        if result["data"].get(key) is not None:
            result["data"][key] = [list(row) for row in result["data"][key]]
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
    unknown = sorted(check.key_name(key) for key in set(raw) - {*_SECTIONS, "seed"})
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", "is not a config field")
    sections = {name: _section(raw.get(name, {}), cls, f"{where}.{name}")
                for name, cls in _SECTIONS.items()}
    seed = raw.get("seed", 0)
    return TrainerConfig(seed=seed, **sections)


def _section(raw: Any, cls: type, where: str) -> Any:
    """One config section from JSON: known fields only, and a JSON array wherever a field
    holds a sequence (an object or a string is not one); values are checked later."""
    if not isinstance(raw, dict):
        raise ConfigError(where, "must be an object")
    names = {field.name for field in fields(cls)}
    unknown = sorted(check.key_name(key) for key in set(raw) - names)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", "is not a known field")
    values = {}
    for key, value in raw.items():
        point_list = key in ("points", "test_points")
        if key in _LIST_FIELDS and not (isinstance(value, list) or
                                        (point_list and value is None)):
            raise ConfigError(f"{where}.{key}", f"must be {_LIST_FIELDS[key]}")
        if point_list and value is not None:
            for index, row in enumerate(value):
                if not isinstance(row, list):
                    raise ConfigError(f"{where}.{key}[{index}]",
                                      "each point is three numbers: x1, x2, label")
            value = tuple(tuple(row) for row in value)
        elif isinstance(value, list):  # a list field, or one activation per layer
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
        "data_changes": list(session.data_changes),
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
    is malformed, inconsistent or tampered with. Every value is checked strictly
    (:mod:`.snapshot_checks`) before the trainer sees it; a step in progress is replayed,
    which is at most three phases of one step."""
    data = check.exact_keys(data, "snapshot", SNAPSHOT_KEYS, OPTIONAL_SNAPSHOT_KEYS)
    if check.whole(data["version"], "snapshot.version", 0, 2**31) != SNAPSHOT_VERSION:
        raise ConfigError("snapshot.version", f"must be {SNAPSHOT_VERSION}")
    config = config_from_dict(data["config"], "snapshot.config")
    if not isinstance(data["sweep"], bool):
        raise ConfigError("snapshot.sweep", "must be true or false")
    rates = [check.number(rate, f"snapshot.learning_rates[{index}]") for index, rate in
             enumerate(check.listed(data["learning_rates"], "snapshot.learning_rates", 1,
                                    8 if data["sweep"] else 1))]
    session = _new_session(config, rates if data["sweep"] else None)
    shape = session.params.values.shape
    session.params.values[...] = check.numbers(data["parameters"], shape, "snapshot.parameters",
                                               check.MAX_PARAMETER)
    _load_optimizer(session, data["optimizer"])
    step = check.whole(data["step"], "snapshot.step")
    order = check.permutation(data["order"], session.model.n_train, "snapshot.order")
    session.restore_position(
        generator=check.generator_state(data["order_generator"], "snapshot.order_generator"),
        order=order, cursor=check.whole(data["cursor"], "snapshot.cursor", 0, len(order)),
        points_seen=check.whole(data["points_seen"], "snapshot.points_seen", 0,
                                check.MAX_POINTS),
        step=step, epoch=check.whole(data["epoch"], "snapshot.epoch", 0, check.MAX_POINTS),
    )
    frozen, divergences = check.marks(data["frozen"], data["divergences"], shape[0], step)
    session.restore_history(
        frozen=frozen, divergences=divergences,
        learning_rate_changes=check.rate_changes(data["learning_rate_changes"], shape[0], step),
        data_changes=check.data_changes(data.get("data_changes", []), step),
    )
    saved = data.get("checkpoint")
    if saved is None:
        session.restore_checkpoint(None, None)
    else:
        session.restore_checkpoint(*check.checkpoint(saved, shape))
    session.recovery.update(check.recovery_points(data.get("recovery", {}), frozen, shape[1]))
    phase, given_batch = data["phase"], data["given_batch"]
    if phase is None and given_batch is not None:
        raise ConfigError("snapshot.given_batch", "only a step in progress has a given batch")
    if phase is not None:
        if phase not in ("forward", "loss", "backward"):
            raise ConfigError("snapshot.phase", "must be forward, loss, backward or null")
        session.replay_to(phase, given_batch)
    return session


def _new_session(config: TrainerConfig, rates: list[float] | None) -> TrainingSession:
    """A fresh session; its ConfigError's field is put under ``snapshot.``."""
    from .session import TrainingSession

    try:
        return TrainingSession(config, rates)
    except ConfigError as error:
        field = error.field if error.field.startswith("snapshot") else f"snapshot.{error.field}"
        raise ConfigError(field, error.message) from error


def _load_optimizer(session: TrainingSession, state: Any) -> None:
    """Load saved optimizer memory, which must name exactly the configured optimizer's;
    Adam's step counts ``t`` are whole numbers of steps."""
    optimizer = session.optimizer
    if not isinstance(state, dict) or set(state) != set(optimizer.memory):
        raise ConfigError("snapshot.optimizer", "does not match the configured optimizer")
    memory = {name: check.numbers(state[name], getattr(optimizer, name).shape,
                                  f"snapshot.optimizer.{name}")
              for name in optimizer.memory}
    counts = memory.get("t")
    if counts is not None and not (np.all(counts >= 0) and np.all(counts <= check.MAX_COUNT)
                                   and np.all(counts == np.floor(counts))):
        raise ConfigError("snapshot.optimizer.t", "must be whole numbers of steps")
    optimizer.load_state(memory)


def is_finite_number(value: Any) -> bool:
    """True for an int or float (not bool) that is finite."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))
