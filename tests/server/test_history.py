"""The session's loss history stays bounded however long a run goes, keeps its whole span,
and only loads well-formed rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop_playground.live.history import COLUMNS, History
from backprop_playground.trainer import ConfigError, Metrics


def metrics(loss: float, accuracy: float | None = 0.5) -> Metrics:
    """Metrics of one run."""
    acc = None if accuracy is None else np.array([accuracy])
    return Metrics(train_loss=np.array([loss]), test_loss=np.array([loss]),
                   train_accuracy=acc, test_accuracy=acc, regularization_loss=np.zeros(1))


def test_history_is_bounded_and_keeps_its_span() -> None:
    """100 000 frames never make more than ``limit`` rows; first and recent steps stay."""
    history = History(limit=100)
    for step in range(1, 100_001):
        history.record(step, step / 50, metrics(1 / step), 0.1)
        assert len(history.rows) <= 100
    assert history.rows[0][0] == 1
    assert history.rows[-1][0] > 99_000
    assert history.stride > 1
    steps = [row[0] for row in history.rows]
    assert steps == sorted(steps)


def test_history_skips_a_repeated_step() -> None:
    """Two frames of the same step (e.g. pause after step) make one row."""
    history = History()
    history.record(3, 0.1, metrics(0.5), 0.4)
    history.record(3, 0.1, metrics(0.5), 0.4)
    assert len(history.rows) == 1


def test_regression_history_has_nan_accuracy_and_exports_null() -> None:
    """Regression rows hold NaN accuracy; as_dict/load (JSON null) round-trips it."""
    history = History()
    history.record(1, 0.1, metrics(0.5, None), 0.4)
    assert math.isnan(history.rows[0][4])
    exported = history.as_dict()
    exported["rows"] = [[None if isinstance(v, float) and math.isnan(v) else v for v in row]
                        for row in exported["rows"]]
    again = History()
    again.load(exported)
    assert math.isnan(again.rows[0][4]) and again.rows[0][2] == 0.5


@pytest.mark.parametrize(("data", "field"), [
    ({"columns": ["step"], "rows": []}, "history"),
    ({"columns": list(COLUMNS), "rows": "x"}, "history.rows"),
    ({"columns": list(COLUMNS), "rows": [[1] * 7] * 4001}, "history.rows"),
    ({"columns": list(COLUMNS), "rows": [[1] * 7, [1, 2]]}, "history.rows[1]"),
    ({"columns": list(COLUMNS), "rows": [[True] * 7]}, "history.rows[0]"),
    ({"columns": list(COLUMNS), "rows": [["1"] * 7]}, "history.rows[0]"),
])
def test_history_load_refuses_malformed_data(data: dict[str, object], field: str) -> None:
    """Malformed history data is refused with a ConfigError naming the field (or the part
    of it at fault, e.g. ``history.rows[0][3]``)."""
    with pytest.raises(ConfigError) as refused:
        History().load(data)
    path = refused.value.field
    assert path == field or path.startswith((f"{field}[", f"{field}.")), path


@pytest.mark.parametrize("value", [10**400, -(10**400), 2.0, None])
def test_history_load_takes_any_finite_number_and_refuses_huge_ones(value: object) -> None:
    """A row value too large for a float (10**400) is refused, not an OverflowError."""
    data = {"columns": list(COLUMNS), "rows": [[1, 0.5, 0.7, 0.7, 0.5, 0.5, value]]}
    if isinstance(value, int):
        with pytest.raises(ConfigError) as refused:
            History().load(data)
        assert refused.value.field == "history.rows[0][6]"
    else:
        History().load(data)
