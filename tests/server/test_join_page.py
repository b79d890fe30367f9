"""GET /join/<anything>: the page, which looks the code up itself and says when the code
opens no class; never a raw JSON 404 (main.py's join_page)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("path", ["/join/ABC234", "/join/nope", "/join/ab/cd", "/join/ab/cd/",
                                  "/join/a%2Fb", "/join/%3Cscript%3E", "/join/"])
def test_every_join_path_serves_the_page(client: TestClient, path: str) -> None:
    """Any path under /join/ — a code with slashes, escapes or nothing at all — answers 200
    with the page's HTML, so the page can say that the code opens no class."""
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-testid="notices"' in response.text


def test_the_join_api_still_answers_json(client: TestClient) -> None:
    """The page's lookup (GET /api/join/{code}) is not swallowed by the page route: an
    unknown code is a JSON 404 naming the field."""
    response = client.get("/api/join/NOPE99")
    assert response.status_code == 404
    assert response.json()["detail"]["field"] == "code"
