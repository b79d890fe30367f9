"""Divergence and recovery: which of the K runs are stopped, why, and where each resumes.

A run diverges when its minibatch loss is not finite or above ``LOSS_LIMIT``, or when the
squared norm ‖Δθ‖² of its update is not finite or above ``UPDATE_LIMIT``. A diverged run is
frozen alone (its weights stay as before the step, its optimizer memory is cleared) until
it is resumed; the other runs of a sweep go on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import ConfigError
from .network import Parameters
from .optimizers import Optimizer

Array = NDArray[Any]
#: A minibatch loss above this (or not finite) counts as diverged.
LOSS_LIMIT = 1e6
#: A step whose update has a squared norm above this (or not finite) counts as diverged.
UPDATE_LIMIT = 1e12
LOSS_EXPLODED = "the loss exploded"
UPDATE_EXPLODED = "the update to the weights exploded"


@dataclass(frozen=True)
class Divergence:
    """Run ``run`` diverged at step ``step`` with learning rate ``learning_rate``."""

    run: int
    step: int
    learning_rate: float
    loss: float | None
    reason: str

    @property
    def message(self) -> str:
        return f"diverged at step {self.step} (learning rate {self.learning_rate:g}): {self.reason}"


def over_limit(values: Array, limit: float, frozen: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The runs not yet frozen whose ``values: (K,)`` are not finite or above ``limit``."""
    return ~(values <= limit) & ~frozen


def parse_marks(
    frozen: list[Any], divergences: list[Any], runs: int
) -> tuple[list[bool], list[Divergence | None]]:
    """Saved divergence marks (``snapshot.frozen``, ``snapshot.divergences``) as values
    :meth:`RunGuard.load` takes; ConfigError if they are malformed."""
    if len(frozen) != runs or not all(isinstance(f, bool) for f in frozen):
        raise ConfigError("snapshot.frozen", f"must be {runs} true/false values")
    if len(divergences) != runs:
        raise ConfigError("snapshot.divergences", f"must have {runs} entries")
    try:
        records = [None if d is None else Divergence(**d) for d in divergences]
    except (TypeError, ValueError) as error:
        raise ConfigError("snapshot.divergences", f"is malformed: {error}") from error
    return frozen, records


class RunGuard:
    """The divergence state of the K runs of one :class:`Parameters`.

    ``frozen: (K,)`` marks stopped runs, ``divergences[k]`` records why run k stopped,
    ``recovery[k]: (P,)`` holds the weights run k resumes from when its loss exploded.
    ``any_frozen`` lets the hot path skip the frozen mask while every run is live.
    """

    def __init__(self, params: Parameters) -> None:
        self.params = params
        self.frozen = np.zeros(params.runs, dtype=bool)
        self.any_frozen = False
        self.divergences: list[Divergence | None] = [None] * params.runs
        self.recovery: dict[int, Array] = {}

    @property
    def all_frozen(self) -> bool:
        return self.any_frozen and bool(self.frozen.all())

    def stop(self, bad: NDArray[np.bool_], *, step: int, learning_rates: Array,
             loss: Array | None, reason: str, optimizer: Optimizer) -> None:
        """Freeze runs ``bad`` (diverged at step ``step``; ``loss: (K,)`` the batch loss if
        known) and forget their optimizer memory. A run stopped by its loss, which the last
        update's weights made, will resume from before that update: θ − Δθ."""
        for run in np.flatnonzero(bad):
            value = None if loss is None else float(loss[run])
            self.divergences[run] = Divergence(
                run=int(run), step=step, learning_rate=float(learning_rates[run]),
                loss=value if value is not None and math.isfinite(value) else None,
                reason=reason,
            )
        if loss is not None and reason == LOSS_EXPLODED:
            params = self.params
            for run in np.flatnonzero(bad):
                self.recovery[int(run)] = params.values[run] - params.update[run]
        self.frozen |= bad
        self.any_frozen = True
        optimizer.clear(bad)

    def resume(self, optimizer: Optimizer) -> None:
        """Let every run go on: a run with a recovery point goes back to it, and the stopped
        runs start with empty optimizer memory."""
        for run, weights in self.recovery.items():
            self.params.values[run] = weights
        self.recovery.clear()
        optimizer.clear(self.frozen)
        self.frozen[:] = False
        self.any_frozen = False
        self.divergences = [None] * len(self.frozen)

    def load(self, frozen: list[bool], records: list[Divergence | None]) -> None:
        """Take saved marks, as :func:`parse_marks` returns them."""
        self.frozen[:] = frozen
        self.any_frozen = bool(self.frozen.any())
        self.divergences = records
