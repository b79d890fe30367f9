"""The sweep's runs: one learning rate η_k per run k, and the history of their changes.

K runs share the initial weights and the minibatch order and are stepped together; they
differ only in η. The optimizers read −η as a ``(K, 1)`` column, so one vectorized update
serves every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .config import LIMITS, check_finite_range
from .errors import ConfigError

Array = NDArray[Any]
#: ``(step, rates)``: from step ``step`` on the runs used ``rates``.
RateChange = tuple[int, tuple[float, ...]]


def validate_rates(rates: Sequence[float] | None, default: float) -> Array:
    """The runs' learning rates ``(K,)``: ``rates`` (1..8 values) or else ``[default]``;
    ConfigError naming the first bad value."""
    if rates is None:
        return np.array([check_finite_range("hyper.learning_rate", default)])
    low, high = LIMITS["sweep_runs"]
    if not low <= len(rates) <= high:
        raise ConfigError("learning_rates", f"give {low:g} to {high:g} learning rates")
    return np.array([
        check_finite_range(f"learning_rates[{i}]", rate, "learning_rate")
        for i, rate in enumerate(rates)
    ])


def parse_changes(raw: list[Any]) -> list[RateChange]:
    """Saved ``[[step, [rates...]], ...]`` as rate changes; ConfigError if malformed."""
    try:
        return [(int(step), tuple(float(r) for r in rates)) for step, rates in raw]
    except (TypeError, ValueError) as error:
        message = f"is malformed: {error}"
        raise ConfigError("snapshot.learning_rate_changes", message) from error


class LearningRates:
    """``values: (K,)`` the rates η in use, ``negated: (K, 1)`` = −η as the compiled update
    reads it, and ``changes``, the ``(step, rates)`` marks of the loss chart."""

    def __init__(self, rates: Array) -> None:
        self.values = rates
        self.negated = -rates[:, None]
        self.changes: list[RateChange] = [(0, tuple(float(r) for r in rates))]

    def at(self, step: int) -> Array:
        """The rates ``(K,)`` update number ``step`` (1-based) used, from the change marks;
        the rates in use for a step not taken yet."""
        if step > self.changes[-1][0]:
            return self.values
        rates = self.changes[0][1]
        for start, changed in self.changes:
            if start > step:
                break
            rates = changed
        return np.array(rates)

    def change(self, rates: Array, from_step: int) -> bool:
        """Use ``rates: (K,)`` from step ``from_step`` on; False if they are the same.
        ``negated`` becomes a new array, so update ops compiled before must be rebuilt."""
        if np.array_equal(rates, self.values):
            return False
        self.values = rates
        self.negated = -rates[:, None]
        self.changes.append((from_step, tuple(map(float, rates))))
        return True
