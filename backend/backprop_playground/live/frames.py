"""Build a training frame's content from a trainer session (no I/O, no asyncio).

Output maps come from one vectorized forward pass over a G×G grid; each neuron's thumbnail
is that map subsampled to T×T. G and T are chosen per network so that a frame carries at
most ``VALUE_BUDGET`` values (before the maps are quantised and the body deflated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..trainer import Metrics, TrainingSession
from ..wire.commands import Selection
from ..wire.frame import (
    FLAG_SELECTION,
    MAX_SELECTION_SAMPLES,
    FrameData,
    frame_floats,
)
from .batch_block import batch_blocks
from .landscape_block import landscape_blocks, verdict_of
from .selection_block import selection_blocks

#: Values per frame (with a full selection block) that the map resolution keeps within.
VALUE_BUDGET = 15_000
#: (main map resolution, thumbnail resolution); thumbnails subsample the main map.
RESOLUTIONS = ((64, 16), (48, 16), (48, 12), (32, 8))


@dataclass(frozen=True)
class MapResolution:
    main: int
    thumb: int


def choose_resolution(layer_sizes: list[int]) -> MapResolution:
    """The finest (G, T) whose maps keep a frame of this network (with a full selection
    block) within the value budget."""
    symbols = {"n_layers": len(layer_sizes) - 1, "n_outputs": layer_sizes[-1],
               "n_neurons": sum(layer_sizes[:-1]), "selection_samples": MAX_SELECTION_SAMPLES,
               "fan_out": max(layer_sizes)}
    for main, thumb in RESOLUTIONS:
        floats = frame_floats({**symbols, "main_res": main, "thumb_res": thumb}, layer_sizes,
                              FLAG_SELECTION)
        if floats <= VALUE_BUDGET:
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
    focus: int = 0,
) -> FrameData:
    """Everything the page draws for the current state of run ``run``; ``focus`` is the
    focus point's index in the minibatch (the forward pass's wave follows it). A running
    frame is ``coded`` (weights and gradients as 8-bit codes, which the page only draws)
    and leaves the updates out (the page pictures them only when paused)."""
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
        update_weights=None if running else [block[:, :-1] for block in updates],
        update_biases=None if running else [block[:, -1] for block in updates],
        coded=running,
        gradient_norms=norms,
        update_ratios=ratios,
        output_maps=maps[-1],
        neuron_maps=np.concatenate(hidden_and_inputs) if hidden_and_inputs else np.zeros(0),
        **selection_blocks(trainer, selection, run, tensors, grads, updates),
        **sweep_blocks(trainer, metrics),
        **batch_blocks(trainer, tensors, focus, run),
        **landscape_blocks(trainer, run),
    )


SWEEP_MAP_RESOLUTION = 24  # 8 runs: 18 KB of maps


def sweep_blocks(trainer: TrainingSession, metrics: Metrics) -> dict[str, Any]:
    """Every run of a sweep, for the small multiples: ``sweep`` (K, len(SWEEP_RECORD)) rows
    (η, losses, diverged, the last step's landscape verdict) and ``sweep_maps`` (K, R, R) of
    the output (multiclass: the winning class); nothing outside a sweep."""
    if not trainer.sweep:
        return {}
    verdicts = np.array([verdict_of(trainer, run) for run in range(trainer.runs)])
    rows = np.column_stack([trainer.learning_rates, metrics.train_loss, metrics.test_loss,
                            trainer.frozen.astype(float), verdicts])
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
