"""Point edits: the data changes, the run goes on (weights, optimizer memory, counters)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backprop_playground.trainer import (
    ConfigError,
    DataConfig,
    Hyperparameters,
    NetworkConfig,
    TrainerConfig,
    TrainingSession,
    restore,
    snapshot,
)
from backprop_playground.trainer.point_edits import ERASE_RADIUS


def adam_session(batch_size: int = 10) -> TrainingSession:
    config = TrainerConfig(data=DataConfig(dataset="circle", n_points=60),
                           hyper=Hyperparameters(optimizer="adam", batch_size=batch_size,
                                                 learning_rate=0.01))
    session = TrainingSession(config)
    session.run(7)
    return session


def test_an_edit_keeps_the_weights_and_the_optimizer_memory() -> None:
    """Adding a point changes the data set, not the weights nor Adam's moments and step count."""
    session = adam_session()
    weights = session.params.values.copy()
    memory = {name: np.array(value, copy=True) for name, value in session.optimizer.state().items()}
    effective = session.edit_points(add=[[1.5, -2.0, 1]])
    assert effective == 8
    assert np.array_equal(session.params.values, weights)
    for name, value in session.optimizer.state().items():
        assert np.array_equal(value, memory[name]), name
    assert session.model.n_train == 31
    assert session.model.dataset.points[30].tolist() == [1.5, -2.0]


def test_training_goes_on_from_the_same_step_over_the_new_data() -> None:
    """After an edit the step counter keeps counting, and steps train on the new point too."""
    session = adam_session(batch_size=31)
    points_seen, epoch = session.points_seen, session.epoch
    session.edit_points(add=[[1.5, -2.0, 1]])
    assert session.step_count == 7 and session.points_seen == points_seen
    assert session.epoch == epoch
    assert session.run(3) == 3
    assert session.step_count == 10
    assert 30 in session.batch_index.tolist()  # full batch: the added point is in it
    assert session.data_changes == [8]


def test_an_erase_removes_the_nearest_point_of_either_split() -> None:
    """An erase takes the point nearest to the position, training or test point."""
    session = adam_session()
    dataset = session.model.dataset
    test_point = dataset.points[dataset.test_index[0]]
    session.edit_points(erase=[[test_point[0] + 0.01, test_point[1]]])
    after = session.model.dataset
    assert len(after.test_index) == len(dataset.test_index) - 1
    assert len(after.train_index) == len(dataset.train_index)
    assert not any(np.array_equal(point, test_point) for point in after.points)


def test_bad_edits_are_refused_naming_the_field_and_change_nothing() -> None:
    """An erase far from every point, a bad label, or a step half done is refused."""
    session = adam_session()
    before = session.model
    with pytest.raises(ConfigError) as far:
        session.edit_points(erase=[[5.9, 5.9 + 2 * ERASE_RADIUS]])
    assert far.value.field == "erase[0]"
    with pytest.raises(ConfigError) as label:
        session.edit_points(add=[[0.0, 0.0, 3]])
    assert label.value.field == "add[0]"
    session.advance()  # forward: the step is half done
    with pytest.raises(ConfigError) as half:
        session.edit_points(add=[[0.0, 0.0, 1]])
    assert "half done" in half.value.message
    assert session.model is before


def test_the_data_set_stays_within_its_point_limit() -> None:
    """More points than LIMITS['custom_points'] allows are refused."""
    rows = [[(i % 40) / 10 - 2, (i // 40) / 10 - 2, i % 2] for i in range(1999)]
    config = TrainerConfig(network=NetworkConfig(problem="binary"),
                           data=DataConfig(dataset="custom", points=tuple(map(tuple, rows)),
                                           test_points=()))
    session = TrainingSession(config)
    session.edit_points(add=[[0.0, 0.0, 1]])
    with pytest.raises(ConfigError) as full:
        session.edit_points(add=[[0.1, 0.0, 1]])
    assert full.value.field == "add" and "2000" in full.value.message


def test_an_exported_edited_run_imports_to_the_same_future() -> None:
    """Export → JSON → import after an edit continues bit for bit like the original."""
    session = adam_session()
    session.edit_points(add=[[1.5, -2.0, 1], [-1.0, 3.0, 0]],
                        erase=[session.model.dataset.points[0].tolist()])
    session.run(4)
    copy = restore(json.loads(json.dumps(snapshot(session))))
    assert copy.data_changes == session.data_changes == [8]
    assert copy.model.n_train == session.model.n_train
    session.run(25)
    copy.run(25)
    assert np.array_equal(copy.params.values, session.params.values)
    assert copy.step_count == session.step_count


def test_an_export_right_after_an_edit_reproduces_the_next_epoch_order() -> None:
    """An edit ends the epoch in progress; an export between the edit and the next step
    draws the same new order on import."""
    session = adam_session()
    session.edit_points(add=[[1.5, -2.0, 1]])
    copy = restore(json.loads(json.dumps(snapshot(session))))
    session.run(5)
    copy.run(5)
    assert np.array_equal(copy.order, session.order)
    assert np.array_equal(copy.params.values, session.params.values)


def test_reset_after_an_edit_rebuilds_from_the_seed_on_the_edited_data() -> None:
    """Reset goes back to the initial weights and step 0, and keeps the edited data."""
    session = adam_session()
    initial = TrainingSession(session.config).params.values.copy()
    session.edit_points(add=[[1.5, -2.0, 1]])
    session.reset()
    assert session.step_count == 0 and session.data_changes == []
    assert session.model.n_train == 31
    assert np.array_equal(session.params.values, initial)


def test_every_run_of_a_sweep_trains_on_the_edited_data() -> None:
    """A sweep's runs share one data set: an edit reaches all of them, each keeping its weights."""
    config = TrainerConfig(data=DataConfig(dataset="xor", n_points=40))
    session = TrainingSession(config, [0.01, 0.1, 1.0])
    session.run(5)
    weights = session.params.values.copy()
    session.edit_points(add=[[2.0, 2.0, 1]])
    assert np.array_equal(session.params.values, weights)
    assert session.run(3) == 3
    assert session.runs == 3 and session.model.n_train == 21
