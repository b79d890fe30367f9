"""The frame's body on the wire: deflated once, float32 blocks exact, maps quantised to 8 bits
within half a step of their range, and float32 maps when a value is not finite; in a running
frame weights as linear and gradients as sign-log 8-bit codes, exact when paused."""

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
    FLAG_CODED,
    FLAG_EXACT_MAPS,
    FLAG_MAPS_SKIPPED,
    FLAG_UPDATES,
    HEADER,
    LOG_CODE_DECADES,
    RANGE_GRID,
    FrameData,
    code_linear,
    code_log,
    decode_blocks,
    decode_header,
    decode_parameters,
    dequantise_maps,
    encode_frame,
    map_ranges,
    quantise_maps,
    without_maps,
)

NETS = {
    "default": TrainerConfig(),
    "spiral3": TrainerConfig(data=DataConfig(dataset="spiral3")),
    "largest": TrainerConfig(network=NetworkConfig(hidden_layers=(16,) * 8, features=FEATURES)),
}


def _trained(config: TrainerConfig, steps: int = 200, sweep: bool = False,
             running: bool = True) -> FrameData:
    session = TrainingSession(config, learning_rates=[0.01, 0.1, 1.0] if sweep else None)
    session.run(steps)
    return build_frame(session, sequence=5, running=running, metrics=session.evaluate(),
                       selection=Selection(layer=0, neuron=0, source=1))


def _linear_bound(original: np.ndarray, decoded: np.ndarray) -> None:
    """w8: within m/254 of each value (m its array's largest |w|), ±m and 0 exact."""
    want = np.asarray(original, dtype=np.float32).astype(np.float64)
    scale = np.abs(want).max()
    assert np.abs(decoded - want).max() <= scale / 254 + 2**-23 * scale
    assert np.abs(decoded).max() == np.float32(scale)


def _log_bound(original: np.ndarray, decoded: np.ndarray) -> None:
    """g8: the sign kept; within 10^(D/252) of |g| down to m·10^−D, smaller ones at m·10^−D."""
    want = np.asarray(original, dtype=np.float32).astype(np.float64)
    got = decoded.astype(np.float64)
    scale = np.abs(want).max()
    assert (np.sign(got) == np.sign(want)).all()
    large = np.abs(want) >= scale * 10**-LOG_CODE_DECADES
    ratio = np.abs(got[large]) / np.abs(want[large])
    assert ratio.max() <= 10 ** (LOG_CODE_DECADES / 252) * (1 + 1e-6)
    assert ratio.min() >= 10 ** (-LOG_CODE_DECADES / 252) * (1 - 1e-6)
    small = ~large & (want != 0)
    np.testing.assert_allclose(np.abs(got[small]), scale * 10**-LOG_CODE_DECADES, rtol=1e-6)
    assert np.abs(got).max() == np.float32(scale)


def _within_half_a_step(original: np.ndarray, decoded: np.ndarray) -> None:
    maps = original.astype(np.float32).reshape(-1, *original.shape[-2:])
    back = decoded.reshape(maps.shape)
    for index, (want, got) in enumerate(zip(maps, back, strict=True)):
        # the sent range (lo, hi) is the map's min … max on a grid: at most 2^(1 − RANGE_GRID)
        # of the span wider (map_ranges)
        span = (float(want.max()) - float(want.min())) * (1 + 2.0 ** (1 - RANGE_GRID))
        bound = span / 510 + 2**-24 * float(np.abs(want).max())
        assert np.abs(got.astype(np.float64) - want).max() <= bound, (index, span)


@pytest.mark.parametrize("running", [True, False], ids=["running", "paused"])
@pytest.mark.parametrize("net", NETS)
def test_blocks_round_trip(net: str, running: bool) -> None:
    """Every f32 block decodes bit for bit (as float32); every q8 block to within
    (hi − lo)/510 of each value, hi and lo its map's range; w8/g8 blocks bit for bit when
    paused, within their codes' bounds in a running frame, which leaves the updates out."""
    frame = _trained(NETS[net], running=running)
    data = encode_frame(frame)
    flags = decode_header(data)["flags"]
    assert bool(flags & FLAG_CODED) == running and bool(flags & FLAG_UPDATES) != running
    blocks = decode_blocks(data)
    assert ("update_weights" in blocks) != running
    for block in BLOCKS:
        if block.name not in blocks:
            continue
        value = getattr(frame, block.name)
        for original, decoded in zip(value if block.per_layer else [value], blocks[block.name],
                                     strict=True):
            if block.dtype == "q8":
                _within_half_a_step(np.asarray(original), decoded)
            elif running and block.dtype == "w8":
                _linear_bound(original, decoded)
            elif running and block.dtype == "g8":
                _log_bound(original, decoded)
            else:
                np.testing.assert_array_equal(decoded, np.asarray(original, dtype=np.float32))


def test_parameter_codes_keep_zero_sign_and_non_finite() -> None:
    """0 stays 0, a tiny gradient keeps its sign, NaN and ±Infinity decode to NaN; an
    array of zeros (or of nothing finite) has scale 0."""
    values = np.array([0.0, 2.5, -2.5, 1e-9, -1e-9, np.nan, np.inf, 0.01], dtype=np.float32)
    linear = decode_parameters(code_linear(values), "w8", values.shape)
    log = decode_parameters(code_log(values), "g8", values.shape)
    assert linear[0] == 0 and linear[1] == np.float32(2.5) and linear[2] == np.float32(-2.5)
    assert log[0] == 0 and log[3] > 0 > log[4] and log[1] == np.float32(2.5)
    assert np.isnan(linear[5:7]).all() and np.isnan(log[5:7]).all()
    assert abs(log[7] / 0.01 - 1) < 0.04
    nothing = np.array([np.nan, 0.0], dtype=np.float32)
    assert decode_parameters(code_linear(nothing), "w8", (2,))[1] == 0
    assert decode_parameters(code_log(nothing), "g8", (2,))[1] == 0


def test_running_frames_carry_the_exact_fan_out() -> None:
    """A selected hidden neuron's outgoing weights, as the backward pass used them, come
    exact in a running frame although its weights are codes."""
    session = TrainingSession(NETS["default"])
    session.run(20)
    frame = build_frame(session, sequence=1, running=True, metrics=session.evaluate(),
                        selection=Selection(layer=0, neuron=2))
    blocks = decode_blocks(encode_frame(frame))
    weights = session.params.weights[1][0][:, 2] - session.params.update_weights[1][0][:, 2]
    np.testing.assert_array_equal(blocks["selection_fan_out"][0], weights.astype(np.float32))
    edge = build_frame(session, sequence=1, running=True, metrics=session.evaluate(),
                       selection=Selection(layer=0, neuron=2, source=1))
    assert edge.selection_fan_out is not None and edge.selection_fan_out.shape == (0,)


def test_sweep_maps_are_quantised_too() -> None:
    """A sweep's small multiples are maps: q8, within half a step."""
    frame = _trained(NETS["default"], steps=20, sweep=True)
    assert frame.sweep_maps is not None
    _within_half_a_step(frame.sweep_maps, decode_blocks(encode_frame(frame))["sweep_maps"][0])


def test_quantised_codes_cover_the_range_exactly() -> None:
    """A map's range holds its minimum and maximum, on its grid (a power of two 2^RANGE_GRID
    to 2^(RANGE_GRID + 1) times finer than its span), so that it stays put while the map moves
    less than a grid step at its ends; a flat map decodes to its one value; an empty stack
    to nothing."""
    rng = np.random.default_rng(3)
    maps = rng.normal(size=(3, 16, 16)).astype(np.float32)
    maps[1] = 0.75
    low, high = map_ranges(maps.astype(np.float64))
    for original, lo, hi in zip(maps, low, high, strict=True):
        span = float(original.max() - original.min())
        if span == 0:
            assert lo == hi == original.min()
            continue
        grid = 2.0 ** (math.floor(math.log2(span)) - RANGE_GRID)
        assert lo <= original.min() < lo + grid and hi - grid < original.max() <= hi
        assert lo / grid == round(lo / grid) and hi / grid == round(hi / grid)
    moved = maps + np.float32(1e-4)  # far less than a grid step: the ranges stay
    np.testing.assert_array_equal(map_ranges(moved.astype(np.float64))[0][[0, 2]], low[[0, 2]])
    back = dequantise_maps(quantise_maps(maps), maps.shape)
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


def test_body_is_one_raw_deflate_stream_and_the_header_stays_plain() -> None:
    """The header is readable without inflating; the rest is exactly one raw deflate stream
    of body_bytes (what DecompressionStream('deflate-raw') reads), the maps' part from
    maps_at on."""
    frame = _trained(NETS["default"], steps=5)
    data = encode_frame(frame)
    header = decode_header(data)
    assert (header["sequence"], header["step"]) == (5, frame.step)
    inflater = zlib.decompressobj(-15)
    body = inflater.decompress(data[HEADER.size:])
    assert inflater.eof and not inflater.unused_data and len(body) == header["body_bytes"]
    head = zlib.decompressobj(-15).decompress(data[HEADER.size:HEADER.size + header["maps_at"]])
    maps = sum(len(quantise_maps(np.asarray(getattr(frame, name), np.float32)))
               for name in ("output_maps", "neuron_maps"))
    assert len(head) == len(body) - maps  # everything before the maps, nothing after


@pytest.mark.parametrize("net", NETS)
def test_a_frame_without_maps_is_the_frame_cut_before_them(net: str) -> None:
    """without_maps: the same blocks, bit for bit, but the maps; the flag maps_skipped; the
    header's lengths true; cutting again changes nothing."""
    full = encode_frame(_trained(NETS[net], steps=20))
    lite = without_maps(full)
    header = decode_header(lite)
    assert header["flags"] & FLAG_MAPS_SKIPPED and len(lite) == header["total_bytes"]
    assert len(lite) < len(full) / 2
    whole, cut = decode_blocks(full), decode_blocks(lite)
    assert set(whole) - set(cut) == {"output_maps", "neuron_maps"}
    for name, arrays in cut.items():
        for a, b in zip(arrays, whole[name], strict=True):
            np.testing.assert_array_equal(a, b)
    assert without_maps(lite) == lite


def test_encoding_is_deterministic() -> None:
    """The same frame gives the same bytes (one encoding serves every client)."""
    frame = _trained(NETS["spiral3"], steps=5)
    assert encode_frame(frame) == encode_frame(frame)
