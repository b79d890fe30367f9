"""The stepwise NumPy trainer: pure NumPy and the standard library, no web code.

See ``docs/trainer.md`` for the API.
"""

from .config import (
    ACTIVATIONS,
    FEATURES,
    LIMITS,
    LOSSES,
    OPTIMIZERS,
    PROBLEMS,
    REGULARIZATIONS,
    DataConfig,
    Hyperparameters,
    NetworkConfig,
    TrainerConfig,
)
from .datasets import DATASETS
from .errors import ConfigError, PhaseOrderError, TrainerError
from .session import LOSS_LIMIT, PHASES, UPDATE_LIMIT, Divergence, TrainingSession

__all__ = [
    "ACTIVATIONS", "DATASETS", "FEATURES", "LIMITS", "LOSSES", "LOSS_LIMIT", "OPTIMIZERS",
    "PHASES", "PROBLEMS", "REGULARIZATIONS", "UPDATE_LIMIT", "ConfigError", "DataConfig",
    "Divergence", "Hyperparameters", "NetworkConfig", "PhaseOrderError", "TrainerConfig",
    "TrainerError", "TrainingSession",
]
