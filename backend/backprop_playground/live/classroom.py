"""Classroom mode: presenting a session to a class under a join code, mirroring what the
presenter shows, and ending the class (viewers are told and let go)."""

from __future__ import annotations

from ..wire.commands import EndClass, Present, View
from ..wire.messages import ClassEndedEvent
from .session import LiveSession

CLASS_ENDED = "The presenter ended the class."


async def present(session: LiveSession, command: Present) -> int:
    """Give the session a join code (presenting twice keeps it); viewers anywhere the
    channel reaches may follow from now on."""
    if session.join_code is None:
        code = session.join_code = session.codes.issue(session.id)
        session.channel.go_public(code, lambda: session.welcome("viewer"), session.last_frame)
    return session.trainer.step_count


def resume_class(session: LiveSession, code: str) -> None:
    """A class brought back after a restart keeps its code (the viewers' pages rejoin with
    it); with Redis it is announced again for the other processes."""
    session.join_code = session.codes.claim(code, session.id)
    session.channel.go_public(session.join_code, lambda: session.welcome("viewer"),
                              session.last_frame)


async def end(session: LiveSession, command: EndClass) -> int:
    end_class(session)
    return session.trainer.step_count


async def view(session: LiveSession, command: View) -> int:
    """Change what the viewers' pages show (an empty panel: none)."""
    if command.projector is not None:
        session.view["projector"] = command.projector
    if command.panel is not None:
        session.view["panel"] = command.panel or None
    return session.trainer.step_count


def end_class(session: LiveSession) -> None:
    """Tell the viewers the class is over and let them go; the code stops working. Harmless
    for a session that is not presented (its viewers, if any, are let go too)."""
    if session.join_code is not None:
        session.codes.retire(session.join_code)
        session.join_code = None
    session.members.clear()  # no member token works any more, even before viewers leave
    session.questions.clear()  # questions are the class's: they end with it
    session.services.forks.class_ended(session.id)  # its forks are unlinked, spotlight ends
    session.channel.dismiss_viewers(ClassEndedEvent(message=CLASS_ENDED))
