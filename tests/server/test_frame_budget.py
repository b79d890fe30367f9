"""Frames that fit a classroom Wi-Fi: the bytes a viewer needs per second at the presented
30 frames/s, for trained sessions (maps with structure, not zeros) while they run with a
parameter selected — what a presented class actually streams."""

from __future__ import annotations

import statistics

import pytest

from backprop_playground.live.frames import build_frame
from backprop_playground.settings import Settings
from backprop_playground.trainer import FEATURES, NetworkConfig, TrainerConfig, TrainingSession
from backprop_playground.wire.commands import Selection
from backprop_playground.wire.frame import decode_header, encode_frame

FPS = Settings().presented_frames_per_second
LARGEST = TrainerConfig(network=NetworkConfig(hidden_layers=(16,) * 8, features=FEATURES))


def _megabits_per_second(config: TrainerConfig, frames: int = 30) -> float:
    """Mean frame size × 30 frames/s over ``frames`` consecutive frames of a run trained
    for 300 steps, with an edge selected."""
    session = TrainingSession(config)
    session.run(300)
    sizes = []
    for sequence in range(frames):
        session.run(1)
        frame = build_frame(session, sequence=sequence, running=True,
                            metrics=session.evaluate(),
                            selection=Selection(layer=0, neuron=0, source=1))
        assert frame.output_maps.std() > 0.05  # a trained map, not a flat one
        sizes.append(len(encode_frame(frame)))
    return 8 * statistics.mean(sizes) * FPS / 1e6


def test_default_net_needs_at_most_one_megabit_per_viewer() -> None:
    """The default net (2 features, 4-2 hidden) streams ≤ 1 Mbit/s to each viewer."""
    assert _megabits_per_second(TrainerConfig()) <= 1.0


def test_running_frames_code_the_parameters_and_leave_the_updates_out() -> None:
    """The largest net's 2081 parameters go out as one byte each while it runs (weights and
    gradients; no updates), and as float32 (weights, gradients, updates) when paused."""
    session = TrainingSession(LARGEST)
    session.run(3)
    kwargs = {"sequence": 0, "metrics": session.evaluate(), "selection": None}
    running = encode_frame(build_frame(session, running=True, **kwargs))
    paused = encode_frame(build_frame(session, running=False, **kwargs))
    # float32: 3 × 4 bytes a parameter; codes: 2 × 1 byte, plus a scale and padding for
    # each of the 4 × 9 coded arrays
    saved = decode_header(paused)["body_bytes"] - decode_header(running)["body_bytes"]
    assert (3 * 4 - 2) * 2081 - 4 * 9 * 8 <= saved <= (3 * 4 - 2) * 2081


def test_largest_net_streams_at_most_four_megabits_per_viewer() -> None:
    """The largest net the limits allow (9 features, 8 hidden layers of 16) streams ≤ 4
    Mbit/s (8.5 with float32 parameters): 2.1 of them are its 137 neuron maps."""
    assert _megabits_per_second(LARGEST, frames=10) <= 4.0


@pytest.mark.xfail(strict=True, reason=(
    "the largest net's 137 neuron maps (8 × 8, 8-bit) alone deflate to ~8.6 KB a frame "
    "(2.1 Mbit/s at 30 frames/s): 2 Mbit/s needs them less often or coarser"))
def test_largest_net_needs_at_most_two_megabits_per_viewer() -> None:
    """The issue's target for the largest net: ≤ 2 Mbit/s per viewer."""
    assert _megabits_per_second(LARGEST, frames=10) <= 2.0
