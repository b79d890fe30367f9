"""Divergence and recovery: which of the K runs are stopped, why, and where each resumes.

A run diverges when its minibatch loss is not finite or above ``LOSS_LIMIT``, or when the
squared norm ‖Δθ‖² of its update is not finite or above ``UPDATE_LIMIT``. A diverged run is
frozen alone (its weights stay as they are, its optimizer memory is cleared) until it is
resumed; the other runs of a sweep go on.

Step numbers: ``Divergence.step`` is the run's last completed step, the ``step_count`` the
page shows while the run is frozen ("diverged at step N"); step N + 1 was refused. An
exploding loss at step N + 1 is measured on the weights update N made, so it blames update
N's learning rate; an exploding update blames the rate of the refused update N + 1.

Recovery: every ``CHECKPOINT_EVERY`` steps, a run whose batch loss is *calm* (at most
``CALM_FACTOR`` × its reference loss, the batch loss it had at its first checkpoint after it
started or its weights were set) keeps its weights (those before that step's update) as its
checkpoint. On resuming, a run stopped by an exploding loss, or by an exploding update on
weights whose loss was not calm, goes back to its checkpoint: the weights just before the
explosion are already far out (their loss can be 10⁵ on a data set that started at 1), where
even a much lower rate explodes again or crawls. The step counter and the data order do not
go back.
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
#: Steps between recovery checkpoints (a power of two: the hot path tests ``step & mask``);
#: offering one costs about 1 µs, so 32 keeps it near 0.2 % of a step.
CHECKPOINT_EVERY = 32
#: A batch loss at most this many times the run's reference loss is calm.
CALM_FACTOR = 10.0


@dataclass(frozen=True)
class Divergence:
    """Run ``run`` stopped after completing step ``step`` (step ``step + 1`` was refused);
    ``learning_rate`` is the rate of the update blamed (see the module docstring)."""

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
    ``recovery[k]: (P,)`` holds the weights run k resumes from. ``checkpoint: (K, P)`` and
    ``reference: (K,)`` (NaN until measured) serve the recovery rule of the module docstring.
    ``any_frozen`` lets the hot path skip the frozen mask while every run is live.
    """

    def __init__(self, params: Parameters) -> None:
        self.params = params
        self.frozen = np.zeros(params.runs, dtype=bool)
        self.any_frozen = False
        self.divergences: list[Divergence | None] = [None] * params.runs
        self.recovery: dict[int, Array] = {}
        self.checkpoint = params.values.copy()
        self.reference = np.full(params.runs, np.nan)

    @property
    def all_frozen(self) -> bool:
        return self.any_frozen and bool(self.frozen.all())

    def take_checkpoint(self, loss: Array) -> None:
        """Keep the current weights of every run whose batch loss ``(K,)`` (measured on
        them) is calm; the first loss measured after a (re)start becomes the reference."""
        reference, values = self.reference, self.params.values
        if len(loss) == 1:
            value, known = float(loss[0]), float(reference[0])
            if known != known and value <= LOSS_LIMIT:  # NaN: no reference yet
                reference[0] = known = value
            if value <= CALM_FACTOR * known and value <= LOSS_LIMIT:
                np.copyto(self.checkpoint[0], values[0])
            return
        unset = np.isnan(reference) & (loss <= LOSS_LIMIT)  # never an exploded reference
        reference[unset] = loss[unset]
        calm = (loss <= CALM_FACTOR * reference) & (loss <= LOSS_LIMIT)
        np.copyto(self.checkpoint, values, where=calm[:, None])

    def restart(self, runs: int | slice) -> None:
        """The weights of ``runs`` were set: they are the checkpoint now (and replace a
        pending recovery point), and the next measured loss is the reference."""
        self.checkpoint[runs] = self.params.values[runs]
        self.reference[runs] = np.nan
        for run in range(self.params.runs)[runs] if isinstance(runs, slice) else [runs]:
            self.recovery.pop(run, None)

    def stop(self, bad: NDArray[np.bool_], *, step: int, learning_rates: Array,
             loss: Array | None, reason: str, optimizer: Optimizer) -> None:
        """Freeze runs ``bad`` after completed step ``step`` (``learning_rates: (K,)`` the
        rates blamed, ``loss: (K,)`` the batch loss if known), forget their optimizer memory
        and choose where each resumes (see the module docstring)."""
        for run in np.flatnonzero(bad):
            value = None if loss is None else float(loss[run])
            self.divergences[run] = Divergence(
                run=int(run), step=step, learning_rate=float(learning_rates[run]),
                loss=value if value is not None and math.isfinite(value) else None,
                reason=reason,
            )
            if reason == LOSS_EXPLODED or not self._calm(int(run), value):
                self.recovery[int(run)] = self.checkpoint[run].copy()
        self.frozen |= bad
        self.any_frozen = True
        optimizer.clear(bad)

    def _calm(self, run: int, loss: float | None) -> bool:
        """Whether ``loss`` is calm for ``run``; True when it or the reference is unknown."""
        reference = self.reference[run]
        return loss is None or math.isnan(reference) or loss <= CALM_FACTOR * reference

    def wake(self, rates: Array, optimizer: Optimizer) -> bool:
        """Resume the frozen runs given a learning rate (``rates: (K,)``) other than the one
        they diverged at; the others stay frozen. True if weights were moved."""
        if not self.any_frozen:
            return False
        waking = np.array([
            bool(frozen) and (record is None or float(rate) != record.learning_rate)
            for frozen, record, rate in zip(self.frozen, self.divergences, rates, strict=True)
        ])
        return bool(waking.any()) and self.resume(optimizer, waking)

    def resume(self, optimizer: Optimizer, runs: NDArray[np.bool_] | None = None) -> bool:
        """Let the frozen ``runs`` (default: all) go on: each goes back to its recovery
        point if it has one and starts with empty optimizer memory (a frozen run's memory
        kept integrating gradients while its updates were dropped). True if weights were
        moved."""
        chosen = self.frozen.copy() if runs is None else runs & self.frozen
        moved = False
        for run in np.flatnonzero(chosen):
            weights = self.recovery.pop(int(run), None)
            if weights is not None:
                self.params.values[run] = weights
                moved = True
            self.divergences[run] = None
        optimizer.clear(chosen)
        self.frozen &= ~chosen
        self.any_frozen = bool(self.frozen.any())
        return moved

    def load(self, frozen: list[bool], records: list[Divergence | None]) -> None:
        """Take saved marks, as :func:`parse_marks` returns them."""
        self.frozen[:] = frozen
        self.any_frozen = bool(self.frozen.any())
        self.divergences = records

    def load_checkpoint(self, checkpoint: Array, reference: Array) -> None:
        """Take a saved checkpoint ``(K, P)`` and reference losses ``(K,)`` (NaN: unset)."""
        self.checkpoint[...] = checkpoint
        self.reference[...] = reference
