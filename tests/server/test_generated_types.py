"""The page's TypeScript declarations are generated from the wire models: the file in
frontend/types/ is current, every message the server sends carries exactly its model's
fields (the generator declares them all as always present), and the JSON Schema → TypeScript
mapping covers the shapes the models use."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pydantic import BaseModel
from server_helpers import Json, class_code, create_session, open_socket

from backprop_playground.wire import gen_types
from backprop_playground.wire.messages import (
    AckMessage,
    ClassEndedEvent,
    ConfigMessage,
    DivergedEvent,
    ErrorMessage,
    StateMessage,
    ViewersMessage,
    WelcomeMessage,
)

MODELS: dict[str, type[BaseModel]] = {
    "welcome": WelcomeMessage, "ack": AckMessage, "error": ErrorMessage,
    "state": StateMessage, "config": ConfigMessage, "viewers": ViewersMessage,
    "diverged": DivergedEvent, "class_ended": ClassEndedEvent,
}


def test_generated_declarations_are_current() -> None:
    """frontend/types/messages.gen.d.ts is what the generator writes from today's models
    (run ``python -m backprop_playground.wire.gen_types`` after changing a model)."""
    assert gen_types.OUTPUT.read_text() == gen_types.typescript()
    assert gen_types.main(["--check"]) == 0


def _fields(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def _received(client: TestClient) -> list[Json]:
    """Messages of every kind, from a presenter and a viewer that run through a class."""
    session = create_session(client, {"network": {"hidden_layers": [3], "activation": "relu",
                                                  "loss": "mse"}, "data": {"dataset": "plane"}})
    code = class_code(client, session)
    with open_socket(client, session.id) as presenter, \
            open_socket(client, session.id) as viewer:
        presenter.hello_presenter(session.token)
        viewer.hello_viewer(code)
        presenter.wait_json(lambda m: m["type"] == "viewers", since=0)  # sent within 0.1 s
        presenter.ack({"type": "present"})
        presenter.error({"type": "step", "n": 0})
        presenter.ack({"type": "select", "target": {"layer": 0, "neuron": 1}})
        presenter.ack({"type": "configure", "config": {"seed": 2}})
        presenter.ack({"type": "sweep", "learning_rates": [0.01, 0.1]})
        presenter.ack({"type": "sweep", "learning_rates": None})
        presenter.ack({"type": "set_hyper", "learning_rate": 10})
        presenter.ack({"type": "play"})
        presenter.wait_json(lambda m: m["type"] == "event")
        presenter.ack({"type": "end_class"})
        viewer.wait_closed()
        return presenter.messages + viewer.messages


def test_every_message_carries_exactly_its_models_fields(client: TestClient) -> None:
    """Each JSON message has the fields of its model (by their wire names), no more, no fewer
    (besides ``non_finite``); every kind of message is seen."""
    seen: set[str] = set()
    for message in _received(client):
        kind = message["event"] if message["type"] == "event" else message["type"]
        assert set(message) - {"non_finite"} == _fields(MODELS[kind]), message
        seen.add(kind)
        state: Any = message.get("state")
        if state is not None:
            assert set(state) == _fields(StateMessage)
    assert seen == set(MODELS)


def test_json_schema_shapes_map_to_typescript() -> None:
    """Tuples, unions with null, records, constants and enums become their TypeScript
    counterparts."""
    assert gen_types.ts_type({"type": "array", "prefixItems": [{"type": "integer"},
                                                              {"type": "number"}]}) \
        == "[number, number]"
    assert gen_types.ts_type({"anyOf": [{"type": "array", "items": {"anyOf": [
        {"type": "number"}, {"type": "null"}]}}, {"type": "null"}]}) == "(number | null)[] | null"
    assert gen_types.ts_type({"type": "object", "additionalProperties": True}) \
        == "Record<string, unknown>"
    assert gen_types.ts_type({"const": "ack"}) == '"ack"'
    assert gen_types.ts_type({"enum": ["a", "b"], "type": "string"}) == '"a" | "b"'
    assert gen_types.ts_type({"$ref": "#/$defs/ClassInfo"}) == "ClassInfo"
