"""Live hyperparameter changes: when they apply, what they leave alone, and the optimizers'
arithmetic against hand-written NumPy references."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_playground.trainer import TrainerConfig, TrainingSession
from conftest import (
    Array,
    flat_grads,
    flat_layers,
    flat_updates,
    flat_weights,
    make_config,
    weight_mask,
)


def _config(**changes: object) -> TrainerConfig:
    settings: dict[str, object] = {
        "dataset": "moons", "hidden": (4, 3), "features": ("x1", "x2", "x1_times_x2"),
        "n_points": 200, "learning_rate": 0.03, "seed": 2,
    }
    settings.update(changes)
    return make_config(**settings)  # type: ignore[arg-type]


def _step_gradient_and_update(session: TrainingSession) -> tuple[Array, Array]:
    """Run one whole step; return its dL/dθ and applied Δθ as vectors."""
    assert session.step() == "update"
    tensors = session.tensors()
    return flat_grads(tensors), flat_updates(tensors)


def _data_gradient(session: TrainingSession) -> Array:
    """dL/dθ of the data loss alone, rebuilt from the chain rule: delta_lᵀ·a_{l−1}, Σ delta_l."""
    tensors = session.tensors()
    previous = tensors.inputs
    layers = []
    for layer in tensors.layers:
        assert previous is not None and layer.delta is not None
        layers.append((layer.delta.T @ previous, layer.delta.sum(axis=0)))
        previous = layer.a
    return flat_layers(layers)


def test_learning_rate_change_between_steps_applies_from_the_returned_step() -> None:
    """set_hyperparameters(learning_rate=x) returns step_count + 1; that step uses x."""
    session = TrainingSession(_config(learning_rate=0.03))
    session.run(3)
    grad, update = _step_gradient_and_update(session)
    np.testing.assert_allclose(update, -0.03 * grad, rtol=1e-15, atol=0)
    assert session.set_hyperparameters(learning_rate=0.2) == session.step_count + 1 == 5
    grad, update = _step_gradient_and_update(session)
    assert session.step_count == 5
    np.testing.assert_allclose(update, -0.2 * grad, rtol=1e-15, atol=0)
    assert session.hyper.learning_rate == 0.2


def test_learning_rate_change_mid_step_applies_from_the_next_step() -> None:
    """A change asked for after forward leaves the step in progress at the old rate."""
    session = TrainingSession(_config(learning_rate=0.03))
    session.run(3)
    session.run_phase("forward")
    session.set_hyperparameters(learning_rate=0.2)
    grad, update = _step_gradient_and_update(session)
    assert session.step_count == 4
    np.testing.assert_allclose(update, -0.03 * grad, rtol=1e-15, atol=0)
    grad, update = _step_gradient_and_update(session)
    np.testing.assert_allclose(update, -0.2 * grad, rtol=1e-15, atol=0)
    assert session.learning_rate_changes[-1] == (5, (0.2,))


def test_mid_step_change_returns_the_step_it_takes_effect_at() -> None:
    """The step number returned mid-step is the first step that uses the new values."""
    session = TrainingSession(_config(learning_rate=0.03))
    session.run(3)
    session.run_phase("forward")
    returned = session.set_hyperparameters(learning_rate=0.2)
    session.step()
    session.step()
    assert session.learning_rate_changes[-1][0] == returned


def test_hyperparameter_changes_leave_the_weights_untouched() -> None:
    """Changing every live setting, between steps or mid-step, does not move a weight."""
    session = TrainingSession(_config())
    session.run(4)
    before = flat_weights(session)
    session.set_hyperparameters(learning_rate=0.5, batch_size=3, optimizer="adam",
                                regularization="l1", regularization_rate=0.1)
    np.testing.assert_array_equal(flat_weights(session), before)
    session.run_phase("forward")
    session.set_hyperparameters(optimizer="momentum", momentum=0.5)
    np.testing.assert_array_equal(flat_weights(session), before)


def test_batch_size_change_applies_from_the_next_step() -> None:
    """A new batch size is used by the next minibatch; a step in progress keeps its batch."""
    session = TrainingSession(_config(batch_size=10))
    session.run(2)
    session.set_hyperparameters(batch_size=4)
    session.step()
    assert session.tensors().inputs.shape[0] == 4  # type: ignore[union-attr]
    session.run_phase("forward")
    session.set_hyperparameters(batch_size=6)
    session.step()
    assert session.tensors().inputs.shape[0] == 4  # type: ignore[union-attr]
    session.step()
    assert session.tensors().inputs.shape[0] == 6  # type: ignore[union-attr]


def test_several_changes_before_a_step_all_apply() -> None:
    """Two set_hyperparameters calls before the next step both take effect (mid-step too)."""
    session = TrainingSession(_config())
    session.run(2)
    session.run_phase("forward")
    session.set_hyperparameters(learning_rate=0.1)
    session.set_hyperparameters(batch_size=5)
    session.step()
    session.step()
    assert (session.hyper.learning_rate, session.hyper.batch_size) == (0.1, 5)
    grad, update = flat_grads(session.tensors()), flat_updates(session.tensors())
    np.testing.assert_allclose(update, -0.1 * grad, rtol=1e-15, atol=0)


def test_learning_rate_changes_record_step_and_rates() -> None:
    """learning_rate_changes starts at (0, (η,)) and adds (first step, rates) per change."""
    session = TrainingSession(_config(learning_rate=0.03))
    assert session.learning_rate_changes == [(0, (0.03,))]
    session.run(3)
    session.set_hyperparameters(learning_rate=0.1)
    session.run(2)
    session.set_hyperparameters(momentum=0.5)  # not a learning rate: nothing recorded
    session.set_hyperparameters(learning_rate=0.1)  # the same rate: nothing recorded
    session.run(2)
    session.set_hyperparameters(learning_rate=0.001)
    assert session.learning_rate_changes == [(0, (0.03,)), (4, (0.1,)), (8, (0.001,))]


def test_momentum_matches_a_numpy_reference() -> None:
    """Momentum: v ← μv − η·g, Δθ = v, step after step."""
    lr, mu = 0.05, 0.8
    session = TrainingSession(_config(optimizer="momentum", learning_rate=lr, momentum=mu))
    velocity = np.zeros_like(flat_weights(session))
    for _ in range(6):
        before = flat_weights(session)
        grad, update = _step_gradient_and_update(session)
        velocity = mu * velocity - lr * grad
        np.testing.assert_allclose(update, velocity, rtol=1e-13, atol=1e-16)
        np.testing.assert_allclose(flat_weights(session), before + velocity, rtol=1e-13,
                                   atol=1e-16)


def test_adam_matches_a_numpy_reference() -> None:
    """Adam with bias correction: Δθ = −η·m̂/(√v̂ + ε), step after step."""
    lr, beta1, beta2, eps = 0.01, 0.8, 0.95, 1e-6
    session = TrainingSession(_config(optimizer="adam", learning_rate=lr, beta1=beta1,
                                      beta2=beta2, epsilon=eps))
    first = second = np.zeros_like(flat_weights(session))
    for t in range(1, 7):
        grad, update = _step_gradient_and_update(session)
        first = beta1 * first + (1 - beta1) * grad
        second = beta2 * second + (1 - beta2) * grad**2
        m_hat, v_hat = first / (1 - beta1**t), second / (1 - beta2**t)
        np.testing.assert_allclose(update, -lr * m_hat / (np.sqrt(v_hat) + eps),
                                   rtol=1e-12, atol=1e-16)


def test_live_momentum_change_keeps_the_velocity() -> None:
    """A new momentum value applies from the next step, to the velocity built so far."""
    lr = 0.05
    session = TrainingSession(_config(optimizer="momentum", learning_rate=lr, momentum=0.9))
    velocity = np.zeros_like(flat_weights(session))
    for step in range(5):
        mu = 0.9 if step < 3 else 0.3
        if step == 3:
            session.set_hyperparameters(momentum=0.3)
        grad, update = _step_gradient_and_update(session)
        velocity = mu * velocity - lr * grad
        np.testing.assert_allclose(update, velocity, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize(("old", "new"), [("sgd", "momentum"), ("momentum", "adam"),
                                          ("adam", "momentum"), ("momentum", "sgd")])
def test_optimizer_switch_keeps_weights_and_starts_with_empty_memory(old: str, new: str) -> None:
    """After a switch the weights are the same and the first update is that of a fresh
    optimizer (momentum: −η·g; adam: −η·g/(|g| + ε))."""
    lr = 0.02
    session = TrainingSession(_config(optimizer=old, learning_rate=lr))
    session.run(5)
    before = flat_weights(session)
    session.set_hyperparameters(optimizer=new)
    np.testing.assert_array_equal(flat_weights(session), before)
    grad, update = _step_gradient_and_update(session)
    expected = -lr * grad if new != "adam" else -lr * grad / (np.abs(grad) + 1e-8)
    np.testing.assert_allclose(update, expected, rtol=1e-12, atol=1e-16)


def test_switching_back_to_an_optimizer_forgets_its_old_memory() -> None:
    """momentum → adam → momentum: the velocity restarts at zero."""
    lr = 0.02
    session = TrainingSession(_config(optimizer="momentum", learning_rate=lr))
    session.run(5)
    session.set_hyperparameters(optimizer="adam")
    session.run(2)
    session.set_hyperparameters(optimizer="momentum")
    grad, update = _step_gradient_and_update(session)
    np.testing.assert_allclose(update, -lr * grad, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_regularization_change_adds_the_penalty_gradient_from_the_next_step(kind: str) -> None:
    """After switching to L1/L2 (λ = 0.1), dL/dW = data gradient + λ·sign(w) or λ·w, and
    biases get no penalty; before the switch the gradient is the data gradient alone."""
    rate = 0.1
    session = TrainingSession(_config())
    session.run(3)
    session.step()
    np.testing.assert_allclose(flat_grads(session.tensors()), _data_gradient(session),
                               rtol=1e-12, atol=1e-15)
    assert session.set_hyperparameters(regularization=kind, regularization_rate=rate) == 5
    weights = flat_weights(session)
    session.step()
    mask = weight_mask(session)
    penalty = rate * (np.sign(weights) if kind == "l1" else weights) * mask
    np.testing.assert_allclose(flat_grads(session.tensors()) - _data_gradient(session), penalty,
                               rtol=1e-9, atol=1e-14)


def test_regularization_rate_zero_adds_nothing() -> None:
    """L2 at rate 0 leaves the gradient equal to the data gradient."""
    session = TrainingSession(_config(regularization="l2", regularization_rate=0.0))
    session.run(2)
    np.testing.assert_allclose(flat_grads(session.tensors()), _data_gradient(session),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", ["none", "l1", "l2"])
def test_regularization_loss_is_the_documented_penalty(kind: str) -> None:
    """regularization_loss() is λΣ|w| (L1), ½λΣw² (L2) or 0, biases excluded."""
    rate = 0.3
    session = TrainingSession(_config(regularization=kind, regularization_rate=rate))
    session.run(2)
    weights = flat_weights(session)[weight_mask(session) == 1]
    expected = {"none": 0.0, "l1": rate * np.abs(weights).sum(),
                "l2": 0.5 * rate * (weights**2).sum()}[kind]
    np.testing.assert_allclose(session.regularization_loss(), [expected], rtol=1e-12)
    np.testing.assert_allclose(session.evaluate().regularization_loss, [expected], rtol=1e-12)
