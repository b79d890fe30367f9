"""Learning-rate changes of one slider drag share a gesture number, so the charts can show
one mark for the drag while every change stays recorded with its true step."""

from __future__ import annotations

from server_helpers import Conn


def test_changes_of_one_drag_share_their_gesture(presenter: Conn) -> None:
    """Each change is kept as [step, rate, gesture]; a change without a gesture has null."""
    presenter.ack({"type": "step"})
    for rate in (0.1, 0.3, 1.0):
        presenter.ack({"type": "set_hyper", "learning_rate": rate, "gesture": 7})
        presenter.ack({"type": "step"})
    presenter.ack({"type": "set_hyper", "learning_rate": 0.05})
    said = len(presenter.messages)
    presenter.ack({"type": "step"})
    state = presenter.wait_json(lambda m: m["type"] == "state", since=said)
    changes = state["learning_rate_changes"]
    assert [change[1:] for change in changes[-4:]] == [[0.1, 7], [0.3, 7], [1.0, 7], [0.05, None]]
    assert [change[0] for change in changes[-4:]] == [2, 3, 4, 5]
    assert presenter.error({"type": "set_hyper", "learning_rate": 0.1,
                            "gesture": -1})["field"] == "gesture"
