"""REST: health, options, session creation (config or snapshot), info, snapshot export and
import, errors that name the field, 404s, and the OpenAPI document."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_helpers import (
    Json,
    SessionHandle,
    bearer,
    create_session,
    export_run,
    open_socket,
    session_info,
)

from backprop_playground.trainer import (
    ACTIVATIONS,
    DATASETS,
    FEATURES,
    LIMITS,
    LOSSES,
    OPTIMIZERS,
    REGULARIZATIONS,
    TrainerConfig,
    TrainingSession,
    config_to_dict,
)

XOR_ADAM: Json = {"network": {"hidden_layers": [4, 3]}, "data": {"dataset": "xor"},
                  "hyper": {"optimizer": "adam", "batch_size": 7}, "seed": 5}
#: The default config as a session resolves it (per-layer activations, the problem's loss).
DEFAULT_CONFIG: Json = config_to_dict(TrainingSession(TrainerConfig()).config)


def _run(client: TestClient, session: SessionHandle, *commands: Json) -> None:
    """Carry out ``commands`` as the presenter, each acknowledged."""
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        for command in commands:
            conn.ack(command)


def _export(client: TestClient, session: SessionHandle) -> Json:
    """The session's snapshot, fetched with its presenter token."""
    return export_run(client, session)


def _post_snapshot(client: TestClient, exported: Json) -> Any:
    """POST an exported run as JSON text that may hold NaN/Infinity (as Python writes it;
    httpx's ``json=`` refuses those, but a client can send them)."""
    return client.post("/api/sessions", content=json.dumps({"snapshot": exported}),
                       headers={"content-type": "application/json"})


# ------------------------------------------------------------------ health, options
def test_health_answers_ok(client: TestClient) -> None:
    """GET /api/health answers 200 with status ok and the version."""
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["version"]


def test_options_list_every_choice(client: TestClient) -> None:
    """GET /api/options lists every data set, feature, activation, loss and optimizer."""
    options = client.get("/api/options").json()
    assert {d["name"] for d in options["datasets"]} == set(DATASETS)
    assert all({"name", "title", "problem", "n_classes"} <= set(d) for d in options["datasets"])
    assert [f["name"] for f in options["features"]] == list(FEATURES)
    assert [a["name"] for a in options["activations"]] == list(ACTIVATIONS)
    assert {loss["name"]: loss["problem"] for loss in options["losses"]} == LOSSES
    assert [o["name"] for o in options["optimizers"]] == list(OPTIMIZERS)
    assert [r["name"] for r in options["regularizations"]] == list(REGULARIZATIONS)
    assert options["protocol"] == 1


def test_options_list_every_limit_and_the_defaults(make_client: Callable[..., TestClient]
                                                   ) -> None:
    """GET /api/options gives every range, the configured server limits and the defaults."""
    client = make_client(max_message_bytes=2048, max_messages_per_second=7)
    options = client.get("/api/options").json()
    limits = options["limits"]
    for key, (low, high) in LIMITS.items():
        assert limits[key] == [low, high], key
    assert limits["speed"] == [0.01, 1000]
    assert limits["step_n"] == [1, 10_000]
    assert limits["max_message_bytes"] == 2048
    assert limits["max_messages_per_second"] == 7
    for key in ("max_sessions", "max_viewers_per_session", "idle_session_seconds",
                "max_frames_per_second"):
        assert key in limits
    assert options["defaults"] == config_to_dict(TrainerConfig())


# ---------------------------------------------------------------------- creating
def test_create_without_body_uses_defaults(client: TestClient) -> None:
    """POST /api/sessions with no body creates a default session: id, token, socket path."""
    response = client.post("/api/sessions")
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["id"] and len(data["presenter_token"]) >= 16
    assert data["websocket"] == f"/ws/sessions/{data['id']}"
    assert data["config"] == DEFAULT_CONFIG


def test_create_with_empty_object_uses_defaults(client: TestClient) -> None:
    """POST /api/sessions with ``{}`` is the same as no body."""
    response = client.post("/api/sessions", json={})
    assert response.status_code == 201, response.text
    assert response.json()["config"] == DEFAULT_CONFIG


def test_create_with_config(client: TestClient) -> None:
    """A given config (any subset of the sections) is applied; the rest keep defaults."""
    session = create_session(
        client, {"network": {"hidden_layers": [3]}, "data": {"dataset": "xor"}, "seed": 9})
    assert session.config["network"]["hidden_layers"] == [3]
    assert session.config["data"]["dataset"] == "xor"
    assert session.config["seed"] == 9
    assert session.config["hyper"] == config_to_dict(TrainerConfig())["hyper"]
    assert session_info(client, session.id)["config"] == session.config


def test_sessions_get_distinct_ids_and_tokens(client: TestClient) -> None:
    """Every session has its own id and presenter token."""
    sessions = [create_session(client) for _ in range(3)]
    assert len({s.id for s in sessions}) == 3
    assert len({s.token for s in sessions}) == 3


@pytest.mark.parametrize(("config", "field"), [
    ({"network": {"hidden_layers": [0]}}, "hidden_layers"),
    ({"network": {"hidden_layers": [3, 17]}}, "hidden_layers"),
    ({"data": {"dataset": "nope"}}, "data.dataset"),
    ({"hyper": {"learning_rate": 100}}, "hyper.learning_rate"),
    ({"hyper": {"optimizer": "rmsprop"}}, "hyper.optimizer"),
    ({"network": {"features": ["x3"]}}, "network.features"),
    ({"bogus": 1}, "bogus"),
    ({"network": {"width": 4}}, "network.width"),
])
def test_create_with_invalid_config_names_the_field(client: TestClient, config: Json,
                                                    field: str) -> None:
    """An invalid config is refused with 422 and ``detail.field`` naming the culprit."""
    response = client.post("/api/sessions", json={"config": config})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert field in detail["field"]
    assert detail["message"]


def test_invalid_hidden_layer_is_named_with_its_index(client: TestClient) -> None:
    """hidden_layers [0] is refused naming ``network.hidden_layers[0]``."""
    response = client.post("/api/sessions", json={"config": {"network": {"hidden_layers": [0]}}})
    assert response.status_code == 422
    assert response.json()["detail"]["field"].endswith("network.hidden_layers[0]")


def test_create_with_config_and_snapshot_is_refused(client: TestClient) -> None:
    """Giving both a config and a snapshot is a 422 naming ``snapshot``."""
    exported = _export(client, create_session(client))
    response = client.post("/api/sessions", json={"config": {}, "snapshot": exported})
    assert response.status_code == 422
    assert response.json()["detail"]["field"] == "snapshot"


def test_create_refuses_unknown_body_fields(client: TestClient) -> None:
    """The create body has only ``config`` and ``snapshot``; anything else is a 422."""
    response = client.post("/api/sessions", json={"confg": {}})
    assert response.status_code == 422


def test_session_limit_answers_503(make_client: Callable[..., TestClient]) -> None:
    """Past ``max_sessions`` a create is refused with 503 (memory stays bounded) when every
    session is in use (an idle one of the same address would make room: test_limits)."""
    client = make_client(max_sessions=2)
    first, second = create_session(client), create_session(client)
    with open_socket(client, first.id) as one, open_socket(client, second.id) as two:
        one.hello_presenter(first.token)
        two.hello_presenter(second.token)
        response = client.post("/api/sessions")
    assert response.status_code == 503
    assert "limit" in response.json()["detail"]["message"]


def test_oversized_request_body_is_refused(make_client: Callable[..., TestClient]) -> None:
    """A request body larger than ``max_request_bytes`` is refused with 413."""
    client = make_client(max_request_bytes=1024)
    response = client.post("/api/sessions", content=b"{" + b" " * 5000 + b"}",
                           headers={"content-type": "application/json"})
    assert response.status_code == 413


# -------------------------------------------------------------------------- info
def test_session_info_reports_the_session(client: TestClient,
                                          session: SessionHandle) -> None:
    """GET /api/sessions/{id} gives id, step, epoch, running, viewers and config."""
    info = session_info(client, session.id)
    assert info == {"id": session.id, "step": 0, "epoch": 0, "running": False, "viewers": 0,
                    "config": session.config}


def test_session_info_follows_training(client: TestClient, session: SessionHandle) -> None:
    """After 5 steps the info says step 5."""
    _run(client, session, {"type": "step", "n": 5})
    assert session_info(client, session.id)["step"] == 5


def test_info_and_snapshot_never_reveal_the_token(client: TestClient,
                                                  session: SessionHandle) -> None:
    """Neither the public info nor the exported run contains the presenter token."""
    assert session.token not in client.get(f"/api/sessions/{session.id}").text
    assert session.token not in client.get(f"/api/sessions/{session.id}/snapshot",
                                           headers=bearer(session.token)).text


@pytest.mark.parametrize("path", ["/api/sessions/{id}", "/api/sessions/{id}/snapshot"])
def test_unknown_session_is_404(client: TestClient, path: str) -> None:
    """An unknown session id is a 404 naming the field ``id``."""
    response = client.get(path.format(id="no-such-session"), headers=bearer("x"))
    assert response.status_code == 404
    assert response.json()["detail"]["field"] == "id"


# --------------------------------------------------------------------- snapshots
def test_snapshot_is_strict_json(client: TestClient) -> None:
    """The exported run is strict JSON even for regression and after a divergence."""
    session = create_session(client, {"network": {"hidden_layers": [3], "activation": "relu"},
                                       "data": {"dataset": "plane"}})
    _run(client, session, {"type": "step", "n": 3},
         {"type": "set_hyper", "learning_rate": 10}, {"type": "step", "n": 40})
    text = client.get(f"/api/sessions/{session.id}/snapshot", headers=bearer(session.token)).text
    for constant in ("NaN", "Infinity"):
        assert constant not in text


def test_snapshot_round_trip_continues_identically(client: TestClient) -> None:
    """An imported run starts at the original's step and steps on bit-identically."""
    original = create_session(client, XOR_ADAM)
    _run(client, original, {"type": "step", "n": 11})
    exported = _export(client, original)
    copy_ = create_session(client, snapshot=exported)
    assert session_info(client, copy_.id)["step"] == 11
    assert copy_.config == original.config
    for session in (original, copy_):
        _run(client, session, {"type": "step", "n": 6})
    first, second = _export(client, original), _export(client, copy_)
    assert second["trainer"]["step"] == first["trainer"]["step"] == 17
    assert second["trainer"]["parameters"] == first["trainer"]["parameters"]
    assert second["trainer"]["optimizer"] == first["trainer"]["optimizer"]


def test_snapshot_round_trip_mid_step(client: TestClient) -> None:
    """A run exported mid-step (after forward and loss) continues like the original."""
    original = create_session(client, XOR_ADAM)
    _run(client, original, {"type": "step", "n": 3}, {"type": "phase_step"},
         {"type": "phase_step"})
    copy_ = create_session(client, snapshot=_export(client, original))
    for session in (original, copy_):
        _run(client, session, {"type": "step", "n": 4})
    first, second = _export(client, original), _export(client, copy_)
    assert first["trainer"]["step"] == 7
    assert second["trainer"]["parameters"] == first["trainer"]["parameters"]


def test_snapshot_import_keeps_history_and_speed(client: TestClient) -> None:
    """The imported run has the original's loss history and speed."""
    original = create_session(client, XOR_ADAM)
    _run(client, original, {"type": "set_hyper", "speed": 3}, {"type": "step", "n": 4},
         {"type": "step", "n": 2})
    exported = _export(client, original)
    assert len(exported["history"]["rows"]) >= 2
    assert exported["speed"] == 3
    copy_ = create_session(client, snapshot=exported)
    again = _export(client, copy_)
    assert again["history"] == exported["history"]
    assert again["speed"] == 3


def _set_first_weight(value: float) -> Callable[[Json], None]:
    def tamper(exported: Json) -> None:
        exported["trainer"]["parameters"][0][0] = value
    return tamper


@pytest.mark.parametrize(("tamper", "field"), [
    (_set_first_weight(math.nan), "snapshot.parameters"),
    (_set_first_weight(math.inf), "snapshot.parameters"),
    (lambda e: e["trainer"]["parameters"][0].pop(), "snapshot.parameters"),
    (lambda e: e["trainer"].__setitem__("parameters", [[1.0, 2.0]]), "snapshot.parameters"),
    (lambda e: e["trainer"].__setitem__("version", 99), "snapshot.version"),
    (lambda e: e["trainer"].__setitem__("cursor", -1), "snapshot.cursor"),
    (lambda e: e["trainer"].__setitem__("order", [0, 0, 0]), "snapshot.order"),
    (lambda e: e["trainer"]["config"]["network"].__setitem__("hidden_layers", [99]),
     "hidden_layers"),
    (lambda e: e.pop("trainer"), "snapshot"),
    (lambda e: e.__setitem__("history", {"columns": ["step"], "rows": []}), "history"),
])
def test_tampered_snapshot_is_refused(client: TestClient, tamper: Callable[[Json], None],
                                      field: str) -> None:
    """A tampered snapshot (NaN, wrong shape, inconsistent) is a 422 naming the field."""
    exported = _export(client, create_session(client, XOR_ADAM))
    tamper(exported)
    response = _post_snapshot(client, exported)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]["field"]
    assert len(client.app.state.registry.sessions) == 1  # type: ignore[attr-defined]


def test_snapshot_with_malformed_given_batch_is_refused(client: TestClient) -> None:
    """A mid-step snapshot whose ``given_batch`` is malformed is a 422, not a 500."""
    session = create_session(client, XOR_ADAM)
    _run(client, session, {"type": "phase_step"})
    exported = _export(client, session)
    exported["trainer"]["given_batch"] = [[[0.0, 0.0]]]  # points but no labels
    response = _post_snapshot(TestClient(client.app, raise_server_exceptions=False), exported)
    assert response.status_code == 422, response.text


def test_snapshot_with_non_finite_speed_is_refused_or_clamped() -> None:
    """A snapshot with speed NaN is refused (422) or imported with a speed that plays."""
    from backprop_playground.main import create_app
    from backprop_playground.settings import Settings

    settings = Settings(allowed_hosts=["testserver"], store_path="")
    with TestClient(create_app(settings)) as client:
        exported = copy.deepcopy(_export(client, create_session(client, XOR_ADAM)))
        exported["speed"] = math.nan
        response = _post_snapshot(client, exported)
        if response.status_code == 422:
            return
        assert response.status_code == 201
        data = response.json()
        with open_socket(client, data["id"]) as conn:
            conn.hello_presenter(data["presenter_token"])
            conn.ack({"type": "play"})
            conn.wait_frame(lambda header: header["step"] >= 2, timeout=3)


# ------------------------------------------------------------------------ OpenAPI
def test_openapi_document_and_docs_page(client: TestClient) -> None:
    """/openapi.json describes the REST API and /docs serves the interactive page."""
    document = client.get("/openapi.json")
    assert document.status_code == 200
    paths = document.json()["paths"]
    for path in ("/api/health", "/api/options", "/api/sessions", "/api/sessions/{session_id}",
                 "/api/sessions/{session_id}/snapshot"):
        assert path in paths, path
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
