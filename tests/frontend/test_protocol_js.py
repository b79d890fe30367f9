"""frontend/protocol.js against the Python side of the wire protocol.

Binary frames are built from real trainer sessions and encoded by ``encode_frame`` (body
deflated, maps quantised to 8 bits); each is written with a JSON file of the values it must
decode to (computed here from the same ``FrameData``, never from the bytes), then
``node --test tests/frontend/`` inflates and decodes them. Float32 blocks must come back
exactly (as float32); a quantised map within (hi − lo)/510 of each value, its range (its
min … max on a grid, ``map_ranges``) given here as ``{"quantised": [[lo, hi], …],
"values": […]}``. The command builders' output is parsed with ``parse_command``.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from node_runner import run_node

from backprop_playground.live.frames import build_frame
from backprop_playground.settings import Settings
from backprop_playground.trainer import (
    FEATURES,
    DataConfig,
    Hyperparameters,
    NetworkConfig,
    TrainerConfig,
    TrainingSession,
)
from backprop_playground.wire.catalogue import options
from backprop_playground.wire.commands import CommandError, Selection, parse_command
from backprop_playground.wire.frame import (
    BATCH_RECORD,
    BLOCKS,
    FLAGS,
    LANDSCAPE_RECORD,
    SAMPLE_FIELDS,
    SELECTION_FIELDS,
    SELECTION_RECORD,
    FrameData,
    body_of,
    encode_frame,
    map_ranges,
    without_maps,
)
from backprop_playground.wire.frame_delta import delta_frame
from backprop_playground.wire.messages import error_message, finite_json

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL_JS = ROOT / "frontend" / "protocol.js"


# ------------------------------------------------------------------ expected values
def _number(value: Any) -> float | str:
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return number


def _floats(array: Any) -> list[float | str]:
    return [_number(v) for v in np.asarray(array, dtype=np.float64).ravel()]


def _maps(array: Any, exact: bool) -> Any:
    """A stack of maps (last two axes) as decodeFrame must return it: exact float32 when the
    frame sends its maps unquantised, else the values with each map's range (lo, hi)."""
    values = np.asarray(array, dtype=np.float32)
    if exact:
        return _floats(values)
    stack = values.reshape(-1, *values.shape[-2:]).astype(np.float64)
    # each map's range: its min … max on its grid (map_ranges), as float32 on the wire
    low, high = (bound.astype(np.float32) for bound in map_ranges(stack))
    ranges = [[float(lo), float(hi)] for lo, hi in zip(low, high, strict=True)]
    return {"quantised": ranges, "values": _floats(values)}


def _parameters(array: Any, kind: str, coded: bool) -> Any:
    """A w8/g8 array as decodeFrame must return it: exact float32 in a paused frame, else
    the values with the code kind and the array's scale m (its largest finite |value|)."""
    if not coded:
        return _floats(array)
    values = np.asarray(array, dtype=np.float32).astype(np.float64)
    finite = values[np.isfinite(values)]
    scale = float(np.abs(finite).max()) if finite.size else 0.0
    return {"coded": kind, "scale": scale, "values": _floats(values)}


def _updates(frame: FrameData, name: str, layer: int, size: int) -> list[float | str]:
    """This step's updates, or all NaN where a running frame leaves them out."""
    arrays = getattr(frame, name)
    return ["NaN"] * size if arrays is None else _floats(arrays[layer])


def _exact_maps(frame: FrameData) -> bool:
    """The rule the encoder follows: maps go out as float32 when one value is not finite."""
    maps = [frame.output_maps, frame.neuron_maps]
    maps += [] if frame.sweep_maps is None else [frame.sweep_maps]
    return not all(np.isfinite(np.asarray(m, dtype=np.float32)).all() for m in maps)


def _selection(head: Any, rows: Any, fan_out: Any) -> dict[str, Any] | None:
    if head is None:
        return None
    assert len(head) == SELECTION_FIELDS and rows.shape[1:] == (SAMPLE_FIELDS,)
    kind = {1: "neuron", 2: "edge"}[int(head[0])]
    assert int(head[7]) == len(rows)
    names = ("aSource", "z", "a", "gradA", "dadz", "delta")
    return {
        "kind": kind,
        "layer": int(head[1]),
        "source": None if kind == "neuron" else int(head[2]),
        "neuron": int(head[3]),
        "weight": _number(head[4]),
        "gradient": _number(head[5]),
        "update": _number(head[6]),
        "rule": {name: _number(value) for name, value in zip(
            SELECTION_RECORD[8:], head[8:], strict=True)},
        "samples": [dict(zip(names, map(_number, row), strict=True)) for row in rows],
        "fanOut": _floats(fan_out),
    }


def expected_frame(frame: FrameData) -> dict[str, Any]:
    """The object protocol.js's decodeFrame must return for ``frame`` (arrays as lists)."""
    sizes = frame.layer_sizes
    for l, (w, b) in enumerate(zip(frame.weights, frame.biases, strict=True)):  # noqa: E741
        assert w.shape == (sizes[l + 1], sizes[l]) and b.shape == (sizes[l + 1],)
    coded = frame.coded
    layers = [
        {
            "weights": _parameters(frame.weights[l], "w8", coded),
            "bias": _parameters(frame.biases[l], "w8", coded),
            "gradWeights": _parameters(frame.grad_weights[l], "g8", coded),
            "gradBias": _parameters(frame.grad_biases[l], "g8", coded),
            "updateWeights": _updates(frame, "update_weights", l, sizes[l] * sizes[l + 1]),
            "updateBias": _updates(frame, "update_biases", l, sizes[l + 1]),
            "nIn": sizes[l], "nOut": sizes[l + 1],
        }
        for l in range(len(sizes) - 1)  # noqa: E741
    ]
    exact = _exact_maps(frame)
    return {
        "blocks": _blocks(frame, exact),
        "sequence": frame.sequence & 0xFFFFFFFF,
        "step": frame.step,
        "epoch": frame.epoch,
        "epochProgress": _number(frame.epoch_progress),
        "phase": frame.phase,
        "running": frame.running,
        "mapsSkipped": False,
        "diverged": frame.diverged,
        "hasSelection": frame.selection is not None,
        "layerSizes": list(sizes),
        "batchLoss": _number(frame.batch_loss),
        "trainLoss": _number(frame.train_loss),
        "testLoss": _number(frame.test_loss),
        "trainAccuracy": _number(frame.train_accuracy),
        "testAccuracy": _number(frame.test_accuracy),
        "learningRate": _number(frame.learning_rate),
        "batchSize": frame.batch_size,
        "mainResolution": frame.output_maps.shape[-1],
        "thumbResolution": frame.neuron_maps.shape[-1],
        "layers": layers,
        "gradientNorms": _floats(frame.gradient_norms),
        "updateRatios": _floats(frame.update_ratios),
        "outputMaps": [_maps(m, exact) for m in frame.output_maps],
        "neuronMaps": [_maps(m, exact) for m in frame.neuron_maps],
        "selection": _selection(frame.selection, frame.selection_samples,
                                frame.selection_fan_out),
        "sweep": _sweep(frame.sweep, frame.sweep_maps, exact),
        "batch": _batch(frame.batch),
        "landscape": None if frame.landscape is None or frame.landscape_info is None else {
            "s": _floats(frame.landscape[:, 0]), "loss": _floats(frame.landscape[:, 1]),
            "info": {name: _number(value) for name, value in zip(
                LANDSCAPE_RECORD, frame.landscape_info, strict=True)}},
        "overshot": frame.overshot,
        "saturation": None if frame.saturation is None else _floats(frame.saturation),
        "focus": frame.focus,
        "focusPoint": None if frame.batch is None else {
            "inputs": _floats(frame.focus_inputs), "z": [_floats(v) for v in frame.focus_z or []],
            "a": [_floats(v) for v in frame.focus_a or []],
            "delta": [_floats(v) for v in frame.focus_delta or []]},
    }


def _blocks(frame: FrameData, exact: bool) -> dict[str, list[Any]]:
    """Every present block of the layout table, each array flattened (frame.blocks)."""
    present = {name: bool(frame.flags() & (1 << i)) for i, name in enumerate(FLAGS)}
    blocks = {}
    for block in BLOCKS:
        if block.flag is None or present[block.flag]:
            value = getattr(frame, block.name)
            arrays = value if block.per_layer else [value]
            blocks[block.name] = [
                _maps(a, exact) if block.dtype == "q8"
                else _parameters(a, block.dtype, frame.coded) if block.dtype in ("w8", "g8")
                else _floats(a) for a in arrays]
    return blocks


def _batch(rows: Any) -> list[dict[str, Any]] | None:
    """The batch block's rows as decodeFrame returns them (camelCase keys)."""
    if rows is None:
        return None
    names = {"p_true": "pTrue", "grad_output": "gradOutput"}
    return [{names.get(name, name): _number(value) for name, value in zip(
        BATCH_RECORD, row, strict=True)} for row in rows]


def _sweep(rows: Any, maps: Any, exact: bool) -> dict[str, Any] | None:
    """The sweep blocks as decodeFrame returns them."""
    if rows is None:
        return None
    return {"resolution": maps.shape[-1], "runs": [
        {"learningRate": _number(row[0]), "trainLoss": _number(row[1]),
         "testLoss": _number(row[2]), "diverged": bool(row[3] > 0.5),
         "verdict": _number(row[4]), "stepLength": _number(row[5]),
         "minimumStep": _number(row[6]), "map": _maps(m, exact)}
        for row, m in zip(rows, maps, strict=True)]}


# ----------------------------------------------------------------------- fixtures
def _frame(session: TrainingSession, selection: Selection | None, *, sequence: int = 7,
           running: bool = False) -> FrameData:
    return build_frame(session, sequence=sequence, running=running,
                       metrics=session.evaluate(), selection=selection)


def _after_steps(config: TrainerConfig, steps: int, phases: int = 0) -> TrainingSession:
    session = TrainingSession(config)
    session.run(steps)
    for _ in range(phases):
        session.advance()
    return session


DEFAULT = TrainerConfig()
SPIRAL3 = TrainerConfig(data=DataConfig(dataset="spiral3"))
EDGE = Selection(layer=0, neuron=1, source=0)


def _output_neuron(session: TrainingSession, neuron: int = 0) -> Selection:
    return Selection(layer=len(session.model.layout.sizes) - 2, neuron=neuron)


def _diverged() -> TrainingSession:
    config = TrainerConfig(
        network=NetworkConfig(hidden_layers=(4, 2), activation="relu", loss="mse"),
        data=DataConfig(dataset="plane", n_points=500),
        hyper=Hyperparameters(learning_rate=10.0),
    )
    session = TrainingSession(config)
    session.run(50)
    assert session.status == "diverged"
    return session


def _cases() -> dict[str, Callable[[], FrameData]]:
    """name -> a FrameData factory. The brief's grid (default and 3-class net, with and
    without a selection, after a whole step and after the 'loss' phase) plus edge cases."""
    cases: dict[str, Callable[[], FrameData]] = {}
    for net, config in (("default", DEFAULT), ("spiral3", SPIRAL3)):
        for when, phases in (("step", 0), ("loss", 2)):
            def make(config: TrainerConfig = config, phases: int = phases,
                     select: bool = False) -> FrameData:
                session = _after_steps(config, 3, phases)
                last = session.model.layout.sizes[-1] - 1
                chosen = EDGE if phases == 0 else _output_neuron(session, last)
                return _frame(session, chosen if select else None, running=phases == 0)
            cases[f"{net}_{when}_plain"] = make
            cases[f"{net}_{when}_selected"] = functools.partial(make, select=True)
    cases["fresh_selected"] = lambda: _frame(
        TrainingSession(DEFAULT), Selection(layer=0, neuron=0), sequence=0)
    cases["forward_hidden_selected"] = lambda: _frame(
        _after_steps(TrainerConfig(network=NetworkConfig(hidden_layers=(5, 3, 2))), 1, 1),
        Selection(layer=1, neuron=1, source=3))
    cases["no_hidden_selected"] = lambda: _frame(
        _after_steps(TrainerConfig(network=NetworkConfig(hidden_layers=())), 2),
        Selection(layer=0, neuron=0, source=1), sequence=2**32 - 3)
    cases["odd_sizes"] = lambda: _frame(
        _after_steps(TrainerConfig(network=NetworkConfig(hidden_layers=(5,))), 2), None)
    cases["big_net_selected"] = lambda: _frame(
        _after_steps(TrainerConfig(network=NetworkConfig(hidden_layers=(16,) * 8,
                                                         features=FEATURES)), 1),
        Selection(layer=8, neuron=0, source=15), running=True)
    cases["spiral3_update_paused"] = lambda: _frame(_after_steps(SPIRAL3, 3, 4), None)
    cases["running_neuron_selected"] = lambda: _frame(
        _after_steps(DEFAULT, 3), Selection(layer=1, neuron=1), running=True)
    cases["diverged_selected"] = lambda: _frame(_diverged(), Selection(layer=1, neuron=0,
                                                                       source=1))

    def sweep() -> FrameData:
        session = TrainingSession(DEFAULT, learning_rates=[0.01, 0.1, 1.0])
        session.run(5)
        return _frame(session, EDGE)

    cases["sweep_selected"] = sweep

    def non_finite_map() -> FrameData:
        """A map value that is not finite: the frame's maps go out as float32 (exact_maps)."""
        frame = _frame(_after_steps(DEFAULT, 2), None)
        frame.output_maps = frame.output_maps.copy()
        frame.output_maps[0, 3, 5], frame.output_maps[0, 4, 4] = math.nan, math.inf
        return frame

    cases["non_finite_map"] = non_finite_map

    def flat_map() -> FrameData:
        """A map with one value everywhere (hi = lo): it decodes to that value exactly."""
        frame = _frame(_after_steps(DEFAULT, 2), None)
        frame.output_maps = np.full_like(frame.output_maps, 0.25)
        return frame

    cases["flat_map"] = flat_map
    return cases


def _server_messages() -> list[str]:
    """Server JSON for parseServerMessage: an error and a message with non-finite numbers."""
    error = error_message(CommandError("Input should be greater than or equal to 1", "n", 4))
    state = finite_json({"type": "state", "loss": math.nan, "curve": [1.0, math.inf],
                         "ok": 2.5})
    return [error, state]


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("frames")
    names = []
    for name, make in _cases().items():
        frame = make()
        (directory / f"{name}.bin").write_bytes(encode_frame(frame))
        (directory / f"{name}.json").write_text(json.dumps(expected_frame(frame),
                                                           allow_nan=False))
        names.append(name)
    (directory / "index.json").write_text(json.dumps(names))
    # Two consecutive running frames, the second also without its maps (a lagging link).
    session = _after_steps(DEFAULT, 3)
    first = encode_frame(_frame(session, None, sequence=1, running=True))
    session.run(1)
    second = encode_frame(_frame(session, None, sequence=2, running=True))
    session.run(1)
    third = encode_frame(_frame(session, None, sequence=3, running=True))
    # ... as delta frames: the second on the first, the third on the second
    second_delta = delta_frame(second, body_of(second), first, body_of(first))
    third_delta = delta_frame(third, body_of(third), second, body_of(second))
    # ... and the third on the first: what a page gets after the second came without maps
    third_on_first = delta_frame(third, body_of(third), first, body_of(first))
    assert second_delta is not None and third_delta is not None and third_on_first is not None
    for name, data in (("held_first", first), ("held_second", second),
                       ("held_lite", without_maps(second)), ("held_third", third),
                       ("delta_second", second_delta), ("delta_third", third_delta),
                       ("delta_lite", without_maps(second_delta)),
                       ("delta_third_on_first", third_on_first)):
        (directory / f"{name}.bin").write_bytes(data)
    # Six consecutive frames as a page that reads deltas gets them: the first whole, each
    # later one on the one before; and the last one whole, to compare.
    chain = []
    for k in range(6):
        session.run(1)
        chain.append(encode_frame(_frame(session, None, sequence=10 + k, running=True)))
    for k, data in enumerate(chain):
        delta = delta_frame(data, body_of(data), chain[k - 1], body_of(chain[k - 1])) if k else data
        assert delta is not None
        (directory / f"chain_{k}.bin").write_bytes(delta)
    (directory / "chain_whole.bin").write_bytes(chain[-1])
    (directory / "server_messages.json").write_text(json.dumps(_server_messages()))
    # The catalogue as GET /api/options serves it, for the tests of code that reads it.
    (directory / "options.json").write_text(json.dumps(options(Settings())))
    return directory



# -------------------------------------------------------------------------- tests
def test_fixture_grid_covers_the_layout() -> None:
    """The cases exercise nets of every depth modulo 4, both selection kinds, every
    flag and several phases, so the node test sees each branch of the decoder."""
    frames = {name: make() for name, make in _cases().items()}
    assert {len(f.layer_sizes) % 4 for f in frames.values()} == {0, 1, 2, 3}
    assert all((f.selection is not None) == name.endswith("_selected")
               for name, f in frames.items())  # frames.py drops an out-of-range selection
    kinds = {int(f.selection[0]) for f in frames.values() if f.selection is not None}
    assert kinds == {1, 2}
    assert {f.phase for f in frames.values()} == {None, "forward", "loss", "update"}
    assert any(f.running for f in frames.values()) and any(f.diverged for f in frames.values())
    assert any(f.coded for f in frames.values()) and not all(f.coded for f in frames.values())
    assert any(f.selection_fan_out is not None and len(f.selection_fan_out) > 0
               for f in frames.values())  # a hidden neuron selected
    assert any(f.selection_samples is not None and len(f.selection_samples) == 0
               for f in frames.values())  # a selection with S = 0 samples
    assert any(np.isnan(f.selection_samples).any() for f in frames.values()
               if f.selection_samples is not None)
    exact = [_exact_maps(f) for f in frames.values()]
    assert any(exact) and not all(exact)  # quantised maps, and the float32 fallback


def test_node_decodes_python_frames(fixture_dir: Path) -> None:
    result = run_node(["--test", "tests/frontend/"], {"FRAME_FIXTURES": str(fixture_dir)})
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"


BUILDERS_SCRIPT = """
import * as p from PROTOCOL_JS;
const lines = [
  p.hello('presenter', 'secret-token', 'req-1'),
  p.hello('viewer'),
  p.hello('viewer', null, 0, true),
  p.play(),
  p.play(2 ** 53),
  p.pause('x'),
  p.step(),
  p.step(250, 3),
  p.phaseStep(4),
  p.reset(),
  p.setHyper({learning_rate: 0.3, batch_size: 25, optimizer: 'adam', speed: 2}, 5),
  p.setHyper({learningRate: 1, regularization: 'l2', regularizationRate: 0.001,
              momentum: 0.5, beta1: 0.8, beta2: 0.99, epsilon: 1e-7, batchSize: 2000,
              speed: undefined}),
  p.configure({network: {hidden_layers: [3, 3], activation: 'relu'}, seed: 4}, 6),
  p.select({layer: 0, neuron: 2, source: 1}, 7),
  p.select({layer: 1, neuron: 0}),
  p.select(null, 'clear'),
];
for (const line of lines) console.log(line);
"""


def test_command_builders_are_accepted_by_the_server() -> None:
    script = BUILDERS_SCRIPT.replace("PROTOCOL_JS", json.dumps(PROTOCOL_JS.as_uri()))
    result = run_node(["--input-type=module", "-e", script])
    assert result.returncode == 0, result.stderr
    commands = [parse_command(line) for line in result.stdout.splitlines()]
    dumped = [c.model_dump(exclude_defaults=False) for c in commands]
    assert [c["type"] for c in dumped] == [
        "hello", "hello", "hello", "play", "play", "pause", "step", "step", "phase_step",
        "reset", "set_hyper", "set_hyper", "configure", "select", "select", "select",
    ]
    assert all(c["v"] == 1 for c in dumped)
    assert [c["id"] for c in dumped] == [
        "req-1", None, 0, None, 2**53, "x", None, 3, 4, None, 5, None, 6, 7, None, "clear"]
    assert (dumped[0]["role"], dumped[0]["token"]) == ("presenter", "secret-token")
    assert (dumped[1]["role"], dumped[1]["token"]) == ("viewer", None)
    assert [c["deltas"] for c in dumped[:3]] == [False, False, True]
    assert dumped[6]["n"] == 1 and dumped[7]["n"] == 250
    assert commands[10].trainer_changes() == {
        "learning_rate": 0.3, "batch_size": 25, "optimizer": "adam"}
    assert commands[10].speed == 2
    assert commands[11].trainer_changes() == {
        "learning_rate": 1, "regularization": "l2", "regularization_rate": 0.001,
        "momentum": 0.5, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-7, "batch_size": 2000}
    assert commands[12].model_dump(exclude_none=True)["config"] == {
        "network": {"hidden_layers": [3, 3], "activation": "relu"}, "seed": 4}
    assert dumped[13]["target"] == {"layer": 0, "neuron": 2, "source": 1}
    assert dumped[14]["target"] == {"layer": 1, "neuron": 0, "source": None}
    assert dumped[15]["target"] is None


def test_builders_refuse_non_finite_numbers() -> None:
    """JSON.stringify would send NaN as null; the builders throw instead."""
    script = (f"import * as p from {json.dumps(PROTOCOL_JS.as_uri())};\n"
              "for (const f of [() => p.setHyper({learning_rate: NaN}), () => p.step(Infinity)])"
              " { try { f(); console.log('sent'); } catch (e) { console.log(e.name); } }")
    result = run_node(["--input-type=module", "-e", script])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["RangeError", "RangeError"]
    # Why: the null JSON.stringify would send reads as "not given", a silent no-op.
    silent = parse_command('{"v": 1, "type": "set_hyper", "learning_rate": null}')
    assert silent.trainer_changes() == {}
