"""Point edits: adding and erasing points of the data set while the network keeps training.

An edit turns the data set into the user's own (``custom``) with an exact split:
``DataConfig.points`` the training points, ``DataConfig.test_points`` the test points, in
the order the model holds them. Added points are training points (appended: the user
clicks to see the network respond to them); an erase removes the point (training or test)
nearest to where it was asked, within :data:`ERASE_RADIUS`. The config after an edit
rebuilds exactly the same data set, so an export imports to the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .config import LIMITS, DataConfig
from .datasets import CUSTOM, Dataset, validate_points
from .errors import ConfigError

Array = NDArray[Any]
#: An erase takes the nearest point within this distance (plane units) of where it was asked.
ERASE_RADIUS = 0.6
#: Points one edit may add or erase (the page sends one per click; a CSV is a configure).
MAX_EDIT_POINTS = 64


def edited_data(dataset: Dataset, data: DataConfig, add: Sequence[Sequence[float]],
                erase: Sequence[Sequence[float]]) -> DataConfig:
    """The data config after erasing the points nearest to each ``erase: (E, 2)`` position,
    then adding ``add: (A, 3)`` rows ``(x1, x2, label)`` as training points.

    ConfigError naming ``add[i]``/``erase[i]`` for a bad row, an erase that finds no point,
    the last training point erased, or more points than ``LIMITS["custom_points"]``."""
    if not add and not erase:
        raise ConfigError("add", "give points to add or to erase")
    for name, given in (("add", add), ("erase", erase)):
        if len(given) > MAX_EDIT_POINTS:
            raise ConfigError(name, f"at most {MAX_EDIT_POINTS} points per edit")
    rows = np.column_stack([dataset.points, dataset.labels])
    is_train = np.zeros(len(rows), dtype=bool)
    is_train[dataset.train_index] = True
    keep = np.ones(len(rows), dtype=bool)
    for index, where in enumerate(erase):
        keep[_nearest(rows, keep, where, f"erase[{index}]")] = False
    if not (keep & is_train).any():
        raise ConfigError("erase", "the last training point cannot be erased")
    added = _added_rows(add, dataset) if add else np.empty((0, 3))
    total = int(keep.sum()) + len(added)
    most = LIMITS["custom_points"][1]
    if total > most:
        raise ConfigError("add", f"the data set holds at most {most:g} points; erase some first")
    train = np.concatenate([rows[dataset.train_index][keep[dataset.train_index]], added])
    test = rows[dataset.test_index][keep[dataset.test_index]]
    return replace(data, dataset=CUSTOM, points=_as_rows(train), test_points=_as_rows(test))


def _added_rows(add: Sequence[Sequence[float]], dataset: Dataset) -> Array:
    """The rows to add, checked like any custom point (errors name ``add[i]``)."""
    points, labels = validate_points(add, dataset.problem, dataset.n_classes, "add")
    return np.column_stack([points, labels])


def _nearest(rows: Array, keep: Array, where: Sequence[float], name: str) -> int:
    """The index of the kept row nearest to ``where = (x1, x2)``, within ERASE_RADIUS."""
    if (isinstance(where, str | bytes) or not hasattr(where, "__len__") or len(where) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in where)
            or not all(np.isfinite(where))):
        raise ConfigError(name, "each erase is a position: two finite numbers x1, x2")
    distance = np.hypot(rows[:, 0] - where[0], rows[:, 1] - where[1])
    distance[~keep] = np.inf
    best = int(np.argmin(distance)) if len(distance) else -1
    if best < 0 or not distance[best] <= ERASE_RADIUS:
        raise ConfigError(name, f"no point within {ERASE_RADIUS:g} of "
                                f"({where[0]:g}, {where[1]:g}) to erase")
    return best


def _as_rows(rows: Array) -> tuple[tuple[float, float, float], ...]:
    return tuple((float(x1), float(x2), float(label)) for x1, x2, label in rows)
