"""The batch blocks: the minibatch's points and the focus point's numbers are the trainer's."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_playground.live.frames import build_frame
from backprop_playground.trainer import TrainingSession, config_from_dict
from backprop_playground.wire.frame import BATCH_RECORD, FrameData


def _session(loss: str, dataset: str = "circle") -> TrainingSession:
    session = TrainingSession(config_from_dict({"network": {"loss": loss},
                                                "data": {"dataset": dataset}, "seed": 2}))
    session.run(3)
    return session


def _frame(session: TrainingSession, focus: int = 2) -> FrameData:
    return build_frame(session, sequence=1, running=False, metrics=session.evaluate(),
                       selection=None, focus=focus)


@pytest.mark.parametrize(("loss", "dataset"), [("bce", "circle"), ("squared_error", "xor"),
                                               ("cross_entropy", "spiral3"), ("mse", "plane")])
def test_batch_rows_are_the_minibatch(loss: str, dataset: str) -> None:
    """After the loss phase: each row's loss terms average to the batch loss, and its output
    is the focus point's a at the output; before the loss phase those columns are NaN."""
    session = _session(loss, dataset)
    session.advance()  # forward
    early = _frame(session)
    assert early.batch is not None
    rows = dict(zip(BATCH_RECORD, early.batch.T, strict=True))
    assert np.isnan(rows["loss"]).all() and np.isnan(rows["grad_output"]).all()
    session.advance()  # loss
    frame = _frame(session)
    assert frame.batch is not None and frame.focus_a is not None
    rows = dict(zip(BATCH_RECORD, frame.batch.T, strict=True))
    np.testing.assert_allclose(rows["loss"].mean(), frame.batch_loss, rtol=1e-12)
    index = session.batch_index
    assert index is not None
    np.testing.assert_array_equal(rows["index"], index)
    dataset_rows = session.model.dataset.train_index[index]
    np.testing.assert_array_equal(rows["x1"], session.model.dataset.points[dataset_rows, 0])
    output_unit = int(rows["label"][2]) if loss == "cross_entropy" else 0
    assert rows["output"][2] == frame.focus_a[-1][output_unit]


def test_focus_numbers_follow_the_forward_pass() -> None:
    """a = f(z) of the focus point layer by layer; δ appears with the backward phase."""
    session = _session("bce")
    for _ in range(3):
        session.advance()  # forward, loss, backward
    frame = _frame(session, focus=4)
    assert frame.focus == 4 and frame.focus_z is not None and frame.focus_a is not None
    assert frame.focus_delta is not None
    np.testing.assert_allclose(frame.focus_a[0], np.tanh(frame.focus_z[0]), rtol=1e-12)
    tensors = session.tensors()
    assert tensors.layers[0].delta is not None
    np.testing.assert_array_equal(frame.focus_delta[0], tensors.layers[0].delta[4])
    # δ_j = f′(z_j) · Σ_k w_kj δ_k: the fan-in sum the inspector writes out
    weights = session.get_weights()[1][0]
    fan_in = (1 - frame.focus_a[0] ** 2) * (weights.T @ frame.focus_delta[1])
    np.testing.assert_allclose(frame.focus_delta[0], fan_in, rtol=1e-12)
