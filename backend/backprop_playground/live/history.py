"""The loss/accuracy history of a session, bounded: when full, every other point is dropped
and from then on only every other frame is recorded (so the curve keeps its whole span)."""

from __future__ import annotations

import math
from typing import Any

from ..trainer import ConfigError, Metrics

COLUMNS = ("step", "epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy",
           "batch_loss")


class History:
    """Rows ``COLUMNS``; at most ``limit`` of them."""

    def __init__(self, limit: int = 4000) -> None:
        self.limit = limit
        self.rows: list[list[float]] = []
        self.stride = 1
        self._skipped = 0

    def record(self, step: int, epoch: float, metrics: Metrics, batch_loss: float,
               run: int = 0) -> None:
        if self.rows and self.rows[-1][0] == step:
            return
        self._skipped += 1
        if self._skipped < self.stride:
            return
        self._skipped = 0
        accuracy = (math.nan if metrics.train_accuracy is None
                    else float(metrics.train_accuracy[run]))
        test_accuracy = (math.nan if metrics.test_accuracy is None
                         else float(metrics.test_accuracy[run]))
        self.rows.append([float(step), float(epoch), float(metrics.train_loss[run]),
                          float(metrics.test_loss[run]), accuracy, test_accuracy,
                          float(batch_loss)])
        if len(self.rows) > self.limit:
            del self.rows[1::2]
            self.stride *= 2

    def clear(self) -> None:
        self.rows.clear()
        self.stride, self._skipped = 1, 0

    def as_dict(self) -> dict[str, Any]:
        return {"columns": list(COLUMNS), "rows": [list(row) for row in self.rows],
                "stride": self.stride}

    def load(self, data: Any) -> None:
        """Restore :meth:`as_dict` output (rows of numbers or nulls), validated."""
        if not isinstance(data, dict) or data.get("columns") != list(COLUMNS):
            raise ConfigError("history", f"must have columns {list(COLUMNS)}")
        rows = data.get("rows")
        if not isinstance(rows, list) or len(rows) > self.limit:
            raise ConfigError("history.rows", f"must be a list of at most {self.limit} rows")
        clean = []
        for index, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != len(COLUMNS) or not all(
                    value is None or (isinstance(value, int | float)
                                      and not isinstance(value, bool) and math.isfinite(value))
                    for value in row):
                raise ConfigError(f"history.rows[{index}]", "must be 7 numbers or nulls")
            clean.append([math.nan if value is None else float(value) for value in row])
        self.rows = clean
        stride = data.get("stride", 1)
        if not (isinstance(stride, int) and 1 <= stride <= 2**20):
            raise ConfigError("history.stride", "must be a whole number from 1 to 2^20")
        self.stride = stride
