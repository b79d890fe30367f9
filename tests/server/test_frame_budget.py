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
from backprop_playground.wire.frame import encode_frame

FPS = Settings().presented_frames_per_second
LARGEST = TrainerConfig(network=NetworkConfig(hidden_layers=(16,) * 8, features=FEATURES))
#: Weights, gradients and updates go out as exact float32 (the inspector prints them).
PARAMETER_BLOCKS = ("weights", "biases", "grad_weights", "grad_biases", "update_weights",
                    "update_biases")


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


def test_largest_net_streams_at_most_nine_megabits_per_viewer() -> None:
    """The largest net the limits allow (9 features, 8 hidden layers of 16) streams ≤ 9
    Mbit/s (16 as float32): 6.0 of them are its 3 × 2081 exact float32 parameters
    (weights, gradients and updates, which barely compress), the rest maps and numbers."""
    session = TrainingSession(LARGEST)
    frame = build_frame(session, sequence=0, running=True, metrics=session.evaluate(),
                        selection=None)
    exact = sum(4 * array.size for name in PARAMETER_BLOCKS for array in getattr(frame, name))
    assert exact == 3 * 4 * 2081
    assert _megabits_per_second(LARGEST, frames=10) <= 9.0


@pytest.mark.xfail(strict=True, reason=(
    "exact float32 weights, gradients and updates of the largest net alone are 24,972 bytes "
    "a frame (6.0 Mbit/s at 30 frames/s) and deflate only to ~23.6 KB: 2 Mbit/s needs them "
    "less exact, or less often"))
def test_largest_net_needs_at_most_two_megabits_per_viewer() -> None:
    """The issue's target for the largest net: ≤ 2 Mbit/s per viewer."""
    assert _megabits_per_second(LARGEST, frames=10) <= 2.0
