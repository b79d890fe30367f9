"""Configs and runs as JSON: round trips are exact; bad data is rejected by field."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from backprop_playground.trainer import (
    ConfigError,
    Hyperparameters,
    NetworkConfig,
    TrainerConfig,
    TrainingSession,
    config_from_dict,
    config_to_dict,
    restore,
    snapshot,
)


def _through_json(data: Any) -> Any:
    return json.loads(json.dumps(data))


def test_config_round_trips_through_json() -> None:
    """config_from_dict(config_to_dict(c)) == c for a non-default config."""
    config = TrainerConfig(network=NetworkConfig(hidden_layers=(3, 5), activation=("relu", "tanh"),
                                                 features=("x1", "sin_x2")), seed=9)
    assert config_from_dict(_through_json(config_to_dict(config))) == config


@pytest.mark.parametrize("raw, field", [
    ({"network": {"layers": [2]}}, "config.network.layers"),
    ({"bogus": 1}, "config.bogus"),
    ({"hyper": []}, "config.hyper"),
    ([], "config"),
])
def test_config_from_dict_rejects_unknown_fields(raw: Any, field: str) -> None:
    """Unknown fields and non-objects are refused, naming the path."""
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw)
    assert info.value.field == field


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("phases_done", [0, 1, 2, 3])
def test_restore_continues_bit_for_bit(optimizer: str, phases_done: int) -> None:
    """After export → JSON → import (even mid-step), the next steps equal the original's."""
    original = TrainingSession(TrainerConfig(hyper=Hyperparameters(optimizer=optimizer,
                                                                  batch_size=7)))
    original.run(40)
    for _ in range(phases_done):
        original.advance()
    copy = restore(_through_json(snapshot(original)))
    original.run(30)
    copy.run(30)
    assert np.array_equal(original.params.values, copy.params.values)
    assert (original.step_count, original.epoch) == (copy.step_count, copy.epoch)


def test_restore_mid_step_that_started_an_epoch() -> None:
    """A step that drew a new epoch order is replayed with the same order."""
    original = TrainingSession(TrainerConfig(hyper=Hyperparameters(batch_size=10)))
    original.run(25)  # exactly one epoch of 250 points
    original.advance()
    copy = restore(_through_json(snapshot(original)))
    original.run(40)
    copy.run(40)
    assert np.array_equal(original.params.values, copy.params.values)


def test_restore_sweep_keeps_its_runs() -> None:
    """A learning-rate sweep restores as a sweep with the same rates and weights."""
    original = TrainingSession(learning_rates=[0.01, 0.1, 1.0])
    original.run(17)
    copy = restore(_through_json(snapshot(original)))
    assert copy.runs == 3
    original.run(10)
    copy.run(10)
    assert np.array_equal(original.params.values, copy.params.values)


@pytest.mark.parametrize("key, value, field", [
    ("parameters", [[1.0, 2.0]], "snapshot.parameters"),
    ("parameters", "lots", "snapshot.parameters"),
    ("order", [0, 0, 1], "snapshot.order"),
    ("cursor", -1, "snapshot.cursor"),
    ("order_generator", {"bit_generator": "PCG64"}, "snapshot.order_generator"),
    ("version", 99, "snapshot.version"),
    ("optimizer", {"velocity": []}, "snapshot.optimizer"),
    ("frozen", [1], "snapshot.frozen"),
])
def test_restore_rejects_tampered_snapshots(key: str, value: Any, field: str) -> None:
    """Malformed or inconsistent snapshot data is refused with the field named (or a part
    of it, e.g. ``snapshot.parameters[0]``)."""
    session = TrainingSession()
    session.run(3)
    data = _through_json(snapshot(session))
    data[key] = value
    with pytest.raises(ConfigError) as info:
        restore(data)
    assert _within(info.value.field, field)


def test_restore_rejects_non_finite_weights() -> None:
    """NaN or infinite weights in a snapshot are refused."""
    data = _through_json(snapshot(TrainingSession()))
    data["parameters"][0][0] = float("nan")
    with pytest.raises(ConfigError) as info:
        restore(data)
    assert _within(info.value.field, "snapshot.parameters")


def _within(path: str, field: str) -> bool:
    """``path`` is ``field`` or a part of it (``field[i]…``, ``field.key…``)."""
    return path == field or path.startswith((f"{field}[", f"{field}."))
