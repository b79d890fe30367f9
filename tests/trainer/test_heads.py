"""Output heads: dL/da at the output stays exact where the output saturates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop_playground.trainer.heads import HEADS


@pytest.mark.parametrize("z", [-40.0, -30.0, -5.0, 0.0, 5.0, 30.0, 40.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_bce_grad_output_is_exact_at_saturated_outputs(z: float, y: float) -> None:
    """dL/da = −1/(aB) (y = 1) or 1/((1 − a)B) (y = 0) with a = σ(z), within 1e-9 relative,
    finite up to |z| = 40 (computing it from a loses all precision there)."""
    head, batch = HEADS["bce"], 4
    zs = np.full((1, 1, batch), z)
    a = np.empty_like(zs)
    head.forward(zs, a)
    grad = head.grad_output(zs, a, np.full((1, 1, batch), y))
    # exact: σ(z) = 1/(1 + e^−z), 1 − σ(z) = 1/(1 + e^z)
    expected = -(1.0 + math.exp(-z)) / batch if y == 1.0 else (1.0 + math.exp(z)) / batch
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, expected, rtol=1e-9)
