"""Batches and epochs: the shuffled order of the training points and the position in it.

Every epoch draws a fresh permutation of the n training points from the ``order``
generator and gathers the training columns in that order once, so that a minibatch is one
contiguous slice ``[cursor, cursor + B)``; the last minibatch of an epoch may be smaller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .config import NetworkConfig
from .datasets import validate_points
from .errors import ConfigError
from .features import feature_matrix
from .heads import Head
from .model import Model

Array = NDArray[Any]


class EpochOrder:
    """Where a session is in the training data.

    ``order: (n,)`` this epoch's permutation of the training points, ``cursor`` how many of
    them have been used, ``points_seen`` the total over all epochs, ``epoch`` the completed
    passes. ``columns: (F + 1 + outputs, n)`` holds the training features over the targets,
    in this epoch's order.
    """

    def __init__(self, model: Model, generator: np.random.Generator) -> None:
        self.n_train = model.n_train
        self._generator = generator
        self._train_columns = np.concatenate([model.train_features.T, model.train_targets.T])
        self.columns = np.empty_like(self._train_columns)
        self.order = np.arange(0)
        self.cursor = 0
        self.points_seen = 0
        self.epoch = 0
        self._generator_before_draw: Mapping[str, Any] = generator.bit_generator.state
        self._span: tuple[int, int] | None = None  # this step's slice of the order
        self._ends_epoch = False

    @property
    def batch_index(self) -> NDArray[np.int64] | None:
        """The training points (indices into the training set) of this step's minibatch;
        None for a given batch or before the first step."""
        if self._span is None:
            return None
        return self.order[self._span[0]:self._span[1]]

    def next_batch(self, batch_size: int) -> Array:
        """Move on to the next minibatch of up to ``batch_size`` points (drawing a new order
        at the start of an epoch); its columns ``(F + 1 + outputs, B)``, a view."""
        if self.cursor >= len(self.order):
            self._new_epoch_order()
        start = self.cursor
        stop = min(start + batch_size, self.n_train)
        self.cursor = stop
        self._ends_epoch = stop >= self.n_train
        self.points_seen += stop - start
        self._span = (start, stop)
        return self.columns[:, start:stop]

    def given_batch(self) -> None:
        """This step trains on a given batch: the position in the data does not move."""
        self._span = None
        self._ends_epoch = False

    def end_step(self) -> None:
        """The step is over: count the epoch if its minibatch was the epoch's last."""
        if self._ends_epoch:
            self.epoch += 1
            self._ends_epoch = False

    def steps_to_epoch_end(self, batch_size: int) -> int:
        """How many minibatches of ``batch_size`` finish the epoch in progress (a whole
        epoch's worth when the next step starts one)."""
        left = self.n_train - self.cursor if self.cursor < len(self.order) else self.n_train
        return -(-left // min(batch_size, self.n_train))

    def rebased(self, model: Model) -> EpochOrder:
        """The position over ``model``'s new training data (after a point edit): the same
        order generator, points seen and completed epochs; the epoch in progress ends here,
        so the next step draws a fresh order over the new training points."""
        moved = EpochOrder(model, self._generator)
        moved.points_seen, moved.epoch = self.points_seen, self.epoch
        return moved

    def generator_state(self, before_draw: bool = False) -> Mapping[str, Any]:
        """The order generator's state now, or before it drew this epoch's order."""
        return self._generator_before_draw if before_draw else self._generator.bit_generator.state

    def restore(self, generator: Any, order: list[Any], cursor: Any, points_seen: Any,
                epoch: Any, step: Any) -> None:
        """Go to a saved position; ``step`` is the session's, checked with the other counts.
        ConfigError (``snapshot.…``) if the position is malformed."""
        try:
            self._generator.bit_generator.state = generator
        except (TypeError, ValueError, KeyError) as error:
            message = f"is not a valid generator state: {error}"
            raise ConfigError("snapshot.order_generator", message) from error
        if order and sorted(order) != list(range(self.n_train)):
            raise ConfigError("snapshot.order", f"must be a permutation of 0..{self.n_train - 1}")
        for name, value in (("cursor", cursor), ("points_seen", points_seen), ("step", step),
                            ("epoch", epoch)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"snapshot.{name}", "must be a whole number ≥ 0")
        if cursor > len(order):
            raise ConfigError("snapshot.cursor", "is past the end of the order")
        self.order = np.asarray(order, dtype=np.int64)
        self.cursor = cursor
        if len(order):
            np.take(self._train_columns, self.order, axis=1, out=self.columns)
        self.points_seen, self.epoch = points_seen, epoch

    def _new_epoch_order(self) -> None:
        """Draw the next epoch's order and gather the training data in it, once per epoch."""
        self._generator_before_draw = self._generator.bit_generator.state
        self.order = self._generator.permutation(self.n_train)
        self.cursor = 0
        np.take(self._train_columns, self.order, axis=1, out=self.columns)


def given_batch_rows(batch: tuple[Any, Any], network: NetworkConfig,
                     head: Head) -> tuple[Array, Array]:
    """Validate ``batch = (points (B, 2), labels (B,))``; return its feature rows
    ``(B, F + 1)`` and target rows ``(B, outputs)``."""
    points, labels = batch
    if len(points) != len(labels):
        raise ConfigError("batch", "give as many labels as points")
    rows = [(*point, label) for point, label in zip(points, labels, strict=True)]
    assert network.problem is not None
    points_array, labels_array = validate_points(rows, network.problem, network.n_classes, "batch")
    features = feature_matrix(points_array, network.features)
    return features, head.targets(labels_array, network.n_classes)
