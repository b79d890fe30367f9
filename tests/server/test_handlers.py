"""The command table (live.handlers.COMMANDS): one handler per control command, none for
the hello, and a command model cannot be given two."""

from __future__ import annotations

import pytest

from backprop_playground.live.dispatch import CommandTable
from backprop_playground.live.handlers import COMMANDS, play
from backprop_playground.live.session import LiveSession
from backprop_playground.wire.commands import COMMAND_MODELS, Answer, FrameRate, Hello, Play


def test_every_control_command_has_a_handler() -> None:
    """The table handles exactly the command models other than Hello (the answers and a
    socket's own frame rate are the socket's: api/ws.py)."""
    assert COMMANDS.kinds == frozenset(COMMAND_MODELS) - {Hello, Answer, FrameRate}


def test_a_command_gets_one_handler_only() -> None:
    """Adding a second handler for a command model is an error."""
    table: CommandTable[LiveSession] = CommandTable()
    table.add(Play, play)
    with pytest.raises(ValueError, match="Play"):
        table.add(Play, play)
