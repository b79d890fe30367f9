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


@pytest.mark.parametrize("name", sorted(HEADS))
def test_point_losses_average_to_the_loss(name: str) -> None:
    """L = 1/B Σ_b ℓ_b: the per-point terms the loss panel lists are the reported loss's."""
    head, rng = HEADS[name], np.random.default_rng(1)
    outputs, batch = (3, 7) if name == "cross_entropy" else (1, 7)
    z = rng.normal(0, 3, (2, outputs, batch))
    labels = rng.integers(0, outputs if outputs > 1 else 2, batch).astype(float)
    y = head.targets(labels, outputs).T[None]
    a = np.empty_like(z)
    head.forward(z, a)
    points = head.point_losses(z, a, y)
    assert points.shape == (2, batch)
    np.testing.assert_allclose(points.mean(axis=-1), head.loss(z, a, y), rtol=1e-12)
    probability = head.true_class_probability(a, y)
    if head.classification:
        assert ((probability >= 0) & (probability <= 1)).all()
        # the probability of the point's own class grows as its loss term falls
        order = np.argsort(points[0])
        assert (np.diff(probability[0][order]) <= 1e-12).all()
    else:
        assert np.isnan(probability).all()
