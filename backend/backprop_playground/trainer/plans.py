"""The step plan: each batch size's workspace with the four phases compiled to op lists.

A step runs ``forward`` (z, a per layer), ``loss`` (the loss and the output delta = dL/dz),
``backward`` (delta, dL/da, dL/d[W | b] per layer, plus the penalty's gradient) and
``update`` (the optimizer writes Δθ). A whole step fuses them into two lists: through the
loss, then the rest; the session checks the loss in between unless the head is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .activations import Op
from .config import Hyperparameters
from .model import Model
from .network import Parameters
from .optimizers import Optimizer
from .workspace import Workspace

Array = NDArray[Any]
#: The phases of one step, in order.
PHASES: tuple[str, ...] = ("forward", "loss", "backward", "update")


@dataclass
class StepPlan:
    """A batch size's workspace and its phases compiled to ops, plus the fused sequences:
    ``through_loss`` = forward + loss, ``after_loss`` = backward + update (for a bounded
    head, whose loss needs no check, everything is in ``through_loss``); ``hyper``, the
    hyperparameters compiled in (the step's objective: its penalty)."""

    workspace: Workspace
    backward: list[Op]
    update: list[Op]
    through_loss: list[Op]
    after_loss: list[Op]
    hyper: Hyperparameters


class StepPlans(dict[int, StepPlan]):
    """The step plan of every batch size used so far: ``plans[batch]`` compiles on first use.

    A workspace lives as long as the parameters; a plan is compiled against the current
    hyperparameters, optimizer and −η ``(K, 1)``, so :meth:`recompile` drops every plan
    when one of those changes.
    """

    def __init__(self, model: Model, params: Parameters, hyper: Hyperparameters,
                 optimizer: Optimizer, neg_lr: Array) -> None:
        super().__init__()
        self._model, self._params = model, params
        self._workspaces: dict[int, Workspace] = {}
        self._weight_mask = model.layout.weight_mask()
        self._regularization = np.zeros_like(self._weight_mask)  # λ on weights, 0 on biases
        self._penalty_grad = np.zeros_like(params.values)
        self.recompile(hyper, optimizer, neg_lr)

    def recompile(self, hyper: Hyperparameters, optimizer: Optimizer, neg_lr: Array) -> None:
        """Compile plans from now on with these values (the workspaces are kept)."""
        self.clear()
        self._hyper, self._optimizer, self._neg_lr = hyper, optimizer, neg_lr

    def __missing__(self, batch: int) -> StepPlan:
        workspace = self._workspace(batch)
        backward = workspace.backward_ops + self._regularization_ops()
        update = self._optimizer.ops(self._params.grads, self._neg_lr, self._params.update)
        through_loss = workspace.forward_ops + workspace.loss_ops
        after_loss = backward + update
        if workspace.head.bounded:  # nothing to check between loss and update
            through_loss, after_loss = through_loss + after_loss, []
        plan = StepPlan(workspace, backward, update, through_loss, after_loss, self._hyper)
        self[batch] = plan
        return plan

    def _workspace(self, batch: int) -> Workspace:
        workspace = self._workspaces.get(batch)
        if workspace is None:
            model, params = self._model, self._params
            workspace = Workspace(
                model.layout, model.activations, model.head, batch, params.compute_weights,
                params.compute_weights_no_bias_t, params.compute_grad_weights,
            )
            self._workspaces[batch] = workspace
        return workspace

    def _regularization_ops(self) -> list[Op]:
        """Ops adding the penalty's gradient to dL/dθ: λ·w (L2, penalty ½λw²) or
        λ·sign(w) (L1, penalty λ|w|); biases are not penalized."""
        hyper, values, buffer = self._hyper, self._params.values, self._penalty_grad
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
        return [*ops, (np.add, (self._params.grads, buffer, self._params.grads))]
