"""The binary training frame, declared once: a header of named fields and a body of named
float32 arrays whose shapes are written in the network's sizes.

:data:`HEADER_FIELDS` and :data:`BLOCKS` are the only description of the layout. The server
encodes from them (:func:`encode_frame` checks every array against its declared shape), the
page decodes from them (``frontend/wire.gen.js`` is generated from this module by
``python -m backprop_playground.wire.generate``; a test fails when it is stale), and the
tables in ``docs/protocol.md`` are generated from them too.

Shape symbols are header fields (``n_outputs``, ``main_res`` …) or, for per-layer blocks,
``n_in``/``n_out``: the sizes of layer l's inputs and outputs, ``layer_sizes[l]`` and
``layer_sizes[l + 1]``. A per-layer block holds its L arrays one after the other, first
hidden layer first. A block with a ``flag`` is present only when that header flag is set.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

PROTOCOL_VERSION = 1
FRAME_MAGIC = b"BPF1"
#: Phase names by header code (0: no phase of the current step has run yet).
PHASES: tuple[str | None, ...] = (None, "forward", "loss", "backward", "update")
#: Header ``flags`` bits by name: bit i is FLAGS[i].
FLAGS: tuple[str, ...] = ("running", "diverged", "selection", "sweep", "batch", "landscape",
                          "overshot", "saturated")
(FLAG_RUNNING, FLAG_DIVERGED, FLAG_SELECTION, FLAG_SWEEP, FLAG_BATCH, FLAG_LANDSCAPE,
 FLAG_OVERSHOT, FLAG_SATURATED) = (1 << i for i in range(len(FLAGS)))
#: The most layer sizes a frame carries (input, 8 hidden layers, output).
MAX_SIZES = 10
MAX_SELECTION_SAMPLES = 32
#: The most points of the current minibatch a frame lists (the page says "first N of B").
MAX_BATCH_POINTS = 64
#: Types of header fields: struct code, the JS DataView getter's type and its byte size.
FIELD_TYPES: dict[str, tuple[str, int]] = {
    "magic": ("4s", 4), "u8": ("B", 1), "u16": ("H", 2), "u32": ("I", 4), "u64": ("Q", 8),
    "f32": ("f", 4),
    "sizes": (f"{MAX_SIZES + 2}s", MAX_SIZES + 2),
}


@dataclass(frozen=True)
class HeaderField:
    """One little-endian header field (``type`` is a key of :data:`FIELD_TYPES`)."""

    name: str
    type: str
    doc: str


@dataclass(frozen=True)
class Block:
    """A float32 array of the body. ``fields`` names the entries of the last axis when the
    array is a table of records (one row per batch point, per sweep run …)."""

    name: str
    shape: tuple[str | int, ...]
    doc: str
    per_layer: bool = False
    flag: str | None = None
    fields: tuple[str, ...] = ()


#: The selection block's fields: the parameter, then what its update rule read: η, the
#: regularization term of the gradient, the optimizer's constants and its memory for this
#: parameter before and after the update (NaN where the optimizer has no such memory).
SELECTION_RECORD: tuple[str, ...] = (
    "kind", "layer", "source", "neuron", "weight", "gradient", "update", "samples",
    "learning_rate", "penalty", "momentum", "beta1", "beta2", "epsilon", "t",
    "velocity_before", "velocity", "m_before", "m", "v_before", "v",
)

#: The last step on the loss landscape (``landscape_info``): the step it belongs to, its
#: length ‖Δθ‖, ‖g‖, η, the slope f′(0), f(0) and f(‖Δθ‖), the valley s* and f(s*), whether
#: s* is at the sampled edge, and the verdict (index in the catalogue's landscape_verdicts).
LANDSCAPE_RECORD: tuple[str, ...] = (
    "step", "step_length", "gradient_norm", "learning_rate", "slope", "loss_before",
    "loss_after", "minimum_step", "minimum_loss", "minimum_at_edge", "verdict",
)
#: A sweep run's record: its rate, losses, whether it diverged, and its last step's verdict
#: on the landscape (index, NaN when none) with the step length and the valley position.
SWEEP_RECORD: tuple[str, ...] = (
    "learning_rate", "train_loss", "test_loss", "diverged", "verdict", "step_length",
    "minimum_step",
)
#: A minibatch point's record (the ``batch`` block).
BATCH_RECORD: tuple[str, ...] = (
    "index", "x1", "x2", "label", "target", "output", "p_true", "loss", "grad_output",
)

HEADER_FIELDS: tuple[HeaderField, ...] = (
    HeaderField("magic", "magic", 'ASCII "BPF1"'),
    HeaderField("version", "u16", "protocol version"),
    HeaderField("flags", "u16", "bit i set: FLAGS[i] (see below)"),
    HeaderField("sequence", "u32", "frame counter of the session (wraps modulo 2³²)"),
    HeaderField("step", "u64", "completed updates (exact up to 2⁵³ in the page)"),
    HeaderField("epoch", "u64", "completed passes over the training data"),
    HeaderField("epoch_progress", "f32", "fractional epochs"),
    HeaderField("phase", "u8", "last completed phase of the current step: index in PHASES"),
    HeaderField("n_layers", "u8", "L: weight layers (hidden layers + output layer)"),
    HeaderField("n_features", "u8", "input features (= layer_sizes[0])"),
    HeaderField("n_outputs", "u8", "output neurons (= layer_sizes[L])"),
    HeaderField("batch_loss", "f32", "loss of the current minibatch (NaN before the loss phase)"),
    HeaderField("train_loss", "f32", "loss over the training set"),
    HeaderField("test_loss", "f32", "loss over the test set"),
    HeaderField("train_accuracy", "f32", "fraction right on the training set (NaN: regression)"),
    HeaderField("test_accuracy", "f32", "fraction right on the test set (NaN: regression)"),
    HeaderField("learning_rate", "f32", "η of the shown run"),
    HeaderField("main_res", "u16", "G: output maps are G × G"),
    HeaderField("thumb_res", "u16", "T: neuron maps are T × T"),
    HeaderField("batch_size", "u16", "size of the current minibatch (0 before the first step)"),
    HeaderField("selection_samples", "u16", "S: batch points in the selection block"),
    HeaderField("n_neurons", "u16", "features + hidden neurons (= Σ layer_sizes[0:L])"),
    HeaderField("batch_points", "u16", "N: points of the current minibatch listed (first N)"),
    HeaderField("focus", "u16", "the focus point: its index among the listed batch points"),
    HeaderField("landscape_points", "u16", "P: samples of the last step's landscape"),
    HeaderField("reserved", "u16", "0"),
    HeaderField("sweep_runs", "u8", "K: runs of a learning-rate sweep (0: no sweep)"),
    HeaderField("sweep_res", "u8", "R: sweep maps are R × R"),
    HeaderField("layer_sizes", "sizes",
                f"n_0 (features), hidden sizes …, n_L (outputs); zero-padded to {MAX_SIZES + 2}"),
    HeaderField("total_bytes", "u32", "length of the whole frame"),
)

BLOCKS: tuple[Block, ...] = (
    Block("weights", ("n_out", "n_in"), "W_l; row j, column i: weight from input i to neuron j",
          per_layer=True),
    Block("biases", ("n_out",), "b_l", per_layer=True),
    Block("grad_weights", ("n_out", "n_in"), "dL/dW_l of this step (NaN before backward)",
          per_layer=True),
    Block("grad_biases", ("n_out",), "dL/db_l of this step (NaN before backward)",
          per_layer=True),
    Block("update_weights", ("n_out", "n_in"), "ΔW_l applied by this step (NaN before update)",
          per_layer=True),
    Block("update_biases", ("n_out",), "Δb_l applied by this step (NaN before update)",
          per_layer=True),
    Block("gradient_norms", ("n_layers",), "‖dL/d[W_l ∣ b_l]‖₂ per layer"),
    Block("update_ratios", ("n_layers",), "‖Δθ_l‖ / ‖θ_l‖ per layer"),
    Block("output_maps", ("n_outputs", "main_res", "main_res"),
          "each output over the plane [−6, 6]²; row 0 is the top (x2 = +6), column 0 x1 = −6"),
    Block("neuron_maps", ("n_neurons", "thumb_res", "thumb_res"),
          "each input feature, then each hidden neuron layer by layer, sampled like the maps"),
    Block("selection", (len(SELECTION_RECORD),),
          "the selected neuron's bias (kind 1, source −1) or edge (kind 2): its value, "
          "gradient and update, and the update rule's inputs for it in the step that ran",
          flag="selection", fields=SELECTION_RECORD),
    Block("selection_samples", ("selection_samples", 6),
          "per batch point (the first S): the selected parameter's chain-rule factors",
          flag="selection", fields=("a_source", "z", "a", "grad_a", "da_dz", "delta")),
    Block("batch", ("batch_points", len(BATCH_RECORD)),
          "the minibatch's points once the forward phase has run: training-set index, "
          "position, label; target y, output a and p(own class) of the output unit the loss "
          "compares (multiclass: the point's class); its loss term ℓ_b and dL/da (NaN "
          "before the loss phase)", flag="batch", fields=BATCH_RECORD),
    Block("focus_inputs", ("n_features",), "the focus point's feature values", flag="batch"),
    Block("focus_z", ("n_out",), "the focus point's pre-activations z", per_layer=True,
          flag="batch"),
    Block("focus_a", ("n_out",), "the focus point's activations a", per_layer=True,
          flag="batch"),
    Block("focus_delta", ("n_out",), "the focus point's δ = dℓ/dz (with the 1/B of the "
          "mean; NaN before the phase that computes it)", per_layer=True, flag="batch"),
    Block("landscape", ("landscape_points", 2),
          "the last step's batch objective f(s) along its update direction: s (distance from "
          "the weights before the step) and f(s)", flag="landscape", fields=("s", "loss")),
    Block("landscape_info", (len(LANDSCAPE_RECORD),), "what the landscape says",
          flag="landscape", fields=LANDSCAPE_RECORD),
    Block("saturation", ("n_layers",), "per layer, the share of units saturated on the "
          "batch (the run's gradients have vanished)", flag="saturated"),
    Block("sweep", ("sweep_runs", len(SWEEP_RECORD)), "per run of a learning-rate sweep",
          flag="sweep", fields=SWEEP_RECORD),
    Block("sweep_maps", ("sweep_runs", "sweep_res", "sweep_res"),
          "each run's output (multiclass: the winning class index)", flag="sweep"),
)

HEADER = struct.Struct("<" + "".join(FIELD_TYPES[f.type][0] for f in HEADER_FIELDS))
BLOCK: dict[str, Block] = {block.name: block for block in BLOCKS}
SELECTION_FIELDS = len(BLOCK["selection"].fields)
SAMPLE_FIELDS = len(BLOCK["selection_samples"].fields)
Array = NDArray[Any]


@dataclass
class FrameData:
    """What one frame carries: the header's own values and every block's arrays (named as in
    :data:`BLOCKS`; per-layer blocks as lists, first hidden layer first)."""

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
    weights: list[Array]  # per layer (n_out, n_in)
    biases: list[Array]  # per layer (n_out,)
    grad_weights: list[Array]
    grad_biases: list[Array]
    update_weights: list[Array]
    update_biases: list[Array]
    gradient_norms: Array  # (L,)
    update_ratios: Array  # (L,)
    output_maps: Array  # (n_outputs, G, G)
    neuron_maps: Array  # (n_neurons, T, T)
    selection: Array | None = field(default=None)  # (8,)
    selection_samples: Array | None = field(default=None)  # (S, 6)
    batch: Array | None = field(default=None)  # (N, len(BATCH_RECORD))
    focus: int = 0
    focus_inputs: Array | None = field(default=None)  # (n_features,)
    focus_z: list[Array] | None = field(default=None)  # per layer (n_out,)
    focus_a: list[Array] | None = field(default=None)  # per layer (n_out,)
    focus_delta: list[Array] | None = field(default=None)  # per layer (n_out,)
    landscape: Array | None = field(default=None)  # (P, 2)
    landscape_info: Array | None = field(default=None)  # (len(LANDSCAPE_RECORD),)
    overshot: bool = False
    saturation: Array | None = field(default=None)  # (L,)
    sweep: Array | None = field(default=None)  # (K, len(SWEEP_RECORD))
    sweep_maps: Array | None = field(default=None)  # (K, R, R)

    def flags(self) -> int:
        present = {"running": self.running, "diverged": self.diverged,
                   "selection": self.selection is not None, "sweep": self.sweep is not None,
                   "batch": self.batch is not None, "landscape": self.landscape is not None,
                   "overshot": self.overshot, "saturated": self.saturation is not None}
        return sum(1 << i for i, name in enumerate(FLAGS) if present[name])

    def symbols(self) -> dict[str, int]:
        """The header's shape symbols, read off the arrays."""
        sizes = self.layer_sizes
        maps, thumbs = self.output_maps, self.neuron_maps
        return {
            "n_layers": len(sizes) - 1, "n_features": sizes[0], "n_outputs": sizes[-1],
            "n_neurons": sum(sizes[:-1]), "main_res": maps.shape[-1],
            "thumb_res": thumbs.shape[-1] if thumbs.size else 0,
            "selection_samples": 0 if self.selection_samples is None
            else len(self.selection_samples),
            "batch_points": 0 if self.batch is None else len(self.batch),
            "landscape_points": 0 if self.landscape is None else len(self.landscape),
            "sweep_runs": 0 if self.sweep is None else len(self.sweep),
            "sweep_res": 0 if self.sweep_maps is None else self.sweep_maps.shape[-1],
        }


def block_shapes(block: Block, symbols: dict[str, int], sizes: list[int]) -> list[tuple[int, ...]]:
    """The shape of each array of ``block`` (one per layer for a per-layer block)."""
    def evaluate(extra: dict[str, int]) -> tuple[int, ...]:
        every = {**symbols, **extra}
        return tuple(dim if isinstance(dim, int) else every[dim] for dim in block.shape)

    if not block.per_layer:
        return [evaluate({})]
    return [evaluate({"n_in": sizes[layer], "n_out": sizes[layer + 1]})
            for layer in range(len(sizes) - 1)]


def encode_frame(frame: FrameData) -> bytes:
    """The frame's bytes: header, then every present block as little-endian float32.
    ValueError if an array's shape is not the one its block declares."""
    symbols, sizes, flags = frame.symbols(), frame.layer_sizes, frame.flags()
    if len(sizes) > MAX_SIZES:
        raise ValueError(f"a frame carries at most {MAX_SIZES} layer sizes, got {len(sizes)}")
    parts: list[bytes] = []
    for block in BLOCKS:
        if block.flag is not None and not flags & (1 << FLAGS.index(block.flag)):
            continue
        value = getattr(frame, block.name)
        arrays = value if block.per_layer else [value]
        for array, shape in zip(arrays, block_shapes(block, symbols, sizes), strict=True):
            data = np.ascontiguousarray(array, dtype="<f4")
            if data.shape != shape:
                raise ValueError(f"frame block {block.name}: shape {data.shape}, expected {shape}")
            parts.append(data.tobytes())
    body = b"".join(parts)
    values = {**symbols, **{name: getattr(frame, name) for name in (
        "focus", "step", "epoch", "epoch_progress", "batch_loss", "train_loss", "test_loss",
        "train_accuracy", "test_accuracy", "learning_rate")}}
    values.update(magic=FRAME_MAGIC, version=PROTOCOL_VERSION, flags=flags,
                  sequence=frame.sequence & 0xFFFFFFFF, phase=PHASES.index(frame.phase),
                  batch_size=min(frame.batch_size, 0xFFFF), layer_sizes=bytes(sizes), reserved=0,
                  total_bytes=HEADER.size + len(body))
    return HEADER.pack(*(values[f.name] for f in HEADER_FIELDS)) + body


def decode_header(data: bytes) -> dict[str, Any]:
    """The header fields of a frame by name (tests and tools; the page decodes with
    frontend/protocol.js from the generated layout)."""
    header = dict(zip((f.name for f in HEADER_FIELDS), HEADER.unpack_from(data), strict=True))
    header["layer_sizes"] = list(header["layer_sizes"][:header["n_layers"] + 1])
    return header


def layout_document() -> dict[str, Any]:
    """The layout as plain data (for the generated ``frontend/wire.gen.js``): header fields
    with their byte offsets, blocks in order, flags and phases."""
    offset, fields = 0, []
    for f in HEADER_FIELDS:
        size = FIELD_TYPES[f.type][1]
        fields.append({"name": f.name, "type": f.type, "offset": offset, "size": size})
        offset += size
    return {
        "version": PROTOCOL_VERSION, "magic": FRAME_MAGIC.decode(), "header_bytes": HEADER.size,
        "header": fields, "flags": list(FLAGS), "phases": list(PHASES),
        "blocks": [{"name": b.name, "shape": list(b.shape), "per_layer": b.per_layer,
                    "flag": b.flag, "fields": list(b.fields)} for b in BLOCKS],
    }


def frame_floats(symbols: dict[str, int], sizes: list[int], flags: int) -> int:
    """How many floats the body of a frame with these symbols holds (frame budgets)."""
    total = 0
    for block in BLOCKS:
        if block.flag is None or flags & (1 << FLAGS.index(block.flag)):
            total += sum(math.prod(shape) for shape in block_shapes(block, symbols, sizes))
    return total
