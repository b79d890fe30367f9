"""The objective of one minibatch for a stack of parameter vectors, in few forward passes.

f(θ) = L_batch(θ) + R(θ): the head's mean batch loss plus the regularization penalty (½λΣw²
or λΣ|w|, biases excluded) when one is on: the function whose gradient the backward phase
computes. N vectors ``(N, P)`` are evaluated as N runs on the leading run axis of a
forward-only :class:`Workspace`, so N points on a line cost one pass, not N.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .config import Hyperparameters
from .evaluation import regularization_loss
from .model import Model
from .network import compute_views
from .workspace import Workspace

Array = NDArray[Any]
#: At most this many columns (vectors × batch points) per forward pass: it bounds the
#: buffers (a [16] × 8 net: ~12 MB) while small batches still go in one pass.
COLUMN_BUDGET = 2048
#: Distinct (batch size, vectors per pass) workspaces kept before the cache starts over.
MAX_WORKSPACES = 8


class BatchObjective:
    """Evaluates f for stacks of parameter vectors on a given batch (see the module)."""

    def __init__(self, model: Model) -> None:
        self._model = model
        self._weight_mask = model.layout.weight_mask()
        self._passes: dict[tuple[int, int], tuple[Array, Workspace]] = {}

    def __call__(self, stack: Array, batch_columns: Array, hyper: Hyperparameters) -> Array:
        """f of each row of ``stack: (N, P)`` on the batch ``batch_columns: (F + 1 +
        outputs, B)`` (features with their row of ones over the targets, as a workspace
        holds them), with the penalty ``hyper`` names; returns ``(N,)``. Call it under
        ``np.errstate`` if the vectors may overflow (the result is then inf or NaN)."""

        def fill(rows: Array, start: int) -> None:
            rows[...] = stack[start:start + len(rows)]

        return self._evaluate(len(stack), fill, batch_columns, hyper)

    def line(self, origin: Array, direction: Array, offsets: Array, batch_columns: Array,
             hyper: Hyperparameters) -> Array:
        """f at ``origin + c·direction`` (both ``(P,)``) for each c of ``offsets: (N,)``,
        written straight into the pass's buffer; otherwise as :meth:`__call__`."""

        def fill(rows: Array, start: int) -> None:
            np.multiply.outer(offsets[start:start + len(rows)], direction, out=rows)
            rows += origin

        return self._evaluate(len(offsets), fill, batch_columns, hyper)

    def _evaluate(self, count: int, fill: Callable[[Array, int], None], batch_columns: Array,
                  hyper: Hyperparameters) -> Array:
        """f of ``count`` vectors that ``fill(rows (n, P), start)`` writes, chunk by chunk."""
        batch = batch_columns.shape[1]
        group = max(1, min(count, COLUMN_BUDGET // batch))
        values, workspace = self._pass(batch, group)
        np.copyto(workspace.batch_columns, batch_columns)
        head, out = self._model.head, workspace.output
        penalty = hyper.regularization != "none" and hyper.regularization_rate != 0.0
        result = np.empty(count)
        for start in range(0, count, group):
            size = min(group, count - start)
            fill(values[:size], start)  # rows past ``size`` keep stale, finite values
            workspace.forward()
            chunk = result[start:start + size]
            chunk[...] = head.loss(out.z, out.a, out.y)[:size]
            if penalty:
                chunk += regularization_loss(values[:size], self._weight_mask, hyper)
        return result

    def _pass(self, batch: int, group: int) -> tuple[Array, Workspace]:
        """The ``(group, P)`` parameter buffer and the forward-only workspace reading it."""
        key = (batch, group)
        cached = self._passes.get(key)
        if cached is None:
            if len(self._passes) >= MAX_WORKSPACES:
                self._passes.clear()
            model = self._model
            values = np.zeros((group, model.layout.n_params))
            weights = compute_views(model.layout.views(values))
            cached = values, Workspace(model.layout, model.activations, model.head, batch,
                                       weights)
            self._passes[key] = cached
        return cached
