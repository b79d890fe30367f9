"""The stepwise training session: one minibatch update split into four observable phases.

``forward`` (z and a for every layer) -> ``loss`` (loss and the output layer's delta) ->
``backward`` (delta, dL/da, dL/dW, dL/db for every layer, regularization included) ->
``update`` (the optimizer's change, applied). A session holds K ≥ 1 runs that share the
initial weights and the minibatch order and differ only in learning rate (a sweep); every
array has the run axis first. Nothing raises out of a step: divergence is a status.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .activations import Op, run_ops
from .config import LIMITS, Hyperparameters, TrainerConfig, check_finite_range
from .datasets import validate_points
from .errors import ConfigError, PhaseOrderError
from .features import feature_matrix
from .inspection import Inspection
from .model import Model, build_model
from .network import Parameters
from .optimizers import OPTIMIZER_CLASSES, Optimizer
from .validation import validate_config, validate_hyper
from .workspace import Workspace

Array = NDArray[Any]
PHASES: tuple[str, ...] = ("forward", "loss", "backward", "update")
#: A minibatch loss above this (or not finite) counts as diverged.
LOSS_LIMIT = 1e6
#: A step whose update has a squared norm above this (or not finite) counts as diverged.
UPDATE_LIMIT = 1e12
LOSS_EXPLODED = "the loss exploded"
_QUIET: Any = {"over": "ignore", "invalid": "ignore", "divide": "ignore", "under": "ignore"}


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


@dataclass
class _Plan:
    """A batch size's workspace and its phases compiled to ops, plus the fused sequences."""

    workspace: Workspace
    backward: list[Op]
    update: list[Op]
    through_loss: list[Op]
    after_loss: list[Op]


class TrainingSession(Inspection):
    """K runs of one network on one data set, advanced step by step or phase by phase.

    ``learning_rates`` (1..8 values) makes a sweep; by default K = 1 at the config's rate.
    """

    def __init__(
        self, config: TrainerConfig | None = None, learning_rates: Sequence[float] | None = None
    ) -> None:
        self._build(config or TrainerConfig(), learning_rates)

    # ----------------------------------------------------------------- building
    def _build(self, config: TrainerConfig, learning_rates: Sequence[float] | None) -> None:
        config = validate_config(config)
        rates = _validate_rates(learning_rates, config.hyper.learning_rate)
        model, self._order_rng = build_model(config)
        self.model: Model = model
        self.config: TrainerConfig = config
        self.sweep = learning_rates is not None
        self.params = Parameters(model.layout, model.initial, len(rates))
        self.learning_rates = rates
        self._neg_lr = -rates[:, None]
        self.optimizer: Optimizer = OPTIMIZER_CLASSES[config.hyper.optimizer](
            self.params.values.shape, config.hyper
        )
        self._weight_mask = model.layout.weight_mask()
        self._regularization = np.zeros_like(self._weight_mask)  # λ on weights, 0 on biases
        self._reg_buffer = np.zeros_like(self.params.values)
        self._update_norms = np.zeros(len(rates))
        # One run: its update row as a 1-D view, so the hot path indexes nothing per step.
        self._single_update = self.params.update[0] if len(rates) == 1 else None
        self._workspaces: dict[int, Workspace] = {}
        self._plans: dict[int, _Plan] = {}
        self._evaluation_workspaces: dict[str, Workspace] = {}
        self._grid_workspaces: dict[int, Workspace] = {}
        self._grid_weights = [  # one run's weights in float32 for the output maps
            np.zeros(block.shape[1:], dtype=np.float32) for block in self.params.weights
        ]
        self._train_columns = np.concatenate([model.train_features.T, model.train_targets.T])
        self._epoch_columns = np.empty_like(self._train_columns)
        self._order = np.arange(0)
        self._cursor = 0
        self._generator_before_draw: Mapping[str, Any] = self._order_rng.bit_generator.state
        self.given_batch: tuple[list[list[float]], list[float]] | None = None
        self.step_count = 0
        self.epoch = 0
        self.points_seen = 0
        self.phase: str | None = None
        self.workspace: Workspace | None = None
        self._batch_span: tuple[int, int] | None = None  # this step's slice of the order
        self._ends_epoch = False
        self._pending: Hyperparameters | None = None
        self._pending_rates: Array | None = None
        self.divergences: list[Divergence | None] = [None] * len(rates)
        self.frozen = np.zeros(len(rates), dtype=bool)
        self._any_frozen = False
        #: Per run stopped by an exploding loss: the weights to resume from.
        self.recovery: dict[int, Array] = {}
        self.learning_rate_changes: list[tuple[int, tuple[float, ...]]] = [
            (0, tuple(float(r) for r in rates))
        ]

    @property
    def hyper(self) -> Hyperparameters:
        return self.config.hyper

    @property
    def status(self) -> str:
        """``"diverged"`` when every run is stopped by divergence, else ``"ok"``."""
        return "diverged" if self.frozen.all() else "ok"

    @property
    def divergence(self) -> Divergence | None:
        """The first run's divergence record (the only one when K = 1)."""
        return self.divergences[0]

    @property
    def batch_index(self) -> NDArray[np.int64] | None:
        """The training points (indices into the training set) of the current minibatch;
        None for a given batch or before the first step."""
        if self._batch_span is None:
            return None
        return self._order[self._batch_span[0]:self._batch_span[1]]

    @property
    def epoch_progress(self) -> float:
        """Passes over the training data, fractional: points seen / training points."""
        return self.points_seen / self.model.n_train

    def reset(self) -> None:
        """Rebuild from the same config and seed: the same initial weights and data order."""
        self._build(self.config, list(self.learning_rates) if self.sweep else None)

    def configure(
        self, config: TrainerConfig, learning_rates: Sequence[float] | None = None
    ) -> None:
        """Rebuild with a new config (architecture, features, data, seed, ...); a sweep keeps
        its learning rates unless new ones are given. On a ConfigError nothing changes."""
        validate_config(config)
        if learning_rates is None and self.sweep:
            learning_rates = [float(rate) for rate in self.learning_rates]
        if learning_rates is not None:
            _validate_rates(learning_rates, config.hyper.learning_rate)
        self._build(config, learning_rates)

    # ------------------------------------------------------- live hyperparameters
    def set_hyperparameters(self, **changes: Any) -> int:
        """Change hyperparameters live; they take effect at the next step, whose number is
        returned. Weights are untouched. A new learning rate applies to every run and lets
        diverged runs go on. Raises ConfigError (naming the field), changing nothing, if a
        value is invalid."""
        unknown = sorted(set(changes) - set(Hyperparameters.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"hyper.{unknown[0]}", "is not a hyperparameter")
        base = self._pending or self.config.hyper
        self._pending = validate_hyper(replace(base, **changes))
        if "learning_rate" in changes:
            self._pending_rates = np.full(self.runs, float(changes["learning_rate"]))
        return self._apply_if_between_steps()

    def set_learning_rates(self, learning_rates: Sequence[float]) -> int:
        """Give each run its own learning rate (K values), from the next step on."""
        rates = _validate_rates(learning_rates, self.config.hyper.learning_rate)
        if len(rates) != self.runs:
            raise ConfigError("learning_rates", f"give {self.runs} learning rates")
        self._pending = replace(self._pending or self.config.hyper, learning_rate=rates[0])
        self._pending_rates = rates
        return self._apply_if_between_steps()

    def resume(self) -> None:
        """Let diverged runs go on (a learning-rate change does this too). A run stopped by an
        exploding loss first goes back to its weights before the update that caused it (the
        last weights whose loss was sane); every resumed run starts with empty optimizer
        memory."""
        for run, weights in self.recovery.items():
            self.params.values[run] = weights
        self.recovery.clear()
        self.optimizer.clear(self.frozen)
        self.frozen[:] = False
        self._any_frozen = False
        self.divergences = [None] * self.runs

    def _apply_if_between_steps(self) -> int:
        """Apply pending changes now if no step is in progress; the step they apply from."""
        if self.phase in (None, "update"):
            self._apply_pending()
            return self.step_count + 1
        return self.step_count + 2

    def _apply_pending(self) -> None:
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
        self._plans.clear()
        if rates is not None and not np.array_equal(rates, self.learning_rates):
            self.learning_rates = rates
            self._neg_lr = -rates[:, None]
            self.learning_rate_changes.append((self.step_count + 1, tuple(map(float, rates))))
            self.resume()

    # ------------------------------------------------------------------ phases
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
        if phase == "forward" and self.frozen.all():
            return "frozen"
        with np.errstate(**_QUIET):
            if phase == "forward":
                run_ops(self._begin_step(batch).workspace.forward_ops)
                self.phase = "forward"
                return "forward"
            plan = self._plans[self._batch_size]
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
        with np.errstate(**_QUIET):
            while done < n_steps and not (self._any_frozen and self.frozen.all()):
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
        target, done = self.epoch + n_epochs, 0
        if self.phase not in (None, "update"):  # finish the step in progress first
            if self.step() != "update":
                return 0
            done = 1
        while self.epoch < target and not self._all_frozen():
            in_epoch = self._cursor < len(self._order)
            left = self.model.n_train - self._cursor if in_epoch else self.model.n_train
            steps = -(-left // min(self.config.hyper.batch_size, self.model.n_train))
            ran = self.run(steps)
            done += ran
            if ran < steps:
                break
        return done

    def _all_frozen(self) -> bool:
        return self._any_frozen and bool(self.frozen.all())

    # -------------------------------------------------------- snapshot support
    @property
    def order(self) -> NDArray[np.int64]:
        """This epoch's order of the training points (indices into the training set)."""
        return self._order

    @property
    def cursor(self) -> int:
        """How many points of this epoch's order have been used."""
        return self._cursor

    def order_generator_state(self, before_draw: bool = False) -> Mapping[str, Any]:
        """The order generator's state now, or before it drew this epoch's order."""
        return self._generator_before_draw if before_draw else self._order_rng.bit_generator.state

    def restore_position(self, generator: Any, order: list[Any], cursor: Any,
                         points_seen: Any, step: Any, epoch: Any) -> None:
        """Put the session at a saved position in the data (used by ``restore``)."""
        try:
            self._order_rng.bit_generator.state = generator
        except (TypeError, ValueError, KeyError) as error:
            message = f"is not a valid generator state: {error}"
            raise ConfigError("snapshot.order_generator", message) from error
        n_train = self.model.n_train
        if order and sorted(order) != list(range(n_train)):
            raise ConfigError("snapshot.order", f"must be a permutation of 0..{n_train - 1}")
        for name, value in (("cursor", cursor), ("points_seen", points_seen), ("step", step),
                            ("epoch", epoch)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"snapshot.{name}", "must be a whole number ≥ 0")
        if cursor > len(order):
            raise ConfigError("snapshot.cursor", "is past the end of the order")
        self._order = np.asarray(order, dtype=np.int64)
        self._cursor = cursor
        if len(order):
            np.take(self._train_columns, self._order, axis=1, out=self._epoch_columns)
        self.points_seen, self.step_count, self.epoch = points_seen, step, epoch

    def restore_history(self, frozen: list[Any], divergences: list[Any],
                        learning_rate_changes: list[Any]) -> None:
        """Restore divergence marks and learning-rate changes (used by ``restore``)."""
        if len(frozen) != self.runs or not all(isinstance(f, bool) for f in frozen):
            raise ConfigError("snapshot.frozen", f"must be {self.runs} true/false values")
        if len(divergences) != self.runs:
            raise ConfigError("snapshot.divergences", f"must have {self.runs} entries")
        try:
            records = [None if d is None else Divergence(**d) for d in divergences]
        except (TypeError, ValueError) as error:
            raise ConfigError("snapshot.divergences", f"is malformed: {error}") from error
        try:
            changes = [(int(step), tuple(float(r) for r in rates))
                       for step, rates in learning_rate_changes]
        except (TypeError, ValueError) as error:
            message = f"is malformed: {error}"
            raise ConfigError("snapshot.learning_rate_changes", message) from error
        self.frozen[:] = frozen
        self._any_frozen = bool(self.frozen.any())
        self.divergences = records
        self.learning_rate_changes = changes or self.learning_rate_changes

    def replay_to(self, phase: str, given_batch: Any) -> None:
        """Run the phases of the current step up to ``phase`` (used by ``restore``)."""
        if phase not in PHASES[:3]:
            raise ConfigError("snapshot.phase", "must be forward, loss, backward or null")
        batch = None
        if given_batch is not None:
            if not (isinstance(given_batch, list | tuple) and len(given_batch) == 2
                    and all(isinstance(part, list | tuple) for part in given_batch)):
                raise ConfigError("snapshot.given_batch", "must be [points, labels]")
            batch = (given_batch[0], given_batch[1])
        try:
            self.run_phase("forward", batch)
        except ConfigError as error:
            raise ConfigError("snapshot.given_batch", error.message) from error
        while self.phase != phase:
            self.advance()

    # ------------------------------------------------------------ step internals
    def _plan(self, batch: int) -> _Plan:
        """The compiled phases for ``batch`` points (recompiled after hyperparameter changes)."""
        plan = self._plans.get(batch)
        if plan is None:
            workspace = self._workspaces.get(batch)
            if workspace is None:
                model, params = self.model, self.params
                workspace = Workspace(
                    model.layout, model.activations, model.head, batch, params.compute_weights,
                    params.compute_weights_no_bias_t, params.compute_grad_weights,
                )
                self._workspaces[batch] = workspace
            backward = workspace.backward_ops + self._regularization_ops()
            update = self.optimizer.ops(self.params.grads, self._neg_lr, self.params.update)
            through_loss = workspace.forward_ops + workspace.loss_ops
            after_loss = backward + update
            if workspace.head.bounded:  # nothing to check between loss and update
                through_loss, after_loss = through_loss + after_loss, []
            plan = _Plan(workspace, backward, update, through_loss, after_loss)
            self._plans[batch] = plan
        return plan

    def _regularization_ops(self) -> list[Op]:
        """Ops adding the penalty's gradient to dL/dθ: λ·w (L2, penalty ½λw²) or
        λ·sign(w) (L1, penalty λ|w|); biases are not penalized."""
        hyper, values, buffer = self.config.hyper, self.params.values, self._reg_buffer
        if hyper.regularization == "none" or hyper.regularization_rate == 0.0:
            return []
        np.multiply(self._weight_mask, hyper.regularization_rate, out=self._regularization)
        first: Op = (
            (np.multiply, (values, self._regularization, buffer)) if hyper.regularization == "l2"
            else (np.sign, (values, buffer))
        )
        ops = [first]
        if hyper.regularization == "l1":
            ops.append((np.multiply, (buffer, self._regularization, buffer)))
        return [*ops, (np.add, (self.params.grads, buffer, self.params.grads))]

    def _begin_step(self, batch: tuple[Any, Any] | None) -> _Plan:
        """Apply pending hyperparameters, load the next minibatch (or ``batch``)."""
        if self._pending is not None:
            self._apply_pending()
        model = self.model
        if batch is not None:
            features, targets = self._given_batch(batch)
            self.given_batch = [[float(v) for v in point] for point in batch[0]], [
                float(label) for label in batch[1]]
            plan = self._plan(len(features))
            plan.workspace.load(features, targets)
            self._batch_span = None
            self._ends_epoch = False
        else:
            if self._cursor >= len(self._order):
                self._new_epoch_order()
            start = self._cursor
            stop = min(start + self.config.hyper.batch_size, model.n_train)
            plan = self._plans.get(stop - start) or self._plan(stop - start)
            np.copyto(plan.workspace.batch_columns, self._epoch_columns[:, start:stop])
            self._cursor = stop
            self._ends_epoch = stop >= model.n_train
            self.points_seen += stop - start
            self._batch_span = (start, stop)
        self._batch_size = plan.workspace.batch
        plan.workspace.mark_loss_stale()
        self.workspace = plan.workspace
        return plan

    def _new_epoch_order(self) -> None:
        """Draw the next epoch's order and gather the training data in it, once per epoch."""
        self._generator_before_draw = self._order_rng.bit_generator.state
        self._order = self._order_rng.permutation(self.model.n_train)
        self._cursor = 0
        np.take(self._train_columns, self._order, axis=1, out=self._epoch_columns)

    def _check_loss(self) -> str:
        """Stop runs whose batch loss is not finite or above LOSS_LIMIT."""
        assert self.workspace is not None
        loss = self.workspace.loss_value
        worst = loss.max() if self.runs > 1 else loss[0]
        if not worst <= LOSS_LIMIT:
            bad = ~(loss <= LOSS_LIMIT) & ~self.frozen
            if bad.any() and self._diverge(bad, loss, LOSS_EXPLODED):
                return "diverged"
        return "loss"

    def _finish_update(self) -> str:
        """Check the optimizer's update, then apply it: θ ← θ + update."""
        params, norms = self.params, self._update_norms
        if self._single_update is not None:
            worst = np.dot(self._single_update, self._single_update)
            norms[0] = worst
        else:
            np.vecdot(params.update, params.update, out=norms)
            worst = norms.max()
        result = "update"
        if not worst <= UPDATE_LIMIT:
            bad = ~(norms <= UPDATE_LIMIT) & ~self.frozen
            loss = self.workspace.loss_value if self.workspace else None
            if self._diverge(bad, loss, "the update to the weights exploded"):
                result = "diverged"
        if self._any_frozen:
            params.update[self.frozen] = 0.0
        if result == "update":
            np.add(params.values, params.update, out=params.values)
            self.step_count += 1
            self.phase = "update"
        if self._ends_epoch:
            self.epoch += 1
            self._ends_epoch = False
        return result

    def _diverge(self, bad: NDArray[np.bool_], loss: Array | None, reason: str) -> bool:
        """Stop runs ``bad``: their weights stay as before this step and their optimizer
        memory is cleared. Returns True when no run is left, which ends the step."""
        for run in np.flatnonzero(bad):
            value = None if loss is None else float(loss[run])
            self.divergences[run] = Divergence(
                run=int(run), step=self.step_count + 1,
                learning_rate=float(self.learning_rates[run]),
                loss=value if value is not None and math.isfinite(value) else None,
                reason=reason,
            )
        if loss is not None and reason == LOSS_EXPLODED:
            for run in np.flatnonzero(bad):  # where to resume from: before the last update
                self.recovery[int(run)] = self.params.values[run] - self.params.update[run]
        self.frozen |= bad
        self._any_frozen = True
        self.optimizer.clear(bad)
        if not self.frozen.all():
            return False
        self.phase = None
        if self._ends_epoch:
            self.epoch += 1
            self._ends_epoch = False
        return True

    def _given_batch(self, batch: tuple[Any, Any]) -> tuple[Array, Array]:
        """Validate ``(points (B, 2), labels (B,))``; return feature and target rows."""
        points, labels = batch
        net = self.config.network
        if len(points) != len(labels):
            raise ConfigError("batch", "give as many labels as points")
        rows = [(*point, label) for point, label in zip(points, labels, strict=True)]
        assert net.problem is not None
        points_array, labels_array = validate_points(rows, net.problem, net.n_classes, "batch")
        features = feature_matrix(points_array, net.features)
        return features, self.model.head.targets(labels_array, net.n_classes)


def _validate_rates(rates: Sequence[float] | None, default: float) -> Array:
    if rates is None:
        return np.array([check_finite_range("hyper.learning_rate", default)])
    low, high = LIMITS["sweep_runs"]
    if not low <= len(rates) <= high:
        raise ConfigError("learning_rates", f"give {low:g} to {high:g} learning rates")
    return np.array([
        check_finite_range(f"learning_rates[{i}]", rate, "learning_rate")
        for i, rate in enumerate(rates)
    ])
