"""Sessions that survive a restart: an embedded SQLite file (stdlib ``sqlite3``).

Each row is one session: its id, a digest of its presenter token (the token itself is
never written: a copied file opens nothing), the client address that created it, when it
was last used (wall clock, so idle expiry goes on across restarts), and its state as JSON:
the exact export of its run (``LiveSession.export``, which ``restore`` continues bit for
bit) and what its clients see (class code, view, selection, focus, shown run, rate marks).

The registry (:mod:`.registry`) is the only user, through :class:`SessionStore`: it saves
the sessions that changed every ``store_interval_seconds`` and all of them on shutdown,
loads them on start, and deletes a session when it expires or is removed. Every call does
file I/O: the registry makes them on a thread of its own, never on the event loop.

One process owns a store file at a time (an advisory lock next to it); a second process
given the same path runs without one (and says so) rather than restoring the first
process's sessions too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

logger = logging.getLogger(__name__)
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    token_digest TEXT NOT NULL,
    owner TEXT NOT NULL,
    last_active REAL NOT NULL,
    saved_at REAL NOT NULL,
    state TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class StoredSession:
    """One session as the store keeps it. ``last_active`` and ``saved_at`` are wall-clock
    seconds (``time.time()``); ``state`` is ``{"run": export, "live": {...}}``."""

    id: str
    token_digest: str
    owner: str
    last_active: float
    saved_at: float
    state: dict[str, Any]


class SessionStore(Protocol):
    """Where sessions are kept between two runs of the server."""

    @property
    def path(self) -> str | None:
        """The file (None: nothing is kept)."""

    def load(self) -> list[StoredSession]:
        """Every kept session (rows that cannot be read are skipped and deleted)."""

    def save(self, sessions: Iterable[StoredSession]) -> None:
        """Keep these sessions (replacing what was kept of them), in one transaction."""

    def delete(self, session_ids: Iterable[str]) -> None:
        """Forget these sessions."""

    def close(self) -> None:
        """Release the file."""


class NullStore:
    """Keeps nothing: sessions end with the process."""

    path = None

    def load(self) -> list[StoredSession]:
        return []

    def save(self, sessions: Iterable[StoredSession]) -> None:
        pass

    def delete(self, session_ids: Iterable[str]) -> None:
        pass

    def close(self) -> None:
        pass


class StoreLocked(Exception):
    """Another process owns the store file."""


class SqliteStore:
    """Sessions in one SQLite file (WAL journal: a save never blocks a reader, and a
    ``kill -9`` loses at most the transaction in progress)."""

    def __init__(self, path: str) -> None:
        self.path = path
        file = Path(path).expanduser()
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = _lock(file.with_name(file.name + ".lock"))
        try:
            self._db = sqlite3.connect(str(file), check_same_thread=False,
                                       isolation_level=None)
            with contextlib.suppress(OSError):
                os.chmod(file, 0o600)  # runs of the users; tokens are digests only
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"store schema {version}, this server reads "
                                            f"{SCHEMA_VERSION}")
            self._db.execute(SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            self._lock.close()
            raise

    def load(self) -> list[StoredSession]:
        rows = self._db.execute(
            "SELECT id, token_digest, owner, last_active, saved_at, state FROM sessions "
            "ORDER BY last_active DESC").fetchall()
        sessions, unreadable = [], []
        for session_id, digest, owner, last_active, saved_at, state in rows:
            try:
                parsed = json.loads(state)
                if not isinstance(parsed, dict):
                    raise ValueError("not an object")
            except (ValueError, RecursionError):
                unreadable.append(session_id)
                continue
            sessions.append(StoredSession(session_id, digest, owner, float(last_active),
                                          float(saved_at), parsed))
        if unreadable:
            logger.warning("session store: %d unreadable sessions dropped", len(unreadable))
            self.delete(unreadable)
        return sessions

    def save(self, sessions: Iterable[StoredSession]) -> None:
        rows = []
        for session in sessions:
            try:
                state = json.dumps(session.state, allow_nan=False, separators=(",", ":"))
            except (ValueError, TypeError) as error:  # never expected: exports are plain JSON
                logger.warning("session %s not saved: %s", session.id, error)
                continue
            rows.append((session.id, session.token_digest, session.owner,
                         session.last_active, session.saved_at, state))
        if not rows:
            return
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO sessions "
                "(id, token_digest, owner, last_active, saved_at, state) "
                "VALUES (?, ?, ?, ?, ?, ?)", rows)

    def delete(self, session_ids: Iterable[str]) -> None:
        ids = [(session_id,) for session_id in session_ids]
        if ids:
            with self._transaction():
                self._db.executemany("DELETE FROM sessions WHERE id = ?", ids)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._lock.close()

    @contextlib.contextmanager
    def _transaction(self) -> Any:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _lock(path: Path) -> IO[str]:
    """An exclusive advisory lock on ``path`` for this process; StoreLocked if another
    process holds it."""
    handle = open(path, "a")  # noqa: SIM115 - held open for the store's lifetime
    try:
        import fcntl
    except ImportError:  # no advisory locks here: trust there is one process
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        handle.close()
        raise StoreLocked(f"{path} is held by another server process") from error
    return handle


def open_store(path: str) -> SessionStore:
    """The store at ``path`` ("" keeps nothing). A file that cannot be opened (no such
    directory can be made, another process owns it, it is not a session store) gives a
    store that keeps nothing, with a warning: the server still runs."""
    if not path:
        return NullStore()
    try:
        return SqliteStore(path)
    except (OSError, sqlite3.Error, StoreLocked) as error:
        logger.warning("sessions will not survive a restart: the store %s cannot be used "
                       "(%s)", path, error)
        return NullStore()
