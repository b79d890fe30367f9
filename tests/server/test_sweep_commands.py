"""The learning-rate sweep over the socket: K runs side by side, any run in the main view."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from server_helpers import Conn, SessionHandle, frame_header

FLAG_SWEEP = 8


def _rate(conn: Conn) -> float:
    """The main run's learning rate, from the last frame's header."""
    assert conn.last_frame is not None
    return float(frame_header(conn.last_frame)["learning_rate"])


def test_sweep_frames_carry_every_run(presenter: Conn, app: FastAPI,
                                      session: SessionHandle) -> None:
    """After `sweep`, frames have the sweep flag and the trainer runs K rates together."""
    assert presenter.ack({"type": "sweep", "learning_rates": [0.01, 0.1, 1.0]})["step"] == 0
    presenter.ack({"type": "step", "n": 4})
    header = presenter.wait_frame(lambda h: h["step"] == 4)
    assert header["flags"] & FLAG_SWEEP
    trainer = app.state.registry.get(session.id).trainer
    assert trainer.runs == 3 and list(trainer.learning_rates) == [0.01, 0.1, 1.0]
    states = [m for m in presenter.messages if m["type"] == "state" and m.get("sweep")]
    assert states[-1]["sweep"] == {"learning_rates": [0.01, 0.1, 1.0], "main_run": 0}


def test_promote_shows_another_run_and_refuses_a_missing_one(presenter: Conn) -> None:
    """`promote` puts run k in the main view (its rate in the frame); k out of range is refused."""
    presenter.ack({"type": "sweep", "learning_rates": [0.01, 0.3]})
    presenter.ack({"type": "promote", "run": 1})
    presenter.wait_frame(lambda h: True)
    assert _rate(presenter) == pytest.approx(0.3)
    error = presenter.error({"type": "promote", "run": 5})
    assert error["field"] == "run"


def test_stopping_the_sweep_returns_to_one_run(presenter: Conn, app: FastAPI,
                                              session: SessionHandle) -> None:
    """`sweep` with no rates rebuilds one run; frames lose the sweep flag."""
    presenter.ack({"type": "sweep", "learning_rates": [0.01, 0.3]})
    presenter.ack({"type": "sweep", "learning_rates": None})
    header = presenter.wait_frame(lambda h: not h["flags"] & FLAG_SWEEP)
    assert header["step"] == 0
    assert app.state.registry.get(session.id).trainer.runs == 1


@pytest.mark.parametrize("rates, field", [
    ([0.1], "learning_rates"), ([0.1] * 9, "learning_rates"), ([0.1, 50.0], "learning_rates[1]"),
])
def test_bad_sweeps_are_refused_naming_the_field(presenter: Conn, rates: list[float],
                                                 field: str) -> None:
    """Fewer than 2 or more than 8 rates, or a rate out of range, are refused."""
    assert presenter.error({"type": "sweep", "learning_rates": rates})["field"] == field
