"""The loss/accuracy history of a session, bounded: when full, every other point is dropped
and from then on only every other frame is recorded (so the curve keeps its whole span)."""

from __future__ import annotations

import math
from typing import Any

from ..trainer import ConfigError, Metrics
from ..trainer.snapshot_checks import exact_keys, listed, number, whole

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
        """Restore :meth:`as_dict` output (rows of numbers or nulls), validated strictly:
        exactly its keys, at most ``limit`` rows of 7 finite numbers or nulls, a whole
        stride."""
        data = exact_keys(data, "history", ("columns", "rows"), ("stride",))
        if data["columns"] != list(COLUMNS):
            raise ConfigError("history.columns", f"must be {list(COLUMNS)}")
        rows = listed(data["rows"], "history.rows", 0, self.limit)
        clean = []
        for index, row in enumerate(rows):
            values = listed(row, f"history.rows[{index}]", len(COLUMNS), len(COLUMNS))
            clean.append([math.nan if value is None else number(
                value, f"history.rows[{index}][{column}]") for column, value in enumerate(values)])
        stride = whole(data.get("stride", 1), "history.stride", 1, 2**20)
        self.rows, self.stride, self._skipped = clean, stride, 0
