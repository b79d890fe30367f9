"""The app factory: health endpoint, static page, console-script arguments."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backprop_playground.main import create_app, frontend_directory


def test_health_answers_ok() -> None:
    """GET /api/health says the server is up."""
    client = TestClient(create_app(), base_url="http://127.0.0.1")  # a host it answers for
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_page_is_served_at_root() -> None:
    """The static page is served at / from the frontend directory."""
    client = TestClient(create_app(), base_url="http://127.0.0.1")
    response = client.get("/")
    assert response.status_code == 200
    assert "Backprop Playground" in response.text
    assert (frontend_directory() / "index.html").is_file()
