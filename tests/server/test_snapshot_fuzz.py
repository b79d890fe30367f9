"""Property test of the import path: real exports (fresh, mid-step, a sweep, Adam, a
diverged run) mutated at random — a value replaced by a hostile one, a key dropped or
added, a list cut or grown — and POSTed. The server answers every one with 201 or a 422
naming a field, in bounded time; an accepted run is usable (hello, a step, a frame)."""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_helpers import Json, create_session, open_socket

from backprop_playground.main import create_app
from backprop_playground.settings import Settings

#: Values that broke imports before, and their relatives.
HOSTILE: list[Any] = [
    None, True, False, 0, -1, 1, 3, 2**31, 2**32, 2**53, 2**64, 2**200, 10**60, 10**400,
    -(10**400), 0.5, -0.0, 1e-320, 1e308, -1e308, math.nan, math.inf, -math.inf, "", "x",
    "a", "²", "٣", "\ud800", "forward", "PCG64", [], [[]], [None], [0.03], [[0, []]],
    [[math.inf, [0.03]]], {}, {"\ud800": 1}, {"0": []}, [1e308] * 3, [[[[[[[[1]]]]]]]],
]
BASES = ("fresh", "mid_step", "sweep", "adam", "diverged")
#: Bounded so the suite runs it in seconds; bench/stress.py runs 10 000.
EXAMPLES = int(os.environ.get("BACKPROP_FUZZ_EXAMPLES", "120"))


@pytest.fixture(scope="module")
def fuzz_client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(allowed_hosts=["testserver"], store_path="",
                                        max_sessions=1000,
                                        max_sessions_per_address=1000))) as client:
        yield client


def _run(client: TestClient, config: Json, commands: list[Json]) -> Json:
    session = create_session(client, config)
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        for command in commands:
            conn.request(command)
    response = client.get(f"/api/sessions/{session.id}/snapshot",
                          headers={"authorization": f"Bearer {session.token}"})
    assert response.status_code == 200, response.text
    exported: Json = response.json()
    return exported


@pytest.fixture(scope="module")
def exports(fuzz_client: TestClient) -> dict[str, Json]:
    small: Json = {"network": {"hidden_layers": [3]}, "data": {"dataset": "xor",
                                                              "n_points": 60}}
    step = {"type": "step", "n": 3}
    phase = {"type": "phase_step"}
    return {
        "fresh": _run(fuzz_client, small, []),
        "mid_step": _run(fuzz_client, small, [step, phase, phase]),
        "sweep": _run(fuzz_client, small, [{"type": "sweep", "learning_rates": [0.01, 3.0]},
                                           step, phase]),
        "adam": _run(fuzz_client, {**small, "hyper": {"optimizer": "adam"}}, [step, phase]),
        "diverged": _run(fuzz_client, {"network": {"hidden_layers": [3], "activation": "relu"},
                                       "data": {"dataset": "plane", "n_points": 60}},
                         [{"type": "set_hyper", "learning_rate": 10},
                          {"type": "step", "n": 50}]),
    }


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path in a JSON value (long lists: their first two items and the last)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        indices = range(len(value)) if len(value) <= 4 else (0, 1, len(value) - 1)
        for index in indices:
            yield from paths(value[index], (*prefix, index))


def mutate(exported: Json, path: tuple[Any, ...], operation: str, value: Any) -> Any:
    """A copy of ``exported`` with one mutation at ``path``."""
    if not path:
        return value if operation == "replace" else exported
    result = copy.deepcopy(exported)
    parent: Any = result
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    target = parent[last]
    if operation == "replace":
        parent[last] = value
    elif operation == "delete":
        del parent[last]
    elif operation == "add_key" and isinstance(target, dict):
        target["\ud800" if value == "\ud800" else "extra"] = value
    elif operation == "append" and isinstance(target, list):
        target.append(value if value is not None else copy.deepcopy(target[:1]))
    elif operation == "truncate" and isinstance(target, list):
        del target[len(target) // 2:]
    else:
        parent[last] = value
    return result


@st.composite
def mutated_exports(draw: st.DrawFn, exports: dict[str, Json]) -> tuple[str, Any]:
    base = exports[draw(st.sampled_from(BASES))]
    path = draw(st.sampled_from(list(paths(base))))
    operation = draw(st.sampled_from(("replace", "replace", "delete", "add_key", "append",
                                      "truncate")))
    value = draw(st.sampled_from(HOSTILE) | st.integers() | st.floats() | st.text(max_size=4))
    return repr((path, operation))[:200], mutate(base, path, operation, value)


def test_mutated_imports_answer_201_or_a_named_422(fuzz_client: TestClient,
                                                  exports: dict[str, Json]) -> None:
    """No mutation of a real export makes the server answer 5xx or hang; 422s name a
    field or say why; accepted runs are usable."""
    registry = fuzz_client.app.state.registry  # type: ignore[attr-defined]

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=mutated_exports(exports))
    def check(case: tuple[str, Any]) -> None:
        where, body = case
        text = json.dumps({"snapshot": body})
        response = fuzz_client.post("/api/sessions", content=text,
                                    headers={"content-type": "application/json"})
        assert response.status_code in (201, 422), (where, response.status_code,
                                                    response.text[:300])
        if response.status_code == 422:
            detail = response.json()["detail"]
            assert isinstance(detail, dict) and detail["message"], (where, detail)
            return
        created = response.json()
        with open_socket(fuzz_client, created["id"], timeout=10) as conn:
            conn.hello_presenter(created["presenter_token"])
            reply = conn.request({"type": "step", "n": 2})
            assert reply["type"] in ("ack", "error"), (where, reply)
        fuzz_client.portal.call(registry.remove, created["id"])

    check()
