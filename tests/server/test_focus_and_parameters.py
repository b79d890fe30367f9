"""The focus point and typing a weight in: commands acked with their step, frames carrying
the batch, the focus point's activations and the new value; refusals naming the field."""

from __future__ import annotations

import numpy as np
from fastapi import FastAPI
from server_helpers import Conn, SessionHandle

from backprop_playground.live.session import LiveSession
from backprop_playground.wire.frame import FLAG_BATCH


def live(app: FastAPI, session: SessionHandle) -> LiveSession:
    found: LiveSession = app.state.registry.get(session.id)
    return found


def test_frames_carry_the_batch_once_the_forward_phase_ran(presenter: Conn) -> None:
    """No batch block before a step's forward phase; after it, the batch's points (the
    default batch of 10) and the focus point."""
    assert not presenter.headers[-1]["flags"] & FLAG_BATCH
    mark = len(presenter.headers)
    presenter.ack({"type": "phase_step"})
    header = presenter.wait_frame(lambda h: h["phase"] == 1, since=mark)
    assert header["flags"] & FLAG_BATCH
    assert header["batch_points"] == 10 and header["focus"] == 0


def test_focus_follows_the_chosen_point_and_is_clamped(presenter: Conn, app: FastAPI,
                                                       session: SessionHandle) -> None:
    """focus is kept in the state and in every frame, clamped to the listed batch."""
    presenter.ack({"type": "step"})
    mark, said = len(presenter.headers), len(presenter.messages)
    ack = presenter.ack({"type": "focus", "index": 3})
    assert ack["step"] == 1
    presenter.wait_frame(lambda h: h["focus"] == 3, since=mark)
    presenter.wait_json(lambda m: m["type"] == "state" and m["focus"] == 3, since=said)
    mark = len(presenter.headers)
    presenter.ack({"type": "focus", "index": 40})
    presenter.wait_frame(lambda h: h["focus"] == 9, since=mark)  # clamped: a batch of 10
    assert live(app, session).focus == 40
    assert presenter.error({"type": "focus", "index": 64})["field"] == "index"


def test_set_parameter_between_steps(presenter: Conn, app: FastAPI,
                                     session: SessionHandle) -> None:
    """A typed weight or bias takes effect at once (the trainer holds it) and trains from the
    next step; the ack says that step."""
    presenter.ack({"type": "step", "n": 2})
    ack = presenter.ack({"type": "set_parameter", "value": 1.25,
                         "target": {"layer": 0, "neuron": 1, "source": 0}})
    assert ack["step"] == 3
    trainer = live(app, session).trainer
    weights = trainer.get_weights()[0][0]
    assert weights[1, 0] == 1.25
    presenter.ack({"type": "set_parameter", "value": -3.0, "target": {"layer": 1, "neuron": 0}})
    assert trainer.get_weights()[1][1][0] == -3.0
    before = trainer.get_weights()[1][0].copy()
    presenter.ack({"type": "step"})
    assert not np.array_equal(trainer.get_weights()[1][0], before)  # it trains from there


def test_set_parameter_refusals_name_the_field(presenter: Conn, app: FastAPI,
                                               session: SessionHandle) -> None:
    """Out of range, not finite, not in the network, or a step half done: refused, nothing
    changes."""
    trainer = live(app, session).trainer
    before = trainer.get_weights()
    target = {"layer": 0, "neuron": 0, "source": 1}
    assert presenter.error({"type": "set_parameter", "target": target,
                            "value": 1e3})["field"] == "value"
    assert presenter.error('{"type": "set_parameter", "target": {"layer": 0, "neuron": 0}, '
                           '"value": NaN}')["field"] == "value"
    assert presenter.error({"type": "set_parameter", "value": 0.5,
                            "target": {"layer": 0, "neuron": 9}})["field"] == "target.neuron"
    presenter.ack({"type": "phase_step"})
    assert presenter.error({"type": "set_parameter", "target": target,
                            "value": 0.5})["field"] == "type"
    after = trainer.get_weights()
    assert all(np.array_equal(w0, w1) and np.array_equal(b0, b1)
               for (w0, b0), (w1, b1) in zip(before, after, strict=True))
