"""docs/protocol.md says what the models say: every command and its fields, every server
message and its fields, every close code and every REST route appears in it (a new one
that is not described fails here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from backprop_playground.wire.commands import COMMAND_MODELS
from backprop_playground.wire.messages import CloseCode, ServerMessage

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
PROSE = DOC.split("<!-- frame-layout:begin")[0] + DOC.split("<!-- frame-layout:end -->")[-1]


def _fields(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def _message_models() -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = []
    pending = list(getattr(ServerMessage, "__args__", ()))
    while pending:
        model = pending.pop()
        if hasattr(model, "__args__"):
            pending.extend(model.__args__)
        else:
            models.append(model)
    return models


@pytest.mark.parametrize("model", COMMAND_MODELS, ids=lambda m: m.__name__)
def test_every_command_and_field_is_described(model: type[BaseModel]) -> None:
    kind = model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    assert f"| `{kind}` |" in PROSE, kind
    for field in _fields(model) - {"type"}:
        assert f"`{field}`" in PROSE, (kind, field)


@pytest.mark.parametrize("model", _message_models(), ids=lambda m: m.__name__)
def test_every_message_and_field_is_described(model: type[BaseModel]) -> None:
    assert f"`{model.__name__}`" in PROSE, model.__name__
    for field in _fields(model) - {"type"}:
        assert f"`{field}`" in PROSE, (model.__name__, field)


@pytest.mark.parametrize("code", list(CloseCode), ids=lambda c: c.name)
def test_every_close_code_is_described(code: CloseCode) -> None:
    assert re.search(rf"\| {code.value} \| `{code.name}` \|", PROSE), code


def test_every_rest_route_is_described(client: TestClient) -> None:
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        described = path.replace("{session_id}", "{id}")
        for method in operations:
            assert f"`{method.upper()} {described}`" in PROSE, (method, path)
