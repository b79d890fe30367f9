"""Shared helpers for the trainer tests: config builders and flat views of a session."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from backprop_playground.trainer import (
    DataConfig,
    Hyperparameters,
    NetworkConfig,
    TrainerConfig,
    TrainingSession,
)
from backprop_playground.trainer.inspection import StepTensors

Array = NDArray[np.float64]
Layers = list[tuple[Array, Array]]

#: Which data set serves each loss in the tests.
DATASET_FOR_LOSS: dict[str, str] = {
    "bce": "xor",
    "squared_error": "circle",
    "cross_entropy": "spiral3",
    "mse": "plane",
}


def make_config(
    *,
    dataset: str = "circle",
    hidden: Sequence[int] = (3, 2),
    features: Sequence[str] = ("x1", "x2"),
    activation: str | tuple[str, ...] = "tanh",
    loss: str | None = None,
    n_points: int = 200,
    noise: float = 0.0,
    train_fraction: float = 0.5,
    learning_rate: float = 0.03,
    batch_size: int = 10,
    optimizer: str = "sgd",
    regularization: str = "none",
    regularization_rate: float = 0.0,
    seed: int = 0,
    **hyper: float,
) -> TrainerConfig:
    """A small config; every keyword maps to one field of the trainer's config."""
    return TrainerConfig(
        network=NetworkConfig(
            hidden_layers=tuple(hidden), features=tuple(features), activation=activation,
            loss=loss,
        ),
        data=DataConfig(
            dataset=dataset, n_points=n_points, noise=noise, train_fraction=train_fraction
        ),
        hyper=Hyperparameters(
            learning_rate=learning_rate, batch_size=batch_size, optimizer=optimizer,
            regularization=regularization, regularization_rate=regularization_rate,
            **hyper,
        ),
        seed=seed,
    )


def regression_config(**changes: object) -> TrainerConfig:
    """A ReLU regression net on 'plane' with the mse loss (diverges at learning rate 10)."""
    settings: dict[str, object] = {
        "dataset": "plane", "hidden": (4, 2), "activation": "relu", "loss": "mse",
        "n_points": 500,
    }
    settings.update(changes)
    return make_config(**settings)  # type: ignore[arg-type]


def flat_layers(layers: Layers) -> Array:
    """``[(W, b), ...]`` -> one vector: each layer's W row by row, then its b."""
    return np.concatenate([np.concatenate([w.ravel(), b]) for w, b in layers])


def unflat_layers(vector: Array, like: Layers) -> Layers:
    """Inverse of :func:`flat_layers`, shaped like ``like``."""
    layers: Layers = []
    start = 0
    for w, b in like:
        w_new = vector[start:start + w.size].reshape(w.shape)
        start += w.size
        b_new = vector[start:start + b.size].copy()
        start += b.size
        layers.append((w_new.copy(), b_new))
    return layers


def flat_weights(session: TrainingSession, run: int = 0) -> Array:
    """Every parameter of one run as one vector (see :func:`flat_layers`)."""
    return flat_layers(session.get_weights(run=run))


def flat_grads(tensors: StepTensors) -> Array:
    """dL/dθ of the step in ``tensors`` as one vector, in :func:`flat_layers` order."""
    layers = []
    for layer in tensors.layers:
        assert layer.grad_weights is not None and layer.grad_bias is not None
        layers.append((layer.grad_weights, layer.grad_bias))
    return flat_layers(layers)


def flat_updates(tensors: StepTensors) -> Array:
    """The applied change Δθ of the step in ``tensors`` as one vector."""
    layers = []
    for layer in tensors.layers:
        assert layer.update_weights is not None and layer.update_bias is not None
        layers.append((layer.update_weights, layer.update_bias))
    return flat_layers(layers)


def load_weights(session: TrainingSession, layers: Layers, run: int | None = None) -> None:
    """Write ``[(W (n_out, n_in), b (n_out,)), ...]`` into the session's parameter buffer.

    Stands in for ``session.set_weights``, which rejects exactly this documented format (see
    ``test_set_weights_accepts_what_get_weights_returns``); it writes the blocks
    ``[W | b]`` that ``docs/trainer.md`` describes, for one run or all.
    """
    runs = slice(None) if run is None else run
    blocks = session.params.weights
    assert len(blocks) == len(layers)
    for block, (w, b) in zip(blocks, layers, strict=True):
        assert block.shape[1:] == (w.shape[0], w.shape[1] + 1) and b.shape == (w.shape[0],)
        block[runs, :, :-1] = w
        block[runs, :, -1] = b


def weight_mask(session: TrainingSession) -> Array:
    """1 on weights, 0 on biases, in :func:`flat_layers` order."""
    return flat_layers([(np.ones_like(w), np.zeros_like(b)) for w, b in session.get_weights()])


def current_batch(session: TrainingSession) -> tuple[Array, Array]:
    """The points (B, 2) and labels (B,) of the minibatch the current step trains on."""
    dataset = session.model.dataset
    assert session.batch_index is not None
    rows = dataset.train_index[session.batch_index]
    return dataset.points[rows].copy(), dataset.labels[rows].copy()


def finish_step(session: TrainingSession) -> None:
    """Complete the step in progress, if any."""
    if session.phase not in (None, "update"):
        session.step()


def rel_error(numeric: Array, analytic: Array) -> float:
    """max |numeric − analytic| / max(max |analytic|, 1e-8)."""
    scale = max(float(np.abs(analytic).max()), 1e-8)
    return float(np.abs(numeric - analytic).max()) / scale
