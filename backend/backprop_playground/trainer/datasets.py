"""2-D data sets: seeded generators, the user's own points, and the train/test split.

Every generator has one signature, ``generate(rng, n, noise) -> (points, labels)`` with
``points: (n, 2)`` inside the plane [-6, 6]² (mostly [-5, 5]²) and ``labels: (n,)``: a class
index (0., 1., ...) for classification, a target value in [-1, 1] for regression.
Randomness only ever comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .config import LIMITS, DataConfig, as_float
from .errors import ConfigError

FloatArray = NDArray[Any]
IntArray = NDArray[Any]
Generate = Callable[[np.random.Generator, int, float], tuple[FloatArray, FloatArray]]

RADIUS = 5.0


def _circle(rng: np.random.Generator, n: int, noise: float) -> tuple[FloatArray, FloatArray]:
    """Class 1 inside radius 2.5, class 0 in the ring 3.5..5; noise jitters the points."""
    inner = n // 2
    radius = np.concatenate([
        rng.uniform(0.0, 0.5 * RADIUS, inner), rng.uniform(0.7 * RADIUS, RADIUS, n - inner),
    ])
    angle = rng.uniform(0.0, 2.0 * math.pi, n)
    points = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    points += rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
    labels = (np.arange(n) < inner).astype(np.float64)
    return points, labels


def _xor(rng: np.random.Generator, n: int, noise: float) -> tuple[FloatArray, FloatArray]:
    """Class 1 where x1·x2 > 0 (first and third quadrants); points keep off the axes."""
    clean = rng.uniform(-RADIUS, RADIUS, (n, 2))
    clean += np.where(clean > 0, 0.3, -0.3)
    labels = (clean[:, 0] * clean[:, 1] > 0).astype(np.float64)
    points = clean + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
    return points, labels


def _gaussians(rng: np.random.Generator, n: int, noise: float) -> tuple[FloatArray, FloatArray]:
    """Two round Gaussian blobs at (2, 2) (class 1) and (-2, -2) (class 0)."""
    spread = 0.5 + 3.5 * noise
    half = n // 2
    centers = np.where((np.arange(n) < half)[:, None], 2.0, -2.0)
    points = centers + rng.normal(0.0, math.sqrt(spread), (n, 2))
    return points, (np.arange(n) < half).astype(np.float64)


def _spiral_arms(
    rng: np.random.Generator, n: int, noise: float, arms: int
) -> tuple[FloatArray, FloatArray]:
    """``arms`` interleaved spiral arms, one class each, 1.75 turns from the centre outwards."""
    arm = np.arange(n) % arms
    t = (np.arange(n) // arms) / max(1, (n - 1) // arms)
    radius = t * RADIUS
    angle = 1.75 * 2.0 * math.pi * t + arm * (2.0 * math.pi / arms)
    points = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    points += rng.uniform(-1.0, 1.0, (n, 2)) * noise * RADIUS * 0.3
    return points, arm.astype(np.float64)


def _spiral(rng: np.random.Generator, n: int, noise: float) -> tuple[FloatArray, FloatArray]:
    return _spiral_arms(rng, n, noise, 2)


def _spiral3(rng: np.random.Generator, n: int, noise: float) -> tuple[FloatArray, FloatArray]:
    return _spiral_arms(rng, n, noise, 3)


def _moons(rng: np.random.Generator, n: int, noise: float) -> tuple[FloatArray, FloatArray]:
    """Two interleaving half circles; class 1 is the upper moon."""
    upper = np.arange(n) < n // 2
    angle = rng.uniform(0.0, math.pi, n)
    x = np.where(upper, np.cos(angle), 1.0 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([(x - 0.5) * 3.2, (y - 0.25) * 3.2], axis=1)
    points += rng.normal(0.0, 1.0, (n, 2)) * noise * 2.0
    return points, upper.astype(np.float64)


def _blobs3(rng: np.random.Generator, n: int, noise: float) -> tuple[FloatArray, FloatArray]:
    """Three Gaussian blobs on a circle of radius 3, at 90°, 210° and 330°."""
    label = np.arange(n) % 3
    angle = math.pi / 2 + label * (2 * math.pi / 3)
    centers = 3.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    points = centers + rng.normal(0.0, 0.6 + 2.0 * noise, (n, 2))
    return points, label.astype(np.float64)


def _plane(rng: np.random.Generator, n: int, noise: float) -> tuple[FloatArray, FloatArray]:
    """Regression target (x1 + x2) / 10, a tilted plane in [-1, 1]; noise jitters the inputs."""
    clean = rng.uniform(-RADIUS, RADIUS, (n, 2))
    labels = (clean[:, 0] + clean[:, 1]) / (2 * RADIUS)
    return clean + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise, labels


_BUMPS = np.array([  # centre x1, centre x2, sign
    [-4.0, 2.5, 1.0], [0.0, 2.5, -1.0], [4.0, 2.5, 1.0],
    [-4.0, -2.5, -1.0], [0.0, -2.5, 1.0], [4.0, -2.5, -1.0],
])


def _multigauss(rng: np.random.Generator, n: int, noise: float) -> tuple[FloatArray, FloatArray]:
    """Regression target: six signed Gaussian bumps; each point takes its strongest bump."""
    clean = rng.uniform(-RADIUS, RADIUS, (n, 2))
    squared = ((clean[:, None, :] - _BUMPS[None, :, :2]) ** 2).sum(axis=2)  # (n, 6)
    heights = _BUMPS[:, 2] * np.exp(-squared / 2.0)
    labels = heights[np.arange(n), np.abs(heights).argmax(axis=1)]
    return clean + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise, labels


@dataclass(frozen=True)
class DatasetSpec:
    """A named generator with the problem it poses."""

    name: str
    title: str
    problem: str
    n_classes: int
    generate: Generate


DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    DatasetSpec("circle", "Circle", "binary", 2, _circle),
    DatasetSpec("xor", "XOR", "binary", 2, _xor),
    DatasetSpec("gaussians", "Two Gaussians", "binary", 2, _gaussians),
    DatasetSpec("spiral", "Spiral", "binary", 2, _spiral),
    DatasetSpec("moons", "Moons", "binary", 2, _moons),
    DatasetSpec("spiral3", "3-class spiral", "multiclass", 3, _spiral3),
    DatasetSpec("blobs3", "3 blobs", "multiclass", 3, _blobs3),
    DatasetSpec("plane", "Regression plane", "regression", 1, _plane),
    DatasetSpec("multigauss", "Multi-Gaussian", "regression", 1, _multigauss),
)}
CUSTOM = "custom"


@dataclass(frozen=True)
class Dataset:
    """Points and labels with a seeded train/test split.

    ``points: (n, 2)``, ``labels: (n,)``, ``train_index`` and ``test_index`` partition
    ``range(n)``; ``train_index`` is never empty.
    """

    points: FloatArray
    labels: FloatArray
    train_index: IntArray
    test_index: IntArray
    problem: str
    n_classes: int


def validate_points(
    points: Sequence[Sequence[float]], problem: str, n_classes: int, where: str = "data.points"
) -> tuple[FloatArray, FloatArray]:
    """Check user points row by row; return ``(points (n, 2), labels (n,))`` or ConfigError.

    The error names the first bad row, e.g. ``data.points[7]: label 3 is not a class (0..2)``.
    """
    low, high = LIMITS["custom_points"]
    if isinstance(points, str | bytes) or not hasattr(points, "__len__"):
        raise ConfigError(where, "must be a list of points (x1, x2, label)")
    if not 1 <= len(points) <= high:
        raise ConfigError(where, f"needs between {low:g} and {high:g} points, got {len(points)}")
    rows = np.empty((len(points), 3))
    for index, row in enumerate(points):
        rows[index] = _validate_row(f"{where}[{index}]", row, problem, n_classes)
    return rows[:, :2].copy(), rows[:, 2].copy()


def _validate_row(
    where: str, row: Sequence[float], problem: str, n_classes: int
) -> tuple[float, float, float]:
    if isinstance(row, str | bytes) or not hasattr(row, "__len__") or len(row) != 3:
        raise ConfigError(where, "each point is three numbers: x1, x2, label")
    values: list[float] = []
    for name, value in zip(("x1", "x2", "label"), row, strict=True):
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ConfigError(where, f"{name} must be a number, got {value!r}")
        number = as_float(value)
        if not math.isfinite(number):
            raise ConfigError(where, f"{name} must be finite, got {value!r}")
        values.append(number)
    x1, x2, label = values
    low, high = LIMITS["coordinate"]
    if not (low <= x1 <= high and low <= x2 <= high):
        raise ConfigError(where, f"coordinates must lie in [{low:g}, {high:g}]")
    if problem == "regression":
        low, high = LIMITS["regression_target"]
        if not low <= label <= high:
            raise ConfigError(where, f"target must lie in [{low:g}, {high:g}], got {label:g}")
    elif label != int(label) or not 0 <= label < n_classes:
        raise ConfigError(where, f"label {label:g} is not a class (0..{n_classes - 1})")
    return x1, x2, label


def build_dataset(
    data: DataConfig, problem: str, n_classes: int, rng: np.random.Generator
) -> Dataset:
    """Generate (or take the custom) points, then split them with ``rng``.

    The train part is ``round(train_fraction · n)`` points, at least 1 and, when n > 1,
    at most n − 1 so that there is always a test point.
    """
    if data.dataset == CUSTOM and data.test_points is not None:
        return _exact_split(data, problem, n_classes)
    if data.dataset == CUSTOM:
        assert data.points is not None, "validated configs carry points for 'custom'"
        points, labels = validate_points(data.points, problem, n_classes)
    else:
        points, labels = DATASETS[data.dataset].generate(rng, data.n_points, data.noise)
        low, high = LIMITS["coordinate"]
        points = np.clip(points, low, high)  # noise may push a point off the plane
    n = len(points)
    order = rng.permutation(n)
    n_train = min(max(1, round(data.train_fraction * n)), max(1, n - 1))
    return Dataset(
        points=np.ascontiguousarray(points, dtype=np.float64),
        labels=np.ascontiguousarray(labels, dtype=np.float64),
        train_index=np.sort(order[:n_train]),
        test_index=np.sort(order[n_train:]),
        problem=problem,
        n_classes=n_classes,
    )


def _exact_split(data: DataConfig, problem: str, n_classes: int) -> Dataset:
    """Custom data with its split given: ``points`` train, ``test_points`` test (in that
    order: point i < n_train is training point i)."""
    assert data.points is not None and data.test_points is not None
    train_points, train_labels = validate_points(data.points, problem, n_classes)
    if data.test_points:
        test_points, test_labels = validate_points(data.test_points, problem, n_classes,
                                                   "data.test_points")
    else:
        test_points, test_labels = np.empty((0, 2)), np.empty(0)
    n_train, n = len(train_points), len(train_points) + len(test_points)
    return Dataset(
        points=np.ascontiguousarray(np.concatenate([train_points, test_points])),
        labels=np.ascontiguousarray(np.concatenate([train_labels, test_labels])),
        train_index=np.arange(n_train), test_index=np.arange(n_train, n),
        problem=problem, n_classes=n_classes,
    )
