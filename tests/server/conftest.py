"""Shared fixtures for the server tests: apps built from Settings, TestClients with their
lifespan running, sessions created over REST, and presenter/viewer sockets with deadlines."""

from __future__ import annotations

import warnings

# Starlette's TestClient warns at import that it wants ``httpx2``; that is not what we test.
warnings.filterwarnings("ignore", message=r".*`httpx` with `starlette\.testclient`.*")

from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from server_helpers import (  # noqa: E402
    Conn,
    SessionHandle,
    class_code,
    create_session,
    open_socket,
)

from backprop_playground.main import create_app  # noqa: E402
from backprop_playground.settings import Settings  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """Keep the httpx deprecation warning out of every test's warning summary too."""
    config.addinivalue_line(
        "filterwarnings", r"ignore:.*`httpx` with `starlette\.testclient`.*:UserWarning")


#: What every test app differs in from the defaults: it answers the TestClient's host name,
#: and saves no session to disk (the restart tests give a store path of their own).
TEST_SETTINGS: dict[str, Any] = {"allowed_hosts": ["testserver"], "store_path": ""}


@pytest.fixture
def settings() -> Settings:
    """Default server settings (tests that need others build their own app)."""
    return Settings(**TEST_SETTINGS)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """A fresh app: its own registry, executor and sessions."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A TestClient whose ``with`` block runs the app's lifespan (reaper, registry close)."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    """Build a TestClient (lifespan running) for an app with the given Settings overrides."""
    with ExitStack() as stack:

        def build(**overrides: Any) -> TestClient:
            settings = Settings(**{**TEST_SETTINGS, **overrides})
            return stack.enter_context(TestClient(create_app(settings)))

        yield build


@pytest.fixture
def session(client: TestClient) -> SessionHandle:
    """A small, fast session: xor, one hidden layer of 3 neurons."""
    return create_session(
        client, {"network": {"hidden_layers": [3]}, "data": {"dataset": "xor"}})


@pytest.fixture
def presenter(client: TestClient, session: SessionHandle) -> Iterator[Conn]:
    """The session's presenter socket, past the welcome."""
    with open_socket(client, session.id) as conn:
        conn.hello_presenter(session.token)
        yield conn


@pytest.fixture
def viewer(client: TestClient, session: SessionHandle) -> Iterator[Conn]:
    """A viewer socket on the session, presented as a class for it, past the welcome."""
    code = class_code(client, session)
    with open_socket(client, session.id) as conn:
        conn.hello_viewer(code)
        yield conn
