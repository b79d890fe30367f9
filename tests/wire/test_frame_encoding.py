"""The frame's body on the wire: deflated once, float32 blocks exact, maps quantised to 8 bits
within half a step of their range, and float32 maps when a value is not finite."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

from backprop_playground.live.frames import build_frame
from backprop_playground.trainer import (
    FEATURES,
    DataConfig,
    NetworkConfig,
    TrainerConfig,
    TrainingSession,
)
from backprop_playground.wire.commands import Selection
from backprop_playground.wire.frame import (
    BLOCKS,
    FLAG_EXACT_MAPS,
    HEADER,
    FrameData,
    decode_blocks,
    decode_header,
    dequantise_maps,
    encode_frame,
    quantise_maps,
)

NETS = {
    "default": TrainerConfig(),
    "spiral3": TrainerConfig(data=DataConfig(dataset="spiral3")),
    "largest": TrainerConfig(network=NetworkConfig(hidden_layers=(16,) * 8, features=FEATURES)),
}


def _trained(config: TrainerConfig, steps: int = 200, sweep: bool = False) -> FrameData:
    session = TrainingSession(config, learning_rates=[0.01, 0.1, 1.0] if sweep else None)
    session.run(steps)
    return build_frame(session, sequence=5, running=True, metrics=session.evaluate(),
                       selection=Selection(layer=0, neuron=0, source=1))


def _within_half_a_step(original: np.ndarray, decoded: np.ndarray) -> None:
    maps = original.astype(np.float32).reshape(-1, *original.shape[-2:])
    back = decoded.reshape(maps.shape)
    for index, (want, got) in enumerate(zip(maps, back, strict=True)):
        span = float(want.max()) - float(want.min())
        bound = span / 510 + 2**-24 * float(np.abs(want).max())
        assert np.abs(got.astype(np.float64) - want).max() <= bound, (index, span)


@pytest.mark.parametrize("net", NETS)
def test_blocks_round_trip(net: str) -> None:
    """Every f32 block decodes bit for bit (as float32); every q8 block to within
    (hi − lo)/510 of each value, hi and lo its map's range."""
    frame = _trained(NETS[net])
    blocks = decode_blocks(encode_frame(frame))
    for block in BLOCKS:
        if block.name not in blocks:
            continue
        value = getattr(frame, block.name)
        for original, decoded in zip(value if block.per_layer else [value], blocks[block.name],
                                     strict=True):
            if block.dtype == "q8":
                _within_half_a_step(np.asarray(original), decoded)
            else:
                np.testing.assert_array_equal(decoded, np.asarray(original, dtype=np.float32))


def test_sweep_maps_are_quantised_too() -> None:
    """A sweep's small multiples are maps: q8, within half a step."""
    frame = _trained(NETS["default"], steps=20, sweep=True)
    assert frame.sweep_maps is not None
    _within_half_a_step(frame.sweep_maps, decode_blocks(encode_frame(frame))["sweep_maps"][0])


def test_quantised_codes_cover_the_range_exactly() -> None:
    """A map's minimum and maximum decode to themselves (codes 0 and 255); a flat map to its
    one value; an empty stack to nothing."""
    rng = np.random.default_rng(3)
    maps = rng.normal(size=(3, 16, 16)).astype(np.float32)
    maps[1] = 0.75
    back = dequantise_maps(quantise_maps(maps), maps.shape)
    for original, decoded in zip(maps, back, strict=True):
        assert decoded.min() == original.min() and decoded.max() == original.max()
    assert (back[1] == np.float32(0.75)).all()
    empty = np.zeros((0, 8, 8), dtype=np.float32)
    assert dequantise_maps(quantise_maps(empty), empty.shape).shape == (0, 8, 8)


def test_non_finite_maps_go_out_as_float32() -> None:
    """NaN and ±Infinity in a map cannot be quantised: the frame sets exact_maps and sends
    its maps as float32, so they arrive exactly as they are."""
    frame = _trained(NETS["default"], steps=5)
    frame.output_maps = frame.output_maps.copy()
    frame.output_maps[0, 1, 2], frame.output_maps[0, 2, 1] = math.nan, -math.inf
    data = encode_frame(frame)
    assert decode_header(data)["flags"] & FLAG_EXACT_MAPS
    np.testing.assert_array_equal(decode_blocks(data)["output_maps"][0],
                                  frame.output_maps.astype(np.float32))


def test_body_is_one_zlib_stream_and_the_header_stays_plain() -> None:
    """The header is readable without inflating; the rest is exactly one zlib stream of
    body_bytes (what DecompressionStream('deflate') reads)."""
    frame = _trained(NETS["default"], steps=5)
    data = encode_frame(frame)
    header = decode_header(data)
    assert (header["sequence"], header["step"]) == (5, frame.step)
    inflater = zlib.decompressobj()
    body = inflater.decompress(data[HEADER.size:])
    assert inflater.eof and not inflater.unused_data and len(body) == header["body_bytes"]


def test_encoding_is_deterministic() -> None:
    """The same frame gives the same bytes (one encoding serves every client)."""
    frame = _trained(NETS["spiral3"], steps=5)
    assert encode_frame(frame) == encode_frame(frame)
