"""Items 8, 10 and 13 (in-process): what a request must pass before any route. The Host
header must name this server (a DNS-rebound page names another: 400, or 403 for a
handshake); a browser's state-changing request must come from exactly the server's origin
(scheme, host and port); a body must be JSON; a body past the limit is refused as it
arrives (413)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from server_helpers import SAME_ORIGIN, SessionHandle, create_session, open_socket
from starlette.websockets import WebSocketDisconnect

from backprop_playground.api.guards import host_allowed, host_names, split_host
from backprop_playground.settings import Settings

FORM = {"content-type": "application/x-www-form-urlencoded"}
EVIL = "http://evil.example"


# ------------------------------------------------------------------ item 8: CSRF
@pytest.mark.parametrize("path", ["/api/sessions", "/api/sessions/{id}/fork"])
def test_cross_origin_simple_post_is_refused(client: TestClient, session: SessionHandle,
                                            path: str) -> None:
    """A cross-origin "simple" POST (form content type, empty body) creates nothing: 403."""
    before = len(client.app.state.registry.sessions)  # type: ignore[attr-defined]
    response = client.post(path.format(id=session.id), headers={**FORM, "origin": EVIL})
    assert response.status_code == 403, response.text
    assert "origin" in response.json()["detail"]["message"]
    assert len(client.app.state.registry.sessions) == before  # type: ignore[attr-defined]


@pytest.mark.parametrize("headers", [{"content-type": "text/plain"}, FORM,
                                     {"content-type": "multipart/form-data; boundary=x"}])
def test_a_body_that_is_not_json_is_refused_with_415(client: TestClient,
                                                     headers: dict[str, str]) -> None:
    """Even same-origin or origin-less, a POST must carry JSON: 415 naming the rule."""
    response = client.post("/api/sessions", content=b"{}", headers=headers)
    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["detail"]["message"]


def test_cross_site_fetch_without_origin_is_refused(client: TestClient) -> None:
    """A browser that says Sec-Fetch-Site: cross-site (and no Origin) is refused too."""
    response = client.post("/api/sessions", json={}, headers={"sec-fetch-site": "cross-site"})
    assert response.status_code == 403


@pytest.mark.parametrize("headers", [{}, {"origin": SAME_ORIGIN},
                                     {"content-type": "application/json; charset=utf-8"}])
def test_same_origin_and_non_browser_json_posts_work(client: TestClient,
                                                     headers: dict[str, str]) -> None:
    """The page's own requests (its origin, JSON) and clients that send no Origin work."""
    response = client.post("/api/sessions", content=b"{}",
                           headers={"content-type": "application/json", **headers})
    assert response.status_code == 201, response.text


def test_post_without_a_body_needs_no_content_type(client: TestClient) -> None:
    """``curl -X POST /api/sessions`` (no body, no content type) still creates a session."""
    assert client.post("/api/sessions").status_code == 201


def test_allowlisted_origin_may_post(make_client: Callable[..., TestClient]) -> None:
    """An origin in ``allowed_origins`` may post; its neighbours may not."""
    client = make_client(allowed_origins=["https://class.example"])
    ok = client.post("/api/sessions", json={}, headers={"origin": "https://class.example"})
    assert ok.status_code == 201
    for origin in ("http://class.example", "https://class.example:444",
                   "https://evil.class.example"):
        assert client.post("/api/sessions", json={},
                           headers={"origin": origin}).status_code == 403, origin


# ------------------------------------------------------------ item 10: Host, Origin
def test_a_rebound_host_is_refused_even_with_a_matching_origin(client: TestClient,
                                                               session: SessionHandle) -> None:
    """Host: evil.example with Origin http://evil.example (DNS rebinding) gets no answer
    from the API and no socket (it used to get a presenter welcome)."""
    rebound = {"host": "evil.example:8000", "origin": "http://evil.example:8000"}
    assert client.get("/api/health", headers=rebound).status_code == 400
    assert client.get(f"/api/sessions/{session.id}", headers=rebound).status_code == 400
    with pytest.raises(WebSocketDisconnect), open_socket(client, session.id, headers=rebound):
        pass


def test_an_https_origin_is_not_the_http_server(client: TestClient,
                                                session: SessionHandle) -> None:
    """Origin https://testserver against an http server is another origin: refused."""
    with pytest.raises(WebSocketDisconnect) as refused, open_socket(
            client, session.id, headers={"origin": "https://testserver"}):
        pass
    assert refused.value.code == 1008
    response = client.post("/api/sessions", json={}, headers={"origin": "https://testserver"})
    assert response.status_code == 403


@pytest.mark.parametrize("origin", ["null", "http://testserver:80/path", "testserver",
                                    "http://testserver:99999"])
def test_malformed_origins_are_refused(client: TestClient, origin: str) -> None:
    """"null" (sandboxed frames, files) and anything that is not an origin are refused."""
    response = client.post("/api/sessions", json={}, headers={"origin": origin})
    assert response.status_code == 403, origin


def test_the_default_hosts_are_the_bound_host_and_loopback() -> None:
    """Unless told, the server answers its bound host and localhost/127.0.0.1/::1 only."""
    names = host_names(Settings(host="10.1.2.3"))
    assert names == frozenset({"10.1.2.3", "localhost", "127.0.0.1", "::1"})
    assert host_allowed("localhost:8000", names, wildcard=False)
    assert host_allowed("[::1]:8000", names, wildcard=False)
    assert not host_allowed("evil.example:8000", names, wildcard=False)
    assert not host_allowed("", names, wildcard=False)
    assert host_names(Settings(allowed_hosts=["*"])) is None


def test_a_server_on_every_interface_answers_its_addresses() -> None:
    """Bound to 0.0.0.0, any IP literal (students type the laptop's address) and the
    machine's name are answered; other names are not."""
    settings = Settings(host="0.0.0.0")
    names = host_names(settings)
    assert host_allowed("192.168.1.20:8000", names, wildcard=True)
    assert not host_allowed("evil.example", names, wildcard=True)
    assert split_host("[fe80::1]:80") == ("fe80::1", 80)


def test_allowed_hosts_adds_names(make_client: Callable[..., TestClient]) -> None:
    client = make_client(allowed_hosts=["testserver", "class.example"])
    assert client.get("/api/health", headers={"host": "class.example"}).status_code == 200
    assert client.get("/api/health", headers={"host": "other.example"}).status_code == 400


# ------------------------------------------------------------ item 13: body size
def test_a_body_announced_too_large_is_refused_unread(make_client: Callable[..., TestClient]
                                                      ) -> None:
    client = make_client(max_request_bytes=4096)
    response = client.post("/api/sessions", content=b" " * 5000,
                           headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]["message"]


def test_a_chunked_body_is_counted_as_it_arrives(make_client: Callable[..., TestClient]) -> None:
    """A body without Content-Length (chunked) is refused with 413 once it passes the
    limit (bench and test_live measure a 200 MB one against a real server)."""
    client = make_client(max_request_bytes=4096)

    def chunks() -> object:
        for _ in range(64):
            yield b" " * 1024

    response = client.post("/api/sessions", content=chunks(),  # type: ignore[arg-type]
                           headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text


def test_a_session_made_by_a_guarded_request_still_works(client: TestClient) -> None:
    """The guards change nothing for the page: create, hello, step."""
    handle = create_session(client)
    with open_socket(client, handle.id, headers={"origin": SAME_ORIGIN}) as conn:
        conn.hello_presenter(handle.token)
        conn.ack({"type": "step"})
