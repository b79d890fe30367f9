"""Ask the class, the presenter's side: open a question (the run pauses), reveal it (the
step runs and the truth is read from it) or close it. A viewer's answer is taken by
:meth:`.session.LiveSession.answer` (or, from another process, ``take_answer``).

The question's state and answers are :mod:`.questions`; the truths are computed in the
trainer (:mod:`..trainer.questions`) from the update that really ran.
"""

from __future__ import annotations

from ..trainer.questions import loss_change, lowest_run, parameter_change
from ..wire.commands import (
    QUESTION_STEPS_DEFAULT,
    CloseQuestion,
    CommandError,
    OpenQuestion,
    RevealQuestion,
    Selection,
)
from ..wire.messages import QuestionOption, QuestionTruth
from .questions import UP_DOWN, YES_NO, Question
from .session import LiveSession


async def open_question(session: LiveSession, command: OpenQuestion) -> int:
    """Pause and ask; refused (naming the field) when the session is not presented, the
    question does not apply (no selected parameter, no sweep), or ``steps`` is given for
    another kind."""
    if session.join_code is None:
        raise CommandError("present the class first: questions are for its viewers", "type",
                           command.id)
    if command.steps is not None and command.kind != "sweep_winner":
        raise CommandError("steps only applies to sweep_winner", "steps", command.id)
    run = min(session.main_run, session.trainer.runs - 1)
    if command.kind == "update_lowers_loss":
        session.questions.open(command.kind, "Will this update lower the batch loss?",
                               YES_NO, run)
    elif command.kind == "weight_direction":
        target = session.selection
        if target is None:
            raise CommandError("select a weight first (click an edge or a neuron): the "
                               "question asks about the selected one", "selection", command.id)
        session.questions.open(command.kind, f"Will {parameter_name(target)} go up or down?",
                               UP_DOWN, run, target=target)
    else:
        rates = session.trainer.learning_rates
        if not session.trainer.sweep:
            raise CommandError("start a learning-rate sweep first: the question asks which "
                               "of its runs wins", "kind", command.id)
        steps = command.steps or QUESTION_STEPS_DEFAULT
        options = [QuestionOption(id=f"run{k}", label=f"η = {float(rate):g}")
                   for k, rate in enumerate(rates)]
        session.questions.open(command.kind, f"Which learning rate ends lowest after "
                               f"{steps} more steps?", options, run, steps=steps)
    session.running = False
    await session.emit_frame()
    return session.trainer.step_count


async def reveal_question(session: LiveSession, command: RevealQuestion) -> int:
    """Close the answers, run what the question is about (the phases to the end of the
    update, or the sweep's steps) and record the tally beside the truth."""
    question = session.questions.open_question
    if question is None:
        raise CommandError("no question is open", "type", command.id)
    question.status = "revealing"
    session.broadcast(session.state())  # every screen: answers are closed, the step runs
    tally = question.count(session.viewers)
    first = session.trainer.step_count + 1
    try:
        if question.kind == "sweep_winner":
            truth = await _run_sweep(session, question)
        else:
            truth = await _run_update(session, question)
    except BaseException:
        question.status = "open"  # nothing was revealed: answers go on
        raise
    question.tally, question.truth, question.status = tally, truth, "revealed"
    return first


async def close_question(session: LiveSession, command: CloseQuestion) -> int:
    if session.questions.current is None:
        raise CommandError("no question to close", "type", command.id)
    session.questions.clear()
    return session.trainer.step_count


def parameter_name(target: Selection) -> str:
    """E.g. ``the weight 2 → 1 of layer 1`` (1-based, as the inspector names them)."""
    if target.source is None:
        return f"the bias of neuron {target.neuron + 1} in layer {target.layer + 1}"
    return (f"the weight {target.source + 1} → {target.neuron + 1} of layer "
            f"{target.layer + 1}")


async def _run_update(session: LiveSession, question: Question) -> QuestionTruth:
    """Run the phases up to and including the update (one frame each), then read it."""
    trainer, step = session.trainer, session.trainer.step_count
    results: list[str] = []
    while True:
        await session.trainer_work(lambda: results.append(trainer.advance()))
        if results[-1] in ("diverged", "frozen") or trainer.phase == "update":
            break
    if trainer.step_count == step:  # the update was refused
        return QuestionTruth(option=None if question.kind == "weight_direction" else "no",
                             summary="training diverged: the update was refused",
                             loss_before=None, loss_after=None, weight_change=None,
                             weight_after=None, run_losses=None)
    return await session.in_thread(lambda: _update_truth(session, question))


def _update_truth(session: LiveSession, question: Question) -> QuestionTruth:
    """The truth of an update question (trainer thread)."""
    trainer, run = session.trainer, question.run
    change = loss_change(trainer, run)
    before = change.before if change else None
    after = change.after if change else None
    loss_text = f"batch loss {before:.3g} → {after:.3g}" if change else "no batch loss"
    if question.kind == "update_lowers_loss":
        return QuestionTruth(option="yes" if change and change.lowered else "no",
                             summary=loss_text, loss_before=before, loss_after=after,
                             weight_change=None, weight_after=None, run_losses=None)
    target = question.target
    assert target is not None
    moved = parameter_change(trainer, run, target.layer, target.neuron, target.source)
    if moved is None:
        summary = "the update did not reach it"
    else:
        summary = (f"Δ = {moved.change:+.3g} (now {moved.after:.3g})" if moved.direction
                   else f"it did not move (Δ = 0, still {moved.after:.3g})")
    return QuestionTruth(option=moved.direction if moved else None, summary=summary,
                         loss_before=before, loss_after=after,
                         weight_change=moved.change if moved else None,
                         weight_after=moved.after if moved else None, run_losses=None)


async def _run_sweep(session: LiveSession, question: Question) -> QuestionTruth:
    """Train every run ``steps`` more steps, then the lowest training loss wins."""
    steps = question.steps or QUESTION_STEPS_DEFAULT
    done = await session.run_steps(min(steps, session.steps_left))
    trainer = session.trainer

    def read() -> tuple[list[float], int | None]:
        losses, frozen = trainer.evaluate().train_loss, trainer.frozen
        return ([float("nan") if frozen[k] else float(loss) for k, loss in enumerate(losses)],
                lowest_run(losses, frozen))

    losses, winner = await session.in_thread(read)
    rates = [f"{float(rate):g}" for rate in trainer.learning_rates]
    parts = [f"η {rate}: {loss:.3g}" if loss == loss else f"η {rate}: diverged"
             for rate, loss in zip(rates, losses, strict=True)]
    summary = f"after {done} steps, training loss " + ", ".join(parts)
    return QuestionTruth(option=None if winner is None else f"run{winner}", summary=summary,
                         loss_before=None, loss_after=None, weight_change=None,
                         weight_after=None, run_losses=losses)
