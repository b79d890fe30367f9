"""Backpropagation is right: analytic gradients match central differences in float64, and
the tensors of a step obey the chain rule."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.typing import NDArray

from backprop_playground.trainer import ACTIVATIONS, LOSSES, TrainerConfig, TrainingSession
from backprop_playground.trainer.activations import ACTIVATION_FUNCTIONS
from conftest import (
    DATASET_FOR_LOSS,
    Array,
    current_batch,
    finish_step,
    flat_grads,
    flat_weights,
    load_weights,
    make_config,
    rel_error,
    unflat_layers,
)

H = 1e-6
TOLERANCE = 1e-6
FEATURES = ("x1", "x2", "sin_x1", "x1_times_x2")
REGULARIZATIONS = ("none", "l1", "l2")


def _activation_pattern(session: TrainingSession) -> list[NDArray[np.bool_]]:
    """Which hidden pre-activations are positive (where ReLU-family kinks sit)."""
    tensors = session.tensors()
    patterns = []
    for layer in tensors.layers[:-1]:
        assert layer.z is not None
        patterns.append(layer.z > 0)
    return patterns


def _objective(
    probe: TrainingSession, vector: Array, batch: tuple[Array, Array]
) -> tuple[float, list[NDArray[np.bool_]]]:
    """Minibatch loss + penalty at parameters ``vector`` on ``batch``, and the ReLU pattern."""
    load_weights(probe, unflat_layers(vector, probe.get_weights()))
    penalty = float(probe.regularization_loss()[0])
    probe.run_phase("forward", batch=batch)
    probe.run_phase("loss")
    loss = probe.tensors().loss
    assert loss is not None
    pattern = _activation_pattern(probe)
    finish_step(probe)
    return loss + penalty, pattern


def _check_gradients(config: TrainerConfig) -> None:
    """Finite differences of (batch loss + penalty) equal the backward phase's dL/dθ."""
    session = TrainingSession(config)
    session.run(3)
    session.run_phase("forward")
    session.run_phase("loss")
    session.run_phase("backward")
    analytic = flat_grads(session.tensors())
    theta = flat_weights(session)
    batch = current_batch(session)
    base_pattern = _activation_pattern(session)

    probe = TrainingSession(config)
    numeric = np.zeros_like(theta)
    skipped = np.zeros(theta.shape, dtype=bool)
    for i in range(len(theta)):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += H
        minus[i] -= H
        f_plus, pattern_plus = _objective(probe, plus, batch)
        f_minus, pattern_minus = _objective(probe, minus, batch)
        numeric[i] = (f_plus - f_minus) / (2 * H)
        crosses_kink = any(
            not (np.array_equal(p, b) and np.array_equal(m, b))
            for p, m, b in zip(pattern_plus, pattern_minus, base_pattern, strict=True)
        )
        skipped[i] = crosses_kink and any(
            name in ("relu", "leaky_relu") for name in config.network.activation
        )
    assert skipped.sum() <= max(1, len(theta) // 20), "too many coordinates sit on a ReLU kink"
    keep = ~skipped
    error = rel_error(numeric[keep], analytic[keep])
    assert error < TOLERANCE, f"relative error {error:.2e}"
    assert np.abs(analytic).max() > 1e-6, "a vanishing gradient would make the check empty"


@pytest.mark.parametrize(
    ("activation", "loss", "regularization"),
    list(itertools.product(ACTIVATIONS, LOSSES, REGULARIZATIONS)),
)
def test_backward_gradients_match_finite_differences(
    activation: str, loss: str, regularization: str
) -> None:
    """For every activation × loss × penalty, dL/dθ of backward equals central differences."""
    config = make_config(
        dataset=DATASET_FOR_LOSS[loss], hidden=(3, 2), features=FEATURES, activation=activation,
        loss=loss, regularization=regularization,
        regularization_rate=0.0 if regularization == "none" else 0.01, seed=3,
    )
    _check_gradients(config)


def test_deep_mixed_network_gradients_match_finite_differences() -> None:
    """A 4-hidden-layer net with one activation per layer has exact gradients (L2, softmax)."""
    config = make_config(
        dataset="blobs3", hidden=(4, 3, 3, 2), features=("x1", "x2", "x2_squared", "cos_x1"),
        activation=("tanh", "leaky_relu", "sigmoid", "relu"), loss="cross_entropy",
        regularization="l2", regularization_rate=0.01, seed=5,
    )
    _check_gradients(config)


def test_network_without_hidden_layers_gradients_match_finite_differences() -> None:
    """Zero hidden layers (logistic regression) still has exact gradients."""
    config = make_config(dataset="moons", hidden=(), features=FEATURES, loss="bce",
                         regularization="l1", regularization_rate=0.01)
    _check_gradients(config)


def _backward_session(activation: str | tuple[str, ...], loss: str) -> TrainingSession:
    config = make_config(
        dataset=DATASET_FOR_LOSS[loss], hidden=(4, 3), features=FEATURES, activation=activation,
        loss=loss, seed=1,
    )
    session = TrainingSession(config)
    session.run(2)
    for phase in ("forward", "loss", "backward"):
        session.run_phase(phase)
    return session


CHAIN_CASES = [(activation, "bce") for activation in ACTIVATIONS] + [
    ("tanh", "squared_error"), ("relu", "cross_entropy"), ("sigmoid", "mse"),
]


@pytest.mark.parametrize(("activation", "loss"), CHAIN_CASES)
def test_weight_gradient_is_delta_times_previous_activation(activation: str, loss: str) -> None:
    """Without a penalty dL/dW_l = delta_lᵀ·a_{l−1} (a_{−1} = inputs) and dL/db_l = Σ delta_l."""
    session = _backward_session(activation, loss)
    tensors = session.tensors()
    previous = tensors.inputs
    for layer in tensors.layers:
        assert previous is not None and layer.delta is not None
        assert layer.grad_weights is not None and layer.grad_bias is not None
        np.testing.assert_allclose(layer.grad_weights, layer.delta.T @ previous,
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.grad_bias, layer.delta.sum(axis=0),
                                   rtol=1e-12, atol=1e-15)
        previous = layer.a


@pytest.mark.parametrize(("activation", "loss"), CHAIN_CASES)
def test_hidden_grad_a_is_next_delta_times_next_weights(activation: str, loss: str) -> None:
    """dL/da_l = delta_{l+1}·W_{l+1} for every hidden layer."""
    session = _backward_session(activation, loss)
    tensors = session.tensors()
    weights = session.get_weights()
    for layer in range(len(tensors.layers) - 1):
        upper = tensors.layers[layer + 1]
        assert upper.delta is not None
        expected = upper.delta @ weights[layer + 1][0]
        grad_a = tensors.layers[layer].grad_a
        assert grad_a is not None
        np.testing.assert_allclose(grad_a, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_hidden_delta_is_grad_a_times_activation_derivative(activation: str) -> None:
    """delta_l = dL/da_l ⊙ f′(z_l) in every hidden layer."""
    session = _backward_session(activation, "bce")
    function = ACTIVATION_FUNCTIONS[activation]
    for layer in session.tensors().layers[:-1]:
        assert layer.z is not None and layer.a is not None and layer.grad_a is not None
        assert layer.delta is not None
        expected = layer.grad_a * function.derivative(layer.z, layer.a)
        np.testing.assert_allclose(layer.delta, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", list(LOSSES))
def test_output_delta_matches_finite_differences_of_the_loss(loss: str) -> None:
    """The output layer's delta after the loss phase is dL/dz of the batch loss."""
    session = _backward_session("tanh", loss)
    tensors = session.tensors()
    output = tensors.layers[-1]
    assert output.z is not None and output.delta is not None and tensors.targets is not None
    head = session.model.head
    y = tensors.targets.T[None]
    numeric = np.zeros_like(output.z)
    for index in np.ndindex(*output.z.shape):
        values = []
        for sign in (1.0, -1.0):
            z = output.z.copy()
            z[index] += sign * H
            a = np.empty_like(z.T[None])
            head.forward(z.T[None].copy(), a)
            values.append(float(head.loss(z.T[None], a, y)[0]))
        numeric[index] = (values[0] - values[1]) / (2 * H)
    assert rel_error(numeric, output.delta) < TOLERANCE


@pytest.mark.parametrize("loss", ["bce", "squared_error", "mse"])
def test_output_grad_a_times_output_derivative_is_delta(loss: str) -> None:
    """For one-output heads, the output dL/da times da/dz of its activation is its delta."""
    session = _backward_session("tanh", loss)
    output = session.tensors().layers[-1]
    assert output.a is not None and output.grad_a is not None and output.delta is not None
    derivative = {"bce": output.a * (1 - output.a), "squared_error": 1 - output.a**2,
                  "mse": np.ones_like(output.a)}[loss]
    np.testing.assert_allclose(output.grad_a * derivative, output.delta, rtol=1e-9, atol=1e-15)


def test_inputs_are_the_feature_values_of_the_current_batch() -> None:
    """tensors().inputs are the minibatch's feature values, columns in FEATURES order."""
    session = _backward_session("tanh", "bce")
    assert session.config.network.features == ("x1", "x2", "x1_times_x2", "sin_x1")
    points, _ = current_batch(session)
    x1, x2 = points[:, 0], points[:, 1]
    expected = np.stack([x1, x2, x1 * x2, np.sin(x1)], axis=1)
    np.testing.assert_array_equal(session.tensors().inputs, expected)
