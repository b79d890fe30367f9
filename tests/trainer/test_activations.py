"""Activations and heads: local derivatives and the workspace's sentinel trick."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_playground.trainer.activations import ACTIVATION_FUNCTIONS, run_ops


@pytest.mark.parametrize("name", sorted(ACTIVATION_FUNCTIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sentinel_maps_to_exactly_one(name: str, dtype: type) -> None:
    """f(sentinel) is exactly 1.0, so a hidden buffer's extra row becomes the bias input."""
    activation = ACTIVATION_FUNCTIONS[name]
    value, out = np.full(3, activation.sentinel, dtype), np.zeros(3, dtype)
    activation.forward(value, out)
    assert np.all(out == 1.0)


@pytest.mark.parametrize("name", sorted(ACTIVATION_FUNCTIONS))
def test_backward_ops_apply_the_local_derivative(name: str) -> None:
    """backward_ops give delta = grad_a · f'(z), with f' matching central differences."""
    activation = ACTIVATION_FUNCTIONS[name]
    rng = np.random.default_rng(1)
    z = rng.uniform(-3, 3, (2, 4, 5))
    z[np.abs(z) < 1e-3] = 0.5  # keep away from the ReLU kink
    a, grad_a = np.zeros_like(z), rng.normal(size=z.shape)
    activation.forward(z, a)
    scratch, delta = np.zeros_like(z), np.zeros_like(z)
    run_ops(activation.backward_ops(grad_a, z, a, scratch, delta))
    step = 1e-6
    plus, minus = np.zeros_like(z), np.zeros_like(z)
    activation.forward(z + step, plus)
    activation.forward(z - step, minus)
    numeric = (plus - minus) / (2 * step)
    np.testing.assert_allclose(delta, grad_a * numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(activation.derivative(z, a), numeric, rtol=1e-6, atol=1e-9)
