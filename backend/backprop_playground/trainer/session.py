"""The stepwise training session: K runs of one network on one data set.

One minibatch update is split into four observable phases, ``forward`` -> ``loss`` ->
``backward`` -> ``update``. A session holds K ≥ 1 runs that share the initial weights and
the minibatch order and differ only in learning rate (a sweep); every array has the run
axis first. :class:`TrainingSession` is the public face over small parts:

* :mod:`.stepping`: the phases and the fast loop (a base class);
* :mod:`.inspection`: reading weights, tensors, norms, metrics and maps (a base class);
* :mod:`.diagnostics`: the last step on the loss landscape, saturation, status (a base of
  the session, over :mod:`.inspection`);
* :mod:`.plans`: each batch size's workspace with its phases compiled to op lists;
* :mod:`.batches`: the data order, the position in it, epochs;
* :mod:`.divergence`: divergence records, frozen runs, recovery;
* :mod:`.sweep`: the runs' learning rates and their changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .batches import EpochOrder
from .config import Hyperparameters, TrainerConfig
from .diagnostics import Diagnostics
from .divergence import LOSS_EXPLODED, LOSS_LIMIT, UPDATE_LIMIT, Divergence, RunGuard, parse_marks
from .errors import ConfigError
from .evaluation import Evaluator
from .maps import OutputMaps
from .model import build_model
from .network import Parameters
from .optimizers import OPTIMIZER_CLASSES
from .plans import PHASES, StepPlans
from .point_edits import edited_data
from .snapshot_checks import MAX_DATA_CHANGES
from .stepping import Stepping
from .sweep import LearningRates, RateChange, parse_changes, validate_rates
from .validation import validate_config, validate_hyper

__all__ = [
    "LOSS_EXPLODED", "LOSS_LIMIT", "PHASES", "UPDATE_LIMIT", "Divergence", "TrainingSession",
]
Array = NDArray[Any]


class TrainingSession(Stepping, Diagnostics):
    """K runs of one network on one data set, advanced step by step or phase by phase.

    ``learning_rates`` (1..8 values) makes a sweep; by default K = 1 at the config's rate.
    """

    def __init__(
        self, config: TrainerConfig | None = None, learning_rates: Sequence[float] | None = None
    ) -> None:
        self._build(config or TrainerConfig(), learning_rates)

    def _build(self, config: TrainerConfig, learning_rates: Sequence[float] | None) -> None:
        config = validate_config(config)
        rates = validate_rates(learning_rates, config.hyper.learning_rate)
        model, order_generator = build_model(config)
        params = Parameters(model.layout, model.initial, len(rates))
        self.model, self.config, self.params = model, config, params
        self.sweep = learning_rates is not None
        self.optimizer = OPTIMIZER_CLASSES[config.hyper.optimizer](
            params.values.shape, config.hyper
        )
        self._rates = LearningRates(rates)
        self._plans = StepPlans(model, params, config.hyper, self.optimizer, self._rates.negated)
        self._data = EpochOrder(model, order_generator)
        self._guard = RunGuard(params)
        self._evaluator = Evaluator(model, params)
        self._maps = OutputMaps(model, params)
        self._update_norms = np.zeros(len(rates))
        self._single_update = params.update[0] if len(rates) == 1 else None
        self._step_plan = None
        #: The steps from which the data set was edited (see :meth:`edit_points`).
        self.data_changes: list[int] = []
        self._pending = None
        self._pending_rates = None
        self.given_batch = None
        self.step_count = 0
        self.phase = None
        self.workspace = None
        self._reset_diagnostics()

    # ---------------------------------------------------------------- status
    @property
    def hyper(self) -> Hyperparameters:
        return self.config.hyper

    @property
    def learning_rates(self) -> Array:
        """The learning rate of every run ``(K,)``."""
        return self._rates.values

    @property
    def learning_rate_changes(self) -> list[RateChange]:
        """``(step, rates)`` for every change of the learning rates (the first at step 0)."""
        return self._rates.changes

    @property
    def frozen(self) -> NDArray[np.bool_]:
        """``(K,)``: True for each run stopped by divergence."""
        return self._guard.frozen

    @property
    def divergences(self) -> list[Divergence | None]:
        """Per run, why it stopped, or None while it runs."""
        return self._guard.divergences

    @property
    def divergence(self) -> Divergence | None:
        """The first run's divergence record (the only one when K = 1)."""
        return self._guard.divergences[0]

    @property
    def recovery(self) -> dict[int, Array]:
        """Per run stopped by an exploding loss: the weights ``(P,)`` to resume from."""
        return self._guard.recovery

    # ------------------------------------------------------ position in the data
    @property
    def epoch(self) -> int:
        """Completed passes over the training data."""
        return self._data.epoch

    @property
    def points_seen(self) -> int:
        """Training points used so far, over all epochs."""
        return self._data.points_seen

    @property
    def epoch_progress(self) -> float:
        """Passes over the training data, fractional: points seen / training points."""
        return self._data.points_seen / self.model.n_train

    @property
    def batch_index(self) -> NDArray[np.int64] | None:
        """The training points (indices into the training set) of the current minibatch;
        None for a given batch or before the first step."""
        return self._data.batch_index

    @property
    def order(self) -> NDArray[np.int64]:
        """This epoch's order of the training points (indices into the training set)."""
        return self._data.order

    @property
    def cursor(self) -> int:
        """How many points of this epoch's order have been used."""
        return self._data.cursor

    def order_generator_state(self, before_draw: bool = False) -> Mapping[str, Any]:
        """The order generator's state now, or before it drew this epoch's order."""
        return self._data.generator_state(before_draw)

    # ------------------------------------------------------------ rebuilding
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
            validate_rates(learning_rates, config.hyper.learning_rate)
        self._build(config, learning_rates)

    def edit_points(self, add: Sequence[Sequence[float]] = (),
                    erase: Sequence[Sequence[float]] = ()) -> int:
        """Erase the points nearest to ``erase: (E, 2)`` positions and add ``add: (A, 3)``
        rows ``(x1, x2, label)`` as training points (see :mod:`.point_edits`), between two
        steps; the step from which training uses the new data, which is returned.

        The weights, the optimizer's memory, the learning rates, divergence marks and the
        step counter are kept: only the data changes. The epoch in progress ends (the next
        step draws a fresh order over the new training points; completed epochs and points
        seen are kept); recovery checkpoints keep their weights, their reference losses are
        measured again on the new data. Raises ConfigError naming the field, changing
        nothing, mid-step or for a bad edit."""
        if self.phase not in (None, "update"):
            raise ConfigError("type", f"a step is half done: run its {self.next_phase} phase "
                                      "first, then edit the points")
        data = edited_data(self.model.dataset, self.config.data, add, erase)
        config = validate_config(replace(self.config, data=data))
        model, _ = build_model(config)
        self.model, self.config = model, config
        self._data = self._data.rebased(model)
        self._plans = StepPlans(model, self.params, config.hyper, self.optimizer,
                                self._rates.negated)
        self._evaluator = Evaluator(model, self.params)
        self._guard.reference[:] = np.nan
        self.data_changes = [*self.data_changes[-(MAX_DATA_CHANGES - 1):], self.step_count + 1]
        return self.step_count + 1

    # ------------------------------------------------------- live hyperparameters
    def set_hyperparameters(self, **changes: Any) -> int:
        """Change hyperparameters live; they take effect at the next step, whose number is
        returned. Weights are untouched. A learning rate applies to every run and lets a
        diverged run go on if it differs from the rate it diverged at. Raises ConfigError
        (naming the field), changing nothing, if a value is invalid."""
        unknown = sorted(set(changes) - set(Hyperparameters.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"hyper.{unknown[0]}", "is not a hyperparameter")
        base = self._pending or self.config.hyper
        self._pending = validate_hyper(replace(base, **changes))
        if "learning_rate" in changes:
            self._pending_rates = np.full(self.runs, float(changes["learning_rate"]))
        return self._apply_if_between_steps()

    def set_learning_rates(self, learning_rates: Sequence[float]) -> int:
        """Give each run its own learning rate (K values), from the next step on; a frozen
        run resumes only if its rate differs from the one it diverged at."""
        rates = validate_rates(learning_rates, self.config.hyper.learning_rate)
        if len(rates) != self.runs:
            raise ConfigError("learning_rates", f"give {self.runs} learning rates")
        self._pending = replace(self._pending or self.config.hyper, learning_rate=rates[0])
        self._pending_rates = rates
        return self._apply_if_between_steps()

    def resume(self) -> None:
        """Let diverged runs go on at their rates (a new learning rate does this too). A run
        with a recovery point (an exploding loss, or an update exploding on weights whose
        loss was not calm) first goes back to it, its last calm checkpoint (see
        :mod:`.divergence`); every resumed run starts with empty optimizer memory."""
        if self._guard.resume(self.optimizer):
            self._weights_set_at = self.step_count

    def recovery_checkpoint(self) -> tuple[Array, Array]:
        """Copies of the recovery checkpoints ``(K, P)`` and their reference losses ``(K,)``
        (NaN: not measured yet), see :mod:`.divergence`."""
        return self._guard.checkpoint.copy(), self._guard.reference.copy()

    # -------------------------------------------------------- snapshot support
    def restore_position(self, generator: Any, order: list[Any], cursor: Any,
                         points_seen: Any, step: Any, epoch: Any) -> None:
        """Put the session at a saved position in the data (used by ``restore``)."""
        self._data.restore(generator, order, cursor, points_seen, epoch, step=step)
        self.step_count = step

    def restore_history(self, frozen: list[Any], divergences: list[Any],
                        learning_rate_changes: list[Any],
                        data_changes: list[int] | None = None) -> None:
        """Restore divergence marks, learning-rate changes and the steps of point edits
        (used by ``restore``)."""
        marks = parse_marks(frozen, divergences, self.runs)
        changes = parse_changes(learning_rate_changes)
        self._guard.load(*marks)
        self._rates.changes = changes or self._rates.changes
        self.data_changes = list(data_changes or [])

    def restore_checkpoint(self, checkpoint: Array | None, reference: Array | None) -> None:
        """Take saved recovery checkpoints (used by ``restore``); None: start them from the
        current weights."""
        if checkpoint is None or reference is None:
            self._guard.restart(slice(None))
        else:
            self._guard.load_checkpoint(checkpoint, reference)

    def replay_to(self, phase: str, given_batch: Any) -> None:
        """Run the phases of the current step up to ``phase`` (used by ``restore``): at most
        three phases of one step. A step that cannot be in progress (every run is stopped,
        or its weights diverge on the way) is refused with a ConfigError naming
        ``snapshot.phase``: nothing is replayed past it."""
        if phase not in PHASES[:3]:
            raise ConfigError("snapshot.phase", "must be forward, loss, backward or null")
        batch = None
        if given_batch is not None:
            if not (isinstance(given_batch, list | tuple) and len(given_batch) == 2
                    and all(isinstance(part, list | tuple) for part in given_batch)):
                raise ConfigError("snapshot.given_batch", "must be [points, labels]")
            batch = (given_batch[0], given_batch[1])
        try:
            result = self.run_phase("forward", batch)
        except ConfigError as error:
            raise ConfigError("snapshot.given_batch", error.message) from error
        for _ in range(PHASES.index(phase)):  # the phases after forward, each run once
            if result in ("frozen", "diverged"):
                break
            result = self.advance()
        if result in ("frozen", "diverged") or self.phase != phase:
            reason = ("every run is stopped by divergence" if result == "frozen"
                      else "the step diverges on the way")
            raise ConfigError("snapshot.phase", f"no step can be at its {phase} phase: {reason}")
