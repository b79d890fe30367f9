"""Hostile snapshots: whatever an imported run holds, ``restore`` answers within a bounded
amount of work, either with a session that trains and reads like any other or with a
ConfigError naming the field; never with another exception, never by spinning."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from backprop_playground.trainer import (
    ConfigError,
    Hyperparameters,
    TrainerConfig,
    TrainingSession,
    restore,
    snapshot,
)

Json = dict[str, Any]
DEADLINE_SECONDS = 10.0


def _through_json(data: Any) -> Any:
    return json.loads(json.dumps(data))


def _mid_step_export(phases: int = 2, optimizer: str = "sgd") -> Json:
    """A run exported after 3 steps and ``phases`` phases of the fourth."""
    session = TrainingSession(TrainerConfig(hyper=Hyperparameters(optimizer=optimizer)))
    session.run(3)
    for _ in range(phases):
        session.advance()
    exported: Json = _through_json(snapshot(session))
    return exported


def restore_within_deadline(data: Any) -> TrainingSession | ConfigError:
    """``restore(data)`` in a daemon thread: its session or its ConfigError; the test fails
    (instead of hanging) if it has not answered within the deadline."""
    outcome: list[Any] = []

    def work() -> None:
        try:
            outcome.append(restore(data))
        except ConfigError as error:
            outcome.append(error)
        except Exception as error:  # reported below, with its type
            outcome.append(error)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(DEADLINE_SECONDS)
    assert not thread.is_alive(), "restore did not return: it spins"
    result = outcome[0]
    assert isinstance(result, TrainingSession | ConfigError), repr(result)
    return result


def refused_field(data: Any) -> str:
    """The field a refused snapshot names (the test fails if it was accepted)."""
    result = restore_within_deadline(data)
    assert isinstance(result, ConfigError), "the snapshot was accepted"
    return result.field


# ------------------------------------------------------------------ item 1: replay
def test_frozen_run_exported_mid_step_is_refused_not_replayed_forever() -> None:
    """A mid-step export whose only run is marked frozen cannot have a step in progress:
    refused naming snapshot.phase (it used to spin in replay_to); without a divergence
    record the mark alone is refused first."""
    exported = _mid_step_export()
    exported["frozen"] = [True]
    assert refused_field(exported) == "snapshot.divergences[0]"
    exported["divergences"] = [{"run": 0, "step": 3, "learning_rate": 0.03, "loss": None,
                                "reason": "the loss exploded"}]
    assert refused_field(exported) == "snapshot.phase"


def test_replay_of_a_stopped_run_ends_with_a_config_error() -> None:
    """replay_to itself (not only restore's checks) refuses a step no run can take."""
    session = TrainingSession()
    session.run(2)
    session.advance()
    exported = _through_json(snapshot(session))
    fresh = TrainingSession()
    fresh.restore_history(frozen=[True], divergences=[None],
                          learning_rate_changes=exported["learning_rate_changes"])
    with pytest.raises(ConfigError) as info:
        fresh.replay_to("forward", None)
    assert info.value.field == "snapshot.phase"


def test_mid_step_export_whose_replay_diverges_is_refused() -> None:
    """Weights of 2^33 in a mid-step export make the replayed loss explode: refused naming
    snapshot.phase, after at most the phases of one step."""
    exported = _mid_step_export()
    exported["parameters"][0] = [2.0**33] * len(exported["parameters"][0])
    assert refused_field(exported) == "snapshot.phase"


@pytest.mark.parametrize("phases", [1, 2, 3])
def test_honest_mid_step_exports_still_replay(phases: int) -> None:
    """The replay limit refuses nothing honest: every mid-step export restores at its
    phase."""
    restored = restore_within_deadline(_mid_step_export(phases, "adam"))
    assert isinstance(restored, TrainingSession)
    assert restored.phase == ("forward", "loss", "backward")[phases - 1]


def test_single_weight_of_two_to_the_33_is_refused_or_trains() -> None:
    """One huge weight mid-step: either refused (naming a field) or a run that steps."""
    exported = _mid_step_export()
    exported["parameters"][0][0] = 2**33
    result = restore_within_deadline(exported)
    if isinstance(result, TrainingSession):
        result.run(3)


Tamper = Callable[[Json], None]
