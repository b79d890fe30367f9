"""Reproducibility: the seed alone fixes data, initial weights and minibatch order."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from backprop_playground.trainer import TrainerConfig, TrainingSession
from conftest import flat_weights, make_config

Script = Callable[[TrainingSession], list[float]]


def _config(seed: int = 0, **changes: object) -> TrainerConfig:
    settings: dict[str, object] = {
        "dataset": "spiral", "hidden": (5, 3), "features": ("x1", "x2", "sin_x1", "cos_x2"),
        "n_points": 300, "noise": 0.2, "seed": seed, "batch_size": 8,
    }
    settings.update(changes)
    return make_config(**settings)  # type: ignore[arg-type]


def _losses_over(session: TrainingSession, steps: int) -> list[float]:
    """Run ``steps`` whole steps one at a time and collect their batch losses."""
    losses = []
    for _ in range(steps):
        session.step()
        loss = session.tensors().loss
        assert loss is not None
        losses.append(loss)
    return losses


def _script_with_live_changes(session: TrainingSession) -> list[float]:
    """Steps, phases, live changes and a given batch: a busy but fixed sequence of calls."""
    losses = _losses_over(session, 5)
    session.set_hyperparameters(learning_rate=0.1, optimizer="momentum", momentum=0.8)
    session.run(7)
    session.run_phase("forward")
    session.set_hyperparameters(batch_size=13, regularization="l2", regularization_rate=0.01)
    session.advance()
    session.step()
    session.step(batch=(np.array([[1.0, -1.0], [2.0, 3.0]]), np.array([0.0, 1.0])))
    session.set_hyperparameters(optimizer="adam", learning_rate=0.01)
    losses += _losses_over(session, 4)
    session.run_epochs(1)
    return losses + [float(x) for x in session.evaluate().train_loss]


def test_same_seed_and_calls_give_bit_identical_weights_and_losses() -> None:
    """Two sessions from one config, given the same calls, agree bit for bit."""
    first, second = TrainingSession(_config()), TrainingSession(_config())
    np.testing.assert_array_equal(flat_weights(first), flat_weights(second))
    assert _losses_over(first, 40) == _losses_over(second, 40)
    assert np.array_equal(flat_weights(first), flat_weights(second))


def test_same_calls_with_live_changes_give_bit_identical_results() -> None:
    """Live hyperparameter changes, phases and given batches are reproducible bit for bit."""
    first, second = TrainingSession(_config()), TrainingSession(_config())
    assert _script_with_live_changes(first) == _script_with_live_changes(second)
    assert np.array_equal(flat_weights(first), flat_weights(second))
    assert first.step_count == second.step_count
    assert first.learning_rate_changes == second.learning_rate_changes


def test_stepwise_phases_and_run_give_the_same_weights() -> None:
    """advance() phase by phase, step() and run() compute the same thing."""
    by_phase, by_step, by_run = (TrainingSession(_config()) for _ in range(3))
    for _ in range(30):
        for _ in range(4):
            by_phase.advance()
        by_step.step()
    by_run.run(30)
    assert np.array_equal(flat_weights(by_phase), flat_weights(by_step))
    assert np.array_equal(flat_weights(by_step), flat_weights(by_run))


def test_different_seeds_give_different_data_weights_and_trajectories() -> None:
    """Seeds 0 and 1 differ in data, initial weights and the weights after training."""
    first, second = TrainingSession(_config(seed=0)), TrainingSession(_config(seed=1))
    assert not np.array_equal(first.model.dataset.points, second.model.dataset.points)
    assert not np.array_equal(flat_weights(first), flat_weights(second))
    first.run(10)
    second.run(10)
    assert not np.array_equal(flat_weights(first), flat_weights(second))


def test_reset_restores_initial_weights_and_replays_the_same_trajectory() -> None:
    """reset() rebuilds the initial weights, counters and minibatch order of the seed."""
    session = TrainingSession(_config())
    initial = flat_weights(session)
    losses = _losses_over(session, 30)
    trained = flat_weights(session)
    session.run_phase("forward")
    session.reset()
    assert (session.step_count, session.epoch, session.phase) == (0, 0, None)
    assert session.epoch_progress == 0.0
    np.testing.assert_array_equal(flat_weights(session), initial)
    assert _losses_over(session, 30) == losses
    np.testing.assert_array_equal(flat_weights(session), trained)


def test_configure_with_the_same_config_equals_a_new_session() -> None:
    """configure(config) rebuilds from the config's seed like a fresh session."""
    session = TrainingSession(_config(seed=4))
    session.run(12)
    session.configure(_config())
    fresh = TrainingSession(_config())
    assert _losses_over(session, 10) == _losses_over(fresh, 10)


def test_batch_size_does_not_change_data_or_initial_weights() -> None:
    """Data and initial weights come from their own streams: batch size leaves them alone."""
    small, large = TrainingSession(_config(batch_size=4)), TrainingSession(_config(batch_size=50))
    np.testing.assert_array_equal(small.model.dataset.points, large.model.dataset.points)
    np.testing.assert_array_equal(small.model.dataset.labels, large.model.dataset.labels)
    np.testing.assert_array_equal(small.model.dataset.train_index, large.model.dataset.train_index)
    np.testing.assert_array_equal(flat_weights(small), flat_weights(large))


def test_data_set_does_not_change_initial_weights() -> None:
    """Another data set (same shape of network) starts from the same initial weights."""
    spiral = TrainingSession(_config())
    moons = TrainingSession(_config(dataset="moons", n_points=100, noise=0.0))
    np.testing.assert_array_equal(flat_weights(spiral), flat_weights(moons))


def test_learning_rate_does_not_change_the_minibatch_order() -> None:
    """The minibatch order stream is independent of the hyperparameters."""
    slow, fast = TrainingSession(_config()), TrainingSession(_config(learning_rate=1.0))
    for _ in range(50):
        slow.step()
        fast.step()
        assert slow.batch_index is not None and fast.batch_index is not None
        np.testing.assert_array_equal(slow.batch_index, fast.batch_index)


def test_trainer_leaves_numpy_global_random_state_alone() -> None:
    """Building and training a session neither reads nor advances np.random's global state."""
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    session = TrainingSession(_config())
    session.run(20)
    session.output_maps(8)
    session.evaluate()
    np.testing.assert_array_equal(np.random.random(3), expected)
