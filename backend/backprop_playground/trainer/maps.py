"""Output maps: every neuron's output over a G × G grid of the plane [−6, 6]², in float32.

Row r of a map is x2 = 6 − 12·r/(G − 1) (top to bottom), column c is x1 = −6 + 12·c/(G − 1).
One vectorized float32 forward pass over the G² grid points computes every map.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import ConfigError
from .features import feature_matrix
from .model import Model
from .network import Parameters
from .workspace import Workspace

Array = NDArray[Any]
PLANE = 6.0  # output maps cover [−6, 6]²


def grid_points(resolution: int) -> Array:
    """The ``(G², 2)`` points of the output-map grid, row-major from the top-left corner."""
    axis = np.linspace(-PLANE, PLANE, resolution)
    x1, x2 = np.meshgrid(axis, axis[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)


class OutputMaps:
    """The output maps of one run at a time: its weights are copied to float32 buffers
    ``(n_out, n_in + 1)`` per layer that one grid workspace per resolution reads."""

    def __init__(self, model: Model, params: Parameters) -> None:
        self._model, self._params = model, params
        self._weights = [np.zeros(block.shape[1:], dtype=np.float32) for block in params.weights]
        self._workspaces: dict[int, Workspace] = {}

    def compute(self, resolution: int, run: int) -> list[Array]:
        """One array ``(n_l, G, G)`` per layer, G = ``resolution``: the inputs first (the
        feature values), then each hidden layer's activations, then the output."""
        if not 2 <= resolution <= 256:
            raise ConfigError("resolution", f"must be between 2 and 256, got {resolution}")
        grid = self._workspace(resolution)
        for block32, block in zip(self._weights, self._params.weights, strict=True):
            np.copyto(block32, block[run], casting="same_kind")
        with np.errstate(over="ignore", invalid="ignore"):
            grid.forward()
        shape = (resolution, resolution)
        maps = [grid.x[:-1].reshape(-1, *shape).copy()]
        maps += [a[0].reshape(-1, *shape).copy() for a in grid.a]
        return maps

    def _workspace(self, resolution: int) -> Workspace:
        cache = self._workspaces
        if resolution not in cache:
            model = self._model
            workspace = Workspace(model.layout, model.activations, model.head,
                                  resolution * resolution, self._weights)
            features = feature_matrix(grid_points(resolution), model.config.network.features,
                                      np.float32)
            workspace.load(features, np.zeros((len(features), workspace.y.shape[1]), np.float32))
            cache[resolution] = workspace
        return cache[resolution]
