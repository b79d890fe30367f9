"""The truths behind the class's predictions, read from the trainer after the step ran.

The classroom (``live/questions.py``) asks; this module only reads what really happened:

* did the last update lower the loss of its own batch? ``f(θ₁) < f(θ₀)`` with f the batch
  objective of :meth:`Diagnostics.step_losses` (the head's mean loss over the minibatch
  plus the regularization penalty when one is on — the objective the update descended),
  θ₀ the weights before the update and θ₁ = θ₀ + Δθ after it; a change within rounding
  (10⁻¹² |f₀|, as in :mod:`.landscape`) is no change;
* which way did a parameter move? the sign of its Δw in the update that ran (0: neither);
* which run of a sweep ends lowest? the run with the lowest training loss, diverged runs
  excluded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .landscape import ROUNDING
from .session import TrainingSession

Array = NDArray[Any]


@dataclass(frozen=True)
class LossChange:
    """The batch objective of run ``run``'s last update, before and after it."""

    run: int
    before: float
    after: float

    @property
    def lowered(self) -> bool:
        """``before − after > 10⁻¹² |before|``; False when either is not finite."""
        return (math.isfinite(self.before) and math.isfinite(self.after)
                and self.before - self.after > ROUNDING * abs(self.before))


@dataclass(frozen=True)
class ParameterChange:
    """A weight (``source`` set) or bias of run ``run`` in the last update: Δ and after."""

    change: float
    after: float

    @property
    def direction(self) -> str | None:
        """``"up"`` (Δ > 0), ``"down"`` (Δ < 0), None when it did not move."""
        return "up" if self.change > 0 else "down" if self.change < 0 else None


def loss_change(trainer: TrainingSession, run: int) -> LossChange | None:
    """Run ``run``'s last update on its batch; None when the buffers hold no completed
    update (none yet, or it was refused)."""
    losses = trainer.step_losses()
    if losses is None:
        return None
    return LossChange(run, float(losses.before[run]), float(losses.after[run]))


def parameter_change(trainer: TrainingSession, run: int, layer: int, neuron: int,
                     source: int | None) -> ParameterChange | None:
    """Δ of ``weights[neuron, source]`` (or ``bias[neuron]`` when ``source`` is None) of
    layer ``layer`` in run ``run``'s last update; None before the update phase ran."""
    if trainer.phase != "update":
        return None
    tensors = trainer.tensors(run).layers[layer]
    weights, bias = trainer.get_weights(run)[layer]
    if source is None:
        if tensors.update_bias is None:
            return None
        return ParameterChange(float(tensors.update_bias[neuron]), float(bias[neuron]))
    if tensors.update_weights is None:
        return None
    return ParameterChange(float(tensors.update_weights[neuron, source]),
                           float(weights[neuron, source]))


def lowest_run(losses: Array, frozen: NDArray[np.bool_]) -> int | None:
    """The run with the lowest of ``losses: (K,)`` among those not ``frozen: (K,)``
    (stopped by divergence) and finite; the first of equals; None when no run qualifies."""
    usable = np.isfinite(losses) & ~frozen
    if not usable.any():
        return None
    return int(np.flatnonzero(usable)[np.argmin(losses[usable])])
