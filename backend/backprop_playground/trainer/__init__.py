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
from .diagnostics import STATUSES
from .divergence import LOSS_LIMIT, UPDATE_LIMIT, Divergence
from .errors import ConfigError, PhaseOrderError, TrainerError
from .evaluation import Metrics
from .inspection import LayerTensors, StepTensors
from .landscape import VERDICTS, StepLandscape, StepLosses
from .maps import grid_points
from .plans import PHASES
from .saturation import Saturation
from .serialize import config_from_dict, config_to_dict, restore, snapshot
from .session import TrainingSession

__all__ = [
    "ACTIVATIONS",
    "DATASETS",
    "FEATURES",
    "LIMITS",
    "LOSSES",
    "LOSS_LIMIT",
    "OPTIMIZERS",
    "PHASES",
    "PROBLEMS",
    "REGULARIZATIONS",
    "STATUSES",
    "UPDATE_LIMIT",
    "VERDICTS",
    "ConfigError",
    "DataConfig",
    "Divergence",
    "Hyperparameters",
    "LayerTensors",
    "Metrics",
    "NetworkConfig",
    "PhaseOrderError",
    "Saturation",
    "StepLandscape",
    "StepLosses",
    "StepTensors",
    "TrainerConfig",
    "TrainerError",
    "TrainingSession",
    "config_from_dict",
    "config_to_dict",
    "grid_points",
    "restore",
    "snapshot",
]
