"""Metrics over the whole training and test sets: loss, accuracy and the penalty, per run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .config import Hyperparameters
from .model import Model
from .network import Parameters
from .workspace import Workspace

Array = NDArray[Any]


@dataclass(frozen=True)
class Metrics:
    """Loss and accuracy over the whole training and test sets, per run ``(K,)``.

    Accuracies are None for regression. ``regularization_loss`` is the penalty alone
    (½λΣw² or λΣ|w|), not included in the losses."""

    train_loss: Array
    test_loss: Array
    train_accuracy: Array | None
    test_accuracy: Array | None
    regularization_loss: Array


def regularization_loss(values: Array, weight_mask: Array, hyper: Hyperparameters) -> Array:
    """The penalty per run ``(K,)`` of ``values: (K, P)``: ½λΣw² (L2), λΣ|w| (L1) or 0
    (none); ``weight_mask: (P,)`` is 0 on biases, which are never penalized."""
    weights = values * weight_mask
    if hyper.regularization == "l2":
        result: Array = 0.5 * hyper.regularization_rate * (weights * weights).sum(axis=1)
        return result
    if hyper.regularization == "l1":
        result = hyper.regularization_rate * np.abs(weights).sum(axis=1)
        return result
    return np.zeros(len(values))


class Evaluator:
    """Forward passes of every run over the full training and test sets, each in its own
    workspace (built on first use, loaded once: the data never changes)."""

    def __init__(self, model: Model, params: Parameters) -> None:
        self._model, self._params = model, params
        self._workspaces: dict[str, Workspace] = {}

    def metrics(self, hyper: Hyperparameters) -> Metrics:
        """Loss and accuracy on the full training and test sets, for every run."""
        model = self._model
        train_loss, train_accuracy = self._split_metrics(
            "train", model.train_features, model.train_targets)
        test_loss, test_accuracy = self._split_metrics(
            "test", model.test_features, model.test_targets)
        penalty = regularization_loss(self._params.values, model.layout.weight_mask(), hyper)
        return Metrics(train_loss, test_loss, train_accuracy, test_accuracy, penalty)

    def _split_metrics(
        self, name: str, features: Array, targets: Array
    ) -> tuple[Array, Array | None]:
        """Loss ``(K,)`` and accuracy ``(K,)`` (None for regression) on one split; NaN
        losses for an empty split."""
        model = self._model
        if len(features) == 0:
            return np.full(self._params.runs, np.nan), None
        workspace = self._workspace(name, features, targets)
        workspace.forward()
        out = workspace.output
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss = model.head.loss(out.z, out.a, out.y)
        accuracy = None
        if model.head.classification:
            truth = model.dataset.labels[getattr(model.dataset, f"{name}_index")]
            accuracy = (model.head.predictions(out.a) == truth[None, :]).mean(axis=1)
        return loss, accuracy

    def _workspace(self, name: str, features: Array, targets: Array) -> Workspace:
        workspace = self._workspaces.get(name)
        if workspace is None:
            model = self._model
            workspace = Workspace(model.layout, model.activations, model.head, len(features),
                                  self._params.compute_weights)
            workspace.load(features, targets)
            self._workspaces[name] = workspace
        return workspace
