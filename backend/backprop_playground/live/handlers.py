"""What each presenter command does to a live session, and :data:`COMMANDS`, the table the
session dispatches with. Every handler returns the step at which its command took effect
(see the ack in docs/protocol.md) or raises CommandError naming the field."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..trainer import ConfigError, TrainerConfig, TrainingSession, config_from_dict, config_to_dict
from ..trainer.validation import validate_config
from ..wire.commands import (
    CloseQuestion,
    CommandError,
    Configure,
    EditPoints,
    EndClass,
    Focus,
    OpenQuestion,
    Pause,
    PhaseStep,
    Play,
    Present,
    Promote,
    Reset,
    RevealQuestion,
    Select,
    Selection,
    SetHyper,
    SetListing,
    SetParameter,
    Step,
    Sweep,
    View,
)
from ..wire.messages import DataMessage
from . import asking, classroom, forks
from .dispatch import CommandTable
from .session import STEP_LIMIT, LiveSession


async def play(session: LiveSession, command: Play) -> int:
    trainer = session.trainer
    if trainer.status == "diverged":
        reason = trainer.divergence.message if trainer.divergence else "diverged"
        raise CommandError(f"{reason}; lower the learning rate or reset", None, command.id)
    _check_steps_left(session, command.id, None)
    session.play()
    return trainer.step_count + 1


async def pause(session: LiveSession, command: Pause) -> int:
    session.running = False
    await session.emit_frame()
    return session.trainer.step_count


async def step(session: LiveSession, command: Step) -> int:
    """Run ``n`` whole steps, in slices (other sessions take turns in between)."""
    session.running = False
    first = session.trainer.step_count + 1
    await session.run_steps(min(command.n, _check_steps_left(session, command.id, "n")))
    return first


async def phase_step(session: LiveSession, command: PhaseStep) -> int:
    trainer = session.trainer
    if trainer.phase in (None, "update"):  # the phase would begin a new step
        _check_steps_left(session, command.id, None)
    session.running = False
    await session.trainer_work(trainer.advance)
    return trainer.step_count + (0 if trainer.phase in (None, "update") else 1)


async def reset(session: LiveSession, command: Reset) -> int:
    session.running = False
    await session.trainer_work(session.trainer.reset)
    session.history.clear()
    session.broadcast(session.config_message())
    return 0


async def set_hyper(session: LiveSession, command: SetHyper) -> int:
    """Hyperparameters from the next step (the step in progress finishes with the old ones);
    the speed at once."""
    changes = command.trainer_changes()
    trainer = session.trainer
    effective = trainer.step_count + 1
    if changes:
        try:
            effective = trainer.set_hyperparameters(**changes)
        except ConfigError as error:
            raise CommandError(error.message, error.field, command.id) from error
    if command.gesture is not None and "learning_rate" in changes:
        session.rate_gestures[effective] = command.gesture
    if command.speed is not None:
        session.speed = command.speed
    if changes and not session.running:  # the views show the new values at once
        await session.emit_frame()
    return effective


async def configure(session: LiveSession, command: Configure) -> int:
    """Rebuild with the merged config; a refused one changes nothing (not even running)."""
    merged = _merged_config(session.trainer.config, command)

    def rebuild() -> None:  # trainer thread: a refused config leaves the trainer as it was
        session.trainer.configure(_validated_config(merged, command.id))

    await session.in_thread(rebuild)
    session.running = False
    session.selection = None
    await session.emit_frame()
    session.history.clear()
    session.broadcast(session.config_message())
    return 0


async def select(session: LiveSession, command: Select) -> int:
    _check_selection(session.trainer, command.target, command.id)
    session.selection = command.target
    await session.emit_frame()
    return session.trainer.step_count


async def focus(session: LiveSession, command: Focus) -> int:
    """Follow another point of the minibatch (clamped to the batch when a frame is built)."""
    session.focus = command.index
    await session.emit_frame()
    return session.trainer.step_count


async def set_parameter(session: LiveSession, command: SetParameter) -> int:
    """Type in a weight or bias of the shown run, between two steps; the maps and the
    output follow at once. Returns the first step that trains from the new value."""
    trainer, target = session.trainer, command.target
    if trainer.phase not in (None, "update"):
        raise CommandError(f"a step is half done: run its {trainer.next_phase} phase first, "
                           "then set the value", "type", command.id)
    _check_selection(trainer, target, command.id)
    run = min(session.main_run, trainer.runs - 1)

    def write() -> None:
        layers = trainer.get_weights(run)
        weights, bias = layers[target.layer]
        if target.source is None:
            bias[target.neuron] = command.value
        else:
            weights[target.neuron, target.source] = command.value
        trainer.set_weights(layers, run=run)

    await session.trainer_work(write)
    return trainer.step_count + 1


async def sweep(session: LiveSession, command: Sweep) -> int:
    """Rebuild as a sweep over the rates (or as one run again) from the same seed; a run
    that was training goes on training."""
    rates = command.learning_rates
    config = session.trainer.config
    if rates is not None:
        config = replace(config, hyper=replace(config.hyper, learning_rate=rates[0]))
    def rebuild() -> None:  # trainer thread
        session.trainer = TrainingSession(config, rates)

    session.main_run = 0
    session.selection = None
    await session.trainer_work(rebuild)
    session.history.clear()
    session.broadcast(session.config_message())
    if session.running:
        session.play()  # the run loop looks again (it may have slept through the rebuild)
    return 0


async def edit_points(session: LiveSession, command: EditPoints) -> int:
    """Add and erase points between two steps, keeping the weights, the optimizer's memory,
    the step counter and the history; a running session keeps running (the run loop's
    ticks and this command take turns on the session's lock, so no step is half done). A
    step half done by phase steps is refused. Everyone gets the new data (a data message),
    then the next frame; the loss chart marks the step (``data_changes``)."""
    trainer = session.trainer

    def edit() -> tuple[int, DataMessage]:  # trainer thread (the message holds every point)
        try:
            effective = trainer.edit_points(add=command.add, erase=command.erase)
        except ConfigError as error:  # a refused edit leaves the trainer as it was
            raise CommandError(error.message, error.field, command.id) from error
        return effective, session.data_message(effective).prepared()

    effective, message = await session.in_thread(edit)
    session.broadcast(message)
    if not session.running:
        await session.emit_frame()
    return effective


async def promote(session: LiveSession, command: Promote) -> int:
    runs = session.trainer.runs
    if command.run >= runs:
        raise CommandError(f"the sweep has {runs} runs", "run", command.id)
    session.main_run = command.run
    session.history.clear()
    await session.emit_frame()
    return session.trainer.step_count


def _merged_config(current: TrainerConfig, command: Configure) -> dict[str, Any]:
    """The current config with the command's changes merged in, as a dict."""
    return merge_config(config_to_dict(current), command.config.sections())


def _validated_config(merged: dict[str, Any], request_id: str | int | None) -> TrainerConfig:
    """The merged config, fully validated, or CommandError naming ``config.<field>``."""
    try:
        return validate_config(config_from_dict(merged))
    except ConfigError as error:
        field = error.field if error.field.startswith("config") else f"config.{error.field}"
        raise CommandError(error.message, field, request_id) from error


def _check_steps_left(session: LiveSession, request_id: str | int | None,
                      field: str | None) -> int:
    """The steps the run may still take; CommandError when its counter is at the limit."""
    left = session.steps_left
    if left < 1:
        raise CommandError(f"the step counter is at its limit ({STEP_LIMIT}): reset or "
                           "configure to train on", field, request_id)
    return left


def selection_fits(trainer: TrainingSession, target: Selection) -> bool:
    """Whether ``target`` is a neuron or an edge of the trainer's network."""
    try:
        _check_selection(trainer, target, None)
    except CommandError:
        return False
    return True


def _check_selection(trainer: TrainingSession, target: Selection | None,
                     request_id: str | int | None) -> None:
    """CommandError naming ``target.layer``/``neuron``/``source`` if ``target`` is not in
    the current network."""
    if target is None:
        return
    sizes = trainer.model.layout.sizes
    if target.layer >= len(sizes) - 1:
        raise CommandError(f"the network has {len(sizes) - 1} layers", "target.layer",
                           request_id)
    if target.neuron >= sizes[target.layer + 1]:
        raise CommandError(f"layer {target.layer} has {sizes[target.layer + 1]} neurons",
                           "target.neuron", request_id)
    if target.source is not None and target.source >= sizes[target.layer]:
        raise CommandError(f"layer {target.layer} has {sizes[target.layer]} inputs",
                           "target.source", request_id)


def merge_config(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``current`` (a whole config, as ``config_to_dict`` writes it) with the fields of
    ``changes`` replaced, section by section: a section of ``changes`` that is an object
    updates that section; anything else (the seed, or a value of the wrong type, which the
    trainer then refuses naming it) replaces it.

    What follows from a replaced field is reset rather than kept stale: a new data set
    drops custom points and lets the problem and loss follow it (unless given); new layer
    sizes with per-layer activations keep the first activation for every layer.
    """
    merged = {key: dict(value) if isinstance(value, dict) else value
              for key, value in current.items()}
    for section, values in changes.items():
        if isinstance(values, dict) and isinstance(merged.get(section), dict):
            merged[section].update(values)
        else:
            merged[section] = values
    if not all(isinstance(merged.get(name), dict) for name in ("network", "data")):
        return merged  # a section that is not an object: refused by the trainer
    network, data = changes.get("network"), changes.get("data")
    if isinstance(data, dict) and ("points" in data or "dataset" in data) \
            and "test_points" not in data:
        merged["data"]["test_points"] = None  # new points: split by train_fraction again
    if isinstance(data, dict) and "dataset" in data:
        if data["dataset"] != "custom" and "points" not in data:
            merged["data"]["points"] = None
        for key in ("problem", "loss"):
            if not (isinstance(network, dict) and key in network):
                merged["network"][key] = None
    if isinstance(network, dict) and "hidden_layers" in network and "activation" not in network:
        activation = merged["network"].get("activation")
        if isinstance(activation, list):
            merged["network"]["activation"] = activation[0] if activation else "tanh"
    return merged


COMMANDS: CommandTable[LiveSession] = CommandTable()
COMMANDS.add(Play, play)
COMMANDS.add(Pause, pause)
COMMANDS.add(Step, step)
COMMANDS.add(PhaseStep, phase_step)
COMMANDS.add(Reset, reset)
COMMANDS.add(SetHyper, set_hyper)
COMMANDS.add(Configure, configure)
COMMANDS.add(Select, select)
COMMANDS.add(Focus, focus)
COMMANDS.add(SetParameter, set_parameter)
COMMANDS.add(Sweep, sweep)
COMMANDS.add(Promote, promote)
COMMANDS.add(EditPoints, edit_points)
COMMANDS.add(Present, classroom.present)
COMMANDS.add(EndClass, classroom.end)
COMMANDS.add(View, classroom.view)
COMMANDS.add(OpenQuestion, asking.open_question)
COMMANDS.add(RevealQuestion, asking.reveal_question)
COMMANDS.add(CloseQuestion, asking.close_question)
COMMANDS.add(SetListing, forks.set_listing)
