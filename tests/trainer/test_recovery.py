"""Recovering from divergence: step numbers agree with step_count, a lower rate resumes
from weights it can train from, and a frozen run wakes only when its own rate changes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pytest

from backprop_playground.trainer import TrainerConfig, TrainingSession, restore, snapshot
from backprop_playground.trainer.divergence import CALM_FACTOR
from conftest import flat_weights, make_config, regression_config


@pytest.fixture(autouse=True)
def _runtime_warnings_are_errors() -> Iterator[None]:
    """Every test here fails if a RuntimeWarning (overflow, invalid value) escapes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def _diverged(config: TrainerConfig) -> TrainingSession:
    session = TrainingSession(config)
    session.run(100)
    assert session.status == "diverged"
    return session


def test_divergence_step_is_the_step_count_the_page_shows() -> None:
    """'diverged at step N' names the last completed step: N == step_count while frozen."""
    session = _diverged(regression_config(learning_rate=10.0))
    record = session.divergence
    assert record is not None and record.step == session.step_count
    assert record.message.startswith(f"diverged at step {session.step_count} (learning rate 10)")


def test_lower_rate_after_a_loss_divergence_trains() -> None:
    """Plane at η = 10 explodes; at η = 0.01 the run then trains: no new divergence and the
    training loss ends below where the network started (it used to resume from weights
    whose batch loss was ~5e5 and stay there)."""
    session = TrainingSession(regression_config(learning_rate=10.0))
    start = float(session.evaluate().train_loss[0])
    session.run(100)
    record = session.divergence
    assert record is not None and "loss" in record.reason
    assert session.set_hyperparameters(learning_rate=0.01) == session.step_count + 1
    assert session.status == "ok"
    assert session.run(500) == 500
    assert session.divergence is None
    assert session.evaluate().train_loss[0] < start


def test_a_loss_divergence_resumes_from_a_calm_checkpoint() -> None:
    """The recovery point's training loss is no worse than CALM_FACTOR times the loss the
    run started with; the step counter does not go back."""
    session = TrainingSession(regression_config(learning_rate=3.0))
    start = float(session.evaluate().train_loss[0])
    session.run(100)
    count = session.step_count
    assert session.status == "diverged" and count > 0
    session.resume()
    assert session.step_count == count
    assert session.evaluate().train_loss[0] <= CALM_FACTOR * start


def test_a_rate_lowered_just_before_the_explosion_is_not_blamed() -> None:
    """The loss measured at step N + 1 was made by update N: lowering η between them still
    blames update N's rate, names step N (= step_count), and setting the low rate again
    resumes the run (it differs from the rate it diverged at)."""
    count = _diverged(regression_config(learning_rate=10.0)).step_count
    session = TrainingSession(regression_config(learning_rate=10.0))
    session.run(count)  # update `count` has made the weights whose loss will explode
    session.set_hyperparameters(learning_rate=0.01)
    assert session.step() == "diverged"
    record = session.divergence
    assert record is not None
    assert record.message == f"diverged at step {count} (learning rate 10): the loss exploded"
    assert session.step_count == count
    session.set_hyperparameters(learning_rate=0.01)
    assert session.status == "ok"
    assert session.run(50) == 50


def test_setting_the_rate_it_diverged_at_keeps_a_run_frozen() -> None:
    """Neither the same rate again nor another hyperparameter wakes a diverged run."""
    session = _diverged(regression_config(learning_rate=10.0))
    weights = flat_weights(session)
    session.set_hyperparameters(learning_rate=10.0)
    session.set_hyperparameters(momentum=0.5)
    assert session.status == "diverged"
    assert session.step() == "frozen"
    np.testing.assert_array_equal(flat_weights(session), weights)


def test_a_frozen_sweep_run_wakes_only_when_its_own_rate_changes() -> None:
    """Plane, hidden [4], batch 10, rates [0.01, 10]: run 1 diverges within 10 steps; the
    rates [0.02, 10] leave it frozen, like a separate session at 10; [0.02, 0.05] wake it."""
    config = make_config(dataset="plane", hidden=(4,), batch_size=10, loss="mse")
    sweep = TrainingSession(config, learning_rates=[0.01, 10.0])
    assert sweep.run(10) == 10
    assert sweep.frozen.tolist() == [False, True]
    single = TrainingSession(config.with_hyper(learning_rate=10.0))
    single.run(10)
    record, alone = sweep.divergences[1], single.divergence
    assert record is not None and alone is not None
    assert (record.step, record.message) == (alone.step, alone.message)
    sweep.set_learning_rates([0.02, 10.0])
    single.set_hyperparameters(learning_rate=10.0)
    sweep.run(10)
    single.run(10)
    assert sweep.frozen.tolist() == [False, True] and single.status == "diverged"
    assert sweep.divergences[1] == record
    np.testing.assert_allclose(flat_weights(sweep, 1), flat_weights(single), rtol=1e-12)
    sweep.set_learning_rates([0.02, 0.05])
    assert not sweep.frozen.any()
    assert sweep.run(10) == 10


def test_set_weights_replace_the_recovery_point() -> None:
    """Weights set on a diverged run are where it resumes, not its old recovery point."""
    session = _diverged(regression_config(learning_rate=10.0))
    fresh = TrainingSession(regression_config()).get_weights()
    session.set_weights([(w * 0.5, b) for w, b in fresh])
    chosen = flat_weights(session)
    session.set_hyperparameters(learning_rate=0.01)
    np.testing.assert_array_equal(flat_weights(session), chosen)


def test_restore_keeps_the_recovery_checkpoint() -> None:
    """A restored session resumes from the same weights after the same divergence; a
    snapshot without checkpoints (older) still restores."""
    original = TrainingSession(regression_config(learning_rate=2.5))
    original.run(20)
    copy = restore(snapshot(original))
    for weights, reference in zip(original.recovery_checkpoint(), copy.recovery_checkpoint(),
                                  strict=True):
        np.testing.assert_array_equal(weights, reference)
    for session in (original, copy):
        session.run(100)
        session.set_hyperparameters(learning_rate=0.01)
    np.testing.assert_array_equal(flat_weights(original), flat_weights(copy))
    data = snapshot(original)
    del data["checkpoint"]
    np.testing.assert_array_equal(restore(data).recovery_checkpoint()[0],
                                  original.params.values)
