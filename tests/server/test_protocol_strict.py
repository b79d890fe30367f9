"""Item 14: the protocol as documented, no more. The version is the JSON integer 1; binary
WebSocket messages are refused (commands are text); sequences are JSON arrays; paths write
list indices as ``[i]`` and name keys that hold lone surrogates; REST errors (422s
included) have the one documented shape, which is what the OpenAPI document says."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from server_helpers import Conn, SessionHandle, open_socket

from backprop_playground.api.errors import ErrorResponse
from backprop_playground.wire.commands import CommandError, parse_command


@pytest.mark.parametrize("version", ["true", "1.0", '"1"', "2", "null"])
def test_the_version_is_the_integer_one(presenter: Conn, version: str) -> None:
    """``"v": true`` and ``"v": 1.0`` (equal to 1 in Python) are refused naming ``v``."""
    error = presenter.error(f'{{"type": "pause", "v": {version}, "id": 5}}', request_id=5)
    assert error["field"] == "v"
    presenter.ack({"type": "pause", "v": 1})


def test_binary_messages_are_not_commands(presenter: Conn, app: FastAPI,
                                          session: SessionHandle) -> None:
    """A binary message holding a valid command is refused (naming why), not run; the
    socket keeps working."""
    presenter.send(b'{"type": "step", "n": 3, "id": 9}')
    error = presenter.wait_type("error")
    assert "binary" in error["message"] and error["id"] is None
    assert app.state.registry.get(session.id).trainer.step_count == 0
    assert presenter.ack({"type": "step", "n": 1})["step"] == 1


def test_a_binary_hello_is_refused(client: TestClient, session: SessionHandle) -> None:
    """The first message too: a binary hello is refused (1008)."""
    with open_socket(client, session.id) as conn:
        conn.send(b'{"type": "hello", "role": "presenter", "token": "' +
                  session.token.encode() + b'"}')
        assert "binary" in conn.wait_type("error")["message"]
        assert conn.wait_closed() == 1008


@pytest.mark.parametrize(("text", "field"), [
    ('{"type": "sweep", "learning_rates": [0.1, 50.0]}', "learning_rates[1]"),
    ('{"type": "sweep", "learning_rates": [0.1, "x"]}', "learning_rates[1]"),
    ('{"type": "sweep", "learning_rates": [0.1, NaN]}', "learning_rates[1]"),
    ('{"type": "configure", "config": {"network": {"hidden_layers": [3, Infinity]}}}',
     "config.network.hidden_layers[1]"),
    ('{"type": "play", "\\ud800": 1}', "\\ud800"),
    ('{"type": "select", "target": {"layer": 0, "neuron": 0, "\\udc00x": 1}}',
     "target.\\udc00x"),
])
def test_paths_index_lists_and_name_surrogate_keys(text: str, field: str) -> None:
    """List items are ``name[i]``; a key holding a lone surrogate is named, escaped."""
    with pytest.raises(CommandError) as refused:
        parse_command(text)
    assert refused.value.field == field


def test_features_given_as_an_object_are_refused(client: TestClient) -> None:
    """A sequence field must be a JSON array: features as an object used to pass (its keys
    were taken)."""
    response = client.post("/api/sessions", json={"config": {"network": {
        "features": {"x1": True, "x2": True}}}})
    assert response.status_code == 422
    assert response.json()["detail"]["field"] == "config.network.features"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if "$ref" in node else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def test_the_openapi_document_declares_the_error_shape(client: TestClient) -> None:
    """Every error status of every route is an ErrorResponse ({detail: {field, message}}),
    422 included; FastAPI's array-shaped HTTPValidationError is nowhere."""
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    refs = _refs(response)
                    assert refs == {"#/components/schemas/ErrorResponse"}, (path, method,
                                                                            status)
    detail = document["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == {"field", "message"}


@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", "/api/metrics?reset=perhaps", None),
    ("post", "/api/sessions", {"config": {"network": {"hidden_layers": [99]}}}),
    ("post", "/api/sessions", {"colour": 1}),
    ("post", "/api/sessions", [1, 2]),
])
def test_422_bodies_match_the_declared_shape(client: TestClient, method: str, path: str,
                                             body: Any) -> None:
    """FastAPI's own validation errors and ours both answer ``{detail: {field, message}}``."""
    response = client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    ErrorResponse.model_validate(response.json())
    assert isinstance(response.json()["detail"], dict)
