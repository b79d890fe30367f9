"""The frame layout table: the encoder follows it, and every generated copy is fresh."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from backprop_playground.live.frames import VALUE_BUDGET, build_frame, choose_resolution
from backprop_playground.trainer import TrainerConfig, TrainingSession, config_from_dict
from backprop_playground.wire import generate
from backprop_playground.wire.commands import Selection
from backprop_playground.wire.frame import (
    BLOCKS,
    DTYPES,
    HEADER,
    HEADER_FIELDS,
    FrameData,
    body_bytes,
    decode_header,
    encode_frame,
    frame_floats,
)


def _frame(config: TrainerConfig | None = None, select: bool = True) -> FrameData:
    session = TrainingSession(config or TrainerConfig())
    session.run(3)
    selection = Selection(layer=1, neuron=0, source=1) if select else None
    return build_frame(session, sequence=1, running=False, metrics=session.evaluate(),
                       selection=selection)


def test_generated_files_are_fresh() -> None:
    """frontend/wire.gen.js and the tables in docs/protocol.md equal what the layout table
    gives (run `python -m backprop_playground.wire.generate` after changing it)."""
    assert generate.stale() == [], "run python -m backprop_playground.wire.generate"


def test_header_is_word_aligned_and_names_are_unique() -> None:
    """Float32 views need the body to start at a multiple of 4 bytes; names are keys."""
    assert HEADER.size % 4 == 0
    assert len({f.name for f in HEADER_FIELDS}) == len(HEADER_FIELDS)
    assert len({b.name for b in BLOCKS}) == len(BLOCKS)


def test_every_block_has_a_frame_field_and_every_symbol_a_header_field() -> None:
    """The table and FrameData agree: the encoder can find every block and every shape."""
    names = {f.name for f in dataclasses.fields(FrameData)}
    header = {f.name for f in HEADER_FIELDS}
    for block in BLOCKS:
        assert block.name in names
        for dim in block.shape:
            assert isinstance(dim, int) or dim in header or (
                block.per_layer and dim in ("n_in", "n_out")), (block.name, dim)
        assert not block.fields or block.shape[-1] == len(block.fields)
        assert block.dtype in DTYPES
        if block.dtype == "q8":  # maps
            assert len(block.shape) >= 2 and not block.fields
        if block.dtype in ("w8", "g8"):  # parameters, drawn: one array per layer
            assert block.per_layer and block.flag is None and not block.fields


def test_encoded_length_is_what_the_table_gives() -> None:
    """total_bytes is the message's length; body_bytes, the inflated body's, is what the
    table describes for the header's sizes."""
    frame = _frame()
    data = encode_frame(frame)
    header = decode_header(data)
    assert header["total_bytes"] == len(data)
    assert header["layer_sizes"] == frame.layer_sizes
    assert header["body_bytes"] == body_bytes(frame.symbols(), frame.layer_sizes, frame.flags())


def test_encoder_refuses_an_array_of_the_wrong_shape() -> None:
    """A block whose array does not have its declared shape is an error, not a bad frame."""
    frame = _frame()
    frame.biases[0] = np.zeros(len(frame.biases[0]) + 1)
    with pytest.raises(ValueError, match="biases"):
        encode_frame(frame)


@pytest.mark.parametrize("hidden", [[], [4, 2], [8] * 6])
def test_largest_frame_fits_the_budget(hidden: list[int]) -> None:
    """The chosen map resolution keeps a frame with a full selection within the value
    budget (before quantisation and compression)."""
    config = config_from_dict({"network": {"hidden_layers": hidden,
                                           "features": ["x1", "x2", "x1_squared"]}})
    frame = _frame(config)
    resolution = choose_resolution(frame.layer_sizes)
    assert frame.output_maps.shape[-1] == resolution.main
    assert frame_floats(frame.symbols(), frame.layer_sizes, frame.flags()) <= VALUE_BUDGET
    assert len(encode_frame(frame)) < HEADER.size + VALUE_BUDGET


def test_step_and_epoch_counters_do_not_overflow() -> None:
    """Step and epoch are 64-bit: a run past 2³² steps (about a day at top speed) still
    encodes its true counters; the sequence number wraps by design."""
    frame = _frame()
    frame.step, frame.epoch, frame.sequence = 2**33 + 5, 2**32 + 1, 2**32 + 7
    header = decode_header(encode_frame(frame))
    assert (header["step"], header["epoch"], header["sequence"]) == (2**33 + 5, 2**32 + 1, 7)
