"""Starting a sweep keeps the run state: a training run goes on training as a sweep, a
paused one stays paused; a new session trains at Settings.default_speed steps per frame."""

from __future__ import annotations

from fastapi import FastAPI
from server_helpers import Conn, SessionHandle

from backprop_playground.settings import Settings

FLAG_SWEEP = 8


def test_a_sweep_started_while_training_goes_on_training(presenter: Conn, app: FastAPI,
                                                         session: SessionHandle) -> None:
    """play, then sweep: the session is still running and sweep frames count steps up."""
    presenter.ack({"type": "play"})
    presenter.wait_frame(lambda h: h["step"] >= 3)
    presenter.ack({"type": "sweep", "learning_rates": [0.01, 0.1, 1.0]})
    assert app.state.registry.get(session.id).running
    header = presenter.wait_frame(lambda h: bool(h["flags"] & FLAG_SWEEP) and h["step"] >= 10)
    assert header["step"] >= 10
    presenter.ack({"type": "pause"})


def test_a_sweep_started_while_paused_stays_paused(presenter: Conn, app: FastAPI,
                                                   session: SessionHandle) -> None:
    """sweep on a paused run rebuilds it and does not start training."""
    presenter.ack({"type": "sweep", "learning_rates": [0.01, 0.1]})
    assert not app.state.registry.get(session.id).running


def test_a_new_session_trains_at_the_default_speed(app: FastAPI, session: SessionHandle) -> None:
    """The live session's speed starts at Settings.default_speed (5 steps per frame)."""
    assert Settings().default_speed == 5.0
    assert app.state.registry.get(session.id).speed == Settings().default_speed
