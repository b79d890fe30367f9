"""The truths behind the class's predictions are read from the update that really ran."""

from __future__ import annotations

import math

import numpy as np

from backprop_playground.trainer import TrainingSession
from backprop_playground.trainer.questions import (
    LossChange,
    ParameterChange,
    loss_change,
    lowest_run,
    parameter_change,
)
from conftest import make_config


def batch_loss(session: TrainingSession, layers: list[tuple[np.ndarray, np.ndarray]],
               points: np.ndarray, labels: np.ndarray) -> float:
    """The mean loss of ``points`` under ``layers``, computed by a second session on that
    batch alone (an independent forward pass)."""
    probe = TrainingSession(session.config)
    probe.set_weights(layers)
    probe.run_phase("forward", (points.tolist(), labels.tolist()))
    probe.run_phase("loss")
    loss = probe.tensors().loss
    assert loss is not None
    return loss


def test_loss_change_is_the_batch_loss_before_and_after_the_update() -> None:
    """before/after are the loss of the update's own batch under the weights before and
    after it (checked with an independent forward pass on that batch)."""
    session = TrainingSession(make_config(dataset="xor", hidden=(3,), batch_size=8))
    session.run(3)
    before_weights = session.get_weights()
    session.run_phase("forward")
    batch = session.batch_index
    assert batch is not None
    dataset = session.model.dataset
    rows = dataset.train_index[batch]  # batch_index counts within the training set
    points, labels = dataset.points[rows], dataset.labels[rows]
    session.step()
    change = loss_change(session, 0)
    assert change is not None
    assert math.isclose(change.before, batch_loss(session, before_weights, points, labels),
                        rel_tol=1e-9)
    assert math.isclose(change.after, batch_loss(session, session.get_weights(), points,
                                                 labels), rel_tol=1e-9)
    assert change.lowered == (change.after < change.before)


def test_no_loss_change_before_an_update_ran() -> None:
    """Mid-step (or before any step) there is no completed update to read."""
    session = TrainingSession(make_config(dataset="xor", hidden=(3,)))
    assert loss_change(session, 0) is None
    session.run_phase("forward")
    assert loss_change(session, 0) is None


def test_lowered_means_down_by_more_than_rounding() -> None:
    """A change within 1e-12 relative, a rise or a non-finite loss is not "lowered"."""
    assert LossChange(0, 1.0, 0.9).lowered
    assert not LossChange(0, 1.0, 1.0 - 1e-14).lowered
    assert not LossChange(0, 1.0, 1.1).lowered
    assert not LossChange(0, 1.0, math.nan).lowered
    assert not LossChange(0, math.inf, 1.0).lowered


def test_parameter_change_is_the_applied_delta_of_that_weight() -> None:
    """Δw is the weight after the update minus before it; a bias (source None) too."""
    session = TrainingSession(make_config(dataset="xor", hidden=(3,), learning_rate=0.5))
    before = session.get_weights()
    session.step()
    after = session.get_weights()
    weight = parameter_change(session, 0, 1, 0, 2)
    bias = parameter_change(session, 0, 0, 1, None)
    assert weight is not None and bias is not None
    assert math.isclose(weight.change, after[1][0][0, 2] - before[1][0][0, 2],
                        rel_tol=1e-6, abs_tol=1e-15)
    assert weight.after == after[1][0][0, 2]
    assert math.isclose(bias.change, after[0][1][1] - before[0][1][1], rel_tol=1e-6,
                        abs_tol=1e-15)


def test_direction_is_the_sign_of_the_change() -> None:
    """up for Δ > 0, down for Δ < 0, none for Δ = 0."""
    assert ParameterChange(0.1, 1.0).direction == "up"
    assert ParameterChange(-1e-9, 1.0).direction == "down"
    assert ParameterChange(0.0, 1.0).direction is None


def test_the_lowest_run_excludes_diverged_and_non_finite_runs() -> None:
    """The winner is the lowest finite loss of a run that is not frozen; first of equals."""
    frozen = np.array([False, False, True, False])
    assert lowest_run(np.array([0.5, 0.2, 0.01, 0.2]), frozen) == 1
    assert lowest_run(np.array([0.5, np.nan, 0.01, np.inf]), frozen) == 0
    assert lowest_run(np.array([np.nan, np.nan, 0.1, np.nan]), frozen) is None
