"""Ask the class: the one question of a presented session, its answers and its tally.

The rules (docs/protocol.md, "Ask the class"):

* one question at a time, opened by the presenter (``open_question``); ids count up;
* one answer per viewer connection (its member token), changeable while the question is
  open: a second answer replaces the first and is counted once; a viewer who leaves takes
  its answer with it; answers are rate-limited per viewer;
* an answer must name the open question and one of its options; a question that is
  revealing (its step runs), revealed or gone takes no answers;
* the tally holds counts only — never who answered what. The presenter gets it live
  (coalesced: at most one every :data:`TALLY_INTERVAL_SECONDS`), everyone at the reveal,
  beside the truth (computed in ``live/asking.py`` from the step that ran).

Nothing here is saved: questions are classroom state, gone when the class ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from ..wire.commands import (
    Answer,
    CommandError,
    Configure,
    ControlCommand,
    PhaseStep,
    Play,
    QuestionKind,
    Reset,
    Selection,
    SetParameter,
    Step,
    Sweep,
)
from ..wire.messages import (
    QuestionInfo,
    QuestionOption,
    QuestionTally,
    QuestionTruth,
    TallyMessage,
)
from .fanout import RateLimiter

#: The presenter's live tally goes out at most this often (5 a second).
TALLY_INTERVAL_SECONDS = 0.2
YES_NO = [QuestionOption(id="yes", label="Yes"), QuestionOption(id="no", label="No")]
#: What would move the run on (or rebuild it) under an open question: refused until the
#: presenter reveals or closes it.
MOVES_THE_RUN = (Play, Step, PhaseStep, Reset, Configure, Sweep, SetParameter)
UP_DOWN = [QuestionOption(id="up", label="+ up"), QuestionOption(id="down", label="− down")]


@dataclass
class Question:
    """One question: what it asks about (``run``, ``target``, ``steps``), its answers
    (member token → option id) and, once revealed, its truth."""

    id: int
    kind: QuestionKind
    prompt: str
    options: list[QuestionOption]
    run: int
    target: Selection | None = None
    steps: int | None = None
    status: str = "open"
    answers: dict[str, str] = field(default_factory=dict)
    tally: QuestionTally | None = None
    truth: QuestionTruth | None = None

    def count(self, viewers: int) -> QuestionTally:
        """The tally now: answers per option (every option listed), answered, viewers."""
        counts = {option.id: 0 for option in self.options}
        for option in self.answers.values():
            counts[option] += 1
        return QuestionTally(counts=counts, answered=len(self.answers),
                             viewers=max(viewers, len(self.answers)))

    def info(self) -> QuestionInfo:
        return QuestionInfo(id=self.id, kind=self.kind, prompt=self.prompt,
                            options=self.options, status=self.status,
                            steps=self.steps, tally=self.tally, truth=self.truth)


class AnswerLimits:
    """Answers per viewer connection (member token): at most ``rate`` a second on average,
    bursts of ``2 · rate`` (wherever the viewer is connected: a relaying process checks its
    viewers with the same rule before it sends their answers on)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._limiters: dict[str, RateLimiter] = {}

    def check(self, member_token: str, request_id: str | int | None) -> None:
        """Count one answer; CommandError (field ``type``) past the limit."""
        limiter = self._limiters.setdefault(member_token, RateLimiter(self.rate))
        if not limiter.allow():
            raise CommandError(f"too many answers: at most {self.rate:g} a second", "type",
                               request_id)

    def forget(self, member_token: str) -> None:
        self._limiters.pop(member_token, None)

    def clear(self) -> None:
        self._limiters.clear()


class Questions:
    """A session's question and its viewers' answers. ``send_tally()`` is called (on the
    event loop) when the presenter's tally is due."""

    def __init__(self, answers_per_second: float, send_tally: Callable[[], None]) -> None:
        self.current: Question | None = None
        self._limits = AnswerLimits(answers_per_second)
        self._send_tally = send_tally
        self._tally_due = False
        self._last_id = 0

    def open(self, kind: QuestionKind, prompt: str, options: list[QuestionOption],
             run: int, target: Selection | None = None, steps: int | None = None) -> Question:
        """A new question replaces any other (its answers are dropped)."""
        self._last_id += 1
        self.current = Question(self._last_id, kind, prompt, options, run, target, steps)
        self.tally_soon()
        return self.current

    @property
    def open_question(self) -> Question | None:
        """The question taking answers or being revealed (not a revealed one)."""
        question = self.current
        return question if question is not None and question.status != "revealed" else None

    def info(self) -> QuestionInfo | None:
        return None if self.current is None else self.current.info()

    def check_allowed(self, command: ControlCommand) -> None:
        """CommandError (field ``type``) for a command that would move the run on while a
        question waits for its reveal."""
        question = self.open_question
        if question is not None and isinstance(command, MOVES_THE_RUN):
            raise CommandError(f"question {question.id} is open: reveal or close it before "
                               f"'{command.type}'", "type", command.id)

    def answer(self, member_token: str | None, command: Answer) -> None:
        """Take (or replace) this viewer's answer; CommandError naming the field if the
        question is gone or closed, the option is not one of its options, or the viewer
        answers too often."""
        if member_token is None:
            raise CommandError("only a viewer of the class answers its questions", "type",
                               command.id)
        self._limits.check(member_token, command.id)
        question = self.current
        if question is None or question.id != command.question_id:
            raise CommandError(f"question {command.question_id} is gone: "
                               + ("no question is open" if question is None else
                                  f"the question now is {question.id}"),
                               "question_id", command.id)
        if question.status != "open":
            raise CommandError(f"question {question.id} is closed: answers were taken "
                               "until the reveal", "question_id", command.id)
        ids = [option.id for option in question.options]
        if command.option not in ids:
            raise CommandError(f"question {question.id}'s options are {', '.join(ids)}",
                               "option", command.id)
        question.answers[member_token] = command.option
        self.tally_soon()

    def forget(self, member_token: str | None) -> None:
        """A client left: a viewer's answer (to an open question) no longer counts."""
        if member_token is not None:
            self._limits.forget(member_token)
        question = self.open_question
        if question is not None and question.status == "open":
            if member_token is not None:
                question.answers.pop(member_token, None)
            self.tally_soon()  # the viewer count changed too

    def clear(self) -> None:
        """No question any more (closed, or the class ended)."""
        self.current = None
        self._limits.clear()

    def tally_message(self, viewers: int) -> TallyMessage | None:
        """The presenter's tally of the open question, or None."""
        question = self.open_question
        if question is None:
            return None
        return TallyMessage(question_id=question.id, tally=question.count(viewers))

    def tally_soon(self) -> None:
        """Send the presenter's tally within TALLY_INTERVAL_SECONDS (one for a burst)."""
        if not self._tally_due:
            self._tally_due = True
            asyncio.get_running_loop().call_later(TALLY_INTERVAL_SECONDS, self._tally_now)

    def _tally_now(self) -> None:
        self._tally_due = False
        self._send_tally()
