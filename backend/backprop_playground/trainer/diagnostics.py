"""Readings about the last step and each run's health (a base of the session).

* :meth:`Diagnostics.step_landscape`: the batch objective along the last update, its slope,
  landing point, valley and verdict (see :mod:`.landscape`);
* :meth:`Diagnostics.step_losses`: the batch objective before and after the last update,
  for every run, and whether the update raised it (overshot);
* :meth:`Diagnostics.saturation` and the statuses (see :mod:`.saturation`).

Cost: none of these run during ``run()``. Checking every step for an overshoot would take
one more forward pass per step (about +60 % of a step at the default net), so they are
computed when read: once per frame, cached until the next step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .batches import EpochOrder
from .divergence import RunGuard
from .inspection import Inspection
from .landscape import SAMPLE_OFFSETS, StepLandscape, StepLosses, describe, raised
from .objective import BatchObjective
from .plans import StepPlan
from .saturation import SATURATED_GRADIENT, Saturation, read_saturation
from .stepping import QUIET
from .sweep import LearningRates

Array = NDArray[Any]
#: The values of ``status`` and ``run_status``.
STATUSES: tuple[str, ...] = ("ok", "saturated", "diverged")


class Diagnostics(Inspection):
    """The readings above for a :class:`TrainingSession` (which sets the attributes)."""

    step_count: int
    given_batch: tuple[list[list[float]], list[float]] | None
    _data: EpochOrder
    _step_plan: StepPlan | None
    _guard: RunGuard
    _rates: LearningRates
    _weights_set_at: int

    def _reset_diagnostics(self) -> None:
        """Start with empty caches (on building the session)."""
        self._objective = BatchObjective(self.model)
        self._read_at = -1  # the step_count the cached readings below describe
        self._landscapes: dict[int, StepLandscape] = {}
        self._losses: StepLosses | None = None
        self._saturated_key: tuple[Any, ...] | None = None
        self._saturated = np.zeros(self.runs, dtype=bool)
        self._weights_set_at = -1

    # ------------------------------------------------------------ the last step
    def step_landscape(self, run: int = 0) -> StepLandscape | None:
        """Run ``run``'s last completed step on the loss landscape of its batch: f(s) along
        its update, see :class:`StepLandscape`. None before any update, for a run whose
        update was dropped (frozen), and when the buffers no longer hold the last step (a
        step in progress, refused, or weights set since) unless it was read before then."""
        run = self._run_index(run)
        self._forget_older_steps()
        landscape = self._landscapes.get(run)
        plan = self._last_step_plan()
        if landscape is None and plan is not None:
            update = self.params.update[run]
            if not np.dot(update, update) > 0.0:
                return None
            after, batch, hyper = self.params.values[run], plan.workspace.batch_columns, plan.hyper

            def evaluate(offsets: Array) -> Array:
                """f at θ₁ + c·Δθ (s = (1 + c)·‖Δθ‖) for each c of ``offsets: (R,)``."""
                return self._objective.line(after, update, offsets, batch, hyper)

            with np.errstate(**QUIET):
                landscape = describe(run, self.step_count, evaluate(SAMPLE_OFFSETS), update,
                                     self.params.grads[run],
                                     float(self._rates.at(self.step_count)[run]), evaluate)
            _read_only(landscape.steps, landscape.losses)
            self._landscapes[run] = landscape
        return landscape

    def step_losses(self) -> StepLosses | None:
        """The batch objective of every run before and after its last update; None when
        :meth:`step_landscape` would be. One forward pass over 2K weight vectors."""
        self._forget_older_steps()
        plan = self._last_step_plan()
        if self._losses is None and plan is not None:
            values, update = self.params.values, self.params.update
            with np.errstate(**QUIET):
                objective = self._objective(np.concatenate([values - update, values]),
                                            plan.workspace.batch_columns, plan.hyper)
            before, after = objective[:self.runs], objective[self.runs:]
            dropped = ~(np.vecdot(update, update) > 0.0)
            before[dropped] = after[dropped] = np.nan
            overshot = raised(before, after)
            _read_only(before, after, overshot)
            self._losses = StepLosses(self.step_count, before, after, overshot)
        return self._losses

    def _forget_older_steps(self) -> None:
        if self._read_at != self.step_count:
            self._read_at = self.step_count
            self._landscapes.clear()
            self._losses = None

    def _last_step_plan(self) -> StepPlan | None:
        """The last completed step's plan while the buffers hold that step: its batch (in
        the plan's workspace), gradient, update and the weights it left."""
        plan = self._step_plan
        if self.phase != "update" or self._weights_set_at == self.step_count:
            return None
        return plan

    # ------------------------------------------------------------- health
    def saturation(self, run: int = 0) -> Saturation | None:
        """Run ``run``'s saturation on the current batch (the activations of its last
        forward phase, the gradient of its last backward phase); None before any step."""
        run = self._run_index(run)
        workspace = self.workspace
        if workspace is None:
            return None
        gradient_known = self.step_count > 0 or self.phase in ("backward", "update")
        norms = self.gradient_norms(run) if gradient_known else np.full(
            len(self.params.weights), np.nan)
        out, head = workspace.output, self.model.head
        with np.errstate(**QUIET):
            loss = float(head.loss(out.z[run:run + 1], out.a[run:run + 1], out.y)[0])
        names = (*self.model.activations, head.output_activation)
        return read_saturation(run, [a[run] for a in workspace.a], names, norms.tolist(), loss,
                               head.classification)

    def run_status(self, run: int = 0) -> str:
        """``"diverged"`` while run ``run`` is stopped by divergence, ``"saturated"`` while
        its units are saturated and its gradient has vanished (it keeps training; lower
        the learning rate or reset), else ``"ok"``. See :data:`STATUSES`."""
        run = self._run_index(run)
        if self._guard.frozen[run]:
            return "diverged"
        return "saturated" if self._saturated_runs()[run] else "ok"

    @property
    def status(self) -> str:
        """The session's: ``"diverged"`` when every run is stopped by divergence,
        ``"saturated"`` when every run still going is saturated, else ``"ok"``. Cheap: a
        gradient norm per run, and the unit scan only for a run whose gradient vanished,
        once per step."""
        guard = self._guard
        if guard.all_frozen:
            return "diverged"
        saturated = self._saturated_runs()
        if not saturated.any():
            return "ok"
        return "saturated" if saturated[~guard.frozen].all() else "ok"

    def _saturated_runs(self) -> NDArray[np.bool_]:
        """``(K,)``: :meth:`saturation`'s verdict per run, cached per batch and phase."""
        # A refused step leaves step_count as it was, but its batch moved the data on.
        key = (self.step_count, self.phase, self._data.points_seen, id(self.given_batch))
        if key != self._saturated_key:
            self._saturated_key = key
            self._saturated[:] = False
            if self.workspace is not None:
                # Saturation leaves the first layer without gradient: check it first.
                first = self.params.grad_weights[0].reshape(self.runs, -1)
                vanished = np.vecdot(first, first) < SATURATED_GRADIENT**2
                for run in np.flatnonzero(vanished & ~self._guard.frozen):
                    reading = self.saturation(int(run))
                    self._saturated[run] = reading is not None and reading.saturated
        return self._saturated


def _read_only(*arrays: Array) -> None:
    """Cached readings are shared: make their arrays read-only."""
    for array in arrays:
        array.flags.writeable = False
