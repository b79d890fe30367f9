"""The MLP's parameters: one flat buffer per quantity, with a leading run axis, and per-layer
views into it.

Layer l (0-based, ``L = len(sizes) − 1`` layers) maps ``sizes[l]`` inputs to ``sizes[l+1]``
outputs. Its weights and bias are stored together as ``(runs, n_out, n_in + 1)``: column
``i < n_in`` holds the weights W[j, i] from input i to neuron j, the last column the bias b,
so that z = [W | b] · [a_prev; 1] for a column of activations. All layers live in one
``(runs, P)`` array so that an optimizer touches every parameter in a few NumPy calls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]


@dataclass(frozen=True)
class Layout:
    """Where each layer's block sits in the flat buffer.

    ``sizes = (n_features, hidden..., n_outputs)``; ``offsets[l]`` is the start of layer l;
    ``weight_mask: (P,)`` is 1 on weights and 0 on biases (regularization skips biases).
    """

    sizes: tuple[int, ...]

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def block_shapes(self) -> list[tuple[int, int]]:
        return [(n_out, n_in + 1) for n_in, n_out in zip(self.sizes, self.sizes[1:], strict=False)]

    @property
    def offsets(self) -> list[int]:
        starts = [0]
        for rows, cols in self.block_shapes:
            starts.append(starts[-1] + rows * cols)
        return starts

    @property
    def n_params(self) -> int:
        return self.offsets[-1]

    def views(self, flat: Array) -> list[Array]:
        """Per-layer views ``(runs, n_out, n_in + 1)`` sharing memory with ``flat: (runs, P)``."""
        blocks = []
        for (rows, cols), start in zip(self.block_shapes, self.offsets, strict=False):
            block = flat[:, start:start + rows * cols].reshape(len(flat), rows, cols)
            assert np.shares_memory(block, flat)
            blocks.append(block)
        return blocks

    def weight_mask(self) -> Array:
        mask = np.zeros(self.n_params)
        for view in self.views(mask[None, :]):
            view[:, :, :-1] = 1.0
        return mask


def initial_parameters(
    layout: Layout, activations: Sequence[str], rng: np.random.Generator
) -> Array:
    """One run's parameters ``(P,)``: Glorot-uniform weights; biases 0.1 before a ReLU-family
    layer (so that few neurons start dead), else 0.

    W ~ U(−r, r) with r = √(6 / (n_in + n_out)).
    """
    flat = np.zeros((1, layout.n_params))
    for layer, block in enumerate(layout.views(flat)):
        n_in, n_out = layout.sizes[layer], layout.sizes[layer + 1]
        limit = math.sqrt(6.0 / (n_in + n_out))
        block[0, :, :-1] = rng.uniform(-limit, limit, (n_out, n_in))
        is_relu = layer < len(activations) and activations[layer] in ("relu", "leaky_relu")
        block[0, :, -1] = 0.1 if is_relu else 0.0
    return flat[0]


def compute_views(arrays: Sequence[Array]) -> list[Array]:
    """The arrays the products use: 2-D ``[0]`` views for one run, else the arrays."""
    return [array[0] if len(array) == 1 else array for array in arrays]


class Parameters:
    """Parameters, gradients and the last applied update for ``runs`` runs.

    ``values, grads, update: (runs, P)``; ``weights[l]``, ``grad_weights[l]``,
    ``update_weights[l]`` are their per-layer views ``(runs, n_out, n_in + 1)``.
    ``grads`` holds dL/dθ of the full objective (data loss + regularization).
    """

    def __init__(self, layout: Layout, initial: Array, runs: int) -> None:
        self.layout = layout
        self.values = np.repeat(initial[None, :], runs, axis=0)
        self.grads = np.zeros_like(self.values)
        self.update = np.zeros_like(self.values)
        self.weights = layout.views(self.values)
        self.grad_weights = layout.views(self.grads)
        self.update_weights = layout.views(self.update)
        # dL/da_prev = Wᵀ · delta uses the weights without the bias column, transposed.
        weights_no_bias_t = [w[:, :, :-1].transpose(0, 2, 1) for w in self.weights]
        # What the workspace products take: 2-D views when there is one run.
        self.compute_weights = compute_views(self.weights)
        self.compute_grad_weights = compute_views(self.grad_weights)
        self.compute_weights_no_bias_t = compute_views(weights_no_bias_t)

    @property
    def runs(self) -> int:
        return len(self.values)
