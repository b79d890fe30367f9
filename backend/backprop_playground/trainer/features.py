"""The nine input features computed from a point (x1, x2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

FeatureFn = Callable[[NDArray[np.floating], NDArray[np.floating]], NDArray[np.floating]]

FEATURE_FUNCTIONS: dict[str, FeatureFn] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1_squared": lambda x1, x2: x1 * x1,
    "x2_squared": lambda x1, x2: x2 * x2,
    "x1_times_x2": lambda x1, x2: x1 * x2,
    "sin_x1": lambda x1, x2: np.sin(x1),
    "sin_x2": lambda x1, x2: np.sin(x2),
    "cos_x1": lambda x1, x2: np.cos(x1),
    "cos_x2": lambda x1, x2: np.cos(x2),
}
FEATURE_LABELS: dict[str, str] = {
    "x1": "x₁", "x2": "x₂", "x1_squared": "x₁²", "x2_squared": "x₂²", "x1_times_x2": "x₁x₂",
    "sin_x1": "sin x₁", "sin_x2": "sin x₂", "cos_x1": "cos x₁", "cos_x2": "cos x₂",
}


def feature_matrix(
    points: NDArray[np.floating], names: Sequence[str], dtype: type = np.float64
) -> NDArray[np.floating]:
    """Features with a trailing column of ones (the bias input).

    ``points: (n, 2)`` -> ``(n, len(names) + 1)``; column j is feature ``names[j]``.
    """
    points = np.asarray(points, dtype=dtype)
    out: NDArray[np.floating] = np.ones((len(points), len(names) + 1), dtype=dtype)
    x1, x2 = points[:, 0], points[:, 1]
    for column, name in enumerate(names):
        out[:, column] = FEATURE_FUNCTIONS[name](x1, x2)
    return out
