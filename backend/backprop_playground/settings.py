"""One Settings object for the server: host, port and limits, from the environment.

Every field can be set with an environment variable prefixed ``BACKPROP_``, e.g.
``BACKPROP_PORT=9000`` or ``BACKPROP_ALLOWED_ORIGINS='["https://class.example"]'``;
command-line flags of ``backprop-playground`` override host and port.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_store_path() -> str:
    """Where sessions are kept across restarts: the user's data directory
    (``$XDG_DATA_HOME/backprop-playground/sessions.sqlite3``, by default under
    ``~/.local/share``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "backprop-playground" / "sessions.sqlite3")


class Settings(BaseSettings):
    """Server configuration with sane defaults: no external service is needed."""

    model_config = SettingsConfigDict(env_prefix="BACKPROP_")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: str = "info"
    #: Origins allowed to open WebSockets besides the page's own (same origin is always fine).
    allowed_origins: list[str] = []
    #: Host names (the Host header) the server answers besides the one it binds to,
    #: localhost and 127.0.0.1 / ::1; ``["*"]`` answers any.
    allowed_hosts: list[str] = []
    max_message_bytes: int = Field(65_536, ge=1024, le=1_048_576)
    max_messages_per_second: float = Field(30.0, gt=0)
    #: A client whose messages keep being dropped by that rate limit for this long (a
    #: sustained flood, not a burst) is disconnected with 4429 and a reason.
    flood_seconds: float = Field(5.0, gt=0)
    #: Answers one viewer may send per second on average (bursts of twice as many): enough
    #: to change one's mind, too few to flood the tally.
    max_answers_per_second: float = Field(2.0, gt=0)
    max_sessions: int = Field(100, ge=1)
    #: Sessions one client address may hold; past it, its longest-idle session without
    #: clients makes room, else a create is refused (503).
    max_sessions_per_address: int = Field(20, ge=1)
    max_viewers_per_session: int = Field(250, ge=1)
    #: The presenter's list of a class's forks holds at most this many (the newest).
    max_listed_forks: int = Field(50, ge=1, le=1000)
    #: A spotlight code opens viewer sockets on the fork it shows for this long after it
    #: was issued (sockets opened with it stay until the spotlight ends).
    spotlight_code_seconds: float = Field(60.0, gt=0, le=3600)
    #: Commands one client address may have waiting or running at once (a socket sends its
    #: next command only after the answer to the last; this bounds many sockets).
    max_pending_commands_per_address: int = Field(16, ge=1)
    #: Join-code lookups (``/api/join/…``) one address may make per second on average, and
    #: in a burst: enough for a class typing its code, too few to guess codes.
    join_lookups_per_second: float = Field(2.0, gt=0)
    join_lookup_burst: int = Field(30, ge=1)
    idle_session_seconds: float = Field(1800.0, gt=0)
    #: A client that takes nothing for this long is let go. Behind an overloaded shared
    #: Wi-Fi one TCP flow can stall for several seconds (its retransmission timer backs off):
    #: with 5 s, 4 of 60 viewers behind 30 Mbit/s were dropped (bench/classroom_wifi.py
    #: --rate-mbit 30), with 15 s none; a stalled client costs one frame and its socket.
    send_timeout_seconds: float = Field(15.0, gt=0)
    hello_timeout_seconds: float = Field(10.0, gt=0)
    max_frames_per_second: float = Field(60.0, gt=0, le=240)
    #: Steps per frame a new session trains at (at 60 frames/s the default net reaches 95 %
    #: in ~3 s).
    default_speed: float = Field(5.0, ge=0.01, le=1000)
    #: A presented session streams to a whole class: a calmer rate keeps 200 viewers fed.
    presented_frames_per_second: float = Field(30.0, gt=0, le=240)
    max_request_bytes: int = Field(4_000_000, ge=1024)
    trainer_threads: int = Field(2, ge=1, le=32)
    #: Long trainer work (a ``step`` of 10 000, a tick at high speed) runs in slices of about
    #: this many seconds, so that every session gets a trainer thread within one slice.
    trainer_slice_seconds: float = Field(0.005, gt=0, le=0.1)
    #: The SQLite file where sessions are saved so that they survive a restart; empty: they
    #: are not saved.
    store_path: str = Field(default_factory=default_store_path)
    #: Changed sessions are saved this often (and all of them on shutdown).
    store_interval_seconds: float = Field(5.0, gt=0)
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
