"""Divergence is a status, not an exception: the step stops, the weights stay finite, the run
freezes until the learning rate changes, reset() or resume()."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from backprop_playground.trainer import Divergence, TrainerConfig, TrainingSession
from conftest import (
    Array,
    flat_grads,
    flat_updates,
    flat_weights,
    load_weights,
    make_config,
    regression_config,
)


@pytest.fixture(autouse=True)
def _runtime_warnings_are_errors() -> Iterator[None]:
    """Every test here fails if a RuntimeWarning (overflow, invalid value) escapes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def _diverging() -> TrainerConfig:
    """ReLU regression on 'plane', mse, learning rate 10: the loss explodes within steps."""
    return regression_config(learning_rate=10.0)


def _update_exploding(optimizer: str = "sgd") -> TrainerConfig:
    """A softmax net whose update (not its loss) is the first thing to explode."""
    return make_config(dataset="blobs3", loss="cross_entropy", activation="leaky_relu",
                       hidden=(8, 8, 8), features=("x1_squared", "x2_squared", "x1_times_x2"),
                       learning_rate=10.0, optimizer=optimizer)


def _step_until_diverged(session: TrainingSession, limit: int = 100) -> tuple[int, Array]:
    """Step one at a time until a step diverges; return its number and the weights before."""
    for _ in range(limit):
        before = flat_weights(session)
        number = session.step_count + 1
        result = session.step()
        if result == "diverged":
            return number, before
        assert result == "update"
    raise AssertionError("no divergence")


@pytest.mark.parametrize("make", [_diverging, _update_exploding])
def test_diverging_step_returns_status_and_keeps_previous_weights(
    make: Callable[[], TrainerConfig],
) -> None:
    """The diverging step returns 'diverged'; weights are those before it, all finite."""
    session = TrainingSession(make())
    number, before = _step_until_diverged(session)
    assert session.status == "diverged"
    assert session.step_count == number - 1
    after = flat_weights(session)
    np.testing.assert_array_equal(after, before)
    assert np.isfinite(after).all()
    assert session.phase is None


def test_divergence_message_names_the_step_and_learning_rate() -> None:
    """divergence.message reads 'diverged at step N (learning rate 10): the loss exploded'."""
    session = TrainingSession(_diverging())
    number, _ = _step_until_diverged(session)
    divergence = session.divergence
    assert isinstance(divergence, Divergence)
    # Divergence.step is the last completed step (the step_count the page shows), not the
    # refused step `number` = step_count + 1 it used to be (see docs/trainer.md, Divergence).
    completed = number - 1
    assert (divergence.run, divergence.step, divergence.learning_rate) == (0, completed, 10.0)
    assert divergence.message == (
        f"diverged at step {completed} (learning rate 10): the loss exploded")
    assert divergence.loss is None or divergence.loss > 1e6


def test_update_divergence_names_the_update_as_reason() -> None:
    """When the update explodes first, the reason says so."""
    session = TrainingSession(_update_exploding())
    number, _ = _step_until_diverged(session)
    assert session.divergence is not None
    # The message names the last completed step, number − 1 (it named the refused one).
    assert session.divergence.message.startswith(
        f"diverged at step {number - 1} (learning rate 10)")
    assert "update" in session.divergence.reason


def test_run_stops_at_divergence_without_raising() -> None:
    """run(100) returns the steps completed before the diverging one, at the same step."""
    stepwise = TrainingSession(_diverging())
    number, before = _step_until_diverged(stepwise)
    session = TrainingSession(_diverging())
    assert session.run(100) == number - 1
    assert session.status == "diverged"
    assert session.divergence == stepwise.divergence
    np.testing.assert_array_equal(flat_weights(session), before)


def test_run_epochs_stops_at_divergence() -> None:
    """run_epochs(5) ends at the divergence and returns the completed steps."""
    session = TrainingSession(_diverging())
    done = session.run_epochs(5)
    assert session.status == "diverged"
    assert done == session.step_count
    # Divergence.step is the last completed step, done (it was the refused one, done + 1).
    assert session.divergence is not None and session.divergence.step == done


def test_phase_by_phase_divergence_is_reported_by_the_loss_phase() -> None:
    """Stepping phase by phase, the loss phase that explodes returns 'diverged'."""
    session = TrainingSession(_diverging())
    number, _ = _step_until_diverged(TrainingSession(_diverging()))
    session.run(number - 1)
    assert session.run_phase("forward") == "forward"
    assert session.run_phase("loss") == "diverged"
    assert session.status == "diverged"
    assert session.next_phase == "forward"


def test_frozen_session_does_nothing_on_further_steps() -> None:
    """After divergence step(), run_phase('forward') and run() do nothing and say 'frozen'."""
    session = TrainingSession(_diverging())
    session.run(100)
    weights, count = flat_weights(session), session.step_count
    assert session.step() == "frozen"
    assert session.run_phase("forward") == "frozen"
    assert session.run(10) == 0
    assert session.run_epochs(1) == 0
    assert session.step_count == count
    np.testing.assert_array_equal(flat_weights(session), weights)
    assert session.status == "diverged"


def test_evaluation_after_divergence_is_finite() -> None:
    """evaluate() and output_maps() of a diverged session give finite numbers."""
    session = TrainingSession(_diverging())
    session.run(100)
    metrics = session.evaluate()
    assert np.isfinite(metrics.train_loss).all() and np.isfinite(metrics.test_loss).all()
    assert all(np.isfinite(layer).all() for layer in session.output_maps(8))


def _continues_after_lowering(session: TrainingSession) -> None:
    """Lower the rate of a diverged session to 1e-4; 60 steps must run with finite losses."""
    count = session.step_count
    assert session.set_hyperparameters(learning_rate=1e-4) == count + 1
    assert session.status == "ok" and session.divergence is None
    results, losses = [], []
    for _ in range(60):
        results.append(session.step())
        # The saturated softmax makes tensors() divide by zero in dL/da, a separate bug:
        # see test_tensors_of_a_saturated_output_are_finite_and_quiet.
        with np.errstate(all="ignore"):
            losses.append(session.tensors().loss)
    assert results == ["update"] * 60
    assert all(loss is not None and np.isfinite(loss) for loss in losses)
    assert session.step_count == count + 60
    assert np.isfinite(flat_weights(session)).all()


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_lower_learning_rate_lets_training_continue_after_update_divergence(
    optimizer: str,
) -> None:
    """After the update exploded, set_hyperparameters(learning_rate=1e-4) unfreezes the run
    and later steps have finite losses."""
    session = TrainingSession(_update_exploding(optimizer))
    _step_until_diverged(session)
    assert session.divergence is not None and "update" in session.divergence.reason
    _continues_after_lowering(session)


def test_lower_learning_rate_lets_training_continue_after_loss_divergence() -> None:
    """After the loss exploded, lowering the learning rate lets training go on."""
    session = TrainingSession(_diverging())
    session.run(100)
    assert session.divergence is not None and "loss" in session.divergence.reason
    _continues_after_lowering(session)


def test_divergence_clears_optimizer_memory() -> None:
    """After a momentum run diverges and the rate is lowered, the first update is −η·g."""
    session = TrainingSession(_update_exploding("momentum"))
    _step_until_diverged(session)
    session.set_hyperparameters(learning_rate=1e-4)
    assert session.step() == "update"
    with np.errstate(all="ignore"):  # see the saturated-output test
        tensors = session.tensors()
    np.testing.assert_allclose(flat_updates(tensors), -1e-4 * flat_grads(tensors),
                               rtol=1e-13, atol=0)


def test_reset_recovers_from_divergence() -> None:
    """reset() after divergence restores the initial weights and an 'ok' status."""
    session = TrainingSession(_diverging())
    initial = flat_weights(session)
    session.run(100)
    session.reset()
    assert session.status == "ok" and session.divergence is None
    assert session.step_count == 0
    np.testing.assert_array_equal(flat_weights(session), initial)
    assert session.step() == "update"


def test_resume_lets_a_diverged_run_go_on() -> None:
    """resume() unfreezes at the same rate: the next step runs again."""
    session = TrainingSession(_diverging())
    session.run(100)
    session.resume()
    assert session.status == "ok"
    assert session.step() in ("update", "diverged")
    assert np.isfinite(flat_weights(session)).all()


def test_diverging_given_batch_does_not_raise() -> None:
    """A step on a given batch that explodes reports 'diverged' too."""
    session = TrainingSession(_diverging())
    number, _ = _step_until_diverged(TrainingSession(_diverging()))
    session.run(number - 1)
    points = np.array([[5.9, 5.9], [-5.9, -5.9], [5.9, -5.9]])
    labels = np.array([1.0, -1.0, 0.0])
    results = [session.step(batch=(points, labels)) for _ in range(5)]
    assert "diverged" in results
    assert np.isfinite(flat_weights(session)).all()


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_a_step_emits_no_warning_at_all(activation: str) -> None:
    """With every warning turned into an error (DeprecationWarning too), ReLU-family
    networks still step."""
    session = TrainingSession(make_config(activation=activation))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        session.run(2)


@pytest.mark.parametrize(("dataset", "loss"), [("xor", "bce"), ("blobs3", "cross_entropy")])
def test_tensors_of_a_saturated_output_are_finite_and_quiet(dataset: str, loss: str) -> None:
    """A step whose output units saturate has finite tensors and tensors() warns nothing;
    only the output's dL/da may be infinite, exactly where a rounded to 0 or 1 (its true
    slope −y/(aB) exceeds every float there)."""
    session = TrainingSession(make_config(dataset=dataset, loss=loss, hidden=(3,),
                                          learning_rate=1e-5))
    load_weights(session, [(w * 2000.0, b) for w, b in session.get_weights()])
    points = np.array([[5.0, 5.0], [-5.0, 4.0], [4.0, -5.0], [-5.0, -5.0]])
    labels = np.array([1.0, 0.0, 1.0, 0.0])
    assert session.step(batch=(points, labels)) == "update"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tensors = session.tensors()
    assert tensors.loss is not None and np.isfinite(tensors.loss)
    for index, layer in enumerate(tensors.layers):
        for name in ("z", "a", "grad_a", "delta", "grad_weights", "update_weights"):
            values = getattr(layer, name)
            if name == "grad_a" and index == len(tensors.layers) - 1:
                saturated = (layer.a == 0.0) | (layer.a == 1.0)
                values = values[~saturated]
            assert np.isfinite(values).all(), name
