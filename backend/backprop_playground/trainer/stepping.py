"""The phase machinery: one minibatch update as four observable phases, and the fast loop.

``forward`` (z and a for every layer) -> ``loss`` (loss and the output layer's delta) ->
``backward`` (delta, dL/da, dL/dW, dL/db for every layer, regularization included) ->
``update`` (the optimizer's change Δθ, checked, then applied: θ ← θ + Δθ). Pending
hyperparameter changes take effect when a step begins. Nothing raises out of a step:
divergence is a status (see :mod:`.divergence`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .activations import run_ops
from .batches import EpochOrder, given_batch_rows
from .config import Hyperparameters, TrainerConfig
from .divergence import (
    CHECKPOINT_EVERY,
    LOSS_EXPLODED,
    LOSS_LIMIT,
    UPDATE_EXPLODED,
    UPDATE_LIMIT,
    RunGuard,
    over_limit,
)
from .errors import PhaseOrderError
from .model import Model
from .network import Parameters
from .optimizers import OPTIMIZER_CLASSES, Optimizer
from .plans import PHASES, StepPlan, StepPlans
from .sweep import LearningRates
from .workspace import Workspace

Array = NDArray[Any]
#: Overflow in a diverging run is expected: it is detected and reported, not warned about.
QUIET: Any = {"over": "ignore", "invalid": "ignore", "divide": "ignore", "under": "ignore"}
_CHECKPOINT_MASK = CHECKPOINT_EVERY - 1


class Stepping:
    """Advancing a :class:`TrainingSession` (its base class; the session sets the
    attributes declared here)."""

    config: TrainerConfig
    model: Model
    params: Parameters
    optimizer: Optimizer
    step_count: int
    phase: str | None
    workspace: Workspace | None
    given_batch: tuple[list[list[float]], list[float]] | None
    _plans: StepPlans
    _step_plan: StepPlan | None  # the step in progress
    _data: EpochOrder
    _guard: RunGuard
    _rates: LearningRates
    _pending: Hyperparameters | None
    _pending_rates: Array | None
    _update_norms: Array  # ‖Δθ‖² per run (K,)
    _single_update: Array | None  # with one run: its update row (P,), so nothing is indexed
    _weights_set_at: int  # the step_count at which weights were last set between steps

    @property
    def next_phase(self) -> str:
        """The phase that :meth:`advance` would run."""
        return "forward" if self.phase in (None, "update") else PHASES[PHASES.index(self.phase) + 1]

    def advance(self) -> str:
        """Run the next phase; see :meth:`run_phase`."""
        return self.run_phase(self.next_phase)

    def run_phase(self, phase: str, batch: tuple[Any, Any] | None = None) -> str:
        """Run ``phase``, which must be the next one; ``batch = (points (B, 2), labels (B,))``
        replaces the next minibatch (only with ``forward``). Returns the phase name, or
        ``"diverged"`` when the step stopped on divergence, or ``"frozen"`` when every run is
        stopped by an earlier divergence and nothing ran."""
        if phase != self.next_phase:
            raise PhaseOrderError(f"the next phase is {self.next_phase!r}, not {phase!r}")
        if batch is not None and phase != "forward":
            raise PhaseOrderError("a batch can only be given to the forward phase")
        if phase == "forward" and self._guard.frozen.all():
            return "frozen"
        with np.errstate(**QUIET):
            if phase == "forward":
                run_ops(self._begin_step(batch).workspace.forward_ops)
                self.phase = "forward"
                return "forward"
            plan = self._step_plan
            assert plan is not None
            if phase == "loss":
                run_ops(plan.workspace.loss_ops)
                self.phase = "loss"
                return self._check_loss()
            if phase == "backward":
                run_ops(plan.backward)
                self.phase = "backward"
                return "backward"
            run_ops(plan.update)
            return self._finish_update()

    def step(self, batch: tuple[Any, Any] | None = None) -> str:
        """Finish the step in progress, or run one whole step. Returns the last phase run
        (``"update"``), ``"diverged"`` or ``"frozen"``."""
        if batch is not None and self.phase not in (None, "update"):
            raise PhaseOrderError("a step is in progress; finish it before giving a batch")
        result = self.run_phase("forward", batch) if self.phase in (None, "update") else ""
        while self.phase not in (None, "update") and result not in ("diverged", "frozen"):
            result = self.advance()
        return result

    def run(self, n_steps: int) -> int:
        """Run up to ``n_steps`` whole steps (finishing a step in progress counts as one);
        stop early when every run has diverged. Returns the number of steps completed."""
        done = 0
        if self.phase not in (None, "update"):
            if self.step() != "update":
                return 0
            done = 1
        guard = self._guard
        with np.errstate(**QUIET):
            while done < n_steps and not (guard.any_frozen and guard.frozen.all()):
                plan = self._begin_step(None)
                run_ops(plan.through_loss)
                self.phase = "loss"
                if not plan.workspace.head.bounded and self._check_loss() == "diverged":
                    break
                run_ops(plan.after_loss)
                if self._finish_update() == "diverged":
                    break
                done += 1
        return done

    def run_epochs(self, n_epochs: int) -> int:
        """Run whole steps until ``n_epochs`` more passes over the data are complete."""
        target, done = self._data.epoch + n_epochs, 0
        if self.phase not in (None, "update"):  # finish the step in progress first
            if self.step() != "update":
                return 0
            done = 1
        while self._data.epoch < target and not self._guard.all_frozen:
            steps = self._data.steps_to_epoch_end(self.config.hyper.batch_size)
            ran = self.run(steps)
            done += ran
            if ran < steps:
                break
        return done

    # -------------------------------------------------------------- step boundaries
    def _begin_step(self, batch: tuple[Any, Any] | None) -> StepPlan:
        """Apply pending hyperparameters, load the next minibatch (or ``batch``)."""
        if self._pending is not None:
            self._apply_pending()
        if batch is None:
            columns = self._data.next_batch(self.config.hyper.batch_size)
            plan = self._plans[columns.shape[1]]
            np.copyto(plan.workspace.batch_columns, columns)
        else:
            plan = self._load_given_batch(batch)
        self._step_plan = plan
        plan.workspace.mark_loss_stale()
        self.workspace = plan.workspace
        return plan

    def _load_given_batch(self, batch: tuple[Any, Any]) -> StepPlan:
        """Validate ``batch = (points (B, 2), labels (B,))`` and load it into its plan."""
        features, targets = given_batch_rows(batch, self.config.network, self.model.head)
        self.given_batch = [[float(v) for v in point] for point in batch[0]], [
            float(label) for label in batch[1]]
        plan = self._plans[len(features)]
        plan.workspace.load(features, targets)
        self._data.given_batch()
        return plan

    def _apply_if_between_steps(self) -> int:
        """Apply pending changes now if no step is in progress; the step they apply from."""
        if self.phase in (None, "update"):
            self._apply_pending()
            return self.step_count + 1
        return self.step_count + 2

    def _apply_pending(self) -> None:
        """Take the pending hyperparameters (and per-run learning rates): a new optimizer
        starts with empty memory, the plans are recompiled, and a frozen run given a rate
        other than the one it diverged at resumes (the others stay frozen)."""
        pending, self._pending = self._pending, None
        rates, self._pending_rates = self._pending_rates, None
        if pending is None:
            return
        if pending.optimizer != self.config.hyper.optimizer:
            self.optimizer = OPTIMIZER_CLASSES[pending.optimizer](
                self.params.values.shape, pending
            )
        self.optimizer.set_hyper(pending)
        self.config = replace(self.config, hyper=pending)
        if rates is not None:
            self._rates.change(rates, self.step_count + 1)
        self._plans.recompile(pending, self.optimizer, self._rates.negated)
        if rates is not None and self._guard.wake(rates, self.optimizer):
            self._weights_set_at = self.step_count

    # ------------------------------------------------------------ checks (divergence)
    def _check_loss(self) -> str:
        """Stop runs whose batch loss is not finite or above LOSS_LIMIT; every
        CHECKPOINT_EVERY steps, offer the weights to the recovery checkpoint."""
        assert self.workspace is not None
        loss = self.workspace.loss_value
        worst = loss.max() if len(loss) > 1 else loss[0]
        if not worst <= LOSS_LIMIT:
            bad = over_limit(loss, LOSS_LIMIT, self._guard.frozen)
            if bad.any() and self._diverge(bad, loss, LOSS_EXPLODED):
                return "diverged"
        if not self.step_count & _CHECKPOINT_MASK:
            self._guard.take_checkpoint(loss)
        return "loss"

    def _finish_update(self) -> str:
        """Check the optimizer's update, then apply it: θ ← θ + update."""
        params, norms, guard = self.params, self._update_norms, self._guard
        if self._single_update is not None:
            worst = np.dot(self._single_update, self._single_update)
            norms[0] = worst
        else:
            np.vecdot(params.update, params.update, out=norms)
            worst = norms.max()
        result = "update"
        if not worst <= UPDATE_LIMIT:
            bad = over_limit(norms, UPDATE_LIMIT, guard.frozen)
            loss = self.workspace.loss_value if self.workspace else None
            if self._diverge(bad, loss, UPDATE_EXPLODED):
                result = "diverged"
        if guard.any_frozen:
            params.update[guard.frozen] = 0.0
        if result == "update":
            np.add(params.values, params.update, out=params.values)
            self.step_count += 1
            self.phase = "update"
        self._data.end_step()
        return result

    def _diverge(self, bad: NDArray[np.bool_], loss: Array | None, reason: str) -> bool:
        """Stop runs ``bad`` after the last completed step (this one is refused): their
        weights stay as before this step and their optimizer memory is cleared. An exploding
        loss blames the rate of the update that made those weights, an exploding update
        its own. Returns True when no run is left, which ends the step."""
        blamed = self._rates.values
        if reason == LOSS_EXPLODED and self.step_count > 0:
            blamed = self._rates.at(self.step_count)
        self._guard.stop(bad, step=self.step_count, learning_rates=blamed,
                         loss=loss, reason=reason, optimizer=self.optimizer)
        if not self._guard.frozen.all():
            return False
        self.phase = None
        self._data.end_step()
        return True
