"""Invalid values raise ConfigError naming the field, and change nothing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_playground.trainer import (
    LIMITS,
    ConfigError,
    DataConfig,
    Hyperparameters,
    NetworkConfig,
    TrainerConfig,
    TrainingSession,
)
from conftest import flat_grads, flat_updates, flat_weights, make_config

BASE = make_config()


def _network(**changes: Any) -> TrainerConfig:
    return replace(BASE, network=replace(BASE.network, **changes))


def _data(**changes: Any) -> TrainerConfig:
    return replace(BASE, data=replace(BASE.data, **changes))


def _hyper(**changes: Any) -> TrainerConfig:
    return replace(BASE, hyper=replace(BASE.hyper, **changes))


def _custom(points: Any, problem: str | None = "binary", n_classes: int = 3) -> TrainerConfig:
    return TrainerConfig(
        network=NetworkConfig(hidden_layers=(2,), problem=problem, n_classes=n_classes),
        data=DataConfig(dataset="custom", points=points),
    )


def _rejected(config: Any) -> ConfigError:
    """The ConfigError that building a session from ``config`` raises."""
    with pytest.raises(ConfigError) as caught:
        TrainingSession(config)
    return caught.value


INVALID_CONFIGS: list[tuple[str, TrainerConfig, str]] = [
    ("0 neurons", _network(hidden_layers=(3, 0)), "network.hidden_layers[1]"),
    ("17 neurons", _network(hidden_layers=(17,)), "network.hidden_layers[0]"),
    ("neurons not a whole number", _network(hidden_layers=(2.5,)), "network.hidden_layers[0]"),
    ("9 layers", _network(hidden_layers=(2,) * 9), "network.hidden_layers"),
    ("1000 layers", _network(hidden_layers=(2,) * 1000), "network.hidden_layers"),
    ("unknown activation", _network(activation="swish"), "network.activation"),
    ("unknown activation in a list", _network(activation=("tanh", "swish")),
     "network.activation[1]"),
    ("one activation too many", _network(activation=("tanh", "tanh", "relu")),
     "network.activation"),
    ("unknown feature", _network(features=("x1", "x3")), "network.features[1]"),
    ("no features", _network(features=()), "network.features"),
    ("a feature twice", _network(features=("x1", "x1")), "network.features"),
    ("learning rate NaN", _hyper(learning_rate=math.nan), "hyper.learning_rate"),
    ("learning rate inf", _hyper(learning_rate=math.inf), "hyper.learning_rate"),
    ("learning rate -inf", _hyper(learning_rate=-math.inf), "hyper.learning_rate"),
    ("learning rate negative", _hyper(learning_rate=-0.1), "hyper.learning_rate"),
    ("learning rate zero", _hyper(learning_rate=0.0), "hyper.learning_rate"),
    ("learning rate too large", _hyper(learning_rate=10.5), "hyper.learning_rate"),
    ("learning rate a string", _hyper(learning_rate="0.1"), "hyper.learning_rate"),
    ("learning rate a bool", _hyper(learning_rate=True), "hyper.learning_rate"),
    ("batch size 0", _hyper(batch_size=0), "hyper.batch_size"),
    ("batch size 2001", _hyper(batch_size=2001), "hyper.batch_size"),
    ("batch size fractional", _hyper(batch_size=2.5), "hyper.batch_size"),
    ("unknown optimizer", _hyper(optimizer="rmsprop"), "hyper.optimizer"),
    ("unknown regularization", _hyper(regularization="l3"), "hyper.regularization"),
    ("negative regularization rate", _hyper(regularization_rate=-1.0),
     "hyper.regularization_rate"),
    ("momentum 1", _hyper(momentum=1.0), "hyper.momentum"),
    ("beta2 1", _hyper(beta2=1.0), "hyper.beta2"),
    ("epsilon 0", _hyper(epsilon=0.0), "hyper.epsilon"),
    ("unknown loss", _network(loss="hinge"), "network.loss"),
    ("cross entropy on a binary set", _network(loss="cross_entropy"), "network.loss"),
    ("bce on a regression set", replace(_data(dataset="plane"), network=replace(
        BASE.network, loss="bce")), "network.loss"),
    ("mse on a multiclass set", replace(_data(dataset="blobs3"), network=replace(
        BASE.network, loss="mse")), "network.loss"),
    ("problem does not fit the data set", _network(problem="regression"), "network.problem"),
    ("unknown problem for custom points", _custom(((0, 0, 1),), problem="ranking"),
     "network.problem"),
    ("unknown data set", _data(dataset="galaxy"), "data.dataset"),
    ("9 points", _data(n_points=9), "data.n_points"),
    ("2001 points", _data(n_points=2001), "data.n_points"),
    ("noise 0.6", _data(noise=0.6), "data.noise"),
    ("train fraction 0.95", _data(train_fraction=0.95), "data.train_fraction"),
    ("points with a named data set", _data(points=((0.0, 0.0, 1.0),)), "data.points"),
    ("custom without points", _custom(None), "data.points"),
    ("custom without problem", _custom(((0.0, 0.0, 1.0),), problem=None), "network.problem"),
    ("empty custom points", _custom(()), "data.points"),
    ("2001 custom points", _custom(((1.0, 1.0, 0.0),) * 2001), "data.points"),
    ("binary label 2", _custom(((0, 0, 1), (1, 1, 2))), "data.points[1]"),
    ("fractional label", _custom(((0, 0, 0.5),)), "data.points[0]"),
    ("negative label", _custom(((0, 0, -1),)), "data.points[0]"),
    ("multiclass label 3 of 3", _custom(((0, 0, 2), (0, 0, 3)), "multiclass"), "data.points[1]"),
    ("regression target 11", _custom(((0, 0, 11.0),), "regression"), "data.points[0]"),
    ("NaN coordinate", _custom(((0, 0, 1), (math.nan, 0, 1))), "data.points[1]"),
    ("inf label", _custom(((0, 0, math.inf),), "regression"), "data.points[0]"),
    ("coordinate 6.5", _custom(((6.5, 0, 1),)), "data.points[0]"),
    ("coordinate -7", _custom(((0, -7, 1),)), "data.points[0]"),
    ("row of two numbers", _custom(((0, 0),)), "data.points[0]"),
    ("string in a row", _custom(((0, "a", 1),)), "data.points[0]"),
    ("n_classes 9", _custom(((0, 0, 1),), "multiclass", n_classes=9), "network.n_classes"),
    ("n_classes 1", _custom(((0, 0, 0),), "multiclass", n_classes=1), "network.n_classes"),
    ("seed -1", replace(BASE, seed=-1), "seed"),
    ("seed 2**32", replace(BASE, seed=2**32), "seed"),
]


@pytest.mark.parametrize(("config", "field"), [(c, f) for _, c, f in INVALID_CONFIGS],
                         ids=[name for name, _, _ in INVALID_CONFIGS])
def test_invalid_config_raises_config_error_naming_the_field(
    config: TrainerConfig, field: str
) -> None:
    """Each invalid config raises ConfigError whose field is the culprit's dotted path."""
    error = _rejected(config)
    assert error.field == field
    assert error.message
    assert str(error) == f"{field}: {error.message}"
    assert isinstance(error, ValueError)


def test_first_bad_custom_row_is_named_with_the_documented_message() -> None:
    """Of several bad rows the first is named: 'data.points[1]: label 3 is not a class (0..2)'."""
    points = ((0, 0, 1), (1, 1, 3), (7, 7, 9))
    error = _rejected(_custom(points, "multiclass", n_classes=3))
    assert str(error) == "data.points[1]: label 3 is not a class (0..2)"


@pytest.mark.parametrize(("problem", "points"), [
    ("binary", ((-6.0, 6.0, 0), (6, -6, 1))),
    ("multiclass", ((0.0, 0.0, 0.0), (1.0, 1.0, 7.0))),
    ("regression", ((0.5, 0.5, -10.0), (1.0, -1.0, 10))),
])
def test_valid_custom_points_are_accepted(problem: str, points: Any) -> None:
    """Points on the boundary of the plane and of the label ranges are fine."""
    session = TrainingSession(_custom(points, problem, n_classes=8))
    np.testing.assert_array_equal(session.model.dataset.points,
                                  np.array([row[:2] for row in points], dtype=float))
    assert session.run(2) == 2


def test_configure_with_an_invalid_config_changes_nothing() -> None:
    """configure(bad) raises ConfigError and the session keeps its weights and counters."""
    session = TrainingSession(BASE)
    session.run(3)
    weights = flat_weights(session)
    with pytest.raises(ConfigError):
        session.configure(_network(hidden_layers=(17,)))
    assert session.step_count == 3
    assert session.config.network.hidden_layers == BASE.network.hidden_layers
    np.testing.assert_array_equal(flat_weights(session), weights)


@pytest.mark.parametrize(("changes", "field"), [
    ({"learning_rat": 0.1}, "hyper.learning_rat"),
    ({"learning_rate": math.nan}, "hyper.learning_rate"),
    ({"learning_rate": 0.1, "batch_size": 0}, "hyper.batch_size"),
    ({"optimizer": "rmsprop"}, "hyper.optimizer"),
    ({"momentum": math.inf}, "hyper.momentum"),
])
def test_bad_set_hyperparameters_raises_and_changes_nothing(
    changes: dict[str, Any], field: str
) -> None:
    """An invalid live change raises ConfigError naming the field; nothing takes effect."""
    session = TrainingSession(make_config(learning_rate=0.03))
    session.run(3)
    hyper, weights = session.hyper, flat_weights(session)
    with pytest.raises(ConfigError) as caught:
        session.set_hyperparameters(**changes)
    assert caught.value.field == field
    assert session.hyper == hyper
    assert session.learning_rate_changes == [(0, (0.03,))]
    np.testing.assert_array_equal(flat_weights(session), weights)
    session.step()
    tensors = session.tensors()
    np.testing.assert_allclose(flat_updates(tensors), -0.03 * flat_grads(tensors), rtol=1e-15)


def test_bad_change_mid_step_keeps_an_earlier_valid_change() -> None:
    """A rejected change does not drop a valid change already waiting for the next step."""
    session = TrainingSession(make_config(learning_rate=0.03))
    session.run_phase("forward")
    session.set_hyperparameters(learning_rate=0.2)
    with pytest.raises(ConfigError):
        session.set_hyperparameters(batch_size=-3)
    session.step()
    session.step()
    assert session.hyper.learning_rate == 0.2
    assert session.hyper.batch_size == 10


@pytest.mark.parametrize(("batch", "field"), [
    ((np.zeros((3, 2)), np.array([0.0, 1.0, 2.0])), "batch[2]"),
    ((np.zeros((2, 2)), np.array([0.5, 1.0])), "batch[0]"),
    ((np.array([[0.0, 9.0]]), np.array([1.0])), "batch[0]"),
    ((np.array([[0.0, np.nan]]), np.array([1.0])), "batch[0]"),
    ((np.zeros((3, 2)), np.array([0.0, 1.0])), "batch"),
    ((np.zeros((0, 2)), np.array([])), "batch"),
    ((np.zeros((2, 3)), np.array([0.0, 1.0])), "batch[0]"),
])
def test_given_batch_with_bad_values_raises_and_changes_nothing(
    batch: tuple[Any, Any], field: str
) -> None:
    """A bad batch for forward raises ConfigError naming it; no phase runs."""
    session = TrainingSession(BASE)
    session.run(2)
    weights = flat_weights(session)
    with pytest.raises(ConfigError) as caught:
        session.step(batch=batch)
    assert caught.value.field == field
    assert (session.step_count, session.phase) == (2, "update")
    np.testing.assert_array_equal(flat_weights(session), weights)
    assert session.step() == "update"


# --------------------------------------------------------------------------- hypothesis
LR_LOW, LR_HIGH = LIMITS["learning_rate"]


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.floats(min_value=LR_LOW, max_value=LR_HIGH))
def test_any_learning_rate_within_limits_is_accepted(rate: float) -> None:
    """Every finite learning rate in LIMITS builds a session and is taken live."""
    session = TrainingSession(replace(_hyper(learning_rate=rate), data=DataConfig(n_points=10)))
    assert session.hyper.learning_rate == rate
    assert session.set_hyperparameters(learning_rate=rate) == 1


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.one_of(
    st.floats(max_value=LR_LOW, exclude_max=True),
    st.floats(min_value=LR_HIGH, exclude_min=True),
    st.just(math.nan),
))
def test_any_learning_rate_outside_limits_is_rejected(rate: float) -> None:
    """Learning rates below, above or not numbers raise ConfigError on hyper.learning_rate."""
    error = _rejected(_hyper(learning_rate=rate))
    assert error.field == "hyper.learning_rate"
    session = TrainingSession(replace(BASE, data=DataConfig(n_points=10)))
    with pytest.raises(ConfigError) as caught:
        session.set_hyperparameters(learning_rate=rate)
    assert caught.value.field == "hyper.learning_rate"
    assert session.hyper.learning_rate == BASE.hyper.learning_rate


def _row_is_valid(row: Sequence[Any], problem: str, n_classes: int) -> bool:
    """The documented rules for one custom point (x1, x2, label)."""
    if len(row) != 3:
        return False
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in row):
        return False
    if not all(math.isfinite(v) for v in row):
        return False
    x1, x2, label = row
    if not (-6 <= x1 <= 6 and -6 <= x2 <= 6):
        return False
    if problem == "regression":
        return bool(-10 <= label <= 10)
    return bool(label == int(label) and 0 <= label < n_classes)


_numbers = st.one_of(
    st.integers(min_value=-12, max_value=12),
    st.floats(min_value=-12, max_value=12),
    st.floats(allow_nan=True, allow_infinity=True),
)
_values = st.one_of(_numbers, _numbers, _numbers, st.booleans(), st.none(), st.text(max_size=2))
_good_rows = st.tuples(st.floats(-6, 6), st.floats(-6, 6), st.integers(0, 2))
_rows = st.one_of(
    _good_rows, _good_rows,
    st.tuples(_values, _values, _values),
    st.lists(_numbers, max_size=5).map(tuple),
)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    points=st.lists(_rows, max_size=8),
    problem=st.sampled_from(["binary", "multiclass", "regression"]),
    n_classes=st.integers(2, 8),
)
def test_random_custom_points_are_accepted_or_name_the_first_bad_row(
    points: list[tuple[Any, ...]], problem: str, n_classes: int
) -> None:
    """Random point lists are accepted exactly when every row is valid; otherwise the
    ConfigError's field is data.points (empty list) or data.points[first bad row]."""
    config = _custom(tuple(points), problem, n_classes)
    classes = n_classes if problem == "multiclass" else 2
    bad = [i for i, row in enumerate(points) if not _row_is_valid(row, problem, classes)]
    if points and not bad:
        session = TrainingSession(config)
        assert len(session.model.dataset.points) == len(points)
        return
    error = _rejected(config)
    assert error.field.startswith("data.points")
    assert error.field == (f"data.points[{bad[0]}]" if points else "data.points")


# ------------------------------------------------------------- non-ConfigError escapes
@pytest.mark.parametrize("config", [
    _hyper(learning_rate=10**400),
    replace(BASE, seed=10**400),
    _hyper(batch_size=10**400),
    _custom(((10**400, 0, 1),)),
], ids=["learning_rate", "seed", "batch_size", "custom coordinate"])
def test_huge_integers_raise_config_error(config: TrainerConfig) -> None:
    """An integer too large for a float is an invalid value like any other: ConfigError."""
    _rejected(config)


@pytest.mark.parametrize("activation", [None, 5])
def test_non_sequence_activation_raises_config_error(activation: Any) -> None:
    """activation that is neither a name nor a list of names raises ConfigError on it."""
    assert _rejected(_network(activation=activation)).field == "network.activation"


@pytest.mark.parametrize("points", [((0, 0, 1), 5), ((0, 0, 1), None), 5])
def test_non_iterable_custom_rows_raise_config_error(points: Any) -> None:
    """A custom row that is not a sequence is reported as a bad data.points entry."""
    assert _rejected(_custom(points)).field.startswith("data.points")


def test_hyperparameters_default_is_valid() -> None:
    """The documented default config builds."""
    assert TrainingSession(TrainerConfig(hyper=Hyperparameters())).run(1) == 1
