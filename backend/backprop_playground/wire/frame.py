"""The binary training frame: its layout and its encoder (see docs/protocol.md)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

PROTOCOL_VERSION = 1
FRAME_MAGIC = b"BPF1"
HEADER = struct.Struct("<4sHHIIIfBBBBffffffHHHHI")
PHASE_CODES = {None: 0, "forward": 1, "loss": 2, "backward": 3, "update": 4}
FLAG_RUNNING, FLAG_DIVERGED, FLAG_SELECTION, FLAG_SWEEP = 1, 2, 4, 8
SELECTION_FIELDS = 8  # kind, layer, source, neuron, weight, gradient, update, samples
SAMPLE_FIELDS = 6  # a_source, z, a, dL/da, da/dz, delta per batch point
MAX_SELECTION_SAMPLES = 32


@dataclass
class FrameData:
    """What one binary frame carries; array shapes as in docs/protocol.md."""

    sequence: int
    step: int
    epoch: int
    epoch_progress: float
    phase: str | None
    running: bool
    diverged: bool
    layer_sizes: list[int]  # n_0 = features, ..., n_L = outputs
    batch_loss: float
    train_loss: float
    test_loss: float
    train_accuracy: float
    test_accuracy: float
    learning_rate: float
    batch_size: int
    weights: list[NDArray[Any]]  # per layer (n_out, n_in)
    biases: list[NDArray[Any]]  # per layer (n_out,)
    grad_weights: list[NDArray[Any]]
    grad_biases: list[NDArray[Any]]
    update_weights: list[NDArray[Any]]
    update_biases: list[NDArray[Any]]
    gradient_norms: NDArray[Any]  # (L,)
    update_ratios: NDArray[Any]  # (L,)
    output_maps: NDArray[Any]  # (n_outputs, G, G)
    neuron_maps: NDArray[Any]  # (features + hidden neurons, T, T)
    selection: NDArray[Any] | None = field(default=None)  # (8 + 6·S,)
    #: A sweep's runs: ``[K, R]``, then per run ``[learning rate, train loss, test loss,
    #: diverged]``, then K output maps R×R (the first output; multiclass: the winning class).
    sweep: NDArray[Any] | None = field(default=None)


def encode_frame(frame: FrameData) -> bytes:
    """The binary frame: header, layer sizes (padded to 4 bytes), then float32 arrays."""
    sizes = frame.layer_sizes
    main_res = frame.output_maps.shape[-1]
    thumb_res = frame.neuron_maps.shape[-1] if frame.neuron_maps.size else 0
    samples = 0 if frame.selection is None else (
        (len(frame.selection) - SELECTION_FIELDS) // SAMPLE_FIELDS)
    arrays = [*_interleave(frame.weights, frame.biases),
              *_interleave(frame.grad_weights, frame.grad_biases),
              *_interleave(frame.update_weights, frame.update_biases),
              frame.gradient_norms, frame.update_ratios, frame.output_maps, frame.neuron_maps]
    if frame.selection is not None:
        arrays.append(frame.selection)
    if frame.sweep is not None:
        arrays.append(frame.sweep)
    body = b"".join(np.ascontiguousarray(a, dtype="<f4").tobytes() for a in arrays)
    size_bytes = bytes(sizes) + bytes(-(len(sizes)) % 4)
    flags = ((FLAG_RUNNING if frame.running else 0) | (FLAG_DIVERGED if frame.diverged else 0)
             | (FLAG_SELECTION if frame.selection is not None else 0)
             | (FLAG_SWEEP if frame.sweep is not None else 0))
    total = HEADER.size + len(size_bytes) + len(body)
    header = HEADER.pack(
        FRAME_MAGIC, PROTOCOL_VERSION, flags, frame.sequence & 0xFFFFFFFF, frame.step,
        frame.epoch, frame.epoch_progress, PHASE_CODES[frame.phase], len(sizes) - 1,
        sizes[0], 0, frame.batch_loss, frame.train_loss, frame.test_loss,
        frame.train_accuracy, frame.test_accuracy, frame.learning_rate, main_res, thumb_res,
        min(frame.batch_size, 0xFFFF), samples, total,
    )
    return header + size_bytes + body


def _interleave(first: list[NDArray[Any]], second: list[NDArray[Any]]) -> list[NDArray[Any]]:
    return [array for pair in zip(first, second, strict=True) for array in pair]


def decode_header(data: bytes) -> dict[str, Any]:
    """The header fields of a frame (tests and tools; the page uses frontend/protocol.js)."""
    names = ("magic", "version", "flags", "sequence", "step", "epoch", "epoch_progress",
             "phase", "n_layers", "n_features", "reserved", "batch_loss", "train_loss",
             "test_loss", "train_accuracy", "test_accuracy", "learning_rate", "main_res",
             "thumb_res", "batch_size", "selection_samples", "total_bytes")
    return dict(zip(names, HEADER.unpack_from(data), strict=True))
