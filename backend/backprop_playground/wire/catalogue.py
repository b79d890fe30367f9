"""The catalogue: what a client may choose, with the math of each choice and every limit.

Served once, as ``GET /api/options``; the page builds its controls, labels, formulas and
colour scales from it instead of keeping copies. Each entry reads the trainer's own
definition (the activation, head and optimizer classes carry their formulas next to the
code that computes them), so adding a loss means a head in ``trainer/heads.py``, its entry in
``LOSSES``, and tests.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from ..settings import Settings
from ..trainer import (
    ACTIVATIONS,
    DATASETS,
    LIMITS,
    LOSSES,
    OPTIMIZERS,
    TrainerConfig,
    config_to_dict,
)
from ..trainer.activations import ACTIVATION_FUNCTIONS, Activation
from ..trainer.config import HYPER_CHOICES, REGULARIZATION_FORMULAS, Hyperparameters
from ..trainer.features import FEATURE_LABELS
from ..trainer.heads import HEADS, Head
from ..trainer.landscape import VERDICTS
from ..trainer.optimizers import OPTIMIZER_CLASSES, Optimizer
from ..trainer.point_edits import ERASE_RADIUS
from .frame import MAX_BATCH_POINTS, PROTOCOL_VERSION

#: Limits of commands that are the server's, not the trainer's: steps per frame and the
#: number of steps one ``step`` command may ask for.
COMMAND_LIMITS: dict[str, tuple[float, float]] = {
    "speed": (0.01, 1000.0), "step_n": (1, 10_000),
    #: the focus point: an index among the minibatch points a frame lists
    "focus": (0, MAX_BATCH_POINTS - 1),
}


def _range(bounds: tuple[float | None, float | None] | None) -> list[float | None] | None:
    return None if bounds is None else list(bounds)


def activation_entry(activation: Activation) -> dict[str, Any]:
    """A hidden activation: its formula, its derivative and the interval of its values."""
    return {"name": activation.name, "title": activation.title, "formula": activation.formula,
            "derivative": activation.derivative_formula,
            "range": _range(activation.output_range)}


def loss_entry(head: Head) -> dict[str, Any]:
    """A loss with the output activation it comes with, the output's value range, and the
    chain-rule factors at the output: dL/da, da/dz and their product dL/dz."""
    return {"name": head.name, "problem": LOSSES[head.name], "title": head.title,
            "output_activation": head.output_activation,
            "output_range": _range(head.output_range), "formula": head.formula,
            "grad_output": head.grad_output_formula,
            "output_derivative": head.output_derivative_formula, "delta": head.delta_formula}


def optimizer_entry(optimizer: type[Optimizer]) -> dict[str, Any]:
    """An optimizer's exact update rule and the hyperparameters it reads."""
    return {"name": optimizer.name, "title": optimizer.title, "rule": optimizer.rule,
            "hyperparameters": list(optimizer.hyperparameters)}


def hyperparameter_entries() -> list[dict[str, Any]]:
    """Every live hyperparameter: its default and its range (numbers) or choices (names)."""
    entries = []
    for item in fields(Hyperparameters):
        entry: dict[str, Any] = {"name": item.name, "default": item.default}
        if item.name in HYPER_CHOICES:
            entry["choices"] = list(HYPER_CHOICES[item.name])
        else:
            entry["range"] = list(LIMITS[item.name])
            entry["integer"] = isinstance(item.default, int)
        entries.append(entry)
    return entries


def loss_curves(samples: int = 99) -> dict[str, Any]:
    """Both binary losses as functions of p, the predicted probability of a point's own
    class, for the loss lesson: each point's term ℓ, its slope dℓ/dp and δ = dℓ/dz, computed
    by the heads themselves (B = 1). Squared error reads its tanh output a as p = (1 + a)/2."""
    p = np.linspace(0.01, 0.99, samples)
    curves: dict[str, Any] = {}
    for name, a, da_dp in (("bce", p, 1.0), ("squared_error", 2.0 * p - 1.0, 2.0)):
        head = HEADS[name]
        z = np.log(p / (1.0 - p)) if name == "bce" else np.arctanh(a)
        zs, az, y = (np.reshape(v, (1, 1, -1)) for v in (z, a, np.ones_like(p)))
        loss = head.point_losses(zs, az, y)[0]
        grad_a = head.grad_output(zs, az, y)[0, 0] * samples  # one point's: B = 1, not B
        delta = grad_a * head.output_derivative(zs, az)[0, 0]
        curves[name] = {"loss": loss.round(6).tolist(),
                        "slope": (grad_a * da_dp).round(6).tolist(),
                        "delta": delta.round(6).tolist()}
    return {"p": p.round(6).tolist(), "losses": curves}


def options(settings: Settings) -> dict[str, Any]:
    """The options document served at ``GET /api/options``."""
    return {
        "protocol": PROTOCOL_VERSION,
        "datasets": [{"name": s.name, "title": s.title, "problem": s.problem,
                      "n_classes": s.n_classes} for s in DATASETS.values()],
        "features": [{"name": name, "label": label} for name, label in FEATURE_LABELS.items()],
        "activations": [activation_entry(ACTIVATION_FUNCTIONS[name]) for name in ACTIVATIONS],
        "losses": [loss_entry(HEADS[name]) for name in LOSSES],
        "optimizers": [optimizer_entry(OPTIMIZER_CLASSES[name]) for name in OPTIMIZERS],
        "regularizations": [{"name": name, "title": "none" if name == "none" else name.upper(),
                             "penalty": penalty, "gradient": gradient}
                            for name, (penalty, gradient) in REGULARIZATION_FORMULAS.items()],
        "hyperparameters": hyperparameter_entries(),
        "loss_curves": loss_curves(),
        "landscape_verdicts": [{"code": code, "sentence": sentence}
                               for code, sentence in VERDICTS.items()],
        "limits": {**{key: list(value) for key, value in LIMITS.items()},
                   **{key: list(value) for key, value in COMMAND_LIMITS.items()},
                   **settings.limits()},
        "defaults": config_to_dict(TrainerConfig()),
        "point_edits": {"erase_radius": ERASE_RADIUS},
    }
