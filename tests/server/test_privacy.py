"""Item 9: a session id alone grants nothing. Viewing needs a presented class and its join
code, and ends with the class; exporting and forking need the presenter token or the member
token a viewer gets in its welcome, valid while its socket is open and the class lasts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from server_helpers import (
    Conn,
    SessionHandle,
    SocketClosed,
    bearer,
    class_code,
    create_session,
    open_socket,
)


def _hello_refused(client: TestClient, session_id: str, token: str | None) -> int:
    """Say hello as a viewer with ``token``; the close code (the test fails if welcomed)."""
    with open_socket(client, session_id) as conn:
        conn.send({"type": "hello", "role": "viewer", "token": token})
        error = conn.wait_type("error")
        assert error["field"] == "token", error
        return conn.wait_closed()


def test_viewers_need_a_presented_class(client: TestClient, session: SessionHandle) -> None:
    """A viewer by id on a session that was never presented is refused (4403), with or
    without a code."""
    for token in (None, "ABCDEF", session.id):
        assert _hello_refused(client, session.id, token) == 4403


def test_viewers_need_the_classes_code(client: TestClient, session: SessionHandle) -> None:
    """While presented, a wrong code is refused; the right one (any case, dashes) works."""
    code = class_code(client, session)
    wrong = ("B" if code[0] != "B" else "C") + code[1:]
    assert _hello_refused(client, session.id, wrong) == 4403
    with open_socket(client, session.id) as conn:
        assert conn.hello_viewer(f"{code[:3].lower()}-{code[3:]}")["role"] == "viewer"


def test_an_ex_viewer_cannot_come_back_after_the_class(client: TestClient,
                                                      session: SessionHandle,
                                                      presenter: Conn) -> None:
    """After end_class, the session id and the old code from GET /api/join open nothing:
    no frames for an ex-viewer who reconnects."""
    code = class_code(client, session)
    joined = client.get(f"/api/join/{code}").json()
    with open_socket(client, joined["session"]) as viewer:
        viewer.hello_viewer(code)
        presenter.ack({"type": "end_class"})
        assert viewer.wait_closed() == 4410
    assert client.get(f"/api/join/{code}").status_code == 404
    for token in (code, None):
        assert _hello_refused(client, joined["session"], token) == 4403
    presenter.ack({"type": "step", "n": 2})  # the run goes on, privately


def test_a_new_class_of_the_same_session_needs_the_new_code(client: TestClient,
                                                           session: SessionHandle,
                                                           presenter: Conn) -> None:
    """Presenting again issues a new code; the old one does not let anyone in."""
    old = class_code(client, session)
    presenter.ack({"type": "end_class"})
    new = class_code(client, session)
    assert new != old
    assert _hello_refused(client, session.id, old) == 4403


@pytest.mark.parametrize("path", ["/api/sessions/{id}/snapshot"])
def test_export_needs_a_credential(client: TestClient, session: SessionHandle,
                                   path: str) -> None:
    """No token: 401 (saying what to send); a wrong one or another session's: 403; the
    presenter token: 200."""
    url = path.format(id=session.id)
    missing = client.get(url)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in missing.json()["detail"]["message"]
    other = create_session(client)
    for token in ("wrong", other.token, session.id):
        assert client.get(url, headers=bearer(token)).status_code == 403
    assert client.get(url, headers={"authorization": session.token}).status_code == 403
    assert client.get(url, headers=bearer(session.token)).status_code == 200


def test_fork_needs_a_credential(client: TestClient, session: SessionHandle) -> None:
    """A fork with the session id alone is refused; with the presenter token it works."""
    url = f"/api/sessions/{session.id}/fork"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=bearer("wrong")).status_code == 403
    assert client.post(url, headers=bearer(session.token)).status_code == 201


def test_a_viewer_forks_and_exports_with_its_member_token(client: TestClient,
                                                          session: SessionHandle,
                                                          presenter: Conn) -> None:
    """A viewer's welcome carries a member token (the presenter's does not): it opens
    export and fork while the viewer is connected and the class lasts, then nothing."""
    assert presenter.messages[0]["member_token"] is None
    code = class_code(client, session)
    presenter.ack({"type": "step", "n": 3})
    with open_socket(client, session.id) as viewer:
        token = viewer.hello_viewer(code)["member_token"]
        assert isinstance(token, str) and len(token) >= 16
        exported = client.get(f"/api/sessions/{session.id}/snapshot", headers=bearer(token))
        assert exported.status_code == 200
        assert exported.json()["trainer"]["step"] == 3
        forked = client.post(f"/api/sessions/{session.id}/fork", headers=bearer(token))
        assert forked.status_code == 201
        copy = forked.json()
        with open_socket(client, copy["id"]) as own:
            assert own.hello_presenter(copy["presenter_token"])["state"]["step"] == 3
        other = create_session(client)  # the token opens this class only
        assert client.get(f"/api/sessions/{other.id}/snapshot",
                          headers=bearer(token)).status_code == 403
    assert client.get(f"/api/sessions/{session.id}/snapshot",
                      headers=bearer(token)).status_code == 403


def test_member_tokens_end_with_the_class(client: TestClient, session: SessionHandle,
                                          presenter: Conn) -> None:
    """end_class voids every member token at once, even before the viewer's socket closes."""
    code = class_code(client, session)
    with open_socket(client, session.id) as viewer:
        token = viewer.hello_viewer(code)["member_token"]
        presenter.ack({"type": "end_class"})
        assert client.post(f"/api/sessions/{session.id}/fork",
                           headers=bearer(token)).status_code == 403
        with pytest.raises(SocketClosed):
            viewer.wait_json(lambda m: False)
