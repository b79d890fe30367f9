"""The selection blocks of a frame: the selected parameter's chain-rule factors per batch
point and what its update rule read (see ``SELECTION_RECORD`` in wire/frame.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..trainer import StepTensors, TrainingSession
from ..trainer.activations import ACTIVATION_FUNCTIONS
from ..wire.commands import Selection
from ..wire.frame import MAX_SELECTION_SAMPLES, SAMPLE_FIELDS, SELECTION_RECORD


def selection_blocks(
    trainer: TrainingSession, selection: Selection | None, run: int, tensors: StepTensors,
    grads: list[NDArray[Any]], updates: list[NDArray[Any]],
) -> dict[str, Any]:
    """The selected edge's (or neuron's bias's) numbers for the current step, from the
    frame's ``tensors`` and ``grads``/``updates`` blocks (see :func:`_step_gradients`):
    ``selection`` = ``[kind, layer, source, neuron, weight, dL/dw, update, S, …]``,
    ``selection_fan_out`` (F,) (see :func:`_fan_out`) and ``selection_samples`` (S, 6), for
    the first S batch points ``[a_source, z, a, dL/da, da/dz, delta]``; NaN where a phase has
    not run yet. kind is 1 for a neuron (source −1, its bias: a_source = 1), 2 for an edge.
    Nothing when nothing (valid) is selected."""
    if selection is None:
        return {}
    sizes = trainer.model.layout.sizes
    layer, neuron, source = selection.layer, selection.neuron, selection.source
    if layer >= len(sizes) - 1 or neuron >= sizes[layer + 1] or (
            source is not None and source >= sizes[layer]):
        return {}
    block = trainer.params.weights[layer][run]
    column = block.shape[1] - 1 if source is None else source
    weight, update = block[neuron, column], updates[layer][neuron, column]
    weight_before = weight - update if trainer.phase == "update" else weight
    record = {"kind": 1.0 if source is None else 2.0, "layer": layer,
              "source": -1.0 if source is None else source, "neuron": neuron,
              "weight": weight, "gradient": grads[layer][neuron, column], "update": update,
              "samples": 0.0, **_rule_inputs(trainer, (layer, run, neuron, column),
                                            weight_before, is_bias=source is None)}
    this = tensors.layers[layer]
    head = {"selection": _record(record),
            "selection_fan_out": _fan_out(trainer, selection, run, updates)}
    if this.z is None or this.a is None:
        return {**head, "selection_samples": np.zeros((0, SAMPLE_FIELDS))}
    count = min(len(this.z), MAX_SELECTION_SAMPLES)
    samples = np.full((count, SAMPLE_FIELDS), np.nan)
    inputs = tensors.inputs if layer == 0 else tensors.layers[layer - 1].a
    assert inputs is not None
    samples[:, 0] = 1.0 if source is None else inputs[:count, source]
    samples[:, 1] = this.z[:count, neuron]
    samples[:, 2] = this.a[:count, neuron]
    if this.grad_a is not None and this.delta is not None:
        samples[:, 3] = this.grad_a[:count, neuron]
        samples[:, 5] = this.delta[:count, neuron]
        samples[:, 4] = _local_derivative(trainer, layer, this.z, this.a)[:count, neuron]
    record["samples"] = count
    head["selection"] = _record(record)
    return {**head, "selection_samples": samples}


def _fan_out(trainer: TrainingSession, selection: Selection, run: int,
             updates: list[NDArray[Any]]) -> NDArray[Any]:
    """(F,): for a selected hidden neuron j of layer l, the weights w_kj of layer l + 1 (k
    over its neurons) as this step's backward pass used them: w − Δw after the update
    phase, w before it. Empty for an edge or an output neuron (the inspector's fan-in
    Σ_k w_kj δ_k prints these, while a running frame's weights are only codes)."""
    layer, neuron = selection.layer, selection.neuron
    if selection.source is not None or layer + 1 >= len(trainer.params.weights):
        return np.zeros(0)
    weights = trainer.params.weights[layer + 1][run][:, neuron]
    if trainer.phase == "update":
        return weights - updates[layer + 1][:, neuron]
    return weights.copy()


def _record(values: dict[str, Any]) -> NDArray[Any]:
    """The selection block in SELECTION_RECORD's order; NaN for what does not apply."""
    return np.array([values.get(name, np.nan) for name in SELECTION_RECORD], dtype=float)


def _rule_inputs(trainer: TrainingSession, where: tuple[int, int, int, int],
                 weight_before: float, is_bias: bool) -> dict[str, float]:
    """What the update rule of the step that ran read for one parameter ``where`` = (layer,
    run, neuron, column): η, the regularization term λ·w or λ·sign(w) of the weight before
    the step (0 for a bias: biases are never penalized), the optimizer's constants and its
    memory before and after (momentum: velocity; Adam: m, v and the step count t)."""
    layer, run, neuron, column = where
    hyper = trainer.config.hyper
    rate = hyper.regularization_rate
    penalty = 0.0 if is_bias or hyper.regularization == "none" else (
        rate * weight_before if hyper.regularization == "l2" else rate * np.sign(weight_before))
    optimizer, layout = trainer.optimizer, trainer.model.layout
    values = {"learning_rate": float(trainer.learning_rates[run]), "penalty": penalty,
              **optimizer.constants()}

    def at(array: NDArray[Any]) -> float:
        return float(layout.views(array)[layer][run, neuron, column])

    names = {"velocity": "velocity", "first": "m", "second": "v"}
    for memory in optimizer.memory:
        if memory in names:
            values[names[memory]] = at(getattr(optimizer, memory))
            values[f"{names[memory]}_before"] = at(optimizer.before[memory])
    if "t" in optimizer.memory:
        values["t"] = float(getattr(optimizer, "t")[run, 0])  # noqa: B009 (Adam's only)
    return values


def _local_derivative(
    trainer: TrainingSession, layer: int, z: NDArray[Any], a: NDArray[Any]
) -> NDArray[Any]:
    """da/dz (B, n): the hidden activation's derivative, or the output head's (NaN for a
    softmax output, which has no elementwise one)."""
    model = trainer.model
    if layer < len(model.activations):
        return ACTIVATION_FUNCTIONS[model.activations[layer]].derivative(z, a)
    return model.head.output_derivative(z, a)
