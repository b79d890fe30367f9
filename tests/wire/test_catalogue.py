"""The catalogue (GET /api/options) tells the truth about the trainer it describes."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from backprop_playground.settings import Settings
from backprop_playground.trainer import ACTIVATIONS, LIMITS, LOSSES, OPTIMIZERS, Hyperparameters
from backprop_playground.trainer.activations import ACTIVATION_FUNCTIONS
from backprop_playground.trainer.config import HYPER_CHOICES
from backprop_playground.trainer.heads import HEADS
from backprop_playground.wire.catalogue import COMMAND_LIMITS, options

CATALOGUE = options(Settings())
Z = np.linspace(-30.0, 30.0, 601).reshape(1, 1, -1)


def _within(values: np.ndarray, bounds: list[float | None] | None) -> bool:
    low, high = (None, None) if bounds is None else bounds
    return bool((low is None or (values >= low).all()) and (high is None or (values <= high).all()))


@pytest.mark.parametrize("entry", CATALOGUE["losses"], ids=lambda e: e["name"])
def test_loss_output_range_holds_for_its_head(entry: dict[str, object]) -> None:
    """Every output the head computes lies in the range the catalogue gives for its loss."""
    head = HEADS[str(entry["name"])]
    z = np.repeat(Z, 3, axis=1) if head.name == "cross_entropy" else Z
    a = np.empty_like(z)
    head.forward(z, a)
    assert _within(a, entry["output_range"])  # type: ignore[arg-type]
    assert entry["problem"] == LOSSES[head.name]


def test_loss_output_activation_is_the_head_forward() -> None:
    """A loss's output activation named in the catalogue computes what its head computes
    (softmax, which is not elementwise, aside)."""
    for entry in CATALOGUE["losses"]:
        if entry["output_activation"] == "softmax":
            continue
        head, activation = HEADS[entry["name"]], ACTIVATION_FUNCTIONS[entry["output_activation"]]
        a_head, a_activation = np.empty_like(Z), np.empty_like(Z)
        head.forward(Z, a_head)
        activation.forward(Z, a_activation)
        np.testing.assert_allclose(a_head, a_activation, rtol=0, atol=1e-15)


@pytest.mark.parametrize("entry", CATALOGUE["activations"], ids=lambda e: e["name"])
def test_activation_range_and_formulas(entry: dict[str, object]) -> None:
    """Each hidden activation's values lie in its stated range; it has a derivative formula."""
    activation = ACTIVATION_FUNCTIONS[str(entry["name"])]
    a = np.empty_like(Z)
    activation.forward(Z, a)
    assert _within(a, entry["range"])  # type: ignore[arg-type]
    assert str(entry["derivative"]).startswith("da/dz = ")


def test_every_choice_is_listed_in_order() -> None:
    """Names come in the trainer's order, so controls list them as the trainer does."""
    assert [a["name"] for a in CATALOGUE["activations"]] == list(ACTIVATIONS)
    assert [o["name"] for o in CATALOGUE["optimizers"]] == list(OPTIMIZERS)
    assert [loss["name"] for loss in CATALOGUE["losses"]] == list(LOSSES)


def test_optimizer_hyperparameters_are_real_fields() -> None:
    """An optimizer's listed hyperparameters are Hyperparameters fields, each with limits."""
    names = {item.name for item in fields(Hyperparameters)}
    for entry in CATALOGUE["optimizers"]:
        assert entry["rule"] and "Δθ" in entry["rule"]
        assert set(entry["hyperparameters"]) <= names
        assert all(name in LIMITS for name in entry["hyperparameters"])


def test_hyperparameters_cover_the_dataclass_with_its_limits() -> None:
    """Every live hyperparameter is described once, from the dataclass and LIMITS."""
    entries = {entry["name"]: entry for entry in CATALOGUE["hyperparameters"]}
    assert list(entries) == [item.name for item in fields(Hyperparameters)]
    for item in fields(Hyperparameters):
        entry = entries[item.name]
        assert entry["default"] == item.default
        if item.name in HYPER_CHOICES:
            assert entry["choices"] == list(HYPER_CHOICES[item.name])
        else:
            assert entry["range"] == list(LIMITS[item.name])
    assert {key: tuple(CATALOGUE["limits"][key]) for key in COMMAND_LIMITS} == COMMAND_LIMITS


def test_loss_curves_are_the_losses_of_one_point() -> None:
    """The loss lesson's curves (one point of its own class with probability p): cross-entropy
    −log p with slope −1/p and δ = p − 1; squared error on a = 2p − 1: ½(a − 1)², slope
    2(a − 1), δ = (a − 1)(1 − a²) — which vanishes when the point is confidently wrong."""
    curves = CATALOGUE["loss_curves"]
    p = np.array(curves["p"])
    bce, squared = curves["losses"]["bce"], curves["losses"]["squared_error"]
    np.testing.assert_allclose(bce["loss"], -np.log(p), atol=1e-6)
    np.testing.assert_allclose(bce["slope"], -1 / p, rtol=1e-6)
    np.testing.assert_allclose(bce["delta"], p - 1, atol=1e-6)
    a = 2 * p - 1
    np.testing.assert_allclose(squared["loss"], 0.5 * (a - 1) ** 2, atol=1e-6)
    np.testing.assert_allclose(squared["slope"], 2 * (a - 1), atol=1e-6)
    np.testing.assert_allclose(squared["delta"], (a - 1) * (1 - a * a), atol=1e-6)
    assert abs(bce["delta"][0]) > 10 * abs(squared["delta"][0])
