"""Trainer configuration: frozen dataclasses, their limits, and validation.

Every invalid value raises :class:`ConfigError` naming the dotted field path. Validation is
plain Python (the trainer imports nothing but NumPy and the standard library); the web layer
mirrors these limits in its own models and reads them from :data:`LIMITS`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import ConfigError

FEATURES: tuple[str, ...] = (
    "x1", "x2", "x1_squared", "x2_squared", "x1_times_x2", "sin_x1", "sin_x2", "cos_x1", "cos_x2",
)
ACTIVATIONS: tuple[str, ...] = ("tanh", "relu", "leaky_relu", "sigmoid", "linear")
PROBLEMS: tuple[str, ...] = ("binary", "multiclass", "regression")
#: loss name -> the problem it serves. The output activation follows from the loss.
LOSSES: dict[str, str] = {
    "bce": "binary",            # sigmoid output + binary cross-entropy
    "squared_error": "binary",  # tanh output + squared error (TensorFlow Playground's choice)
    "cross_entropy": "multiclass",  # softmax output + cross-entropy
    "mse": "regression",        # linear output + squared error
}
DEFAULT_LOSS: dict[str, str] = {"binary": "bce", "multiclass": "cross_entropy", "regression": "mse"}
OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "adam")
REGULARIZATIONS: tuple[str, ...] = ("none", "l1", "l2")
#: Each regularization's penalty added to the loss and its term added to dL/dw (weights
#: only: biases are never penalized), λ = regularization_rate.
REGULARIZATION_FORMULAS: dict[str, tuple[str, str]] = {
    "none": ("0", "0"),
    "l1": ("λ · Σ|w|", "λ · sign(w)"),
    "l2": ("½λ · Σw²", "λ · w"),
}

#: Numeric limits, inclusive. The server reports these so the page builds its controls.
LIMITS: dict[str, tuple[float, float]] = {
    "hidden_layers": (0, 8),
    "neurons_per_layer": (1, 16),
    "n_classes": (2, 8),
    "n_points": (10, 2000),
    "custom_points": (1, 2000),
    "noise": (0.0, 0.5),
    "train_fraction": (0.1, 0.9),
    "coordinate": (-6.0, 6.0),
    "regression_target": (-10.0, 10.0),
    "learning_rate": (1e-5, 10.0),
    "regularization_rate": (0.0, 10.0),
    "batch_size": (1, 2000),
    "momentum": (0.0, 0.999),
    "beta1": (0.0, 0.999),
    "beta2": (0.0, 0.99999),
    "epsilon": (1e-12, 1.0),
    "seed": (0, 2**32 - 1),
    "sweep_runs": (1, 8),
    #: A weight or bias typed into the inspector.
    "parameter": (-100.0, 100.0),
}


@dataclass(frozen=True)
class NetworkConfig:
    """The model: features in, hidden layers, activation(s), problem and loss.

    ``activation`` is one name for every hidden layer or one name per hidden layer.
    ``problem`` and ``loss`` default from the dataset; ``n_classes`` matters for multiclass.
    """

    hidden_layers: tuple[int, ...] = (4, 2)
    features: tuple[str, ...] = ("x1", "x2")
    activation: str | tuple[str, ...] = "tanh"
    problem: str | None = None
    loss: str | None = None
    n_classes: int = 3


@dataclass(frozen=True)
class DataConfig:
    """The data set: a named generator or the user's own points ``(x1, x2, label)``.

    For ``custom`` data, ``points`` are split into training and test points by
    ``train_fraction`` (seeded); when ``test_points`` is given (a point edit writes it, see
    :mod:`.point_edits`) the split is exact instead: ``points`` are the training points and
    ``test_points`` the test points.
    """

    dataset: str = "circle"
    n_points: int = 500
    noise: float = 0.0
    train_fraction: float = 0.5
    points: tuple[tuple[float, float, float], ...] | None = None
    test_points: tuple[tuple[float, float, float], ...] | None = None


@dataclass(frozen=True)
class Hyperparameters:
    """Settings that change live, without touching the weights."""

    learning_rate: float = 0.03
    batch_size: int = 10
    optimizer: str = "sgd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    regularization: str = "none"
    regularization_rate: float = 0.0


#: The hyperparameters that are a choice among names; every other one is a number within
#: ``LIMITS[name]`` (whole if its default is an int).
HYPER_CHOICES: dict[str, tuple[str, ...]] = {
    "optimizer": OPTIMIZERS, "regularization": REGULARIZATIONS,
}


@dataclass(frozen=True)
class TrainerConfig:
    """Everything that defines a run. Same config, same seed, same calls: same run, bit for bit."""

    network: NetworkConfig = field(default_factory=NetworkConfig)
    data: DataConfig = field(default_factory=DataConfig)
    hyper: Hyperparameters = field(default_factory=Hyperparameters)
    seed: int = 0

    def with_hyper(self, **changes: Any) -> TrainerConfig:
        """A copy with some hyperparameters replaced (validated by the caller)."""
        return replace(self, hyper=replace(self.hyper, **changes))


def as_float(value: Any) -> float:
    """``float(value)``, with integers too large for a float as infinity (not an error)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def check_finite_range(name: str, value: Any, key: str | None = None) -> float:
    """``value`` as a float inside ``LIMITS[key or last part of name]``, else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(name, f"must be a number, got {type(value).__name__}")
    number = as_float(value)
    if not math.isfinite(number):
        raise ConfigError(name, f"must be a finite number, got {value!r}")
    low, high = LIMITS[key or name.rsplit(".", 1)[-1]]
    if not low <= number <= high:
        raise ConfigError(name, f"must be between {low:g} and {high:g}, got {value!r}")
    return number


def check_int_range(name: str, value: Any, key: str | None = None) -> int:
    """``value`` as an int inside ``LIMITS[key or last part of name]``, else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(name, f"must be a whole number, got {value!r}")
    check_finite_range(name, value, key)
    return value


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, else ConfigError listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(name, f"unknown value {value!r}; choose one of {', '.join(choices)}")
    return value
