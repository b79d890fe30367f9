"""The landscape blocks of a frame: the last step on the loss landscape of its batch (see
``StepLandscape`` in trainer/landscape.py), whether it overshot, and saturation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..trainer import TrainingSession
from ..trainer.landscape import VERDICTS, StepLandscape
from ..wire.frame import LANDSCAPE_RECORD

VERDICT_CODES: tuple[str, ...] = tuple(VERDICTS)


def landscape_blocks(trainer: TrainingSession, run: int) -> dict[str, Any]:
    """``landscape`` (P, 2), ``landscape_info``, ``overshot`` once the step's update phase
    has run (the last completed step); ``saturation`` (L,) while the run is saturated."""
    blocks: dict[str, Any] = {}
    if trainer.phase == "update":
        landscape = trainer.step_landscape(run)
        if landscape is not None:
            blocks["landscape"] = np.column_stack([landscape.steps, landscape.losses])
            blocks["landscape_info"] = landscape_record(landscape)
            blocks["overshot"] = landscape.overshot
    if trainer.run_status(run) == "saturated":
        saturation = trainer.saturation(run)
        if saturation is not None:
            blocks["saturation"] = np.array(saturation.layers, dtype=float)
    return blocks


def landscape_record(landscape: StepLandscape) -> np.ndarray[Any, Any]:
    """The ``landscape_info`` block: LANDSCAPE_RECORD's fields in order."""
    values = {name: getattr(landscape, name) for name in LANDSCAPE_RECORD if name != "verdict"}
    values["verdict"] = VERDICT_CODES.index(landscape.verdict)
    return np.array([float(values[name]) for name in LANDSCAPE_RECORD])


def verdict_of(trainer: TrainingSession, run: int) -> tuple[float, float, float]:
    """A sweep run's last step: (verdict index, ‖Δθ‖, s*), NaN when there is none."""
    landscape = trainer.step_landscape(run) if trainer.phase == "update" else None
    if landscape is None:
        return math.nan, math.nan, math.nan
    return (float(VERDICT_CODES.index(landscape.verdict)), landscape.step_length,
            landscape.minimum_step)
