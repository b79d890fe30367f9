"""Validate a :class:`TrainerConfig` and fill in what follows from it.

``validate_config`` returns a normalized copy: ``problem`` and ``loss`` resolved from the data
set, ``activation`` expanded to one name per hidden layer, sequences turned into tuples.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from .config import (
    ACTIVATIONS,
    DEFAULT_LOSS,
    FEATURES,
    HYPER_CHOICES,
    LIMITS,
    LOSSES,
    PROBLEMS,
    DataConfig,
    Hyperparameters,
    NetworkConfig,
    TrainerConfig,
    check_choice,
    check_finite_range,
    check_int_range,
)
from .datasets import CUSTOM, DATASETS, validate_points
from .errors import ConfigError


def validate_config(config: Any) -> TrainerConfig:
    """Return the normalized config, or raise ConfigError naming the first bad field."""
    if not isinstance(config, TrainerConfig):
        raise ConfigError("config", f"must be a TrainerConfig, got {type(config).__name__}")
    check_int_range("seed", config.seed)
    data = _validate_data(config.data)
    network = _validate_network(config.network, data)
    if data.dataset == CUSTOM:
        validate_points(data.points or (), _problem(network), network.n_classes)
        if data.test_points:
            validate_points(data.test_points, _problem(network), network.n_classes,
                            "data.test_points")
    return replace(config, network=network, data=data, hyper=validate_hyper(config.hyper))


def _problem(network: NetworkConfig) -> str:
    assert network.problem is not None
    return network.problem


def _validate_data(data: DataConfig) -> DataConfig:
    names = (*DATASETS, CUSTOM)
    check_choice("data.dataset", data.dataset, names)
    check_int_range("data.n_points", data.n_points)
    check_finite_range("data.noise", data.noise)
    check_finite_range("data.train_fraction", data.train_fraction)
    if data.dataset == CUSTOM:
        if data.points is None:
            raise ConfigError("data.points", "the 'custom' data set needs points (x1, x2, label)")
        points = data.points
        if isinstance(points, str | bytes) or not hasattr(points, "__iter__"):
            raise ConfigError("data.points", "must be a list of points (x1, x2, label)")
        rows = _rows(points, "data.points")
        if data.test_points is None:
            return replace(data, points=rows)
        test_rows = _rows(data.test_points, "data.test_points")
        high = LIMITS["custom_points"][1]
        if len(rows) + len(test_rows) > high:
            raise ConfigError("data.test_points", f"training and test points together are "
                              f"at most {high:g}, got {len(rows) + len(test_rows)}")
        return replace(data, points=rows, test_points=test_rows)
    for name in ("points", "test_points"):
        if getattr(data, name) is not None:
            raise ConfigError(f"data.{name}", "points are only used with the 'custom' data set")
    return data


def _rows(points: Any, where: str) -> Any:
    """``points`` as a tuple of row tuples (each row is checked later, by validate_points)."""
    if isinstance(points, str | bytes) or not hasattr(points, "__iter__"):
        raise ConfigError(where, "must be a list of points (x1, x2, label)")
    rows = []
    for index, row in enumerate(points):
        if isinstance(row, str | bytes) or not hasattr(row, "__iter__"):
            raise ConfigError(f"{where}[{index}]", "each point is three numbers: x1, x2, label")
        rows.append(tuple(row))
    return tuple(rows)


def _validate_network(network: NetworkConfig, data: DataConfig) -> NetworkConfig:
    layers = _validate_layers(network.hidden_layers)
    features = _validate_features(network.features)
    activations = _validate_activations(network.activation, len(layers))
    problem = network.problem
    if data.dataset != CUSTOM:
        spec = DATASETS[data.dataset]
        if problem is not None and problem != spec.problem:
            raise ConfigError(
                "network.problem",
                f"data set {spec.name!r} is a {spec.problem} problem, not {problem}",
            )
        problem = spec.problem
    elif problem is None:
        raise ConfigError("network.problem", "say which problem the custom points pose")
    check_choice("network.problem", problem, PROBLEMS)
    loss = DEFAULT_LOSS[problem] if network.loss is None else network.loss
    check_choice("network.loss", loss, tuple(LOSSES))
    if LOSSES[loss] != problem:
        raise ConfigError("network.loss", f"loss {loss!r} does not fit a {problem} problem")
    n_classes = network.n_classes
    if problem == "multiclass":
        n_classes = check_int_range("network.n_classes", n_classes)
        if data.dataset != CUSTOM:
            n_classes = DATASETS[data.dataset].n_classes
    else:
        n_classes = 2 if problem == "binary" else 1
    return NetworkConfig(layers, features, activations, problem, loss, n_classes)


def _validate_layers(hidden_layers: Any) -> tuple[int, ...]:
    if isinstance(hidden_layers, str) or not hasattr(hidden_layers, "__len__"):
        raise ConfigError("network.hidden_layers", "must be a list of layer sizes")
    low, high = LIMITS["hidden_layers"]
    if not low <= len(hidden_layers) <= high:
        raise ConfigError(
            "network.hidden_layers",
            f"must have {low:g} to {high:g} hidden layers, got {len(hidden_layers)}",
        )
    return tuple(
        check_int_range(f"network.hidden_layers[{i}]", size, "neurons_per_layer")
        for i, size in enumerate(hidden_layers)
    )


def _validate_features(features: Any) -> tuple[str, ...]:
    if isinstance(features, str) or not hasattr(features, "__iter__"):
        raise ConfigError("network.features", "must be a list of feature names")
    names = tuple(features)
    for i, name in enumerate(names):
        check_choice(f"network.features[{i}]", name, FEATURES)
    if not names:
        raise ConfigError("network.features", "switch on at least one input feature")
    if len(set(names)) != len(names):
        raise ConfigError("network.features", "each feature may appear once")
    return tuple(name for name in FEATURES if name in names)


def _validate_activations(activation: Any, n_layers: int) -> tuple[str, ...]:
    if isinstance(activation, str):
        check_choice("network.activation", activation, ACTIVATIONS)
        return (activation,) * n_layers
    if not isinstance(activation, list | tuple):
        raise ConfigError("network.activation", "give one activation name or a list of them")
    names = tuple(activation)
    if len(names) != n_layers:
        raise ConfigError(
            "network.activation", f"give one activation or one per hidden layer ({n_layers})"
        )
    for i, name in enumerate(names):
        check_choice(f"network.activation[{i}]", name, ACTIVATIONS)
    return names


def validate_hyper(hyper: Any, where: str = "hyper") -> Hyperparameters:
    """Return ``hyper`` if every value is in range, else ConfigError naming the field."""
    if not isinstance(hyper, Hyperparameters):
        raise ConfigError(where, f"must be Hyperparameters, got {type(hyper).__name__}")
    for item in fields(Hyperparameters):
        name, value = f"{where}.{item.name}", getattr(hyper, item.name)
        if item.name in HYPER_CHOICES:
            check_choice(name, value, HYPER_CHOICES[item.name])
        elif isinstance(item.default, int):
            check_int_range(name, value)
        else:
            check_finite_range(name, value)
    return hyper
