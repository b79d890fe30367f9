"""Build a training frame's content from a trainer session (no I/O, no asyncio).

Output maps come from one vectorized forward pass over a G×G grid; each neuron's thumbnail
is that map subsampled to T×T. G and T are chosen per network so that a frame stays under
``FRAME_BUDGET`` bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..trainer import Metrics, StepTensors, TrainingSession
from ..trainer.activations import ACTIVATION_FUNCTIONS
from ..wire.commands import Selection
from ..wire.frame import (
    FLAG_SELECTION,
    HEADER,
    MAX_SELECTION_SAMPLES,
    SAMPLE_FIELDS,
    SELECTION_RECORD,
    FrameData,
    frame_floats,
)

FRAME_BUDGET = 60_000
#: (main map resolution, thumbnail resolution); thumbnails subsample the main map.
RESOLUTIONS = ((64, 16), (48, 16), (48, 12), (32, 8))


@dataclass(frozen=True)
class MapResolution:
    main: int
    thumb: int


def choose_resolution(layer_sizes: list[int]) -> MapResolution:
    """The finest (G, T) whose maps fit the frame budget for this network (with a full
    selection block)."""
    symbols = {"n_layers": len(layer_sizes) - 1, "n_outputs": layer_sizes[-1],
               "n_neurons": sum(layer_sizes[:-1]), "selection_samples": MAX_SELECTION_SAMPLES}
    for main, thumb in RESOLUTIONS:
        floats = frame_floats({**symbols, "main_res": main, "thumb_res": thumb}, layer_sizes,
                              FLAG_SELECTION)
        if HEADER.size + 4 * floats <= FRAME_BUDGET:
            return MapResolution(main, thumb)
    return MapResolution(*RESOLUTIONS[-1])


def build_frame(
    trainer: TrainingSession,
    *,
    sequence: int,
    running: bool,
    metrics: Metrics,
    selection: Selection | None,
    run: int = 0,
) -> FrameData:
    """Everything the page draws for the current state of run ``run``."""
    sizes = list(trainer.model.layout.sizes)
    resolution = choose_resolution(sizes)
    maps = trainer.output_maps(resolution.main, run=run)
    # Thumbnails sample the main grid edge to edge: rows/columns round(linspace(0, G−1, T)).
    picks = np.round(np.linspace(0, resolution.main - 1, resolution.thumb)).astype(int)
    hidden_and_inputs = [layer[:, picks][:, :, picks] for layer in maps[:-1]]
    weights = trainer.get_weights(run)
    tensors = trainer.tensors(run)
    grads, updates, norms, ratios = _step_gradients(trainer, run)
    return FrameData(
        sequence=sequence,
        step=trainer.step_count,
        epoch=trainer.epoch,
        epoch_progress=trainer.epoch_progress,
        phase=trainer.phase,
        running=running,
        diverged=bool(trainer.frozen[run]),
        layer_sizes=sizes,
        batch_loss=math.nan if tensors.loss is None else tensors.loss,
        train_loss=float(metrics.train_loss[run]),
        test_loss=float(metrics.test_loss[run]),
        train_accuracy=_accuracy(metrics.train_accuracy, run),
        test_accuracy=_accuracy(metrics.test_accuracy, run),
        learning_rate=float(trainer.learning_rates[run]),
        batch_size=0 if trainer.workspace is None else trainer.workspace.batch,
        weights=[w for w, _ in weights],
        biases=[b for _, b in weights],
        grad_weights=[block[:, :-1] for block in grads],
        grad_biases=[block[:, -1] for block in grads],
        update_weights=[block[:, :-1] for block in updates],
        update_biases=[block[:, -1] for block in updates],
        gradient_norms=norms,
        update_ratios=ratios,
        output_maps=maps[-1],
        neuron_maps=np.concatenate(hidden_and_inputs) if hidden_and_inputs else np.zeros(0),
        **selection_blocks(trainer, selection, run, tensors, grads, updates),
        **sweep_blocks(trainer, metrics),
    )


SWEEP_MAP_RESOLUTION = 24  # 8 runs: 18 KB of maps


def sweep_blocks(trainer: TrainingSession, metrics: Metrics) -> dict[str, NDArray[Any]]:
    """Every run of a sweep, for the small multiples: ``sweep`` (K, 4) rows ``[η, train loss,
    test loss, diverged]`` and ``sweep_maps`` (K, R, R) of the output (multiclass: the
    winning class); nothing outside a sweep."""
    if not trainer.sweep:
        return {}
    rows = np.column_stack([trainer.learning_rates, metrics.train_loss, metrics.test_loss,
                            trainer.frozen.astype(float)])
    maps = []
    for run in range(trainer.runs):
        output = trainer.output_maps(SWEEP_MAP_RESOLUTION, run=run)[-1]
        maps.append(output.argmax(axis=0) if len(output) > 1 else output[0])
    return {"sweep": rows, "sweep_maps": np.stack(maps)}


def _step_gradients(trainer: TrainingSession, run: int) -> tuple[
        list[NDArray[Any]], list[NDArray[Any]], NDArray[Any], NDArray[Any]]:
    """This step's gradient and update blocks ``(n_out, n_in + 1)`` with their norms and
    ratios; NaN (not yet computed) for the phases the step has not reached, so that nothing
    from the previous step passes for this one's."""
    params, phase = trainer.params, trainer.phase
    has_grads = phase in ("backward", "update")
    has_update = phase == "update"
    grads = [block[run] if has_grads else np.full(block.shape[1:], np.nan)
             for block in params.grad_weights]
    updates = [block[run] if has_update else np.full(block.shape[1:], np.nan)
               for block in params.update_weights]
    layers = len(grads)
    norms = trainer.gradient_norms(run) if has_grads else np.full(layers, np.nan)
    ratios = trainer.update_ratios(run) if has_update else np.full(layers, np.nan)
    return grads, updates, norms, ratios


def _accuracy(values: NDArray[Any] | None, run: int) -> float:
    return math.nan if values is None else float(values[run])


def selection_blocks(
    trainer: TrainingSession, selection: Selection | None, run: int, tensors: StepTensors,
    grads: list[NDArray[Any]], updates: list[NDArray[Any]],
) -> dict[str, NDArray[Any]]:
    """The selected edge's (or neuron's bias's) numbers for the current step, from the
    frame's ``tensors`` and ``grads``/``updates`` blocks (see :func:`_step_gradients`):
    ``selection`` = ``[kind, layer, source, neuron, weight, dL/dw, update, S]`` and
    ``selection_samples`` (S, 6), for the first S batch points ``[a_source, z, a, dL/da,
    da/dz, delta]``; NaN where a phase has not run yet. kind is 1 for a neuron (source −1,
    its bias: a_source = 1), 2 for an edge. Nothing when nothing (valid) is selected."""
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
    if this.z is None or this.a is None:
        return {"selection": _record(record), "selection_samples": np.zeros((0, SAMPLE_FIELDS))}
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
    return {"selection": _record(record), "selection_samples": samples}


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
