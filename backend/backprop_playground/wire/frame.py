"""The binary training frame, declared once: a header of named fields and a body of named
arrays whose shapes are written in the network's sizes.

:data:`HEADER_FIELDS` and :data:`BLOCKS` are the only description of the layout. The server
encodes from them (:func:`encode_frame` checks every array against its declared shape), the
page decodes from them (``frontend/wire.gen.js`` is generated from this module by
``python -m backprop_playground.wire.generate``; a test fails when it is stale), and the
tables in ``docs/protocol.md`` are generated from them too.

Shape symbols are header fields (``n_outputs``, ``main_res`` …) or, for per-layer blocks,
``n_in``/``n_out``: the sizes of layer l's inputs and outputs, ``layer_sizes[l]`` and
``layer_sizes[l + 1]``. A per-layer block holds its L arrays one after the other, first
hidden layer first. A block with a ``flag`` is present only when that header flag is set.

On the wire the header is plain and the body is one raw deflate stream (RFC 1951, what the
browser's ``DecompressionStream("deflate-raw")`` reads), compressed once per frame for every
client. The maps come last, after a sync flush, so that :func:`without_maps` can cut them
off without compressing again: a viewer whose link lags gets the frame without its maps
(flag ``maps_skipped``; the page keeps the last ones) rather than no frame.

Inside the body, ``f32`` blocks are little-endian float32 (the page views them without a
copy) and ``q8`` blocks — the maps, which only colour pixels — are 8-bit codes with a
float32 range per map (:func:`quantise_maps`).

Weights and gradients are ``w8``/``g8`` blocks: float32 in a paused frame (the phase pictures
print them edge by edge), 8-bit codes with a float32 scale per array in a running frame (flag
``coded``), where the page only draws them: linear codes for weights and biases (widths ∝ |w|,
:func:`code_linear`), sign and log-magnitude codes for gradients (marks on a log scale,
:func:`code_log`). A running frame leaves this step's updates out (flag ``updates`` clear: the
page draws them only when paused) and carries what the inspector prints exactly: the
selection record and ``selection_fan_out``.

A frame may go out as the difference from the one before it (flag ``delta``, made by
:mod:`.frame_delta` for clients that said they read them): its body's bytes minus those of
frame ``base``'s body, modulo 256. Consecutive frames share most bytes (weights and map
codes move little in a frame's period), so the difference deflates to about half.
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: The JSON protocol's version (commands' ``v``, the welcome's ``protocol``).
PROTOCOL_VERSION = 1
#: The binary frame's format version (the header's ``version``). 2: deflated body, ``q8``
#: maps, ``body_bytes``, the ``exact_maps`` flag. 3: ``w8``/``g8`` parameter codes in running
#: frames (flags ``coded`` and ``updates``), ``selection_fan_out`` (header ``fan_out``), a raw
#: deflate body, ``maps_at`` and the ``maps_skipped`` flag. 4: ``delta`` frames (flag and header
#: ``base``), map ranges on a coarse grid (:func:`map_ranges`).
FRAME_VERSION = 4
FRAME_MAGIC = b"BPF1"
#: zlib level of the body: 6 is within 1 % of 9's size at half its CPU time (bench/server.py).
COMPRESSION_LEVEL = 6
#: Phase names by header code (0: no phase of the current step has run yet).
PHASES: tuple[str | None, ...] = (None, "forward", "loss", "backward", "update")
#: Header ``flags`` bits by name: bit i is FLAGS[i].
FLAGS: tuple[str, ...] = ("running", "diverged", "selection", "sweep", "batch", "landscape",
                          "overshot", "saturated", "exact_maps", "coded", "updates",
                          "maps_skipped", "delta")
(FLAG_RUNNING, FLAG_DIVERGED, FLAG_SELECTION, FLAG_SWEEP, FLAG_BATCH, FLAG_LANDSCAPE,
 FLAG_OVERSHOT, FLAG_SATURATED, FLAG_EXACT_MAPS, FLAG_CODED, FLAG_UPDATES,
 FLAG_MAPS_SKIPPED, FLAG_DELTA) = (1 << i for i in range(len(FLAGS)))
#: The flags that say nothing about where the body's arrays lie: frames that differ only in
#: these have bodies of the same layout (a ``delta`` frame's base is one of those).
CONTENT_FLAGS = FLAG_RUNNING | FLAG_DIVERGED | FLAG_OVERSHOT | FLAG_DELTA
#: Block types: float32 values; 8-bit map codes with a float32 range per map; parameters
#: that go out as float32, or in a ``coded`` frame as 8-bit linear (``w8``) or sign-log
#: (``g8``) codes with a float32 scale per array.
DTYPES: tuple[str, ...] = ("f32", "q8", "w8", "g8")
#: Decades of |value| below an array's largest that ``g8`` codes span (the page's gradient
#: marks span 3): one code step is 4/126 of a decade, ±3.7 % at most.
LOG_CODE_DECADES = 4.0
#: The code of a value that is not finite (``w8`` and ``g8``).
NOT_FINITE_CODE = -128
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
    """An array of the body. ``fields`` names the entries of the last axis when the array is
    a table of records (one row per batch point, per sweep run …). ``dtype`` ``"q8"``: a
    stack of maps (the last two axes), sent as 8-bit codes (:func:`quantise_maps`);
    ``"w8"``/``"g8"``: float32, or in a ``coded`` frame 8-bit codes (:func:`code_linear`,
    :func:`code_log`)."""

    name: str
    shape: tuple[str | int, ...]
    doc: str
    per_layer: bool = False
    flag: str | None = None
    fields: tuple[str, ...] = ()
    dtype: str = "f32"


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
    HeaderField("fan_out", "u16", "F: weights in the selection_fan_out block"),
    HeaderField("sweep_runs", "u8", "K: runs of a learning-rate sweep (0: no sweep)"),
    HeaderField("sweep_res", "u8", "R: sweep maps are R × R"),
    HeaderField("layer_sizes", "sizes",
                f"n_0 (features), hidden sizes …, n_L (outputs); zero-padded to {MAX_SIZES + 2}"),
    HeaderField("body_bytes", "u32", "length of the body once inflated"),
    HeaderField("total_bytes", "u32", "length of the whole frame as sent (header + deflated body)"),
    HeaderField("maps_at", "u32", "where the maps' part of the deflated body begins (after a "
                "sync flush; its length when there are no maps)"),
    HeaderField("base", "u32", "flag delta: the sequence of the frame whose body this one's "
                "is the difference from (0 otherwise)"),
)

BLOCKS: tuple[Block, ...] = (
    Block("weights", ("n_out", "n_in"), "W_l; row j, column i: weight from input i to neuron j",
          per_layer=True, dtype="w8"),
    Block("biases", ("n_out",), "b_l", per_layer=True, dtype="w8"),
    Block("grad_weights", ("n_out", "n_in"), "dL/dW_l of this step (NaN before backward)",
          per_layer=True, dtype="g8"),
    Block("grad_biases", ("n_out",), "dL/db_l of this step (NaN before backward)",
          per_layer=True, dtype="g8"),
    Block("update_weights", ("n_out", "n_in"), "ΔW_l applied by this step (NaN before update; "
          "running frames leave it out)", per_layer=True, flag="updates"),
    Block("update_biases", ("n_out",), "Δb_l applied by this step (NaN before update)",
          per_layer=True, flag="updates"),
    Block("gradient_norms", ("n_layers",), "‖dL/d[W_l ∣ b_l]‖₂ per layer"),
    Block("update_ratios", ("n_layers",), "‖Δθ_l‖ / ‖θ_l‖ per layer"),
    Block("selection", (len(SELECTION_RECORD),),
          "the selected neuron's bias (kind 1, source −1) or edge (kind 2): its value, "
          "gradient and update, and the update rule's inputs for it in the step that ran",
          flag="selection", fields=SELECTION_RECORD),
    Block("selection_fan_out", ("fan_out",),
          "a selected hidden neuron j: the weights w_kj from it to each neuron k of the next "
          "layer as this step's backward pass used them (before its update); empty for an "
          "edge or an output neuron", flag="selection"),
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
    Block("output_maps", ("n_outputs", "main_res", "main_res"),
          "each output over the plane [−6, 6]²; row 0 is the top (x2 = +6), column 0 x1 = −6",
          dtype="q8"),
    Block("neuron_maps", ("n_neurons", "thumb_res", "thumb_res"),
          "each input feature, then each hidden neuron layer by layer, sampled like the maps",
          dtype="q8"),
    Block("sweep_maps", ("sweep_runs", "sweep_res", "sweep_res"),
          "each run's output (multiclass: the winning class index)", flag="sweep", dtype="q8"),
)

HEADER = struct.Struct("<" + "".join(FIELD_TYPES[f.type][0] for f in HEADER_FIELDS))
#: The header fields the blocks' shapes are written in (with the layer sizes, which give
#: the per-layer blocks' ``n_in`` and ``n_out``).
SHAPE_SYMBOLS: tuple[str, ...] = tuple(dict.fromkeys(
    dim for block in BLOCKS for dim in block.shape
    if isinstance(dim, str) and dim not in ("n_in", "n_out")))
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
    update_weights: list[Array] | None  # None: left out (running frames)
    update_biases: list[Array] | None
    gradient_norms: Array  # (L,)
    update_ratios: Array  # (L,)
    output_maps: Array  # (n_outputs, G, G)
    neuron_maps: Array  # (n_neurons, T, T)
    selection: Array | None = field(default=None)  # (len(SELECTION_RECORD),)
    selection_fan_out: Array | None = field(default=None)  # (F,)
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
    #: w8/g8 blocks as 8-bit codes (a running frame: the page only draws them)
    coded: bool = False

    def flags(self) -> int:
        """The header flags this content sets (the encoder adds ``exact_maps``)."""
        present = {"running": self.running, "diverged": self.diverged, "coded": self.coded,
                   "updates": self.update_weights is not None,
                   "selection": self.selection is not None, "sweep": self.sweep is not None,
                   "batch": self.batch is not None, "landscape": self.landscape is not None,
                   "overshot": self.overshot, "saturated": self.saturation is not None}
        return sum(1 << i for i, name in enumerate(FLAGS) if present.get(name))

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
            "fan_out": 0 if self.selection_fan_out is None else len(self.selection_fan_out),
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


def present_blocks(flags: int) -> list[Block]:
    """The blocks a frame with these header flags carries, in order (no maps with the flag
    ``maps_skipped``)."""
    return [block for block in BLOCKS
            if (block.flag is None or flags & (1 << FLAGS.index(block.flag)))
            and not (block.dtype == "q8" and flags & FLAG_MAPS_SKIPPED)]


def sent_as(block: Block, flags: int) -> str:
    """How a block's arrays go out in a frame with these flags: ``"f32"``, ``"q8"`` (map
    codes), ``"w8"`` or ``"g8"`` (parameter codes)."""
    if block.dtype == "q8":
        return "f32" if flags & FLAG_EXACT_MAPS else "q8"
    if block.dtype in ("w8", "g8"):
        return block.dtype if flags & FLAG_CODED else "f32"
    return "f32"


def array_bytes(block: Block, shape: tuple[int, ...], flags: int) -> int:
    """Bytes one array of ``block`` takes in the inflated body: 4 per float32 value; for a
    ``q8`` block 8 per map (its range) plus 1 per value; for parameter codes 4 (the scale)
    plus 1 per value; codes padded to a multiple of 4."""
    values, kind = math.prod(shape), sent_as(block, flags)
    if kind == "f32":
        return 4 * values
    head = 8 * math.prod(shape[:-2]) if kind == "q8" else 4
    return head + -(-values // 4) * 4


def body_bytes(symbols: dict[str, int], sizes: list[int], flags: int) -> int:
    """Length of the inflated body of a frame with these sizes and flags."""
    return sum(array_bytes(block, shape, flags) for block in present_blocks(flags)
               for shape in block_shapes(block, symbols, sizes))


# ------------------------------------------------------------------------ q8 maps
def _prediction(codes: NDArray[np.int16]) -> NDArray[np.int16]:
    """Each code's prediction from its decoded neighbours: left + up − up-left clamped to
    0 … 255 (a plane through the three), the left one on the first row, the upper one in
    the first column, 0 for the first code. codes: (maps, H, W)."""
    left, up, corner = (np.zeros_like(codes) for _ in range(3))
    left[:, :, 1:], up[:, 1:, :], corner[:, 1:, 1:] = (
        codes[:, :, :-1], codes[:, :-1, :], codes[:, :-1, :-1])
    guess = np.clip(left + up - corner, 0, 255)
    guess[:, 0, :], guess[:, :, 0] = left[:, 0, :], up[:, :, 0]
    return guess


#: A map's range is its min … max widened to multiples of 2^(⌊log₂(max − min)⌋ − RANGE_GRID):
#: at most 2^(1 − RANGE_GRID) = 1/16 of the span wider, and the same from frame to frame
#: while the map moves less than a grid step at its ends, so a ``delta`` frame's ranges are
#: mostly zeros (at the fastest speed they cost a fifth of what exact ranges would).
RANGE_GRID = 5


def map_ranges(stack: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each map's range (lo, hi): stack (maps, H, W) finite → two (maps,) arrays with
    lo ≤ min, hi ≥ max, hi − lo ≤ (1 + 2^(1 − RANGE_GRID)) · (max − min), both multiples of
    the map's grid step (:data:`RANGE_GRID`) and exact in float32 whenever that step is;
    lo = hi = the value of a flat map."""
    if not stack.size:
        empty = np.zeros(len(stack))
        return empty, empty
    low, high = stack.min(axis=(1, 2)), stack.max(axis=(1, 2))
    span = high - low
    flat = ~(span > 0)
    with np.errstate(divide="ignore"):
        grid = np.where(flat, 1.0, np.exp2(np.floor(np.log2(np.where(flat, 1.0, span)))
                                           - RANGE_GRID))
    snapped_low = np.where(flat, low, np.floor(low / grid) * grid)
    snapped_high = np.where(flat, high, np.ceil(high / grid) * grid)
    # where the grid is finer than float32 near the values, keep what float32 holds of them
    fine = (snapped_low.astype(np.float32) > low) | (snapped_high.astype(np.float32) < high)
    return np.where(fine, low, snapped_low), np.where(fine, high, snapped_high)


def quantise_maps(maps: NDArray[np.float32]) -> bytes:
    """A ``q8`` array's bytes. maps: (..., H, W) finite float32, split into its H × W maps.
    Per map its range (lo, hi) as float32 (all ranges first; :func:`map_ranges`), then one
    byte per value: code = round(255 · (v − lo) / (hi − lo)), so that lo + code · (hi − lo) /
    255 is within (hi − lo) / 510 of v; each code is sent as its difference (mod 256) from
    :func:`_prediction`, which deflates far better on smooth maps. Zero-padded to a multiple
    of 4 bytes so that the next block stays float32-aligned."""
    height, width = maps.shape[-2:]
    stack = maps.reshape(-1, height, width).astype(np.float64)
    low, high = (bound.astype(np.float32).astype(np.float64) for bound in map_ranges(stack))
    span = high - low
    scale = np.divide(255.0, span, out=np.zeros_like(span), where=span > 0)
    codes = np.clip(np.rint((stack - low[:, None, None]) * scale[:, None, None]), 0, 255)
    codes = codes.astype(np.int16)
    residuals = ((codes - _prediction(codes)) & 0xFF).astype(np.uint8).tobytes()
    ranges = np.column_stack([low, high]).astype("<f4").tobytes()
    return ranges + residuals + bytes(-len(residuals) % 4)


def dequantise_maps(data: bytes, shape: tuple[int, ...]) -> NDArray[np.float32]:
    """The inverse of :func:`quantise_maps` (tests and tools; the page has its own)."""
    height, width = shape[-2:]
    count = math.prod(shape[:-2])
    ranges = np.frombuffer(data, "<f4", 2 * count).reshape(count, 2).astype(np.float64)
    residuals = np.frombuffer(data, np.uint8, count * height * width, 8 * count)
    codes = residuals.reshape(count, height, width).astype(np.int16)
    for row in range(height):
        for column in range(width):
            if row == 0 and column == 0:
                continue
            if row == 0:
                guess = codes[:, 0, column - 1]
            elif column == 0:
                guess = codes[:, row - 1, 0]
            else:
                guess = np.clip(codes[:, row, column - 1] + codes[:, row - 1, column]
                                - codes[:, row - 1, column - 1], 0, 255)
            codes[:, row, column] = (codes[:, row, column] + guess) & 0xFF
    step = (ranges[:, 1] - ranges[:, 0]) / 255
    values = ranges[:, 0, None, None] + codes * step[:, None, None]
    return values.astype(np.float32).reshape(shape)


# ------------------------------------------------------------ w8 / g8 parameters
def code_parameters(arrays: list[NDArray[np.float32]], kind: str) -> list[bytes]:
    """Each array's bytes in a coded frame (a block's per-layer arrays at once): its scale m
    (the largest finite |v|) as float32, one int8 code per value, zero padding to a multiple
    of 4 bytes; NOT_FINITE_CODE for a value that is not finite.

    ``w8`` (:func:`code_linear`): c = round(127 · v / m), so 0 and ±m are exact and every
    value is within m/254 of its code's value c · (m / 127). ``g8`` (:func:`code_log`): 0 for
    0, else sign(v) · c with c = round(127 + 126 · log₁₀(|v| / m) / D) clamped to 1 … 127
    (D = LOG_CODE_DECADES), whose value sign · m · 10^(−D · (127 − c) / 126) is within
    10^(D/252) (3.7 %) of |v| down to m · 10^(−D); smaller values keep their sign there."""
    sizes = [array.size for array in arrays]
    flat = np.concatenate([array.ravel() for array in arrays]).astype(np.float64)
    finite = np.isfinite(flat)
    magnitude = np.where(finite, np.abs(flat), 0.0)
    starts = np.cumsum([0, *sizes[:-1]])
    scales, filled = np.zeros(len(sizes)), np.array(sizes) > 0
    if flat.size:  # each segment's largest |v|: empty ones contribute no values
        scales[filled] = np.maximum.reduceat(magnitude, starts[filled])
    each = np.repeat(scales, sizes)
    ratio = np.divide(magnitude, each, out=np.zeros_like(flat), where=each > 0)
    if kind == "w8":
        codes = np.rint(127.0 * np.sign(flat) * ratio)
    else:
        with np.errstate(divide="ignore"):
            position = np.log10(ratio) / LOG_CODE_DECADES
        codes = np.where(ratio > 0, np.sign(flat) * np.clip(np.rint(127 + 126 * position), 1, 127),
                         0.0)
    codes[~finite] = NOT_FINITE_CODE
    data = codes.astype(np.int8)
    return [np.float32(scale).astype("<f4").tobytes() + data[a:a + n].tobytes() + bytes(-n % 4)
            for scale, a, n in zip(scales, starts, sizes, strict=True)]


def code_linear(values: NDArray[np.float32]) -> bytes:
    """One ``w8`` array's bytes in a coded frame (:func:`code_parameters`)."""
    return code_parameters([values], "w8")[0]


def code_log(values: NDArray[np.float32]) -> bytes:
    """One ``g8`` array's bytes in a coded frame (:func:`code_parameters`)."""
    return code_parameters([values], "g8")[0]


def decode_parameters(data: bytes, kind: str, shape: tuple[int, ...]) -> NDArray[np.float32]:
    """The inverse of :func:`code_linear` (``kind`` ``"w8"``) or :func:`code_log` (``"g8"``)
    for an array of ``shape`` (tests and tools; the page has its own)."""
    count = math.prod(shape)
    scale = float(np.frombuffer(data, "<f4", 1)[0])
    codes = np.frombuffer(data, np.int8, count, 4).astype(np.float64)
    if kind == "w8":
        values = codes * (scale / 127)
    else:
        magnitude = scale * 10.0 ** (-LOG_CODE_DECADES * (127 - np.abs(codes)) / 126)
        values = np.where(codes == 0, 0.0, np.sign(codes) * magnitude)
    values[codes == NOT_FINITE_CODE] = np.nan
    return values.astype(np.float32).reshape(shape)


# --------------------------------------------------------------------- encoding
def encode_frame(frame: FrameData, level: int = COMPRESSION_LEVEL) -> bytes:
    """The frame's bytes: the header, then the body deflated (raw, ``level``). ValueError if
    an array's shape is not the one its block declares. ``q8`` blocks go out as float32
    (flag ``exact_maps``) when one of their values is not finite."""
    symbols, sizes, flags = frame.symbols(), frame.layer_sizes, frame.flags()
    if len(sizes) > MAX_SIZES:
        raise ValueError(f"a frame carries at most {MAX_SIZES} layer sizes, got {len(sizes)}")
    arrays: list[tuple[Block, NDArray[np.float32]]] = []
    for block in present_blocks(flags):
        value = getattr(frame, block.name)
        for array, shape in zip(value if block.per_layer else [value],
                                block_shapes(block, symbols, sizes), strict=True):
            data = np.ascontiguousarray(array, dtype="<f4")
            if data.shape != shape:
                raise ValueError(f"frame block {block.name}: shape {data.shape}, expected {shape}")
            arrays.append((block, data))
    if not all(np.isfinite(data).all() for block, data in arrays if block.dtype == "q8"):
        flags |= FLAG_EXACT_MAPS
    parts = _body_parts(arrays, flags)
    split = next((i for i, (block, _) in enumerate(arrays) if block.dtype == "q8"), len(arrays))
    body = b"".join(parts)
    packed, maps_at = deflate_body(body, len(b"".join(parts[:split])), level)
    values = {**symbols, **{name: getattr(frame, name) for name in (
        "focus", "step", "epoch", "epoch_progress", "batch_loss", "train_loss", "test_loss",
        "train_accuracy", "test_accuracy", "learning_rate")}}
    values.update(magic=FRAME_MAGIC, version=FRAME_VERSION, flags=flags,
                  sequence=frame.sequence & 0xFFFFFFFF, phase=PHASES.index(frame.phase),
                  batch_size=min(frame.batch_size, 0xFFFF), layer_sizes=bytes(sizes),
                  body_bytes=len(body), total_bytes=HEADER.size + len(packed),
                  maps_at=maps_at, base=0)
    return HEADER.pack(*(values[f.name] for f in HEADER_FIELDS)) + packed


def deflate_body(body: bytes, maps_offset: int,
                 level: int = COMPRESSION_LEVEL) -> tuple[bytes, int]:
    """``body`` as one raw deflate stream and where in it the maps' part begins (``maps_at``;
    the stream's length when ``maps_offset`` is the body's end). The maps come last, in a
    deflate block of their own (a sync flush before them) with its own Huffman codes: 3 %
    smaller than float32 values and map codes mixed, and :func:`without_maps` can cut there."""
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
    head = deflate.compress(body[:maps_offset]) + deflate.flush(zlib.Z_SYNC_FLUSH)
    packed = head + deflate.compress(body[maps_offset:]) + deflate.flush()
    return packed, len(head) if maps_offset < len(body) else len(packed)


def maps_offset(header: dict[str, Any]) -> int:
    """Where the maps begin in the inflated body of a frame with this header (its length
    when it carries none)."""
    sizes, flags, offset = header["layer_sizes"], header["flags"], 0
    for block in present_blocks(flags):
        if block.dtype == "q8":
            break
        offset += sum(array_bytes(block, shape, flags)
                      for shape in block_shapes(block, header, sizes))
    return offset


#: A final, empty deflate block (fixed codes, end of block at once): ends a body cut at a
#: sync flush.
_FINAL_EMPTY_BLOCK = b"\x03\x00"


def without_maps(data: bytes) -> bytes:
    """The frame ``data`` without its maps (flag ``maps_skipped``): the deflated body cut
    where the maps begin and ended with an empty final block, the header's lengths and
    flags to match. A frame without maps comes back as it is."""
    header = decode_header(data)
    flags = header["flags"]
    if flags & FLAG_MAPS_SKIPPED or header["maps_at"] + HEADER.size >= len(data):
        return data
    packed = data[HEADER.size:HEADER.size + header["maps_at"]] + _FINAL_EMPTY_BLOCK
    flags |= FLAG_MAPS_SKIPPED
    header.update(flags=flags, body_bytes=body_bytes(header, header["layer_sizes"], flags))
    return pack_frame(header, packed)


def pack_frame(header: dict[str, Any], packed: bytes) -> bytes:
    """A frame of the header fields ``header`` (as :func:`decode_header` gives them, changed
    where the frame is another) and the deflated body ``packed``; ``total_bytes`` to match."""
    values = {**header, "layer_sizes": bytes(header["layer_sizes"]),
              "total_bytes": HEADER.size + len(packed)}
    return HEADER.pack(*(values[f.name] for f in HEADER_FIELDS)) + packed


def _body_parts(arrays: list[tuple[Block, NDArray[np.float32]]], flags: int) -> list[bytes]:
    """Each array's bytes in the body, sent as :func:`sent_as` says (a coded block's arrays
    coded together: one scale per array, numpy calls per block)."""
    parts: list[bytes] = []
    for block, group in itertools.groupby(arrays, key=lambda item: item[0]):
        items, kind = list(group), sent_as(block, flags)
        if kind in ("w8", "g8"):
            parts += code_parameters([data for _, data in items], kind)
        else:
            parts += [quantise_maps(data) if kind == "q8" else data.tobytes() for _, data in items]
    return parts


def _raw_header(data: bytes) -> tuple[Any, ...] | None:
    """The header's values in field order; None for bytes that are not a frame of this format."""
    if len(data) < HEADER.size or not data.startswith(FRAME_MAGIC):
        return None
    return HEADER.unpack_from(data)


def map_shape(data: bytes) -> tuple[Any, ...] | None:
    """What a frame's maps' shapes depend on (the layer sizes and the map resolutions): a
    frame without maps may stand on maps of the same shape. None for bytes that are not a
    frame of this format."""
    header = _raw_header(data)
    if header is None:
        return None
    return (*(header[i] for i in _MAP_SHAPE_FIELDS), bool(header[_FLAGS_FIELD] & FLAG_SWEEP))


def frame_flags(data: bytes) -> int:
    """A frame's flags (FLAG_RUNNING, …); 0 for bytes that are not a frame of this format."""
    header = _raw_header(data)
    return 0 if header is None else int(header[_FLAGS_FIELD])


_NAMES = [f.name for f in HEADER_FIELDS]
_MAP_SHAPE_FIELDS = [_NAMES.index(name) for name in (
    "layer_sizes", "main_res", "thumb_res", "sweep_runs", "sweep_res")]
_FLAGS_FIELD = _NAMES.index("flags")


def decode_header(data: bytes) -> dict[str, Any]:
    """The header fields of a frame by name (tests and tools; the page decodes with
    frontend/frame_decoder.js from the generated layout)."""
    header = dict(zip((f.name for f in HEADER_FIELDS), HEADER.unpack_from(data), strict=True))
    header["layer_sizes"] = list(header["layer_sizes"][:header["n_layers"] + 1])
    return header


def body_of(data: bytes, base_body: bytes | None = None) -> bytes:
    """A frame's inflated body; for a ``delta`` frame, with its base's inflated body
    ``base_body`` added back (byte by byte, modulo 256). ValueError for a delta frame
    without a base body as long as its own."""
    body = zlib.decompress(data[HEADER.size:], -15)
    if not frame_flags(data) & FLAG_DELTA:
        return body
    if base_body is None or len(base_body) < len(body):
        raise ValueError("a delta frame needs the inflated body of its base frame")
    return add_bytes(body, base_body)


def add_bytes(difference: bytes, base: bytes) -> bytes:
    """(difference[i] + base[i]) mod 256 for each byte of ``difference``."""
    sent = np.frombuffer(difference, np.uint8)
    return (sent + np.frombuffer(base, np.uint8, len(sent))).tobytes()  # uint8 wraps


def subtract_bytes(body: bytes, base: bytes) -> bytes:
    """(body[i] − base[i]) mod 256: what :func:`add_bytes` adds back to ``base``."""
    return (np.frombuffer(body, np.uint8) - np.frombuffer(base, np.uint8, len(body))).tobytes()


def decode_blocks(data: bytes,
                  base_body: bytes | None = None) -> dict[str, list[NDArray[np.float32]]]:
    """Every present block of a frame by name, as float32 arrays of their declared shapes
    (``q8``, ``w8`` and ``g8`` codes decoded); one array per layer for a per-layer block.
    A ``delta`` frame needs its base's inflated body (:func:`body_of`). For tests and tools:
    the page decodes with frontend/frame_decoder.js."""
    header = decode_header(data)
    body = body_of(data, base_body)
    sizes, flags = header["layer_sizes"], header["flags"]
    if len(body) != header["body_bytes"] or len(body) != body_bytes(header, sizes, flags):
        raise ValueError(f"frame body of {len(body)} bytes, header says {header['body_bytes']}")
    blocks: dict[str, list[NDArray[np.float32]]] = {}
    offset = 0
    for block in present_blocks(flags):
        for shape in block_shapes(block, header, sizes):
            size = array_bytes(block, shape, flags)
            chunk, kind = body[offset:offset + size], sent_as(block, flags)
            blocks.setdefault(block.name, []).append(
                dequantise_maps(chunk, shape) if kind == "q8"
                else decode_parameters(chunk, kind, shape) if kind in ("w8", "g8")
                else np.frombuffer(chunk, "<f4").reshape(shape))
            offset += size
    return blocks


def layout_document() -> dict[str, Any]:
    """The layout as plain data (for the generated ``frontend/wire.gen.js``): header fields
    with their byte offsets, blocks in order, flags and phases."""
    offset, fields = 0, []
    for f in HEADER_FIELDS:
        size = FIELD_TYPES[f.type][1]
        fields.append({"name": f.name, "type": f.type, "offset": offset, "size": size})
        offset += size
    return {
        "version": PROTOCOL_VERSION, "frame_version": FRAME_VERSION,
        "magic": FRAME_MAGIC.decode(), "header_bytes": HEADER.size,
        "header": fields, "flags": list(FLAGS), "phases": list(PHASES),
        "codes": {"log_decades": LOG_CODE_DECADES, "not_finite": NOT_FINITE_CODE},
        "blocks": [{"name": b.name, "shape": list(b.shape), "per_layer": b.per_layer,
                    "flag": b.flag, "fields": list(b.fields), "dtype": b.dtype}
                   for b in BLOCKS],
    }


def frame_floats(symbols: dict[str, int], sizes: list[int], flags: int) -> int:
    """How many values the body of a frame with these symbols holds (map resolutions)."""
    return sum(math.prod(shape) for block in present_blocks(flags)
               for shape in block_shapes(block, symbols, sizes))
