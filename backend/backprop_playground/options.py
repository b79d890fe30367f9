"""What a client may choose and every limit, so the page builds its controls from data."""

from __future__ import annotations

from typing import Any

from .protocol import PROTOCOL_VERSION
from .settings import Settings
from .trainer import (
    ACTIVATIONS,
    DATASETS,
    LIMITS,
    LOSSES,
    OPTIMIZERS,
    REGULARIZATIONS,
    TrainerConfig,
    config_to_dict,
)
from .trainer.features import FEATURE_LABELS
from .trainer.heads import HEADS

LOSS_TITLES = {
    "bce": "sigmoid · cross-entropy",
    "squared_error": "tanh · squared error",
    "cross_entropy": "softmax · cross-entropy",
    "mse": "linear · squared error",
}


def options(settings: Settings) -> dict[str, Any]:
    """The options document served at ``GET /api/options``."""
    return {
        "protocol": PROTOCOL_VERSION,
        "datasets": [{"name": s.name, "title": s.title, "problem": s.problem,
                      "n_classes": s.n_classes} for s in DATASETS.values()],
        "features": [{"name": name, "label": label} for name, label in FEATURE_LABELS.items()],
        "activations": list(ACTIVATIONS),
        "losses": [{"name": name, "problem": problem, "title": LOSS_TITLES[name],
                    "formula": HEADS[name].formula} for name, problem in LOSSES.items()],
        "optimizers": list(OPTIMIZERS),
        "regularizations": list(REGULARIZATIONS),
        "limits": {**{key: list(value) for key, value in LIMITS.items()},
                   "speed": [0.01, 1000], "step_n": [1, 10_000], **settings.limits()},
        "defaults": config_to_dict(TrainerConfig()),
    }
