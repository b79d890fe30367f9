"""Importing runs over REST (``POST /api/sessions`` with a snapshot), hostile ones included:
every tampered export is answered in bounded time with 201 or a 422 naming the field, never
a 5xx; the event loop keeps serving while an import is validated; every accepted import is a
session clients can use (hello, step, frames)."""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_helpers import Json, SessionHandle, create_session, open_socket

SMALL: Json = {"network": {"hidden_layers": [3]}, "data": {"dataset": "xor"}}
DEADLINE_SECONDS = 15.0


def presenter_headers(session: SessionHandle) -> dict[str, str]:
    return {"authorization": f"Bearer {session.token}"}


def export(client: TestClient, session: SessionHandle) -> Json:
    """GET the session's snapshot (with its presenter token)."""
    response = client.get(f"/api/sessions/{session.id}/snapshot",
                          headers=presenter_headers(session))
    assert response.status_code == 200, response.text
    exported: Json = response.json()
    return exported


def run(client: TestClient, session: SessionHandle, *commands: Json) -> None:
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        for command in commands:
            conn.ack(command)


def mid_step_export(client: TestClient) -> Json:
    """A run exported after two steps and two phase_steps (forward and loss of step 3)."""
    session = create_session(client, SMALL)
    run(client, session, {"type": "step", "n": 2}, {"type": "phase_step"},
        {"type": "phase_step"})
    return export(client, session)


def post_text(client: TestClient, text: str) -> Any:
    """POST a body as given (it may hold NaN, Infinity or numbers no float holds)."""
    return client.post("/api/sessions", content=text,
                       headers={"content-type": "application/json"})


def post_snapshot(client: TestClient, exported: Any) -> Any:
    return post_text(client, json.dumps({"snapshot": exported}))


def post_within_deadline(client: TestClient, exported: Any) -> Any:
    """POST the snapshot from a helper thread; the test fails (rather than hangs) when no
    answer comes within the deadline, and checks the server answers health meanwhile."""
    answers: list[Any] = []
    thread = threading.Thread(target=lambda: answers.append(post_snapshot(client, exported)),
                              daemon=True)
    thread.start()
    thread.join(DEADLINE_SECONDS)
    assert not thread.is_alive(), "the import never answered"
    assert client.get("/api/health").status_code == 200
    return answers[0]


def assert_usable(client: TestClient, created: Json) -> None:
    """An accepted import: the presenter's hello is welcomed with a frame, and a step runs."""
    with open_socket(client, created["id"], timeout=10) as conn:
        conn.hello_presenter(created["presenter_token"])
        reply = conn.request({"type": "step", "n": 2})
        assert reply["type"] in ("ack", "error"), reply
        conn.ack({"type": "pause"})


# ------------------------------------------------------------------ item 1: replay
def test_frozen_mid_step_import_is_refused_and_the_server_keeps_serving(
        client: TestClient) -> None:
    """Item 1: a mid-step export with ``frozen: [true]`` used to spin the event loop
    forever in replay_to; now it is a 422 (naming the missing divergence record, or with
    one, snapshot.phase), and the server answers meanwhile."""
    exported = mid_step_export(client)
    exported["trainer"]["frozen"] = [True]
    response = post_within_deadline(client, exported)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["field"] == "snapshot.divergences[0]"
    exported["trainer"]["divergences"] = [{"run": 0, "step": 2, "learning_rate": 0.03,
                                           "loss": None, "reason": "the loss exploded"}]
    response = post_within_deadline(client, exported)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["field"] == "snapshot.phase"


def test_exploding_mid_step_import_is_refused(client: TestClient) -> None:
    """Item 1: weights of 2^33 in a mid-step export (the replayed step diverges) are a 422,
    answered in bounded time."""
    exported = mid_step_export(client)
    parameters = exported["trainer"]["parameters"]
    parameters[0] = [2**33] * len(parameters[0])
    response = post_within_deadline(client, exported)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["field"].startswith("snapshot")


def test_import_runs_off_the_event_loop(client: TestClient) -> None:
    """While imports are validated and replayed, the event loop answers other requests."""
    exported = mid_step_export(client)
    stop = time.monotonic() + 1.0
    failures: list[int] = []

    def hammer() -> None:
        while time.monotonic() < stop:
            status = post_snapshot(client, copy.deepcopy(exported)).status_code
            if status != 201:
                failures.append(status)

    thread = threading.Thread(target=hammer, daemon=True)
    thread.start()
    slowest = 0.0
    while thread.is_alive():
        started = time.monotonic()
        assert client.get("/api/health").status_code == 200
        slowest = max(slowest, time.monotonic() - started)
    assert not failures
    assert slowest < 1.0, slowest


Tamper = Callable[[Json], None]


def _keep(_: Json) -> None:
    """An untouched export."""


def _set(path: str, value: Any) -> Tamper:
    """Set ``value`` at a dotted ``path`` in the export (list indices as numbers)."""
    def tamper(exported: Json) -> None:
        *parents, last = path.split(".")
        node: Any = exported
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    tamper.__name__ = f"{path}={value!r}"[:60]
    return tamper


def test_untampered_mid_step_import_is_accepted_and_usable(client: TestClient) -> None:
    """The baseline: the export of a run mid-step imports (201) and can be used."""
    response = post_within_deadline(client, mid_step_export(client))
    assert response.status_code == 201, response.text
    assert_usable(client, response.json())


def _frozen_with(record: Json) -> Tamper:
    """Mark the run frozen with this divergence record."""
    def tamper(exported: Json) -> None:
        exported["trainer"]["frozen"] = [True]
        exported["trainer"]["divergences"] = [record]
    return tamper


def _recovery(key: str) -> Tamper:
    def tamper(exported: Json) -> None:
        size = len(exported["trainer"]["parameters"][0])
        exported["trainer"]["recovery"] = {key: [0.0] * size}
    return tamper


DIVERGENCE: Json = {"run": 0, "step": 2, "learning_rate": 0.03, "loss": None,
                    "reason": "the loss exploded"}
#: Items 2 and 3: each tampered export and the field its 422 names (a prefix of it).
REFUSED: list[tuple[Tamper, str]] = [
    (_recovery("²"), "snapshot.recovery"),
    (_recovery("٣"), "snapshot.recovery"),
    (_set("trainer.parameters.0.0", 10**400), "snapshot.parameters[0][0]"),
    (_set("history.rows.0.2", 10**400), "history.rows[0][2]"),
    (_set("trainer.order.0", "a"), "snapshot.order"),
    (_set("trainer.order_generator.state.state", 2**200), "snapshot.order_generator.state"),
    (_set("trainer.order_generator.state.inc", -1), "snapshot.order_generator.state"),
    (_set("trainer.learning_rate_changes", [[math.inf, [0.03]]]),
     "snapshot.learning_rate_changes[0][0]"),
    (_set("trainer.checkpoint.weights.0.0", 10**400), "snapshot.checkpoint.weights[0][0]"),
    (_set("trainer.checkpoint.reference", ["x"]), "snapshot.checkpoint.reference[0]"),
    (_set("trainer.checkpoint", {"weights": []}), "snapshot.checkpoint"),
    (_set("trainer.checkpoint.extra", 1), "snapshot.checkpoint.extra"),
    (_frozen_with({**DIVERGENCE, "learning_rate": "x"}), "snapshot.divergences[0].learning_rate"),
    (_frozen_with({**DIVERGENCE, "reason": 5}), "snapshot.divergences[0].reason"),
    (_set("trainer.learning_rate_changes", [[0, []]]), "snapshot.learning_rate_changes[0][1]"),
    (_set("trainer.points_seen", 10**60), "snapshot.points_seen"),
    (_set("trainer.step", 10**60), "snapshot.step"),
    (_set("trainer.epoch", True), "snapshot.epoch"),
    (_set("trainer.version", True), "snapshot.version"),
    (_set("trainer.sweep", 1), "snapshot.sweep"),
    (_set("trainer.parameters.0.0", True), "snapshot.parameters[0][0]"),
    (_set("trainer.parameters.0.0", "0.5"), "snapshot.parameters[0][0]"),
    (_set("trainer.config.network.features", {"x1": 1}), "snapshot.config.network.features"),
    (_set("history.stride", True), "history.stride"),
    (_set("speed", 10**400), "snapshot.speed"),
    (_set("trainer.bogus", 1), "snapshot.bogus"),
]


@pytest.mark.parametrize(("tamper", "field"), REFUSED,
                         ids=[tamper.__name__ for tamper, _ in REFUSED])
def test_tampered_import_is_a_422_naming_the_field(client: TestClient, tamper: Tamper,
                                                   field: str) -> None:
    """Items 2 and 3: each tampering the issue measured (500s, or imports accepted but
    unusable) is a 422 whose field names the culprit; no session is created."""
    exported = mid_step_export(client)
    before = len(client.app.state.registry.sessions)  # type: ignore[attr-defined]
    tamper(exported)
    response = post_within_deadline(client, exported)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["field"].startswith(field), detail
    assert detail["message"]
    assert len(client.app.state.registry.sessions) == before  # type: ignore[attr-defined]


@pytest.mark.parametrize("step", [2**32 - 1, 2**32, 2**40])
def test_large_step_counts_import_and_train(client: TestClient, step: int) -> None:
    """Item 3: an import at step 2^32 (or beyond, up to 2^53) is accepted and usable:
    hello, a step, a frame showing the count."""
    exported = mid_step_export(client)
    exported["trainer"]["step"] = step
    response = post_within_deadline(client, exported)
    assert response.status_code == 201, response.text
    created = response.json()
    with open_socket(client, created["id"]) as conn:
        assert conn.hello_presenter(created["presenter_token"])["state"]["step"] == step
        assert conn.ack({"type": "step", "n": 2})["step"] == step + 1
        conn.wait_frame(lambda header: header["step"] == step + 2)


def test_body_that_is_not_json_is_a_422(client: TestClient) -> None:
    """Garbage, deep nesting and a number of 5000 digits are 422s (not valid JSON)."""
    for text in ("{", "[" * 100_000 + "]" * 100_000, '{"snapshot": ' + "9" * 5000 + "}"):
        response = post_text(client, text)
        assert response.status_code == 422, response.text[:200]
        assert response.json()["detail"]["message"]


def test_errors_quote_lone_surrogates_safely(client: TestClient) -> None:
    """A key holding a lone surrogate (valid JSON text, not Unicode) is named in ASCII."""
    response = post_text(client, '{"config": {"\\ud800": 1}}')
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["field"] == "config.\\ud800"
