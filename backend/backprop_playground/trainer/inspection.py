"""Reading a session: weights, the current step's tensors, norms, metrics and output maps.

Public arrays use the math orientation a reader expects: ``weights: (n_out, n_in)`` with
``weights[j, i]`` the weight from input i to neuron j, ``bias: (n_out,)``, per-point
tensors ``(batch, neurons)``. Everything returned is a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .errors import ConfigError
from .features import feature_matrix
from .workspace import Workspace

if TYPE_CHECKING:
    from .config import TrainerConfig
    from .model import Model
    from .network import Parameters

Array = NDArray[Any]
PLANE = 6.0  # output maps cover [−6, 6]²


@dataclass(frozen=True)
class LayerTensors:
    """One layer's tensors for the current step of one run; None until its phase has run.

    ``z, a: (B, n)`` after ``forward``; ``grad_a`` = dL/da and ``delta`` = dL/dz ``(B, n)``
    after ``backward`` (the output layer's after ``loss``); ``grad_weights: (n, n_in)``,
    ``grad_bias: (n,)`` after ``backward``; ``update_weights``, ``update_bias`` (the applied
    change −η·… of the optimizer) after ``update``.
    """

    z: Array | None = None
    a: Array | None = None
    grad_a: Array | None = None
    delta: Array | None = None
    grad_weights: Array | None = None
    grad_bias: Array | None = None
    update_weights: Array | None = None
    update_bias: Array | None = None


@dataclass(frozen=True)
class StepTensors:
    """The current step of one run: ``phase`` done so far, ``inputs: (B, F)`` feature values,
    ``targets: (B, outputs)``, ``loss`` (after ``loss``), and one :class:`LayerTensors` per
    layer (hidden layers, then the output layer)."""

    phase: str | None
    inputs: Array | None
    targets: Array | None
    loss: float | None
    layers: list[LayerTensors]


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


class Inspection:
    """Read-only views of a :class:`TrainingSession` (its base class; the session sets
    the attributes declared here)."""

    model: Model
    config: TrainerConfig
    params: Parameters
    workspace: Workspace | None
    phase: str | None
    learning_rates: Array
    _evaluation_workspaces: dict[str, Workspace]
    _grid_workspaces: dict[int, Workspace]
    _grid_weights: list[Array]

    @property
    def runs(self) -> int:
        """K, the number of runs stepped together."""
        return len(self.learning_rates)

    def _run_index(self, run: int) -> int:
        if not 0 <= run < self.runs:
            raise ConfigError("run", f"must be between 0 and {self.runs - 1}, got {run}")
        return run

    def get_weights(self, run: int = 0) -> list[tuple[Array, Array]]:
        """Per layer ``(weights (n_out, n_in), bias (n_out,))`` of run ``run``."""
        run = self._run_index(run)
        return [(block[run, :, :-1].copy(), block[run, :, -1].copy())
                for block in self.params.weights]

    def set_weights(
        self, layers: list[tuple[Any, Any]], run: int | None = None
    ) -> None:
        """Set every layer's ``(weights (n_out, n_in), bias (n_out,))``, for one run or all.
        Shapes must match and values be finite; on error nothing changes."""
        blocks = self.params.weights
        if len(layers) != len(blocks):
            raise ConfigError("weights", f"give {len(blocks)} layers, got {len(layers)}")
        checked = []
        for index, ((weights, bias), block) in enumerate(zip(layers, blocks, strict=True)):
            weights, bias = np.asarray(weights, float), np.asarray(bias, float)
            expected = (block.shape[1], block.shape[2] - 1)
            if weights.shape != expected or bias.shape != expected[:1]:
                raise ConfigError(f"weights[{index}]", f"expected shapes {expected} and "
                                  f"{expected[:1]}, got {weights.shape} and {bias.shape}")
            if not (np.isfinite(weights).all() and np.isfinite(bias).all()):
                raise ConfigError(f"weights[{index}]", "values must be finite")
            checked.append((weights, bias))
        runs = slice(None) if run is None else self._run_index(run)
        for (weights, bias), block in zip(checked, blocks, strict=True):
            block[runs, :, :-1] = weights
            block[runs, :, -1] = bias

    def tensors(self, run: int = 0) -> StepTensors:
        """The tensors of the current step's completed phases, for run ``run``."""
        run = self._run_index(run)
        workspace, phase = self.workspace, self.phase
        if workspace is None or phase is None:
            empty = [LayerTensors() for _ in self.params.weights]
            return StepTensors(None, None, None, None, empty)
        done = {name: i for i, name in enumerate(("forward", "loss", "backward", "update"))}
        reached = done[phase]
        last = len(workspace.z) - 1
        layers = []
        for layer in range(last + 1):
            values: dict[str, Array | None] = {
                "z": workspace.z[layer][run].T.copy(), "a": workspace.a[layer][run].T.copy(),
            }
            has_delta = reached >= 2 or (reached >= 1 and layer == last)
            if has_delta:
                values["delta"] = workspace.delta[layer][run].T.copy()
                values["grad_a"] = self._grad_a(layer, run)
            if reached >= 2:
                grad = self.params.grad_weights[layer][run]
                values["grad_weights"] = grad[:, :-1].copy()
                values["grad_bias"] = grad[:, -1].copy()
            if reached >= 3:
                update = self.params.update_weights[layer][run]
                values["update_weights"] = update[:, :-1].copy()
                values["update_bias"] = update[:, -1].copy()
            layers.append(LayerTensors(**values))
        loss = float(workspace.loss_value[run]) if reached >= 1 else None
        return StepTensors(phase, workspace.x[:-1].T.copy(), workspace.y[0].T.copy(), loss, layers)

    def _grad_a(self, layer: int, run: int) -> Array:
        """dL/da ``(B, n)``; for the output layer computed from the head's formula."""
        workspace = self.workspace
        assert workspace is not None
        if layer < len(workspace.z) - 1 or self.model.head.name in ("squared_error", "mse"):
            return workspace.grad_a[layer][run].T.copy()
        out = workspace.output
        grad = self.model.head.grad_output(out.z[run:run + 1], out.a[run:run + 1], out.y)
        return grad[0].T.copy()

    def gradient_norms(self, run: int = 0) -> Array:
        """‖dL/d[W_l | b_l]‖₂ per layer ``(L,)`` after the last backward phase."""
        run = self._run_index(run)
        return np.array([np.linalg.norm(block[run]) for block in self.params.grad_weights])

    def update_ratios(self, run: int = 0) -> Array:
        """‖Δθ_l‖ / ‖θ_l‖ per layer ``(L,)`` for the last applied update (0 where θ_l = 0)."""
        run = self._run_index(run)
        ratios = []
        for update, values in zip(self.params.update_weights, self.params.weights, strict=True):
            size = np.linalg.norm(values[run])
            ratios.append(np.linalg.norm(update[run]) / size if size > 0 else 0.0)
        return np.array(ratios)

    def regularization_loss(self) -> Array:
        """The penalty per run ``(K,)``: ½λΣw² (L2), λΣ|w| (L1), 0 (none); biases excluded."""
        hyper = self.config.hyper
        weights = self.params.values * self.model.layout.weight_mask()
        if hyper.regularization == "l2":
            result: Array = 0.5 * hyper.regularization_rate * (weights * weights).sum(axis=1)
            return result
        if hyper.regularization == "l1":
            result = hyper.regularization_rate * np.abs(weights).sum(axis=1)
            return result
        return np.zeros(self.runs)

    def evaluate(self) -> Metrics:
        """Loss and accuracy on the full training and test sets, for every run."""
        model = self.model
        results: list[tuple[Array, Array | None]] = []
        for name, features, targets in (
            ("train", model.train_features, model.train_targets),
            ("test", model.test_features, model.test_targets),
        ):
            if len(features) == 0:
                results.append((np.full(self.runs, np.nan), None))
                continue
            workspace = self._evaluation_workspace(name, features, targets)
            workspace.forward()
            out = workspace.output
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss = model.head.loss(out.z, out.a, out.y)
            accuracy = None
            if model.head.classification:
                truth = model.dataset.labels[getattr(model.dataset, f"{name}_index")]
                accuracy = (model.head.predictions(out.a) == truth[None, :]).mean(axis=1)
            results.append((loss, accuracy))
        (train_loss, train_acc), (test_loss, test_acc) = results
        return Metrics(train_loss, test_loss, train_acc, test_acc, self.regularization_loss())

    def _evaluation_workspace(
        self, name: str, features: Array, targets: Array
    ) -> Workspace:
        workspace = self._evaluation_workspaces.get(name)
        if workspace is None:
            model = self.model
            workspace = Workspace(model.layout, model.activations, model.head, len(features),
                                  self.params.compute_weights)
            workspace.load(features, targets)
            self._evaluation_workspaces[name] = workspace
        return workspace

    def output_maps(self, resolution: int = 64, run: int = 0) -> list[Array]:
        """Every neuron's output over a ``resolution``² grid of the plane [−6, 6]², in float32.

        Returns one array ``(n_l, G, G)`` per layer, inputs first (the feature values), then
        each hidden layer's activations, then the output. Row r is x2 = 6 − 12·r/(G − 1)
        (top to bottom), column c is x1 = −6 + 12·c/(G − 1). One vectorized forward pass.
        """
        run = self._run_index(run)
        if not 2 <= resolution <= 256:
            raise ConfigError("resolution", f"must be between 2 and 256, got {resolution}")
        grid = self._grid_workspace(resolution)
        for block32, block in zip(self._grid_weights, self.params.weights, strict=True):
            np.copyto(block32, block[run], casting="same_kind")
        with np.errstate(over="ignore", invalid="ignore"):
            grid.forward()
        shape = (resolution, resolution)
        maps = [grid.x[:-1].reshape(-1, *shape).copy()]
        maps += [a[0].reshape(-1, *shape).copy() for a in grid.a]
        return maps

    def _grid_workspace(self, resolution: int) -> Workspace:
        cache = self._grid_workspaces
        if resolution not in cache:
            model = self.model
            workspace = Workspace(model.layout, model.activations, model.head,
                                  resolution * resolution, self._grid_weights)
            features = feature_matrix(grid_points(resolution), model.config.network.features,
                                      np.float32)
            workspace.load(features, np.zeros((len(features), workspace.y.shape[1]), np.float32))
            cache[resolution] = workspace
        return cache[resolution]


def grid_points(resolution: int) -> Array:
    """The ``(G², 2)`` points of the output-map grid, row-major from the top-left corner."""
    axis = np.linspace(-PLANE, PLANE, resolution)
    x1, x2 = np.meshgrid(axis, axis[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)
