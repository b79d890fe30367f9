"""The batch blocks of a frame: the current minibatch's points (for the output plot's rings
and the loss panel) and the focus point's activations layer by layer (for the forward
pass's wave). See ``BATCH_RECORD`` and the ``batch``/``focus_*`` blocks in wire/frame.py."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..trainer import StepTensors, TrainingSession
from ..wire.frame import BATCH_RECORD, MAX_BATCH_POINTS

Array = NDArray[Any]


def batch_blocks(trainer: TrainingSession, tensors: StepTensors, focus: int,
                 run: int = 0) -> dict[str, Any]:
    """``batch`` (N, len(BATCH_RECORD)) for the first N ≤ MAX_BATCH_POINTS points of the
    minibatch, ``focus`` (clamped to N − 1) and its ``focus_inputs``, ``focus_z``,
    ``focus_a``, ``focus_delta``; nothing before the step's forward phase (or for a given batch)."""
    index, output = trainer.batch_index, tensors.layers[-1]
    if (index is None or tensors.inputs is None or tensors.targets is None
            or output.z is None or output.a is None):
        return {}
    count = min(len(index), MAX_BATCH_POINTS)
    dataset, head = trainer.model.dataset, trainer.model.head
    rows = dataset.train_index[index[:count]]
    z, a, y = output.z[:count].T[None], output.a[:count].T[None], tensors.targets[:count].T[None]
    # The output unit the loss compares: the only one, or (multiclass) the point's class.
    unit = (dataset.labels[rows].astype(int) if len(output.a[0]) > 1
            else np.zeros(count, dtype=int))
    picked = np.arange(count)
    record = {
        "index": index[:count], "x1": dataset.points[rows, 0], "x2": dataset.points[rows, 1],
        "label": dataset.labels[rows], "target": tensors.targets[picked, unit],
        "output": output.a[picked, unit], "p_true": head.true_class_probability(a, y)[0],
        "loss": np.full(count, np.nan), "grad_output": np.full(count, np.nan),
    }
    if output.grad_a is not None:  # the loss phase has run
        record["loss"] = head.point_losses(z, a, y)[0]
        record["grad_output"] = output.grad_a[picked, unit]
    focus = min(max(focus, 0), count - 1)
    return {
        "batch": np.column_stack([record[name] for name in BATCH_RECORD]).astype(float),
        "focus": focus, "focus_inputs": tensors.inputs[focus],
        "focus_z": [_row(layer.z, focus) for layer in tensors.layers],
        "focus_a": [_row(layer.a, focus) for layer in tensors.layers],
        "focus_delta": [_row(layer.delta, focus, _row(layer.z, focus).size)
                        for layer in tensors.layers],
    }


def _row(values: Array | None, point: int, width: int = 0) -> Array:
    """Row ``point`` of ``values`` (B, n); NaN (n = ``width``) where the phase that computes
    them has not run yet."""
    if values is None:
        return np.full(width, np.nan)
    return values[point]
