"""Item 7: session limits are per client address as well as global. One address cannot
take every session: at its own limit, its longest-idle session without clients makes room
for its next one, and only when all of its sessions are in use is it refused (503), while
other addresses go on creating."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_helpers import AddressFromHeader, open_socket

from backprop_playground.main import create_app
from backprop_playground.settings import Settings


@pytest.fixture
def limited() -> Iterator[TestClient]:
    """An app allowing 3 sessions per address and 6 in all, whose test requests name their
    client address."""
    app = create_app(Settings(allowed_hosts=["testserver"], store_path="",
                              max_sessions_per_address=3, max_sessions=6))
    with TestClient(AddressFromHeader(app)) as client:
        yield client


def _create(client: TestClient, address: str) -> tuple[int, dict[str, str]]:
    response = client.post("/api/sessions", headers={"x-test-address": address,
                                                     "content-type": "application/json"})
    return response.status_code, response.json()


def test_one_address_cannot_lock_the_others_out(limited: TestClient) -> None:
    """An address with 3 sessions in use is refused a 4th (503, saying why); another
    address still gets sessions."""
    with ExitStack() as stack:
        for _ in range(3):
            status, created = _create(limited, "10.0.0.1")
            assert status == 201
            conn = stack.enter_context(open_socket(limited, created["id"]))
            conn.hello_presenter(created["presenter_token"])
        status, refused = _create(limited, "10.0.0.1")
        assert status == 503
        assert "this address" in refused["detail"]["message"]
        assert _create(limited, "10.0.0.2")[0] == 201


def test_an_address_at_its_limit_reuses_its_longest_idle_session(limited: TestClient) -> None:
    """Sessions nobody is connected to make room for the same address's next one: the
    oldest goes (404 afterwards), the others stay."""
    ids = [_create(limited, "10.0.0.1")[1]["id"] for _ in range(3)]
    status, created = _create(limited, "10.0.0.1")
    assert status == 201
    assert limited.get(f"/api/sessions/{ids[0]}").status_code == 404
    for kept in (*ids[1:], created["id"]):
        assert limited.get(f"/api/sessions/{kept}").status_code == 200


def test_the_global_limit_still_holds(limited: TestClient) -> None:
    """Six sessions in use from two addresses fill the server: a third address gets 503."""
    with ExitStack() as stack:
        for address in ("10.0.0.1", "10.0.0.2"):
            for _ in range(3):
                status, created = _create(limited, address)
                assert status == 201
                conn = stack.enter_context(open_socket(limited, created["id"]))
                conn.hello_presenter(created["presenter_token"])
        status, refused = _create(limited, "10.0.0.3")
        assert status == 503
        assert "limit" in refused["detail"]["message"]


# ----------------------------------------------------------- item 11: join codes
@pytest.fixture
def lookups() -> Iterator[TestClient]:
    """An app allowing 5 join-code lookups a second per address, in bursts of 5."""
    app = create_app(Settings(allowed_hosts=["testserver"], store_path="",
                              join_lookups_per_second=5, join_lookup_burst=5))
    with TestClient(AddressFromHeader(app)) as client:
        yield client


def _lookup(client: TestClient, address: str, code: str = "ZZZZZZ") -> Any:
    return client.get(f"/api/join/{code}", headers={"x-test-address": address})


def test_guessing_join_codes_is_throttled_per_address(lookups: TestClient) -> None:
    """Past its burst an address gets 429 with Retry-After and a reason (it used to make
    12,659 lookups in 10 s); another address is not slowed; the budget comes back."""
    answers = [_lookup(lookups, "10.0.0.1").status_code for _ in range(40)]
    assert answers[:5] == [404] * 5
    assert answers.count(429) >= 30
    refused = _lookup(lookups, "10.0.0.1")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    detail = refused.json()["detail"]
    assert detail["field"] == "code" and "too many join-code lookups" in detail["message"]
    assert _lookup(lookups, "10.0.0.2").status_code == 404
    time.sleep(0.5)
    assert _lookup(lookups, "10.0.0.1").status_code == 404


def test_the_qr_code_counts_as_a_lookup(lookups: TestClient) -> None:
    for _ in range(5):
        _lookup(lookups, "10.0.0.3")
    response = lookups.get("/api/join/ZZZZZZ/qr.svg", headers={"x-test-address": "10.0.0.3"})
    assert response.status_code == 429


def test_a_real_code_is_found_within_the_budget(lookups: TestClient) -> None:
    """A class typing its code is not held up: the first lookups of an address answer."""
    _, created = _create(lookups, "10.0.0.4")
    with open_socket(lookups, created["id"]) as conn:
        conn.hello_presenter(created["presenter_token"])
        conn.ack({"type": "present"})
        code = conn.wait_json(lambda m: m["type"] == "state" and m["class"],
                              since=0)["class"]["code"]
    joined = _lookup(lookups, "10.0.0.5", code)
    assert joined.status_code == 200 and joined.json()["session"] == created["id"]
