"""Reading a session: weights, the current step's tensors, norms, metrics and output maps.

Public arrays use the math orientation a reader expects: ``weights: (n_out, n_in)`` with
``weights[j, i]`` the weight from input i to neuron j, ``bias: (n_out,)``, per-point
tensors ``(batch, neurons)``. Everything returned is a copy. The metrics are computed in
:mod:`.evaluation`, the output maps in :mod:`.maps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .errors import ConfigError
from .evaluation import Evaluator, Metrics, regularization_loss
from .maps import PLANE, OutputMaps, grid_points
from .plans import PHASES
from .workspace import Workspace

if TYPE_CHECKING:
    from .config import TrainerConfig
    from .divergence import RunGuard
    from .model import Model
    from .network import Parameters

__all__ = ["PLANE", "Inspection", "LayerTensors", "Metrics", "StepTensors", "grid_points"]
Array = NDArray[Any]


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


class Inspection:
    """Read-only views of a :class:`TrainingSession` (its base class; the session sets
    the attributes declared here)."""

    model: Model
    config: TrainerConfig
    params: Parameters
    workspace: Workspace | None
    phase: str | None
    step_count: int
    _guard: RunGuard
    _weights_set_at: int
    _evaluator: Evaluator
    _maps: OutputMaps

    @property
    def runs(self) -> int:
        """K, the number of runs stepped together."""
        return self.params.runs

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
        Shapes must match and values be finite; on error nothing changes. The set weights
        become the runs' recovery checkpoint (and replace a pending recovery point)."""
        checked = _checked_layers(layers, self.params.weights)
        runs = slice(None) if run is None else self._run_index(run)
        for (weights, bias), block in zip(checked, self.params.weights, strict=True):
            block[runs, :, :-1] = weights
            block[runs, :, -1] = bias
        self._guard.restart(runs)
        self._weights_set_at = self.step_count

    def tensors(self, run: int = 0) -> StepTensors:
        """The tensors of the current step's completed phases, for run ``run``."""
        run = self._run_index(run)
        workspace, phase = self.workspace, self.phase
        if workspace is None or phase is None:
            empty = [LayerTensors() for _ in self.params.weights]
            return StepTensors(None, None, None, None, empty)
        reached = PHASES.index(phase)
        layers = [LayerTensors(**self._layer_values(workspace, layer, run, reached))
                  for layer in range(len(workspace.z))]
        loss = float(workspace.loss_value[run]) if reached >= 1 else None
        return StepTensors(phase, workspace.x[:-1].T.copy(), workspace.y[0].T.copy(), loss, layers)

    def _layer_values(
        self, workspace: Workspace, layer: int, run: int, reached: int
    ) -> dict[str, Array | None]:
        """One layer's tensors ``(B, n)`` and blocks ``(n, n_in)``, ``(n,)`` that the phases
        up to ``PHASES[reached]`` have computed, by :class:`LayerTensors` field."""
        values: dict[str, Array | None] = {
            "z": workspace.z[layer][run].T.copy(), "a": workspace.a[layer][run].T.copy(),
        }
        if reached >= 2 or (reached >= 1 and layer == len(workspace.z) - 1):
            values["delta"] = workspace.delta[layer][run].T.copy()
            values["grad_a"] = self._grad_a(workspace, layer, run)
        if reached >= 2:
            grad = self.params.grad_weights[layer][run]
            values["grad_weights"] = grad[:, :-1].copy()
            values["grad_bias"] = grad[:, -1].copy()
        if reached >= 3:
            update = self.params.update_weights[layer][run]
            values["update_weights"] = update[:, :-1].copy()
            values["update_bias"] = update[:, -1].copy()
        return values

    def _grad_a(self, workspace: Workspace, layer: int, run: int) -> Array:
        """dL/da ``(B, n)``; for the output layer computed from the head's formula."""
        if layer < len(workspace.z) - 1 or self.model.head.fills_grad_a:
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
        return regularization_loss(self.params.values, self.model.layout.weight_mask(),
                                   self.config.hyper)

    def evaluate(self) -> Metrics:
        """Loss and accuracy on the full training and test sets, for every run."""
        return self._evaluator.metrics(self.config.hyper)

    def output_maps(self, resolution: int = 64, run: int = 0) -> list[Array]:
        """Every neuron's output over a ``resolution``² grid of the plane [−6, 6]², in float32.

        Returns one array ``(n_l, G, G)`` per layer, inputs first (the feature values), then
        each hidden layer's activations, then the output. Row r is x2 = 6 − 12·r/(G − 1)
        (top to bottom), column c is x1 = −6 + 12·c/(G − 1). One vectorized forward pass.
        """
        return self._maps.compute(resolution, self._run_index(run))


def _checked_layers(
    layers: list[tuple[Any, Any]], blocks: list[Array]
) -> list[tuple[Array, Array]]:
    """``layers`` as float arrays, after checking them against the parameter ``blocks``
    ``(K, n_out, n_in + 1)``: as many layers, shapes ``(n_out, n_in)`` and ``(n_out,)``,
    finite values. ConfigError naming the first bad layer."""
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
    return checked
