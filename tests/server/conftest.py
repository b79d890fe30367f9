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
from server_helpers import Conn, SessionHandle, create_session, open_socket  # noqa: E402

from backprop_playground.main import create_app  # noqa: E402
from backprop_playground.settings import Settings  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """Keep the httpx deprecation warning out of every test's warning summary too."""
    config.addinivalue_line(
        "filterwarnings", r"ignore:.*`httpx` with `starlette\.testclient`.*:UserWarning")


@pytest.fixture
def settings() -> Settings:
    """Default server settings (tests that need others build their own app)."""
    return Settings()


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
            return stack.enter_context(TestClient(create_app(Settings(**overrides))))

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
    """A viewer socket on the session, past the welcome."""
    with open_socket(client, session.id) as conn:
        conn.hello_viewer()
        yield conn
