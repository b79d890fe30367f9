"""One Settings object for the server: host, port and limits, from the environment.

Every field can be set with an environment variable prefixed ``BACKPROP_``, e.g.
``BACKPROP_PORT=9000`` or ``BACKPROP_ALLOWED_ORIGINS='["https://class.example"]'``;
command-line flags of ``backprop-playground`` override host and port.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Server configuration with sane defaults: no external service is needed."""

    model_config = SettingsConfigDict(env_prefix="BACKPROP_")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: str = "info"
    #: Origins allowed to open WebSockets besides the page's own (same origin is always fine).
    allowed_origins: list[str] = []
    max_message_bytes: int = Field(65_536, ge=1024, le=1_048_576)
    max_messages_per_second: float = Field(30.0, gt=0)
    max_sessions: int = Field(100, ge=1)
    max_viewers_per_session: int = Field(250, ge=1)
    idle_session_seconds: float = Field(1800.0, gt=0)
    send_timeout_seconds: float = Field(5.0, gt=0)
    hello_timeout_seconds: float = Field(10.0, gt=0)
    max_frames_per_second: float = Field(60.0, gt=0, le=240)
    #: A presented session streams to a whole class: a calmer rate keeps 200 viewers fed.
    presented_frames_per_second: float = Field(30.0, gt=0, le=240)
    max_request_bytes: int = Field(4_000_000, ge=1024)
    trainer_threads: int = Field(2, ge=1, le=32)
    #: e.g. ``redis://localhost:6379/0``: presented sessions are relayed through Redis so that
    #: viewers on other server processes can follow them. Unset: everything stays here.
    redis_url: str | None = None

    def limits(self) -> dict[str, float]:
        """The server limits a client should know about."""
        return {
            "max_message_bytes": self.max_message_bytes,
            "max_messages_per_second": self.max_messages_per_second,
            "max_sessions": self.max_sessions,
            "max_viewers_per_session": self.max_viewers_per_session,
            "idle_session_seconds": self.idle_session_seconds,
            "max_frames_per_second": self.max_frames_per_second,
        }
