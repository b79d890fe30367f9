"""Learning-rate sweeps: K runs stepped together equal K separate sessions, and a run that
diverges is frozen alone."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_playground.trainer import ConfigError, TrainerConfig, TrainingSession
from conftest import (
    flat_grads,
    flat_updates,
    flat_weights,
    make_config,
    regression_config,
)

RATES = [0.003, 0.03, 0.1, 0.5]


def _config(optimizer: str) -> TrainerConfig:
    return make_config(dataset="spiral", hidden=(5, 3), features=("x1", "x2", "sin_x1", "sin_x2"),
                       n_points=200, noise=0.1, optimizer=optimizer, batch_size=7,
                       regularization="l2", regularization_rate=0.001)


def _update_exploding(optimizer: str) -> TrainerConfig:
    """A softmax net whose update explodes at learning rate 10 (step 3)."""
    return make_config(dataset="blobs3", loss="cross_entropy", activation="leaky_relu",
                       hidden=(8, 8, 8), features=("x1_squared", "x2_squared", "x1_times_x2"),
                       optimizer=optimizer)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_sweep_runs_equal_separate_sessions(optimizer: str) -> None:
    """After 60 steps each sweep run has the weights of a separate session at its rate."""
    config = _config(optimizer)
    sweep = TrainingSession(config, learning_rates=RATES)
    assert sweep.runs == len(RATES)
    assert sweep.run(60) == 60
    for run, rate in enumerate(RATES):
        single = TrainingSession(config.with_hyper(learning_rate=rate))
        single.run(60)
        np.testing.assert_allclose(flat_weights(sweep, run), flat_weights(single),
                                   rtol=1e-12, atol=1e-14)


def test_sweep_runs_share_initial_weights_and_minibatch_order() -> None:
    """Every run starts from the seed's weights; all runs see the same minibatch."""
    config = _config("sgd")
    sweep = TrainingSession(config, learning_rates=RATES)
    single = TrainingSession(config)
    for run in range(len(RATES)):
        np.testing.assert_array_equal(flat_weights(sweep, run), flat_weights(single))
    for _ in range(5):
        sweep.step()
        single.step()
        inputs = sweep.tensors(run=0).inputs
        for run in range(1, len(RATES)):
            np.testing.assert_array_equal(sweep.tensors(run=run).inputs, inputs)
        np.testing.assert_array_equal(single.tensors().inputs, inputs)


def test_each_sweep_run_updates_at_its_own_rate() -> None:
    """With SGD, run k's update is −η_k·dL/dθ_k."""
    sweep = TrainingSession(_config("sgd"), learning_rates=RATES)
    sweep.run(3)
    for run, rate in enumerate(RATES):
        tensors = sweep.tensors(run=run)
        np.testing.assert_allclose(flat_updates(tensors), -rate * flat_grads(tensors),
                                   rtol=1e-15, atol=0)


def test_evaluate_and_readers_have_one_entry_per_run() -> None:
    """evaluate() gives (K,) arrays; readers take run=k and refuse k ≥ K."""
    sweep = TrainingSession(_config("sgd"), learning_rates=RATES)
    sweep.run(20)
    metrics = sweep.evaluate()
    for values in (metrics.train_loss, metrics.test_loss, metrics.train_accuracy,
                   metrics.test_accuracy, metrics.regularization_loss):
        assert values is not None and values.shape == (len(RATES),)
    assert len(set(metrics.train_loss.tolist())) == len(RATES)
    assert sweep.gradient_norms(run=3).shape == (3,)
    assert len(sweep.output_maps(4, run=3)) == 4
    with pytest.raises(ConfigError) as caught:
        sweep.tensors(run=len(RATES))
    assert caught.value.field == "run"


def test_one_diverging_run_is_frozen_alone() -> None:
    """In a sweep at rates (0.01, 10, 0.03) only the rate-10 run stops; the others go on
    and still equal separate sessions."""
    rates = [0.01, 10.0, 0.03]
    config = regression_config()
    sweep = TrainingSession(config, learning_rates=rates)
    assert sweep.run(30) == 30
    assert sweep.step_count == 30
    assert sweep.status == "ok"
    assert sweep.frozen.tolist() == [False, True, False]
    assert sweep.divergences[0] is None and sweep.divergences[2] is None

    diverging = TrainingSession(config.with_hyper(learning_rate=10.0))
    diverging.run(30)
    record = sweep.divergences[1]
    assert record is not None and diverging.divergence is not None
    assert (record.run, record.step, record.learning_rate) == (1, diverging.divergence.step, 10.0)
    assert record.message == diverging.divergence.message
    np.testing.assert_allclose(flat_weights(sweep, 1), flat_weights(diverging), rtol=1e-12,
                               atol=1e-14)
    for run in (0, 2):
        single = TrainingSession(config.with_hyper(learning_rate=rates[run]))
        single.run(30)
        np.testing.assert_allclose(flat_weights(sweep, run), flat_weights(single), rtol=1e-12,
                                   atol=1e-14)


def test_frozen_run_weights_stay_put_while_others_train() -> None:
    """A frozen run's weights and finite values do not change over later steps."""
    sweep = TrainingSession(regression_config(), learning_rates=[0.01, 10.0])
    sweep.run(30)
    frozen = flat_weights(sweep, 1)
    moving = flat_weights(sweep, 0)
    sweep.run(10)
    np.testing.assert_array_equal(flat_weights(sweep, 1), frozen)
    assert np.isfinite(frozen).all()
    assert not np.array_equal(flat_weights(sweep, 0), moving)


def test_sweep_is_diverged_only_when_every_run_is() -> None:
    """With every rate too high, every run freezes and the sweep's status is 'diverged'."""
    sweep = TrainingSession(regression_config(), learning_rates=[10.0, 8.0])
    sweep.run(100)
    assert sweep.frozen.all()
    assert sweep.status == "diverged"
    assert sweep.step() == "frozen"


def test_set_learning_rates_applies_from_the_next_step() -> None:
    """set_learning_rates returns step_count + 1; from then on run k uses its new rate."""
    new = [0.2, 0.1, 0.05, 0.01]
    sweep = TrainingSession(_config("sgd"), learning_rates=RATES)
    sweep.run(4)
    assert sweep.set_learning_rates(new) == 5
    sweep.step()
    for run, rate in enumerate(new):
        tensors = sweep.tensors(run=run)
        np.testing.assert_allclose(flat_updates(tensors), -rate * flat_grads(tensors),
                                   rtol=1e-15, atol=0)
    assert sweep.learning_rate_changes == [(0, tuple(RATES)), (5, tuple(new))]


def test_set_hyperparameters_learning_rate_sets_every_run() -> None:
    """A single learning rate given to a sweep applies to all of its runs."""
    sweep = TrainingSession(_config("sgd"), learning_rates=RATES)
    sweep.set_hyperparameters(learning_rate=0.07)
    sweep.step()
    for run in range(len(RATES)):
        tensors = sweep.tensors(run=run)
        np.testing.assert_allclose(flat_updates(tensors), -0.07 * flat_grads(tensors),
                                   rtol=1e-15, atol=0)


@pytest.mark.parametrize("rates", [[], [0.1] * 9, [0.1, float("nan")], [0.1, 11.0], [0.1, 0.0]])
def test_invalid_sweep_rates_are_rejected(rates: list[float]) -> None:
    """0 or more than 8 rates, or a rate outside LIMITS, raise ConfigError."""
    with pytest.raises(ConfigError) as caught:
        TrainingSession(_config("sgd"), learning_rates=rates)
    assert caught.value.field.startswith("learning_rates")


def test_set_learning_rates_needs_one_rate_per_run() -> None:
    """set_learning_rates with the wrong count raises ConfigError and changes nothing."""
    sweep = TrainingSession(_config("sgd"), learning_rates=RATES)
    with pytest.raises(ConfigError) as caught:
        sweep.set_learning_rates([0.1, 0.2])
    assert caught.value.field == "learning_rates"
    assert sweep.learning_rates.tolist() == RATES


def test_unfrozen_sweep_run_restarts_with_empty_optimizer_memory() -> None:
    """Like a separate session, a sweep run that diverged restarts with empty momentum."""
    sweep = TrainingSession(_update_exploding("momentum"), learning_rates=[1e-4, 10.0])
    sweep.run(10)
    assert sweep.frozen.tolist() == [False, True]
    sweep.set_learning_rates([1e-4, 1e-4])
    assert sweep.step() == "update"
    assert not sweep.frozen.any()
    with np.errstate(all="ignore"):  # saturated softmax: see test_divergence.py
        tensors = sweep.tensors(run=1)
    np.testing.assert_allclose(flat_updates(tensors), -1e-4 * flat_grads(tensors),
                               rtol=1e-13, atol=0)
