"""Join codes of presented classes: short, random, easy to read aloud and type."""

from __future__ import annotations

import secrets

JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud
JOIN_CODE_LENGTH = 6


def normalize_code(code: str) -> str:
    """Join codes are read aloud and typed: case, spaces and dashes do not matter."""
    return code.strip().upper().replace(" ", "").replace("-", "")


class JoinCodes:
    """The join codes of this process's presented sessions: code → session id."""

    def __init__(self) -> None:
        self.by_code: dict[str, str] = {}

    def issue(self, session_id: str) -> str:
        """A fresh code for ``session_id`` (never one in use)."""
        while True:
            code = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
            if code not in self.by_code:
                self.by_code[code] = session_id
                return code

    def claim(self, code: str, session_id: str) -> str:
        """``code`` for ``session_id`` again (a class brought back), or a fresh one if
        another session holds it meanwhile."""
        if self.by_code.get(code, session_id) != session_id:
            return self.issue(session_id)
        self.by_code[code] = session_id
        return code

    def retire(self, code: str) -> None:
        """The class ended: the code stops working."""
        self.by_code.pop(code, None)

    def session_id(self, code: str) -> str | None:
        """The session presented with ``code`` (case, spaces and dashes ignored)."""
        return self.by_code.get(normalize_code(code))
