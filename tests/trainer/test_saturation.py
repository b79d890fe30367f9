"""Saturation: a run whose units sit in their flat zone and whose gradient has vanished
gets the status 'saturated', distinct from 'diverged', and keeps training."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_playground.trainer import ACTIVATIONS, LOSSES, TrainingSession
from backprop_playground.trainer.diagnostics import STATUSES
from backprop_playground.trainer.heads import HEADS
from backprop_playground.trainer.saturation import FLAT_ZONES, read_saturation
from conftest import load_weights, make_config


def _stuck_circle(learning_rate: float = 10.0, steps: int = 50) -> TrainingSession:
    """Circle, [4, 2] tanh, tanh + squared error, seed 1: at η = 10 its output unit is
    pinned at ±1 from step 4 on (its gradient ~1e-8) while the loss stays high."""
    session = TrainingSession(make_config(dataset="circle", hidden=(4, 2), loss="squared_error",
                                          learning_rate=learning_rate, seed=1))
    assert session.run(steps) == steps
    return session


def test_circle_at_learning_rate_10_is_saturated() -> None:
    """The status is 'saturated'; the reading shows the output layer saturated on every
    point, a vanished gradient and a loss that has not been fit."""
    session = _stuck_circle()
    assert session.status == "saturated" and session.run_status() == "saturated"
    reading = session.saturation()
    assert reading is not None and reading.saturated
    assert reading.layers[-1] == 1.0 and reading.blocked
    assert reading.gradient_norm < 1e-6
    assert reading.gradient_norm == pytest.approx(np.linalg.norm(session.params.grads[0]))
    assert reading.loss > 0.1


def test_a_saturated_run_keeps_training_and_is_not_diverged() -> None:
    """Saturated is not frozen: steps go on, no divergence is recorded; resetting with a
    lower rate is the remedy."""
    session = _stuck_circle()
    count = session.step_count
    assert session.run(20) == 20 and session.step_count == count + 20
    assert not session.frozen.any() and session.divergence is None
    assert session.status == "saturated"
    session.reset()
    assert session.status == "ok"
    session.set_hyperparameters(learning_rate=0.03)
    session.run(50)
    assert session.status == "ok"


def test_a_healthy_run_is_ok() -> None:
    """At the default rate the same network stays 'ok' and its reading says so."""
    session = _stuck_circle(learning_rate=0.03, steps=200)
    reading = session.saturation()
    assert session.status == "ok" and reading is not None and not reading.saturated
    assert reading.gradient_norm > 1e-3


def test_saturation_is_none_before_any_step() -> None:
    """Nothing to read before the first forward phase; the status is 'ok'."""
    session = TrainingSession(make_config())
    assert session.saturation() is None and session.status == "ok"


def test_dead_relu_units_count_as_saturated() -> None:
    """A ReLU layer whose pre-activations are negative on every point is all dead."""
    session = TrainingSession(make_config(activation="relu", hidden=(3, 2)))
    layers = session.get_weights()
    load_weights(session, [layers[0], (layers[1][0], np.full(2, -100.0)), layers[2]])
    session.run_phase("forward")
    reading = session.saturation()
    assert reading is not None
    assert reading.layers[1] == 1.0 and reading.blocked


def test_the_rule_needs_a_vanished_gradient_saturated_units_and_an_unfit_batch() -> None:
    """read_saturation: saturated only if ‖g‖ < 1e-5, the units are saturated (most, or a
    whole layer) and the batch loss is above 1e-3 (a fit batch is not stuck)."""
    pinned, free = np.array([[0.999, -0.995, 1.0]]), np.array([[0.2, 0.999, -0.1]])
    names = ("tanh", "tanh")
    assert read_saturation(0, [free, pinned], names, 1e-8, 0.5).saturated
    assert read_saturation(0, [pinned, pinned], names, 1e-8, 0.5).share == 1.0
    assert not read_saturation(0, [free, pinned], names, 1e-3, 0.5).saturated
    assert not read_saturation(0, [free, pinned], names, 1e-8, 1e-4).saturated
    assert not read_saturation(0, [free, free], names, 1e-8, 0.5).saturated
    relu = read_saturation(0, [np.zeros((2, 3)), free], ("relu", "linear"), 1e-8, 0.5)
    assert relu.layers == (1.0, 0.0) and relu.saturated


def test_every_activation_and_output_has_a_flat_zone_rule() -> None:
    """Each hidden activation and each loss's output activation is in FLAT_ZONES."""
    outputs = {HEADS[loss].output_activation for loss in LOSSES}
    assert set(ACTIVATIONS) | outputs <= set(FLAT_ZONES)


def test_a_sweep_reports_saturation_per_run() -> None:
    """In a sweep, run_status names the saturated run; the session is 'ok' while another
    run trains, 'saturated' when every run still going is."""
    config = make_config(dataset="circle", hidden=(4, 2), loss="squared_error", seed=1)
    sweep = TrainingSession(config, learning_rates=[0.03, 10.0])
    sweep.run(50)
    assert [sweep.run_status(run) for run in range(2)] == ["ok", "saturated"]
    assert sweep.status == "ok"
    sweep.set_learning_rates([10.0, 10.0])
    assert sweep.status in STATUSES


def test_status_is_one_of_the_documented_values() -> None:
    """status and run_status only take the values in STATUSES."""
    assert STATUSES == ("ok", "saturated", "diverged")
    for session in (_stuck_circle(), TrainingSession(make_config())):
        assert session.status in STATUSES and session.run_status() in STATUSES


def test_default_circle_at_learning_rate_10_stalls_behind_pinned_hidden_layers() -> None:
    """Sigmoid + cross-entropy keeps an output gradient, but at η = 10 both tanh hidden layers
    pin at ±1 and the layers below get (almost) no gradient: the run is "saturated", with
    the stalled layers counted, although its total gradient has not vanished."""
    session = TrainingSession(make_config(dataset="circle", hidden=(4, 2), n_points=500,
                                          learning_rate=10.0))
    session.run(400)
    reading = session.saturation()
    assert reading is not None
    assert session.status == "saturated" and reading.stalled == 2
    assert reading.gradient_norm > 1e-3  # the output layer still gets its gradient
    assert session.gradient_norms()[0] < 1e-5
