"""The selection block carries what the update rule read, and the rule with those numbers
gives the applied change: the inspector can show the rule that ran, not SGD's."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_playground.live.frames import build_frame
from backprop_playground.trainer import TrainingSession, config_from_dict
from backprop_playground.wire.commands import Selection
from backprop_playground.wire.frame import SELECTION_RECORD


def _selected(optimizer: str, regularization: str, source: int | None) -> dict[str, float]:
    config = config_from_dict({"hyper": {"optimizer": optimizer, "learning_rate": 0.1,
                                         "regularization": regularization,
                                         "regularization_rate": 0.01}, "seed": 3})
    session = TrainingSession(config)
    session.run(5)
    for _ in range(4):
        session.advance()  # forward, loss, backward, update of step 6
    frame = build_frame(session, sequence=1, running=False, metrics=session.evaluate(),
                        selection=Selection(layer=0, neuron=1, source=source))
    assert frame.selection is not None and frame.selection_samples is not None
    record = dict(zip(SELECTION_RECORD, frame.selection.tolist(), strict=True))
    shares = frame.selection_samples[:, 0] * frame.selection_samples[:, 5]  # a_source · δ
    record["data_gradient"] = float(shares.sum())
    return record


@pytest.mark.parametrize("regularization", ["none", "l1", "l2"])
@pytest.mark.parametrize("source", [0, None])
def test_gradient_is_the_batch_sum_plus_the_penalty(regularization: str, source: int | None
                                                     ) -> None:
    """dL/dw = Σ_b a_source·δ_b (+ λ·w or λ·sign(w) for a weight; biases are not penalized)."""
    r = _selected("sgd", regularization, source)
    if source is None or regularization == "none":
        assert r["penalty"] == 0.0
    np.testing.assert_allclose(r["data_gradient"] + r["penalty"], r["gradient"], rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("regularization", ["none", "l2"])
def test_sgd_rule(regularization: str) -> None:
    """SGD: Δθ = −η·g."""
    r = _selected("sgd", regularization, 0)
    np.testing.assert_allclose(r["update"], -r["learning_rate"] * r["gradient"], rtol=1e-12)


@pytest.mark.parametrize("regularization", ["none", "l1"])
def test_momentum_rule(regularization: str) -> None:
    """Momentum: v ← μ·v − η·g; Δθ = v, with v before and after in the block."""
    r = _selected("momentum", regularization, 0)
    expected = r["momentum"] * r["velocity_before"] - r["learning_rate"] * r["gradient"]
    np.testing.assert_allclose(r["velocity"], expected, rtol=1e-12)
    np.testing.assert_allclose(r["update"], r["velocity"], rtol=1e-12)


@pytest.mark.parametrize("regularization", ["none", "l2"])
def test_adam_rule(regularization: str) -> None:
    """Adam: m, v updated from before, bias-corrected with t, Δθ = −η·m̂/(√v̂ + ε)."""
    r = _selected("adam", regularization, 0)
    g, t = r["gradient"], r["t"]
    np.testing.assert_allclose(r["m"], r["beta1"] * r["m_before"] + (1 - r["beta1"]) * g,
                               rtol=1e-12)
    np.testing.assert_allclose(r["v"], r["beta2"] * r["v_before"] + (1 - r["beta2"]) * g * g,
                               rtol=1e-12)
    m_hat, v_hat = r["m"] / (1 - r["beta1"] ** t), r["v"] / (1 - r["beta2"] ** t)
    expected = -r["learning_rate"] * m_hat / (np.sqrt(v_hat) + r["epsilon"])
    np.testing.assert_allclose(r["update"], expected, rtol=1e-10)
    assert t == 6


@pytest.mark.parametrize("bias", [-40.0, -30.0, 30.0, 40.0])
def test_selection_grad_a_at_saturated_outputs(bias: float) -> None:
    """The selection block's dL/da for a saturated sigmoid output (|z| up to 40) is finite and
    within 1e-9 relative of the exact −(1 + e^−z)/B (y = 1) or (1 + e^z)/B (y = 0)."""
    config = config_from_dict({"network": {"hidden_layers": [], "features": ["x1"]}})
    session = TrainingSession(config)
    weights = session.get_weights()
    weights[0][0][:] = 0.0
    weights[0][1][:] = bias
    session.set_weights(weights)
    session.advance()
    session.advance()  # forward, loss: the output's dL/da is known
    frame = build_frame(session, sequence=1, running=False, metrics=session.evaluate(),
                        selection=Selection(layer=0, neuron=0))
    assert frame.selection_samples is not None and frame.batch is not None
    grad_a = frame.selection_samples[:, 3]
    labels = frame.batch[:len(grad_a), 3]
    batch = frame.batch_size
    exact = np.where(labels > 0.5, -(1 + np.exp(-bias)), 1 + np.exp(bias)) / batch
    assert np.isfinite(grad_a).all()
    np.testing.assert_allclose(grad_a, exact, rtol=1e-9)
