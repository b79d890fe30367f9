"""The landscape blocks: the frame carries the trainer's step on the loss landscape, with the
verdict as the catalogue's index, overshoot and saturation flags."""

from __future__ import annotations

import numpy as np

from backprop_playground.live.frames import build_frame
from backprop_playground.live.landscape_block import VERDICT_CODES
from backprop_playground.settings import Settings
from backprop_playground.trainer import TrainingSession, config_from_dict
from backprop_playground.wire.catalogue import options
from backprop_playground.wire.frame import LANDSCAPE_RECORD, FrameData, decode_header, encode_frame


def _frame(session: TrainingSession) -> FrameData:
    return build_frame(session, sequence=1, running=False, metrics=session.evaluate(),
                       selection=None)


def test_landscape_after_the_update_phase_only() -> None:
    """The landscape appears with the update phase and equals the trainer's; its verdict is
    the catalogue's index, its landing loss the batch loss after the step."""
    session = TrainingSession(config_from_dict({"data": {"dataset": "plane"},
                                                "hyper": {"learning_rate": 0.1}}))
    session.run(5)
    frame = _frame(session)
    landscape = session.step_landscape()
    assert landscape is not None and frame.landscape is not None
    assert frame.landscape_info is not None
    info = dict(zip(LANDSCAPE_RECORD, frame.landscape_info, strict=True))
    np.testing.assert_array_equal(frame.landscape[:, 0], landscape.steps)
    assert info["loss_after"] == landscape.loss_after and info["step"] == session.step_count
    codes = [v["code"] for v in options(Settings())["landscape_verdicts"]]
    assert codes == list(VERDICT_CODES) and codes[int(info["verdict"])] == landscape.verdict
    assert frame.overshot == landscape.overshot
    session.advance()  # forward of the next step: the landscape waits for its update
    assert _frame(session).landscape is None


def test_overshoot_flag_on_a_too_large_rate() -> None:
    """A rate far too large on the regression plane raises the batch loss: the frame's
    overshot flag is set and the header says so."""
    session = TrainingSession(config_from_dict({"data": {"dataset": "plane"},
                                                "network": {"hidden_layers": [4]},
                                                "hyper": {"learning_rate": 3.0}}))
    session.run(1)
    frame = _frame(session)
    assert frame.overshot
    header = decode_header(encode_frame(frame))
    assert header["flags"] & (1 << 6) and header["landscape_points"] == len(frame.landscape)


def test_saturation_block_while_saturated() -> None:
    """circle, tanh + squared error, η = 10, seed 1 saturates: the frame carries the shares."""
    session = TrainingSession(config_from_dict({"network": {"loss": "squared_error"},
                                                "data": {"n_points": 200},
                                                "hyper": {"learning_rate": 10.0}, "seed": 1}))
    session.run(50)
    assert session.status == "saturated"
    frame = _frame(session)
    assert frame.saturation is not None and len(frame.saturation) == 3
    assert frame.saturation.max() > 0.5
